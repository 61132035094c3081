// Device settings: every bad setting names the device and the setting.
#include <gtest/gtest.h>

#include "service/devices/device_test_support.h"
#include "service/devices/device.h"

namespace confab::service {
namespace {

using namespace std::chrono_literals;
using namespace testing;

TEST(DeviceSettings, BadSettingsNameTheDeviceAndTheSetting) {
  EXPECT_EQ(make_error(config("soft", "softphone", {})), "device soft (softphone): setting 'program' is missing");
  EXPECT_NE(make_error(config("soft", "softphone", {{"program", "skype"}, {"sip_port", "7300"}}))
                .find("setting 'program' must be baresip, linphonec or confab-phone, not 'skype'"),
            std::string::npos);
  EXPECT_NE(make_error(config("soft", "softphone", {{"program", "baresip"}, {"sip_port", "99999"}})).find("'sip_port'"),
            std::string::npos);
  EXPECT_NE(make_error(config("soft", "softphone", {{"program", "baresip"}, {"sip_port", "7300"}, {"ctrl_port", "7301"}}))
                .find("setting 'ctrl_port' must differ"),
            std::string::npos);
  EXPECT_NE(make_error(config("soft", "softphone",
                              {{"program", "baresip"}, {"sip_port", "7300"}, {"audio_source", "../../evil,x"}}))
                .find("setting 'audio_source'"),
            std::string::npos);
  EXPECT_NE(make_error(config("soft", "softphone", {{"program", "confab-phone"}, {"sip_port", "7300"}, {"sip_prot", "1"}}))
                .find("unknown setting 'sip_prot'"),
            std::string::npos);
  EXPECT_NE(make_error(config("soft", "softphone",
                              {{"program", "confab-phone"}, {"sip_port", "7300"}, {"args", "--tone 5 --listen 0:1"}}))
                .find("must not set --listen"),
            std::string::npos);
  EXPECT_NE(make_error(config("soft", "softphone", {{"program", "confab-phone"}, {"sip_port", "7300"}, {"rtp_ports", "9-1"}}))
                .find("'rtp_ports'"),
            std::string::npos);
  EXPECT_NE(make_error(config("../x", "softphone", {{"program", "confab-phone"}, {"sip_port", "7300"}})).find("device ../x"),
            std::string::npos);
  EXPECT_NE(make_error(config("soft", "softphone", {{"program", "baresip"}, {"sip_port", "7300"}, {"record_dir", "a\nb"}}))
                .find("must be one line"),
            std::string::npos);
  EXPECT_EQ(make_error(config("soft", "softphone", {{"program", "baresip"}, {"sip_port", "7300"}, {"audio_source", "aufile,/x.wav"},
                                                   {"audio_player", "aubridge,x"}, {"rtp_ports", "44000-44009"}})),
            "");
}

TEST(DeviceSettings, HttpDeviceRefusesWhatCouldLeaveTheConfiguredHost) {
  auto err = [](std::map<std::string, std::string> s) { return make_error(config("desk", "http", std::move(s))); };
  EXPECT_NE(err({{"url", "https://pbx/dial"}}).find("setting 'url' must start with http://"), std::string::npos);
  EXPECT_NE(err({{"url", "http://{target}/dial"}}).find("the host must be written out"), std::string::npos);
  EXPECT_NE(err({{"url", "http://user@pbx/dial"}}).find("the host must be written out"), std::string::npos);
  EXPECT_NE(err({{"url", "http://pbx:0/dial"}}).find("bad port"), std::string::npos);
  EXPECT_NE(err({{"url", "http://pbx/dial?to={number}"}}).find("unknown placeholder {number}"), std::string::npos);
  EXPECT_NE(err({{"url", "http://pbx/dial"}, {"body", "x"}}).find("setting 'body' needs method"), std::string::npos);
  EXPECT_NE(err({{"url", "http://pbx/dial"}, {"method", "DELETE"}}).find("'method'"), std::string::npos);
  EXPECT_NE(err({{"url", "http://pbx/dial"}, {"headers", "Host: evil"}}).find("may not set Host"), std::string::npos);
  EXPECT_NE(err({{"url", "http://pbx/dial"}, {"headers", "no colon"}}).find("'headers'"), std::string::npos);
  EXPECT_NE(err({{"url", "http://pbx/dial"}, {"mode", "loop"}}).find("setting 'mode' must be transfer"), std::string::npos);
  EXPECT_NE(err({{"url", "http://pbx/dial"}, {"timeout_ms", "10"}}).find("'timeout_ms'"), std::string::npos);
  EXPECT_NE(err({{"url", "http://pbx/dial"}, {"method", "POST"}, {"body", "{\"to\": 1}"}}).find("setting 'body' has an unknown placeholder"),
            std::string::npos);  // literal braces are doubled
  EXPECT_EQ(err({{"url", "http://127.0.0.1:8088/dial?to={target}&from={device}"},
                 {"method", "post"},
                 {"body", "{{\"to\": \"{target}\"}}"},
                 {"headers", "X-A: 1"}}),
            "");
  auto d = DeviceFactory::instance().make(config("desk", "http", {{"url", "http://pbx.example.com/dial?to={target}"}}));
  EXPECT_EQ(d->kind(), "http");
  EXPECT_TRUE(d->dials_itself());
  EXPECT_EQ(d->default_mode(), CallMode::Transfer);
}

}  // namespace
}  // namespace confab::service

// service.toml and the settings the service checks before it starts.
#include "service/service_config.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "service/devices/device.h"

namespace confab::service {
namespace {

TEST(ServiceConfig, ReadsDevicesOfEveryKind) {
  std::string path = "/tmp/confab-service-test-" + std::to_string(getpid()) + ".toml";
  std::ofstream(path) << R"([service]
identity = "sip:alice@example.com"
default_device = "desk"
incoming_device = "mobile"
api_tcp = "off"
leave_grace_s = 0

[devices.desk]
kind = "sip"
uri = "sip:desk@127.0.0.1:7001"
name = "Desk phone"

[devices.mobile]
kind = "pstn"
number = "tel:+1-555-0100"
gateway = "127.0.0.1:5070"
mode = "transfer"
)";
  ServiceConfig c;
  load_service_config(path, c);
  EXPECT_EQ(c.identity, "sip:alice@example.com");
  EXPECT_EQ(c.api_tcp, "off");
  EXPECT_EQ(c.incoming_device, "mobile");
  EXPECT_EQ(c.leave_grace_s, 0u);
  EXPECT_EQ(ServiceConfig{}.leave_grace_s, 10u);
  ASSERT_EQ(c.devices.size(), 2u);
  std::map<std::string, std::unique_ptr<Device>> devices;
  for (auto& d : c.devices) devices[d.id] = DeviceFactory::instance().make(d);
  EXPECT_EQ(devices["desk"]->sip_uri(), "sip:desk@127.0.0.1:7001");
  EXPECT_EQ(devices["desk"]->name(), "Desk phone");
  EXPECT_EQ(devices["desk"]->default_mode(), CallMode::Loop);
  EXPECT_EQ(devices["mobile"]->sip_uri(), "sip:+15550100@127.0.0.1:5070;user=phone");
  EXPECT_EQ(devices["mobile"]->default_mode(), CallMode::Transfer);
  ::unlink(path.c_str());
}

TEST(ServiceConfig, UnknownKeysAreRefusedWithTheNearestKnownOne) {
  std::string path = "/tmp/confab-service-test-" + std::to_string(getpid()) + "-bad.toml";
  auto error_of = [&](const std::string& text) {
    std::ofstream(path) << text;
    ServiceConfig c;
    try {
      load_service_config(path, c);
    } catch (const std::runtime_error& e) {
      std::string what = e.what();
      return what.rfind(path, 0) == 0 ? what.substr(path.size()) : what;
    }
    return std::string();
  };
  // The mistake that was ignored: calls went to no device.
  EXPECT_EQ(error_of("[service]\ndefualt_device = \"desk\"\n"),
            ":2: service.defualt_device: unknown key (did you mean 'default_device'?)");
  EXPECT_EQ(error_of("[servce]\n"), ":1: servce: unknown table (did you mean [service]?)");
  EXPECT_EQ(error_of("[service]\nkeepalive_s = -1\n"),
            ":2: service.keepalive_s: must be a whole number from 0 to 86400 s (0: off), not -1");
  EXPECT_EQ(error_of("[devices.desk]\nkind = \"sip\"\nuri = \"sip:desk@127.0.0.1\"\nmdoe = \"transfer\"\n"),
            ":4: devices.desk.mdoe: unknown key (did you mean 'mode'?)");
  EXPECT_EQ(error_of("[service]\nregister = true\n[devices.x]\nkind = \"softphone\"\nsip_port = 7300\n"), "");
  ::unlink(path.c_str());
}

TEST(ServiceConfig, CompletingItChecksAddressesAndIdentity) {
  auto error_of = [](ServiceConfig c) {
    c.api_socket = "/tmp/x.sock";  // no runtime directory needed
    c.token_file = "/tmp/x.token";
    try {
      complete_service_config(c);
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  ServiceConfig ok;
  EXPECT_EQ(error_of(ok), "");
  ServiceConfig bad_port;
  bad_port.api_tcp = "127.0.0.1:x";  // once bound a random port in silence
  EXPECT_NE(error_of(bad_port).find("api_tcp must be HOST:PORT"), std::string::npos) << error_of(bad_port);
  ServiceConfig no_port;
  no_port.web_api = "127.0.0.1";
  EXPECT_NE(error_of(no_port).find("web_api must be HOST:PORT"), std::string::npos);
  ServiceConfig identity;
  identity.identity = "alice";
  EXPECT_NE(error_of(identity).find("identity 'alice' is not a SIP URI"), std::string::npos);
  ServiceConfig reg;
  reg.register_at_proxy = true;
  EXPECT_NE(error_of(reg).find("needs a proxy"), std::string::npos);

  ServiceConfig c;
  c.sip_listen.push_back(*sip::ListenSpec::parse("udp:127.0.0.2:7062"));
  c.api_tcp = "off";
  c.web_api = "off";
  c.api_socket = "/tmp/x.sock";
  c.token_file = "/tmp/x.token";
  ::setenv("USER", "carol", 1);
  complete_service_config(c);
  EXPECT_EQ(c.identity, "sip:carol@127.0.0.2:7062");
  EXPECT_EQ(c.api_tcp, "");
  EXPECT_EQ(c.web_api, "");
}

}  // namespace
}  // namespace confab::service

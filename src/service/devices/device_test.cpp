// The device kinds made from configuration.
#include "service/devices/device.h"

#include <gtest/gtest.h>

namespace confab::service {
namespace {

TEST(Devices, BadConfigurationsSayWhatIsWrong) {
  auto error_of = [](DeviceConfig d) {
    try {
      DeviceFactory::instance().make(d);
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(error_of({"x", "fax", "", {}}).find("unknown kind 'fax'"), std::string::npos);
  EXPECT_NE(error_of({"x", "sip", "", {}}).find("missing setting 'uri'"), std::string::npos);
  EXPECT_NE(error_of({"x", "sip", "", {{"uri", "mailto:a@b"}}}).find("not a sip"), std::string::npos);
  EXPECT_NE(error_of({"x", "pstn", "", {{"number", "call me"}, {"gateway", "gw"}}}).find("not a telephone number"),
            std::string::npos);
  EXPECT_NE(error_of({"x", "sip", "", {{"uri", "sip:a@b"}, {"mode", "teleport"}}}).find("loop or transfer"),
            std::string::npos);
}

}  // namespace
}  // namespace confab::service

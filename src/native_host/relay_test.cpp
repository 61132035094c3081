#include "native_host/relay.h"

#include <gtest/gtest.h>

#include "api/api_json.h"

namespace confab::native_host {
namespace {

api::ApiMessage parsed(const std::string& json) {
  api::ApiMessage m;
  std::string why;
  EXPECT_TRUE(api::from_json(json, m, &why)) << why << ": " << json;
  return m;
}

Relay no_service() { return Relay({"/nonexistent/confab/service.sock"}); }

TEST(Relay, MalformedJsonIs400) {
  auto relay = no_service();
  for (const char* bad : {"{", "[1,2]", "\"Join\"", "{\"id\":\"sip:a@b\"}", ""}) {
    auto out = relay.answer(bad);
    ASSERT_EQ(out.size(), 1u) << bad;
    auto r = parsed(out[0]);
    EXPECT_EQ(r.name, "Result");
    EXPECT_EQ(r.attr("status"), "error");
    EXPECT_EQ(r.attr("code"), "400") << bad;
    EXPECT_NE(r.attr("reason").find("malformed request"), std::string::npos);
  }
}

TEST(Relay, CommandsWebPagesMayNotUseAre403WithTheirTag) {
  auto relay = no_service();
  for (const char* name : {"Tunnel", "Approve", "Choose", "State", "Nonsense"}) {
    auto r = parsed(relay.answer(std::string(R"({"type":")") + name + R"(","tag":"7"})")[0]);
    EXPECT_EQ(r.attr("code"), "403") << name;
    EXPECT_EQ(r.attr("tag"), "7");
  }
  auto r = parsed(relay.answer(R"({"type":"Subscribe","events":"calls choices"})")[0]);
  EXPECT_EQ(r.attr("code"), "403");  // the device choices stay with the chooser page
}

TEST(Relay, AMissingServiceIs503ForAnAllowedCommand) {
  auto relay = no_service();
  auto r = parsed(relay.answer(R"({"type":"Join","id":"sip:room@conf.example.com","tag":"3"})")[0]);
  EXPECT_EQ(r.attr("code"), "503");
  EXPECT_EQ(r.attr("tag"), "3");
  EXPECT_NE(r.attr("reason").find("not running"), std::string::npos) << r.attr("reason");
}

TEST(Relay, SettingsComeFromTheService) {  // its conference server may be a command-line flag
  auto relay = no_service();
  auto r = parsed(relay.answer(R"({"type":"Settings","tag":"s"})")[0]);
  EXPECT_EQ(r.attr("code"), "503");
  EXPECT_EQ(r.attr("tag"), "s");
}

TEST(Relay, ErrorJsonIsAResult) {
  auto r = parsed(error_json(413, "too big"));
  EXPECT_EQ(r.name, "Result");
  EXPECT_EQ(r.attr("code"), "413");
  EXPECT_FALSE(r.has("tag"));
}

}  // namespace
}  // namespace confab::native_host

// The devices' I/O thread: netstrings and the control-interface exchange.
#include <gtest/gtest.h>

#include "service/devices/device_test_support.h"
#include "service/devices/device_runtime.h"

namespace confab::service {
namespace {

using namespace std::chrono_literals;
using namespace testing;
TEST(Netstrings, FramesAndRejectsGarbage) {
  EXPECT_EQ(netstring("hello"), "5:hello,");
  auto n = next_netstring("5:hello,3:abc,");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->first, "hello");
  EXPECT_EQ(n->second, 8u);
  EXPECT_FALSE(next_netstring("5:hel"));
  EXPECT_FALSE(next_netstring("12"));
  EXPECT_THROW(next_netstring("5:hello;"), std::runtime_error);
  EXPECT_THROW(next_netstring("x:"), std::runtime_error);
  EXPECT_THROW(next_netstring("99999999999:"), std::runtime_error);
}

TEST(DeviceRuntime, ExchangeFindsTheResponseAfterEventsAndTimesOut) {
  sip::EventLoop loop;
  TempDir dir;
  DeviceRuntime rt(loop, dir.path);
  LocalServer server;
  server.serve([](const std::string& r) { return r.find(',') != std::string::npos; },
               netstring(R"({"event":true,"type":"X"})") + netstring(R"({"response":true,"ok":true,"data":"hi"})"));
  std::string error = "-", reply;
  rt.exchange("127.0.0.1:" + std::to_string(server.port), netstring("ping"),
              [](std::string_view b) -> std::optional<std::string> {
                while (auto n = next_netstring(b)) {
                  if (n->first.find("response") != std::string::npos) return n->first;
                  b.remove_prefix(n->second);
                }
                return std::nullopt;
              },
              2000ms, [&](const std::string& e, const std::string& r) { error = e, reply = r; });
  ASSERT_TRUE(run_until(loop, [&] { return error != "-"; }));
  EXPECT_EQ(error, "");
  EXPECT_EQ(reply, R"({"response":true,"ok":true,"data":"hi"})");
  EXPECT_EQ(server.received, "4:ping,");

  LocalServer silent;
  silent.serve([](const std::string& r) { return !r.empty(); }, "", 1500ms);
  error = "-";
  rt.exchange("127.0.0.1:" + std::to_string(silent.port), "x", nullptr, 300ms,
              [&](const std::string& e, const std::string&) { error = e; });
  ASSERT_TRUE(run_until(loop, [&] { return error != "-"; }));
  EXPECT_EQ(error, "no answer within the time allowed");
}

}  // namespace
}  // namespace confab::service

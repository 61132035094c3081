// The HTTP click-to-dial device: URL templates, and the request against a local server.
#include <gtest/gtest.h>

#include "service/devices/device_test_support.h"
#include "service/devices/device_runtime.h"
#include "service/devices/http_device.h"

namespace confab::service {
namespace {

using namespace std::chrono_literals;
using namespace testing;
TEST(HttpTemplates, EncodeValuesAndParseUrls) {
  EXPECT_EQ(url_encode("sip:room1@127.0.0.1:7080;x=a b&c"), "sip%3Aroom1%40127.0.0.1%3A7080%3Bx%3Da%20b%26c");
  EXPECT_EQ(json_escape("a\"b\\c\n\x01"), "a\\\"b\\\\c\\n\\u0001");
  EXPECT_EQ(fill_template("/d?to={target}&me={device}", {{"target", "sip:a@b"}, {"device", "d 1"}}, url_encode),
            "/d?to=sip%3Aa%40b&me=d%201");
  EXPECT_THROW(fill_template("/d?{target", {{"target", "x"}}, url_encode), std::invalid_argument);
  EXPECT_EQ(fill_template("{{\"a\": \"{target}\"}}", {{"target", "q\""}}, json_escape), "{\"a\": \"q\\\"\"}");
  auto t = parse_http_url("http://127.0.0.1:7500/dial?x={target}");
  EXPECT_EQ(t.host, "127.0.0.1");
  EXPECT_EQ(t.port, 7500);
  EXPECT_EQ(t.path, "/dial?x={target}");
  EXPECT_EQ(parse_http_url("HTTP://pbx").path, "/");
  EXPECT_EQ(parse_http_url("http://[::1]:81/").host, "::1");
  EXPECT_THROW(parse_http_url("http://pbx/a b"), std::invalid_argument);
}

// ---- HTTP click-to-dial ----

struct Dialed {
  int status = 0;
  std::string reason;
};

Dialed dial(sip::EventLoop& loop, DeviceRuntime& rt, Device& d, const std::string& target) {
  Dialed out;
  d.dial(rt, target, [&](int s, const std::string& r) { out = {s, r}; });
  run_until(loop, [&] { return out.status != 0; }, 5000ms);
  return out;
}

TEST(HttpDevice, SendsTheFilledRequestAndMapsTheAnswer) {
  sip::EventLoop loop;
  TempDir dir;
  DeviceRuntime rt(loop, dir.path);
  {
    LocalServer server;
    server.serve(http_request_complete, "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n");
    auto d = DeviceFactory::instance().make(config(
        "desk", "http",
        {{"url", "http://127.0.0.1:" + std::to_string(server.port) + "/dial?to={target}&from={device}"},
         {"method", "POST"},
         {"body", "{{\"to\": \"{target}\", \"from\": \"{device}\"}}"},
         {"phone", "201"},
         {"headers", "Content-Type: application/json\nAuthorization: Bearer s3cret"}}));
    auto r = dial(loop, rt, *d, "sip:room1@127.0.0.1:7080");
    EXPECT_EQ(r.status, 200) << r.reason;
    server.thread.join();
    auto& q = server.received;
    EXPECT_EQ(q.substr(0, q.find("\r\n")), "POST /dial?to=sip%3Aroom1%40127.0.0.1%3A7080&from=201 HTTP/1.1");
    EXPECT_NE(q.find("\r\nAuthorization: Bearer s3cret\r\n"), std::string::npos) << q;
    EXPECT_NE(q.find("\r\nContent-Type: application/json\r\n"), std::string::npos) << q;
    EXPECT_EQ(q.substr(q.find("\r\n\r\n") + 4), R"({"to": "sip:room1@127.0.0.1:7080", "from": "201"})");
  }
  for (auto [answer, status, words] : {std::tuple{"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n", 500, "HTTP 500 Internal Server Error"},
                                       std::tuple{"HTTP/1.1 302 Found\r\nLocation: http://elsewhere/\r\nContent-Length: 0\r\n\r\n", 302, "redirects are not followed"},
                                       std::tuple{"garbage\r\n\r\n", 502, "no valid HTTP response"}}) {
    LocalServer server;
    server.serve(http_request_complete, answer);
    auto d = DeviceFactory::instance().make(
        config("desk", "http", {{"url", "http://127.0.0.1:" + std::to_string(server.port) + "/d?{target}"}}));
    auto r = dial(loop, rt, *d, "sip:x@y");
    EXPECT_EQ(r.status, status) << r.reason;
    EXPECT_NE(r.reason.find(words), std::string::npos) << r.reason;
    EXPECT_NE(r.reason.find("device desk"), std::string::npos) << r.reason;
    EXPECT_EQ(server.received.substr(0, server.received.find("\r\n")), "GET /d?sip%3Ax%40y HTTP/1.1");
  }
  {
    LocalServer slow;
    slow.serve(http_request_complete, "HTTP/1.1 200 OK\r\n\r\n", 1500ms);
    auto d = DeviceFactory::instance().make(config(
        "desk", "http", {{"url", "http://127.0.0.1:" + std::to_string(slow.port) + "/"}, {"timeout_ms", "300"}}));
    auto t0 = std::chrono::steady_clock::now();
    auto r = dial(loop, rt, *d, "sip:x@y");
    EXPECT_EQ(r.status, 504) << r.reason;
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 1000ms);
  }
  uint16_t closed_port;
  {
    LocalServer s;
    closed_port = s.port;
  }
  auto d = DeviceFactory::instance().make(config("desk", "http", {{"url", "http://127.0.0.1:" + std::to_string(closed_port) + "/"}}));
  auto r = dial(loop, rt, *d, "sip:x@y");
  EXPECT_EQ(r.status, 502) << r.reason;
  EXPECT_NE(r.reason.find("cannot connect"), std::string::npos) << r.reason;
}

}  // namespace
}  // namespace confab::service

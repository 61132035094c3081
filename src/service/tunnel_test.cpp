// The Tunnel's rules (which methods go where, what of a raw request is sent)
// and the plugin loader against a real ClientService: good plugins add what
// they offer, bad ones are refused and leave nothing behind.
#include "service/tunnel.h"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <future>

#include "api/api_client.h"
#include "service/client_service.h"
#include "service/plugin_loader.h"

namespace confab::service {
namespace {

sip::RawRequest parse(const std::string& text) {
  auto r = sip::parse_raw_request(text);
  EXPECT_TRUE(r.request) << r.error;
  return r.request.value_or(sip::RawRequest{});
}

TEST(TunnelRules, SessionMethodsNeverDialogManagedOnesOnlyOutside) {
  for (const char* m : {"INVITE", "ACK", "CANCEL", "PRACK", "invite"}) {
    EXPECT_TRUE(tunnel_refusal(m, false)) << m;
    EXPECT_TRUE(tunnel_refusal(m, true)) << m;
  }
  for (const char* m : {"BYE", "UPDATE", "REGISTER", "SUBSCRIBE"}) EXPECT_TRUE(tunnel_refusal(m, true)) << m;
  EXPECT_TRUE(tunnel_refusal("SUBSCRIBE", false));
  for (const char* m : {"OPTIONS", "MESSAGE", "INFO", "NOTIFY", "REFER", "PUBLISH", "REGISTER", "BYE", "X-PING"})
    EXPECT_FALSE(tunnel_refusal(m, false)) << m;
  for (const char* m : {"INFO", "MESSAGE", "OPTIONS", "NOTIFY", "REFER", "X-PING"})
    EXPECT_FALSE(tunnel_refusal(m, true)) << m;
  EXPECT_NE(tunnel_refusal("BYE", true)->find("<Hangup"), std::string::npos);
}

TEST(TunnelRules, OutOfDialogTheTextsFromAndToAreUsed) {
  auto plan = plan_tunnel_request(parse("MESSAGE sip:bob@example.com SIP/2.0\nFrom: \"A\" <sip:a@example.com>\n"
                                        "t: <sip:bob@example.com>\nRoute: <sip:proxy.example.com;lr>\nCSeq: 4 MESSAGE\n"
                                        "Content-Type: text/plain\n\nhi"),
                                  false);
  EXPECT_EQ(plan.spec.request_uri, "sip:bob@example.com");
  EXPECT_EQ(plan.spec.from, "\"A\" <sip:a@example.com>");
  EXPECT_EQ(plan.spec.to, "<sip:bob@example.com>");
  ASSERT_EQ(plan.spec.headers.size(), 1u);
  EXPECT_EQ(plan.spec.headers[0].name, "Route");
  EXPECT_EQ(plan.spec.body, "hi");
  EXPECT_EQ(plan.ignored, (std::vector<std::string>{"CSeq"}));
}

TEST(TunnelRules, InADialogTheDialogsFieldsWin) {
  auto plan = plan_tunnel_request(parse("INFO sip:x@192.0.2.1 SIP/2.0\nFrom: <sip:m@x>\nTo: <sip:y@x>\n"
                                        "Contact: <sip:c@x>\nRoute: <sip:r@x;lr>\nVia: SIP/2.0/UDP x\nX-Keep: 1\n\n"),
                                  true);
  EXPECT_TRUE(plan.spec.request_uri.empty());
  EXPECT_TRUE(plan.spec.from.empty() && plan.spec.to.empty());
  ASSERT_EQ(plan.spec.headers.size(), 1u);
  EXPECT_EQ(plan.spec.headers[0].name, "X-Keep");
  EXPECT_EQ(plan.ignored, (std::vector<std::string>{"Request-URI", "Via", "From", "To", "Contact", "Route"}));
}

TEST(TunnelEvents, ResponsesWithAndWithoutAMessage) {
  auto local = tunnel_response_event("t1", "OPTIONS", 408, "Request Timeout", sip::Message());
  EXPECT_EQ(api::to_xml(local), R"(<TunnelResponse tag="t1" method="OPTIONS" status="408" reason="Request Timeout"/>)");
  auto m = sip::Message::parse("SIP/2.0 202 Accepted\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\n"
                               "To: <sip:c@d>\r\nCall-ID: x\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n");
  ASSERT_TRUE(m);
  auto e = tunnel_response_event("t2", "MESSAGE", 202, "", *m);
  EXPECT_EQ(e.attr("reason"), "Accepted");
  EXPECT_EQ(e.text.rfind("SIP/2.0 202 Accepted\r\n", 0), 0u);
}

// A ClientService on loopback with the test plugins copied into a private directory.
class PluginLoading : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = "/tmp/confab-tunnel-test-" + std::to_string(getpid());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directory(dir_);
    ::chmod(dir_.c_str(), 0700);
    for (auto& e : std::filesystem::directory_iterator(TEST_PLUGIN_DIR))
      std::filesystem::copy_file(e.path(), dir_ + "/" + e.path().filename().string());
    std::ofstream(dir_ + "/not-elf.so") << "garbage";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  ServiceConfig config() {
    ServiceConfig c;
    c.sip_listen.push_back(*sip::ListenSpec::parse("udp:127.0.0.1:41920"));
    c.identity = "sip:t@127.0.0.1:41920";
    c.api_socket = dir_ + "/api.sock";
    c.api_tcp = "off";
    c.web_api = "off";
    c.origins_file = dir_ + "/approved-origins";
    c.plugin_dir = dir_;
    return c;
  }
  std::string dir_;
};

TEST_F(PluginLoading, GoodPluginsServeBadOnesLeaveNothingBehind) {
  sip::EventLoop loop;
  ClientService service(loop, config());
  service.start();
  auto names = service.command_names();
  auto has = [&](const std::string& n) { return std::find(names.begin(), names.end(), n) != names.end(); };
  EXPECT_TRUE(has("Echo"));
  EXPECT_TRUE(has("Tunnel"));
  EXPECT_FALSE(has("Never"));  // failing_init registered it before failing
  EXPECT_FALSE(has("Echo2"));  // name_clash also asked for <Join>: refused as a whole
  EXPECT_TRUE(service.has_event_kind("echoes"));
  EXPECT_TRUE(service.has_event_kind("tunnel"));

  // The plugin's command through the API, and its event to a subscriber.
  auto done = std::async(std::launch::async, [&] {
    auto c = api::ApiClient::unix_socket(dir_ + "/api.sock");
    auto sub = c.call(api::ApiMessage("Subscribe").set("events", "echoes"));
    api::ApiMessage echo("Echo");
    echo.text = "hello";
    auto r = c.call(echo);
    auto event = c.next(std::chrono::milliseconds(2000));
    return std::make_tuple(sub ? sub->attr("status") : "", r ? r->attr("said") : "", event ? event->name : "");
  });
  while (done.wait_for(std::chrono::milliseconds(0)) != std::future_status::ready)
    loop.run_for(std::chrono::milliseconds(10));
  auto [sub, said, event] = done.get();
  EXPECT_EQ(sub, "ok");
  EXPECT_EQ(said, "hello");
  EXPECT_EQ(event, "Echoed");
  service.shutdown();
}

TEST_F(PluginLoading, EachRefusalSaysWhy) {
  sip::EventLoop loop;
  auto c = config();
  c.plugin_dir.clear();
  ClientService service(loop, c);
  // A loader of our own (the service's has no directory), with a user agent and tunnel of its own.
  struct Quiet : sip::UserAgent::Handler {
    void on_incoming_call(const std::shared_ptr<sip::Call>&, sip::IncomingRequest r) override { r.respond(480, "No"); }
  } quiet;
  sip::UserAgentOptions o;
  o.listen.push_back(*sip::ListenSpec::parse("udp:127.0.0.1:41922"));
  sip::UserAgent ua(loop, o, quiet);
  Tunnel tunnel(service, ua);
  PluginLoader loader(service, tunnel, ua, loop);
  EXPECT_NE(loader.load(dir_ + "/wrong_version.so").find("built for plugin API version"), std::string::npos);
  EXPECT_NE(loader.load(dir_ + "/failing_init.so").find("no licence"), std::string::npos);
  EXPECT_NE(loader.load(dir_ + "/throwing_init.so").find("boom"), std::string::npos);
  EXPECT_NE(loader.load(dir_ + "/name_clash.so").find("<Join> already exists"), std::string::npos);
  EXPECT_FALSE(loader.load(dir_ + "/not-elf.so").empty());
  EXPECT_NE(loader.load(dir_ + "/missing.so").find("does not exist"), std::string::npos);
  EXPECT_EQ(loader.load(dir_ + "/good.so"), "");
  EXPECT_EQ(loader.load(dir_ + "/good.so"), "the command <Echo> already exists");  // loaded twice
  EXPECT_EQ(loader.loaded(), (std::vector<std::string>{"good"}));
  ::chmod(dir_.c_str(), 0777);
  EXPECT_EQ(loader.load_directory(dir_), 0u);
  service.shutdown();
}

}  // namespace
}  // namespace confab::service

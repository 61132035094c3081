// The plugin loader against a real ClientService: good plugins add what they
// offer, bad ones are refused and leave nothing behind.
#include "service/tunnel/plugin_loader.h"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <future>

#include "api/api_client.h"
#include "service/client_service.h"
#include "service/tunnel/tunnel.h"

namespace confab::service {
namespace {

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
  auto& commands = service.commands();
  EXPECT_TRUE(commands.has("Echo"));
  EXPECT_TRUE(commands.has("Tunnel"));
  EXPECT_FALSE(commands.has("Never"));  // failing_init registered it before failing
  EXPECT_FALSE(commands.has("Echo2"));  // name_clash also asked for <Join>: refused as a whole
  EXPECT_TRUE(service.events().has_kind("echoes"));
  EXPECT_TRUE(service.events().has_kind("tunnel"));

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

// What a plugin sees of a service, without the service: a command table
// holding <Join>, an event hub, a user agent.
class TestHost final : public ExtensionHost, public sip::UserAgent::Handler {
 public:
  TestHost() : ua_(loop_, options(), *this) {
    commands_.add("Join", [](const api::ApiMessage&, const Reply& reply) { reply.ok(); });
  }
  CommandTable& commands() override { return commands_; }
  EventHub& events() override { return events_; }
  ServiceCall* find_call(const std::string&) const override { return nullptr; }
  const std::string& identity() const override { return identity_; }
  sip::UserAgent& user_agent() override { return ua_; }
  sip::EventLoop& loop() override { return loop_; }
  void on_incoming_call(const std::shared_ptr<sip::Call>&, sip::IncomingRequest r) override { r.respond(480, "No"); }

 private:
  static sip::UserAgentOptions options() {
    sip::UserAgentOptions o;
    o.listen.push_back(*sip::ListenSpec::parse("udp:127.0.0.1:41922"));
    return o;
  }
  sip::EventLoop loop_;
  CommandTable commands_;
  EventHub events_;
  std::string identity_ = "sip:t@127.0.0.1:41922";
  sip::UserAgent ua_;
};

TEST_F(PluginLoading, EachRefusalSaysWhy) {
  TestHost host;
  Tunnel tunnel(host);
  PluginLoader loader(host, tunnel);
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
  host.user_agent().shutdown();
}

}  // namespace
}  // namespace confab::service

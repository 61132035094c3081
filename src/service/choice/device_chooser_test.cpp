// DeviceChooser: the chooser page first, then a desktop dialog (a stand-in
// zenity), then the default device; one outcome and status for each ending.
#include "service/choice/device_chooser.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <mutex>

#include "base/temp_dir.h"
#include "service/api/api_server.h"

namespace confab::service {
namespace {

using namespace std::chrono_literals;
using Outcome = DeviceChooser::Outcome;

// Where the page's messages go: kept for the test to read.
struct PageTransport final : ApiTransport {
  std::mutex mutex;
  std::vector<api::ApiMessage> sent;
  void deliver(uint64_t, const api::ApiMessage& m, bool) override {
    std::lock_guard lock(mutex);
    sent.push_back(m);
  }
};

DeviceConfig sip_device(const std::string& id) {
  DeviceConfig d;
  d.id = id;
  d.settings["uri"] = "sip:" + id + "@127.0.0.1:7000";
  return d;
}

class DeviceChooserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::unsetenv("DISPLAY");
    ::unsetenv("WAYLAND_DISPLAY");
  }
  void TearDown() override {
    bin_.reset();
    if (!path_.empty()) ::setenv("PATH", path_.c_str(), 1);
    path_.clear();
  }
  // A directory with a zenity in it, first on PATH, and a display.
  std::string zenity_dir(const std::string& script) {
    bin_ = std::make_unique<base::TempDir>("confab-chooser-test");
    std::ofstream(bin_->path + "/zenity") << "#!/bin/sh\n" << script;
    ::chmod((bin_->path + "/zenity").c_str(), 0755);
    if (path_.empty()) path_ = std::getenv("PATH");
    ::setenv("PATH", (bin_->path + ":" + path_).c_str(), 1);
    ::setenv("DISPLAY", ":99", 1);
    return bin_->path;
  }
  // The page: a connection subscribed to "choices".
  std::shared_ptr<ApiConnection> open_page(EventHub& events) {
    auto page = std::make_shared<ApiConnection>(transport_, next_connection_id(), "unix");
    events.subscribe(page, {"choices"});
    return page;
  }
  // A display, and a zenity that notes its arguments, prints `out` and exits with `status`.
  std::string fake_zenity(const std::string& out, int status) {
    std::string dir = "\"$(dirname \"$0\")\"";
    return zenity_dir("echo \"$@\" > " + dir + "/args\n" + (out.empty() ? "" : "echo " + out + "\n") + "exit " +
                      std::to_string(status) + "\n");
  }
  DeviceChooser::Decision wait(const std::optional<DeviceChooser::Decision>& d) {
    for (int i = 0; i < 500 && !d; ++i) loop_.run_for(10ms);
    EXPECT_TRUE(d);
    return d.value_or(DeviceChooser::Decision{});
  }

  sip::EventLoop loop_;
  std::shared_ptr<PageTransport> transport_ = std::make_shared<PageTransport>();
  std::unique_ptr<base::TempDir> bin_;
  std::string path_;
};

TEST_F(DeviceChooserTest, WithNobodyToAskTheDefaultDeviceOrNoDevice) {
  EventHub events;
  DeviceRegistry two({sip_device("desk"), sip_device("laptop")}, "");
  DeviceChooser chooser(loop_, two, events, 5s);
  EXPECT_FALSE(chooser.can_ask());
  std::optional<DeviceChooser::Decision> d;
  EXPECT_EQ(chooser.ask({"sip:room@conf", "unix", false}, [&](auto& x) { d = x; }), 0u);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->outcome, Outcome::NoDevice);
  EXPECT_EQ(d->status, 409);
  EXPECT_NE(d->reason.find("chooser"), std::string::npos);

  DeviceRegistry one({sip_device("desk")}, "");  // the only device is the default
  EXPECT_TRUE(one.default_is_implied());
  DeviceChooser single(loop_, one, events, 5s);
  d.reset();
  single.ask({"sip:room@conf", "unix", false}, [&](auto& x) { d = x; });
  ASSERT_TRUE(d);
  EXPECT_EQ(d->outcome, Outcome::Chosen);
  EXPECT_EQ(d->device, "desk");
}

TEST_F(DeviceChooserTest, ThePageIsAskedAndItsAnswerOrTimeoutDecides) {
  EventHub events;
  DeviceRegistry devices({sip_device("desk"), sip_device("laptop")}, "desk");
  DeviceChooser chooser(loop_, devices, events, 1s);
  auto page = open_page(events);
  EXPECT_TRUE(chooser.can_ask());
  std::optional<DeviceChooser::Decision> d;
  auto id = chooser.ask({"sip:bob@example.com", "", true}, [&](auto& x) { d = x; });
  EXPECT_NE(id, 0u);
  EXPECT_FALSE(d);  // not the default device: the user is asked
  ASSERT_EQ(transport_->sent.size(), 1u);
  auto& ask = transport_->sent[0];
  EXPECT_EQ(ask.name, "ChoiceRequest");
  EXPECT_EQ(ask.attr("incoming"), "true");
  ASSERT_EQ(chooser.pending().size(), 1u);
  std::string choice = ask.attr("choice");

  auto reply_to = std::make_shared<ApiConnection>(transport_, next_connection_id(), "unix");
  chooser.choose(choice, "nosuch", Reply(reply_to, "1"));
  EXPECT_EQ(transport_->sent.back().attr("code"), "404");
  chooser.choose(choice, "laptop", Reply(reply_to, "2"));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->outcome, Outcome::Chosen);
  EXPECT_EQ(d->device, "laptop");
  EXPECT_TRUE(chooser.pending().empty());
  chooser.choose(choice, "desk", Reply(reply_to, "3"));  // answered already
  EXPECT_EQ(transport_->sent.back().attr("code"), "404");

  d.reset();
  chooser.ask({"sip:room@conf", "unix", false}, [&](auto& x) { d = x; });
  auto decision = wait(d);  // nobody answers within the second
  EXPECT_EQ(decision.outcome, Outcome::TimedOut);
  EXPECT_EQ(decision.status, 408);
  bool done = false;
  for (auto& m : transport_->sent) done = done || (m.name == "ChoiceDone" && m.attr("outcome") == "timeout");
  EXPECT_TRUE(done);

  d.reset();
  auto cancelled = chooser.ask({"sip:carol@example.com", "", true}, [&](auto& x) { d = x; });
  chooser.cancel(cancelled);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->status, 487);

  d.reset();
  chooser.ask({"sip:room@conf", "unix", false}, [&](auto& x) { d = x; });
  chooser.shutdown();
  ASSERT_TRUE(d);
  EXPECT_EQ(d->outcome, Outcome::ShuttingDown);
}

TEST_F(DeviceChooserTest, WithoutAPageADesktopDialogAsks) {
  auto bin = fake_zenity("laptop", 0);
  EventHub events;
  DeviceRegistry devices({sip_device("desk"), sip_device("laptop")}, "");
  DeviceChooser chooser(loop_, devices, events, 30s);
  EXPECT_TRUE(chooser.can_ask());
  std::optional<DeviceChooser::Decision> d;
  EXPECT_NE(chooser.ask({"sip:bob&co@example.com", "", true}, [&](auto& x) { d = x; }), 0u);
  auto decision = wait(d);
  EXPECT_EQ(decision.outcome, Outcome::Chosen);
  EXPECT_EQ(decision.device, "laptop");
  std::ifstream in(bin + "/args");
  std::string args((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(args.find("Incoming call from sip:bob&amp;co@example.com"), std::string::npos) << args;
  EXPECT_NE(args.find("--timeout=30"), std::string::npos) << args;
}

TEST_F(DeviceChooserTest, DialogDeclinedTimedOutOrBroken) {
  EventHub events;
  DeviceRegistry devices({sip_device("desk"), sip_device("laptop")}, "desk");
  DeviceChooser chooser(loop_, devices, events, 30s);
  struct Case {
    int status;
    Outcome outcome;
    std::string device;
  };
  // 1: the cancel button; 5: zenity's --timeout; 3 (any other): no dialog could be shown, so the default device.
  for (auto [status, outcome, device] : {Case{1, Outcome::Declined, ""}, Case{5, Outcome::TimedOut, ""},
                                         Case{3, Outcome::Chosen, "desk"}}) {
    fake_zenity("", status);
    std::optional<DeviceChooser::Decision> d;
    chooser.ask({"sip:room@conf", "unix", false}, [&](auto& x) { d = x; });
    auto decision = wait(d);
    EXPECT_EQ(decision.outcome, outcome) << status;
    EXPECT_EQ(decision.device, device) << status;
    TearDown();
  }
}

TEST_F(DeviceChooserTest, ADialogClosedBeforeItAnswersLeavesNoProcess) {
  auto bin = zenity_dir("echo $$ > \"$(dirname \"$0\")/pid\"\nexec sleep 60\n");
  EventHub events;
  DeviceRegistry devices({sip_device("desk"), sip_device("laptop")}, "");
  pid_t pid = 0;
  {
    DeviceChooser chooser(loop_, devices, events, 30s);
    std::optional<DeviceChooser::Decision> d;
    auto id = chooser.ask({"sip:bob@example.com", "", true}, [&](auto& x) { d = x; });
    for (int i = 0; i < 300 && !pid; ++i) {
      loop_.run_for(10ms);
      std::ifstream(bin + "/pid") >> pid;
    }
    ASSERT_GT(pid, 0);
    chooser.cancel(id);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->outcome, Outcome::Cancelled);
    EXPECT_NE(::kill(pid, 0), 0) << "zenity still runs";
    // Four open at most; the fifth question falls back (no default: NoDevice).
    std::vector<std::optional<DeviceChooser::Decision>> ds(5);
    for (auto& x : ds) chooser.ask({"sip:room@conf", "unix", false}, [&x](auto& y) { x = y; });
    EXPECT_FALSE(ds[3]);
    ASSERT_TRUE(ds[4]);
    EXPECT_EQ(ds[4]->outcome, Outcome::NoDevice);
  }  // the chooser goes with four dialogs open: each is closed, its process gone
}

}  // namespace
}  // namespace confab::service

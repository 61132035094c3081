// The command table: dispatch, what web pages may call, failures answered;
// the event hub: who gets which kinds.
#include "service/api/command_table.h"

#include <gtest/gtest.h>

#include <mutex>

#include "service/api/api_server.h"
#include "service/api/event_hub.h"

namespace confab::service {
namespace {

struct Recorder final : ApiTransport {
  std::mutex mutex;
  std::vector<std::pair<uint64_t, api::ApiMessage>> sent;
  void deliver(uint64_t connection, const api::ApiMessage& m, bool) override {
    std::lock_guard lock(mutex);
    sent.emplace_back(connection, m);
  }
};

class CommandTableTest : public ::testing::Test {
 protected:
  std::shared_ptr<ApiConnection> connect(const std::string& peer) {
    return std::make_shared<ApiConnection>(transport_, next_connection_id(), peer);
  }
  api::ApiMessage last() { return transport_->sent.back().second; }
  std::shared_ptr<Recorder> transport_ = std::make_shared<Recorder>();
};

TEST_F(CommandTableTest, DispatchesByNameAndAnswersWhatItCannotRun) {
  CommandTable table;
  EXPECT_TRUE(table.add("Join", [](const api::ApiMessage& m, const Reply& r) { r.ok("joined " + m.attr("id")); }));
  EXPECT_FALSE(table.add("Join", [](const api::ApiMessage&, const Reply&) {}));  // taken
  EXPECT_TRUE(table.add("Tunnel", [](const api::ApiMessage&, const Reply&) { throw std::runtime_error("boom"); }));
  EXPECT_TRUE(table.has("Tunnel"));
  EXPECT_EQ(table.names(), (std::vector<std::string>{"Join", "Tunnel"}));
  auto app = connect("unix");
  table.dispatch(app, api::ApiMessage("Join").set("id", "sip:a@b").set("tag", "t1"));
  EXPECT_EQ(last().attr("reason"), "joined sip:a@b");
  EXPECT_EQ(last().attr("tag"), "t1");
  table.dispatch(app, api::ApiMessage("Frobnicate"));
  EXPECT_EQ(last().attr("code"), "501");
  EXPECT_EQ(last().attr("reason"), "unknown command <Frobnicate>; known: Join, Tunnel");
  table.dispatch(app, api::ApiMessage("Tunnel"));
  EXPECT_EQ(last().attr("code"), "500");
  EXPECT_EQ(last().attr("reason"), "boom");
}

TEST_F(CommandTableTest, WebPagesGetTheCallCommandsOnly) {
  CommandTable table;
  for (auto name : {"Join", "Tunnel", "Approve", "Choose", "Hangup"})
    table.add(name, [](const api::ApiMessage&, const Reply& r) { r.ok(); });
  auto page = connect("web:https://example.com");
  for (auto name : {"Tunnel", "Approve", "Choose", "LogLevel", "State"}) EXPECT_FALSE(CommandTable::web_may_call(name));
  for (auto name : {"Tunnel", "Approve", "Choose"}) {
    table.dispatch(page, api::ApiMessage(name));
    EXPECT_EQ(last().attr("code"), "403") << name;
  }
  for (auto name : {"Join", "Hangup"}) {
    table.dispatch(page, api::ApiMessage(name));
    EXPECT_EQ(last().attr("code"), "200") << name;
  }
  table.dispatch(connect("unix"), api::ApiMessage("Tunnel"));
  EXPECT_EQ(last().attr("code"), "200");
}

TEST_F(CommandTableTest, EventsReachTheirSubscribersOnly) {
  EventHub hub;
  hub.add_kind("tunnel");
  EXPECT_TRUE(hub.has_kind("calls") && hub.has_kind("roster") && hub.has_kind("choices") && hub.has_kind("tunnel"));
  auto a = connect("unix"), b = connect("tcp:127.0.0.1:4000"), page = connect("web:https://example.com");
  EXPECT_TRUE(hub.subscribe(a, {"calls", "tunnel"}));
  EXPECT_TRUE(hub.subscribe(b, {"roster"}));
  EXPECT_FALSE(hub.subscribe(page, {"calls", "tunnel"}));  // web pages: calls and roster only
  EXPECT_TRUE(hub.subscribe(page, {"calls"}));
  EXPECT_TRUE(hub.has_subscriber("tunnel"));
  EXPECT_FALSE(hub.has_subscriber("choices"));
  hub.publish("calls", api::ApiMessage("Call"));
  std::set<uint64_t> got;
  for (auto& [to, m] : transport_->sent) got.insert(to);
  EXPECT_EQ(got, (std::set<uint64_t>{a->id(), page->id()}));
  hub.forget(*a);
  EXPECT_FALSE(hub.has_subscriber("tunnel"));
  EXPECT_TRUE(hub.subscribe(b, {}));  // unsubscribes
  EXPECT_FALSE(hub.has_subscriber("roster"));
}

}  // namespace
}  // namespace confab::service

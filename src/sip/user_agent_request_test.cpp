// Requests of any method (RequestSpec): out of dialog with every response
// reported, and inside an INVITE dialog with the dialog's identifiers, the
// responses in order. Two user agents on loopback in one event loop.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <optional>

#include "sip/user_agent.h"

using namespace confab::sip;
using namespace std::chrono_literals;

namespace {

const char* kSdp = "v=0\r\no=a 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 41990 RTP/AVP 0\r\n";

struct Response {
  int status;
  std::string phrase;
  std::string text;
};

struct LegRecorder : CallHandler {
  std::vector<Response> responses;
  std::vector<Message> requests;
  std::function<void(IncomingRequest&)> answer;
  void on_info(Call&, IncomingRequest r) override {
    requests.push_back(r.message());
    answer ? answer(r) : r.respond(200, "OK");
  }
  void on_request(Call&, IncomingRequest r) override {
    requests.push_back(r.message());
    answer ? answer(r) : r.respond(200, "OK");
  }
  void on_method_response(Call&, int status, std::string_view phrase, const Message& m) override {
    responses.push_back({status, std::string(phrase), m ? m.str() : ""});
  }
  void on_terminated(Call&, int, std::string_view) override { terminated = true; }
  bool terminated = false;
};

struct Peer : UserAgent::Handler {
  std::vector<Message> requests;
  std::vector<std::shared_ptr<Call>> calls;
  LegRecorder* leg = nullptr;
  void on_incoming_call(const std::shared_ptr<Call>& call, IncomingRequest invite) override {
    calls.push_back(call);
    call->set_handler(leg);
    invite.respond(200, "OK", {}, "application/sdp", kSdp);
  }
  void on_request(IncomingRequest r) override {
    requests.push_back(r.message());
    r.respond(202, "Taken");
  }
  // An out-of-dialog REFER: accepted, then "Trying" and the final outcome.
  std::shared_ptr<Notifier> refer;
  void on_refer(const std::shared_ptr<Notifier>& n) override {
    refer = n;
    n->accept();
    n->notify("message/sipfrag;version=2.0", "SIP/2.0 100 Trying\r\n");
    n->terminate("message/sipfrag;version=2.0", "SIP/2.0 503 DNS Error\r\n");
  }
};

// The subscriber side of a REFER: its response, its NOTIFYs, its end.
struct ReferWatcher : SubscriberHandler {
  int response = 0, ended = 0;
  std::vector<std::string> bodies;
  void on_subscribe_response(Subscriber&, int status, std::string_view) override { response = status; }
  void on_notify(Subscriber&, const Message& n) override { bodies.emplace_back(n.body()); }
  void on_ended(Subscriber&, int, std::string_view) override { ++ended; }
};

UserAgentOptions options(uint16_t port) {
  UserAgentOptions o;
  o.listen.push_back(*ListenSpec::parse("udp:127.0.0.1:" + std::to_string(port)));
  o.transaction_timeout_ms = 2000;
  return o;
}

bool run_until(EventLoop& loop, const std::function<bool()>& done, std::chrono::milliseconds limit = 4000ms) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < until) loop.run_for(5ms);
  return done();
}

class RequestTest : public ::testing::Test {
 protected:
  EventLoop loop;
  Peer a_peer, b_peer;
  UserAgent a{loop, options(41900), a_peer};
  UserAgent b{loop, options(41902), b_peer};
};

}  // namespace

TEST_F(RequestTest, OutOfDialogEveryMethodGetsItsFinalResponse) {
  std::vector<Response> got;
  auto record = [&](int status, std::string_view phrase, const Message& m) {
    got.push_back({status, std::string(phrase), m ? m.str() : ""});
  };
  RequestSpec message{"MESSAGE", "sip:b@127.0.0.1:41902", "", "", {{"X-Test", "42"}}, "text/plain", "hello"};
  a.send_request(message, record);
  ASSERT_TRUE(run_until(loop, [&] { return got.size() == 1; }));
  EXPECT_EQ(got[0].status, 202);
  EXPECT_EQ(got[0].phrase, "Taken");
  EXPECT_NE(got[0].text.find("SIP/2.0 202 Taken"), std::string::npos);
  ASSERT_EQ(b_peer.requests.size(), 1u);
  EXPECT_EQ(b_peer.requests[0].body(), "hello");
  EXPECT_EQ(b_peer.requests[0].header("X-Test").value_or(""), "42");
  EXPECT_FALSE(b_peer.requests[0].from_tag().empty());

  a.send_request({"OPTIONS", "sip:b@127.0.0.1:41902", "", "", {}, "", ""}, record);  // the stack answers OPTIONS
  a.send_request({"X-PING", "sip:b@127.0.0.1:41902", "", "", {}, "", ""}, record);   // and refuses unknown ones
  ASSERT_TRUE(run_until(loop, [&] { return got.size() == 3; }));
  std::vector<int> statuses{got[1].status, got[2].status};
  std::sort(statuses.begin(), statuses.end());
  EXPECT_EQ(statuses, (std::vector<int>{200, 501}));
}

TEST_F(RequestTest, OutOfDialogReferReportsItsProgressUntilTheFinalNotify) {
  ReferWatcher watcher;
  auto sub = a.refer("sip:room1@127.0.0.1:41902", "sip:carol@example.com", watcher);
  ASSERT_TRUE(sub);
  ASSERT_TRUE(run_until(loop, [&] { return watcher.ended > 0; }));
  EXPECT_EQ(watcher.response, 202);
  ASSERT_TRUE(b_peer.refer);
  EXPECT_EQ(b_peer.refer->request().header("Refer-To").value_or(""), "<sip:carol@example.com>");
  ASSERT_FALSE(watcher.bodies.empty());
  EXPECT_EQ(watcher.bodies.back(), "SIP/2.0 503 DNS Error\r\n");
  EXPECT_FALSE(sub->active());
}

TEST_F(RequestTest, NobodyListeningEndsWithAStatusAndNoMessage) {
  std::optional<Response> got;
  a.send_request({"OPTIONS", "sip:nobody@127.0.0.1:41904", "", "", {}, "", ""},
                 [&](int status, std::string_view phrase, const Message& m) {
                   got = Response{status, std::string(phrase), m ? m.str() : ""};
                 });
  ASSERT_TRUE(run_until(loop, [&] { return got.has_value(); }, 6000ms));
  EXPECT_GE(got->status, 400);
  EXPECT_FALSE(got->phrase.empty());
}

TEST_F(RequestTest, InDialogRequestsUseTheDialogAndAnswerInOrder) {
  LegRecorder caller, callee;
  b_peer.leg = &callee;
  auto call = a.invite("sip:b@127.0.0.1:41902", kSdp, caller);
  ASSERT_TRUE(run_until(loop, [&] { return call->established() && !b_peer.calls.empty(); }));

  int answered = 0;
  callee.answer = [&](IncomingRequest& r) {
    ++answered;
    r.respond(answered == 1 ? 200 : 415, answered == 1 ? "OK" : "Nope");
  };
  call->request({"INFO", "sip:ignored@10.9.9.9", "", "", {{"X-Seq", "1"}}, "application/x-test", "one"});
  call->request({"MESSAGE", "", "", "", {{"X-Seq", "2"}}, "text/plain", "two"});
  ASSERT_TRUE(run_until(loop, [&] { return caller.responses.size() == 2; }));
  EXPECT_EQ(caller.responses[0].status, 200);
  EXPECT_EQ(caller.responses[1].status, 415);
  EXPECT_EQ(caller.responses[1].phrase, "Nope");
  ASSERT_EQ(callee.requests.size(), 2u);
  for (auto& r : callee.requests) {
    EXPECT_EQ(r.call_id(), call->call_id());
    EXPECT_EQ(r.from_tag(), call->local_tag());
    EXPECT_EQ(r.to_tag(), call->remote_tag());
    EXPECT_EQ(r.request_uri().find("10.9.9.9"), std::string::npos);  // the dialog's remote target
  }
  EXPECT_EQ(callee.requests[0].method_name(), "INFO");
  EXPECT_EQ(callee.requests[1].method_name(), "MESSAGE");
  EXPECT_EQ(callee.requests[1].body(), "two");
  EXPECT_LT(callee.requests[0].cseq(), callee.requests[1].cseq());

  call->hangup();
  ASSERT_TRUE(run_until(loop, [&] { return callee.terminated; }));
}

TEST_F(RequestTest, InDialogMessageWithoutOnRequestIsRefusedNotLeftHanging) {
  LegRecorder caller;
  struct NoMessages : LegRecorder {
    void on_request(Call& c, IncomingRequest r) override { CallHandler::on_request(c, std::move(r)); }
  } callee;
  b_peer.leg = &callee;
  auto call = a.invite("sip:b@127.0.0.1:41902", kSdp, caller);
  ASSERT_TRUE(run_until(loop, [&] { return call->established(); }));
  call->request({"MESSAGE", "", "", "", {}, "text/plain", "x"});
  ASSERT_TRUE(run_until(loop, [&] { return !caller.responses.empty(); }));
  EXPECT_EQ(caller.responses[0].status, 405);
  call->hangup();
  ASSERT_TRUE(run_until(loop, [&] { return callee.terminated; }));
}

// Two user agents on loopback in one event loop: calls, re-INVITE, INFO,
// REFER/NOTIFY, offerless INVITE with the answer in the ACK, BYE, CANCEL.
#include "sip/user_agent.h"

#include <gtest/gtest.h>

#include <functional>
#include <optional>

using namespace confab::sip;
using namespace std::chrono_literals;

namespace {

const char* kOfferA = "v=0\r\no=a 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n";
const char* kOfferB = "v=0\r\no=b 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40002 RTP/AVP 0\r\n";

struct Recorder : CallHandler {
  std::vector<int> responses;
  std::vector<std::string> events;
  std::optional<Message> last_response, last_ack, last_info, last_notify;
  int terminated_status = 0;
  bool terminated = false;
  std::function<void(Call&, IncomingRequest)> reinvite_answer;
  std::function<void(Call&, IncomingRequest)> refer_answer;
  std::function<void(Call&, int, const Message&)> on_response;
  std::function<void(const Message&)> on_notify_seen;
  Call* call = nullptr;  // the last call that REFERred us

  void on_invite_response(Call& c, int status, const Message& r) override {
    responses.push_back(status);
    last_response = r;
    if (on_response) on_response(c, status, r);
  }
  void on_reinvite(Call& c, IncomingRequest r) override {
    events.push_back("reinvite");
    if (reinvite_answer) reinvite_answer(c, std::move(r));
  }
  void on_ack(Call&, const Message& a) override {
    events.push_back("ack");
    last_ack = a;
  }
  void on_info(Call&, IncomingRequest r) override {
    events.push_back("info");
    last_info = r.message();
    r.respond(200, "OK");
  }
  void on_refer(Call& c, IncomingRequest r) override {
    events.push_back("refer");
    call = &c;
    if (refer_answer) refer_answer(c, std::move(r));
  }
  void on_notify(Call&, const Message& n) override {
    events.push_back("notify");
    last_notify = n;
    if (on_notify_seen) on_notify_seen(n);
  }
  void on_terminated(Call&, int status, std::string_view) override {
    terminated = true;
    terminated_status = status;
  }
};

struct Answerer : UserAgent::Handler {
  std::function<void(const std::shared_ptr<Call>&, IncomingRequest)> on_call;
  std::vector<std::shared_ptr<Call>> calls;
  void on_incoming_call(const std::shared_ptr<Call>& call, IncomingRequest invite) override {
    calls.push_back(call);
    on_call(call, std::move(invite));
  }
};

UserAgentOptions options(uint16_t port) {
  UserAgentOptions o;
  o.listen.push_back(*ListenSpec::parse("udp:127.0.0.1:" + std::to_string(port)));
  return o;
}

bool run_until(EventLoop& loop, const std::function<bool()>& done, std::chrono::milliseconds limit = 3000ms) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < until) loop.run_for(5ms);
  return done();
}

class UserAgentTest : public ::testing::Test {
 protected:
  EventLoop loop;
  Answerer a_handler, b_handler;
  UserAgent a{loop, options(40100), a_handler};
  UserAgent b{loop, options(40102), b_handler};
  Recorder caller, callee;
};

}  // namespace

TEST_F(UserAgentTest, CallWithOfferReinviteInfoAndBye) {
  b_handler.on_call = [&](const std::shared_ptr<Call>& call, IncomingRequest invite) {
    call->set_handler(&callee);
    EXPECT_NE(invite.message().body().find("m=audio 40000"), std::string::npos);
    invite.respond(180, "Ringing");
    invite.respond(200, "OK", {}, "application/sdp", kOfferB);
  };
  callee.reinvite_answer = [&](Call&, IncomingRequest r) { r.respond(200, "OK", {}, "application/sdp", kOfferB); };
  auto call = a.invite("sip:b@127.0.0.1:40102", kOfferA, caller);
  ASSERT_TRUE(call);
  ASSERT_TRUE(run_until(loop, [&] { return call->established() && !callee.events.empty(); }));
  EXPECT_EQ(caller.responses.front(), 180);
  EXPECT_EQ(caller.responses.back(), 200);
  EXPECT_NE(caller.last_response->body().find("m=audio 40002"), std::string::npos);
  EXPECT_EQ(callee.events.front(), "ack");
  ASSERT_TRUE(run_until(loop, [&] { return b_handler.calls.front()->established(); }));
  EXPECT_FALSE(call->call_id().empty());
  EXPECT_EQ(call->call_id(), b_handler.calls.front()->call_id());

  call->reinvite(kOfferA);
  ASSERT_TRUE(run_until(loop, [&] { return caller.responses.size() >= 3; }));
  EXPECT_EQ(caller.responses.back(), 200);

  call->info("application/json", "{\"x\":1}");
  ASSERT_TRUE(run_until(loop, [&] { return callee.last_info.has_value(); }));
  EXPECT_EQ(callee.last_info->body(), "{\"x\":1}");

  call->hangup();
  ASSERT_TRUE(run_until(loop, [&] { return caller.terminated && callee.terminated; }));
  EXPECT_EQ(a.active_calls(), 0u);
  EXPECT_EQ(b.active_calls(), 0u);
}

TEST_F(UserAgentTest, OfferlessInviteGetsOfferIn200AndAnswerInAck) {
  b_handler.on_call = [&](const std::shared_ptr<Call>& call, IncomingRequest invite) {
    call->set_handler(&callee);
    EXPECT_TRUE(invite.message().body().empty());
    invite.respond(200, "OK", {}, "application/sdp", kOfferB);  // our offer
  };
  CallOptions opts;
  opts.auto_ack = false;
  caller.on_response = [&](Call& c, int status, const Message&) {
    if (status == 200) c.ack(kOfferA);  // the answer travels in the ACK (RFC 3725)
  };
  auto call = a.invite("sip:b@127.0.0.1:40102", "", caller, opts);
  ASSERT_TRUE(run_until(loop, [&] { return callee.last_ack.has_value(); }));
  EXPECT_NE(callee.last_ack->body().find("m=audio 40000"), std::string::npos);
  call->hangup();
  ASSERT_TRUE(run_until(loop, [&] { return callee.terminated; }));
}

TEST_F(UserAgentTest, RejectedAndCancelledCallsTerminate) {
  b_handler.on_call = [&](const std::shared_ptr<Call>& call, IncomingRequest invite) {
    call->set_handler(&callee);
    // A reason built at run time and gone right after: the stack sends it later,
    // so it must have been kept (the phrase once went out as garbage).
    std::string reason = std::string("Busy ") + "Right Now";
    invite.respond(486, reason);
    reason.assign(reason.size(), 'x');
  };
  auto call = a.invite("sip:b@127.0.0.1:40102", kOfferA, caller);
  ASSERT_TRUE(run_until(loop, [&] { return caller.terminated; }));
  EXPECT_EQ(caller.responses.back(), 486);
  EXPECT_EQ(caller.last_response->reason(), "Busy Right Now");

  Recorder caller2, callee2;
  std::optional<IncomingRequest> ringing;
  b_handler.on_call = [&](const std::shared_ptr<Call>& c, IncomingRequest invite) {
    c->set_handler(&callee2);
    invite.respond(180, "Ringing");
    ringing.emplace(std::move(invite));  // keep it unanswered
  };
  auto call2 = a.invite("sip:b@127.0.0.1:40102", kOfferA, caller2);
  ASSERT_TRUE(run_until(loop, [&] { return !caller2.responses.empty(); }));
  call2->hangup();  // CANCEL
  ASSERT_TRUE(run_until(loop, [&] { return caller2.terminated && callee2.terminated; }));
  EXPECT_EQ(caller2.responses.back(), 487);
}

TEST_F(UserAgentTest, ReferIsAnsweredAndNotified) {
  // Two REFERs out in one dialog: each NOTIFY names its REFER (Event: refer;id=<CSeq>),
  // so the referrer can tell whose outcome it is, whatever the order they end in.
  b_handler.on_call = [&](const std::shared_ptr<Call>& call, IncomingRequest invite) {
    call->set_handler(&callee);
    invite.respond(200, "OK", {}, "application/sdp", kOfferB);
  };
  std::vector<uint32_t> accepted;
  callee.refer_answer = [&](Call& c, IncomingRequest r) {
    EXPECT_EQ(r.message().header("Refer-To").value_or("").substr(0, 12), "<sip:carol@1");
    accepted.push_back(r.message().cseq());
    r.respond(202, "Accepted");
    c.notify_refer(accepted.back(), 100, "Trying", false);
  };
  std::vector<std::string> notified;  // "Event | sipfrag status line"
  caller.on_notify_seen = [&](const Message& n) {
    std::string body(n.body());
    notified.push_back(n.header("Event").value_or("") + " | " + body.substr(0, body.find('\r')));
  };
  auto call = a.invite("sip:b@127.0.0.1:40102", kOfferA, caller);
  ASSERT_TRUE(run_until(loop, [&] { return call->established(); }));
  call->refer("sip:carol@127.0.0.1:40104");
  call->refer("sip:carol@127.0.0.1:40106");
  ASSERT_TRUE(run_until(loop, [&] { return accepted.size() == 2 && notified.size() == 2; }));
  ASSERT_NE(accepted[0], accepted[1]);
  auto b_call = callee.call;
  ASSERT_TRUE(b_call);
  b_call->notify_refer(accepted[1], 503, "Service Unavailable", true);  // the second ends first
  b_call->notify_refer(accepted[0], 200, "OK", true);
  ASSERT_TRUE(run_until(loop, [&] { return notified.size() == 4; }));
  std::string first = "refer;id=" + std::to_string(accepted[0]), second = "refer;id=" + std::to_string(accepted[1]);
  EXPECT_EQ(notified[0], first + " | SIP/2.0 100 Trying");
  EXPECT_EQ(notified[1], second + " | SIP/2.0 100 Trying");
  EXPECT_EQ(notified[2], second + " | SIP/2.0 503 Service Unavailable");
  EXPECT_EQ(notified[3], first + " | SIP/2.0 200 OK");
  call->hangup();
  ASSERT_TRUE(run_until(loop, [&] { return callee.terminated; }));
}

// A port taken (here by a's UDP socket): the error says so, not only "cannot listen".
TEST_F(UserAgentTest, ABindFailureSaysWhy) {
  Answerer c_handler;
  try {
    UserAgent c(loop, options(40100), c_handler);
    FAIL() << "a second user agent listens on 40100";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("cannot listen on udp:127.0.0.1:40100: address already in use", 0), 0u)
        << e.what();
  }
}

// A response the stack made up (nothing listens at 40199: ICMP port unreachable)
// is told apart from one that came from the peer.
TEST_F(UserAgentTest, LocalResponsesAreToldApartFromThePeers) {
  std::optional<bool> from_peer_local, made_up_local;
  int made_up_status = 0;
  RequestSpec options;
  options.method = "OPTIONS";
  options.request_uri = "sip:127.0.0.1:40102";
  a.send_request(options, [&](int status, std::string_view, const Message& r) {
    if (status >= 200) from_peer_local = r && r.is_local();
  });
  options.request_uri = "sip:127.0.0.1:40199";
  a.send_request(options, [&](int status, std::string_view, const Message& r) {
    if (status < 200) return;
    made_up_status = status;
    made_up_local = !r || r.is_local();
  });
  ASSERT_TRUE(run_until(loop, [&] { return from_peer_local && made_up_local; }, 5000ms));
  EXPECT_FALSE(*from_peer_local);
  EXPECT_TRUE(*made_up_local) << made_up_status;
  EXPECT_GE(made_up_status, 400);
}

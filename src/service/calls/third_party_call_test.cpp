// ThirdPartyCall's state machine against fake legs: every phase of RFC 3725
// flow I, incoming calls, relayed offers, both ways of moving, and the end.
#include "service/calls/third_party_call.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace confab::service {
namespace {

std::string sdp(const std::string& address, int port) {
  return "v=0\r\no=- 1 1 IN IP4 " + address + "\r\ns=-\r\nc=IN IP4 " + address + "\r\nt=0 0\r\nm=audio " +
         std::to_string(port) + " RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
}
const std::string kDevice = sdp("10.0.0.1", 4000), kDevice2 = sdp("10.0.0.1", 4002);
const std::string kRoom1 = sdp("10.0.0.2", 5000), kRoom1b = sdp("10.0.0.2", 5008), kRoom2 = sdp("10.0.0.3", 6000);

// What the call did to its legs, in order: "device: ack <sdp>", "target: hangup", ...
using Log = std::vector<std::string>;

class FakeLeg final : public CallLeg {
 public:
  FakeLeg(std::string name, Log& log) : name_(std::move(name)), log_(log) {}
  void attach(CallLegEvents* events) override { events_ = events; }
  void reinvite(std::string_view sdp) override { note("reinvite", sdp); }
  void ack(std::string_view sdp) override {
    note("ack", sdp);
    established_ = true;
  }
  void refer(const std::string& uri) override { note("refer", uri); }
  void ping() override { note("ping", ""); }
  void hangup() override { note("hangup", ""); }
  bool established() const override { return established_; }
  bool terminated() const override { return terminated_; }
  sip::ReplacesHeader replaces() const override { return {"dialog-" + name_, "their-tag", "our-tag", false}; }

  // The peer's side.
  void answers(int status, const std::string& body = "", const std::string& reason = "X") {
    if (status >= 200 && status < 300) established_ = true;
    events_->on_answer(*this, status, reason, body);
  }
  void ends(int status = 200) {
    terminated_ = true;
    events_->on_ended(*this, status, "ended");
  }
  CallLegEvents* events() const { return events_; }

  std::string uri, offer;
  std::vector<sip::HeaderField> headers;
  bool auto_ack = true;

 private:
  void note(const std::string& what, std::string_view arg) {
    log_.push_back(name_ + ": " + what + (arg.empty() ? "" : " " + std::string(arg)));
  }
  std::string name_;
  Log& log_;
  CallLegEvents* events_ = nullptr;
  bool established_ = false, terminated_ = false;
};

class FakeDialer final : public LegDialer {
 public:
  explicit FakeDialer(std::vector<std::shared_ptr<FakeLeg>>& legs, Log& log) : legs_(legs), log_(log) {}
  std::shared_ptr<CallLeg> invite(const std::string& uri, std::string_view sdp, const sip::CallOptions& options,
                                  std::string_view name, CallLegEvents& events) override {
    auto leg = std::make_shared<FakeLeg>(std::string(name) + std::to_string(legs_.size()), log_);
    leg->uri = uri;
    leg->offer = std::string(sdp);
    leg->headers = options.headers;
    leg->auto_ack = options.auto_ack;
    leg->attach(&events);
    legs_.push_back(leg);
    log_.push_back("INVITE " + uri + (sdp.empty() ? " without offer" : " with offer"));
    return leg;
  }

 private:
  std::vector<std::shared_ptr<FakeLeg>>& legs_;
  Log& log_;
};

struct FakeRequest final : PendingRequest {
  explicit FakeRequest(Log& log) : log(log) {}
  void respond(int status, std::string_view reason, std::string_view sdp) override {
    log.push_back("respond " + std::to_string(status) + (sdp.empty() ? "" : " " + std::string(sdp)));
  }
  Log& log;
};

struct Observer final : CallObserver {
  std::vector<std::string> states;
  int gone = 0;
  void on_call_state(ServiceCall&, CallState state, int status, std::string_view) override {
    states.push_back(std::string(state_name(state)) + " " + std::to_string(status));
  }
  void on_call_gone(ServiceCall&) override { ++gone; }
};

class ThirdPartyCallTest : public ::testing::Test {
 protected:
  std::unique_ptr<ThirdPartyCall> make(const std::string& target = "sip:room1@conf") {
    bool caller = target.find("room") == std::string::npos;
    return std::make_unique<ThirdPartyCall>(
        loop_, std::make_unique<FakeDialer>(legs_, log_), observer_, "c1", "desk", "sip:desk@10.0.0.1", target,
        sip::CallOptions{}, std::chrono::seconds(0),
        caller ? ThirdPartyCall::Direction::Incoming : ThirdPartyCall::Direction::Outgoing);
  }
  // A started call, active with room1: legs_[0] is the device, legs_[1] the target.
  std::unique_ptr<ThirdPartyCall> active() {
    auto call = make();
    call->start([this](int status, const std::string&) { started_ = status; });
    legs_[0]->answers(200, kDevice);
    legs_[1]->answers(200, kRoom1);
    log_.clear();
    observer_.states.clear();
    return call;
  }
  FakeLeg& leg(size_t i) { return *legs_.at(i); }
  bool logged(const std::string& line) const { return std::find(log_.begin(), log_.end(), line) != log_.end(); }
  Completion record(std::string& into) {
    return [&into](int status, const std::string& reason) { into = std::to_string(status) + " " + reason; };
  }

  sip::EventLoop loop_;
  Log log_;
  std::vector<std::shared_ptr<FakeLeg>> legs_;
  Observer observer_;
  int started_ = 0;
};

TEST_F(ThirdPartyCallTest, FlowOneTheDevicesOfferGoesToTheTargetItsAnswerInTheAck) {
  auto call = make();
  std::string done;
  call->start(record(done));
  ASSERT_EQ(legs_.size(), 1u);
  EXPECT_EQ(leg(0).uri, "sip:desk@10.0.0.1");
  EXPECT_EQ(leg(0).offer, "");
  EXPECT_FALSE(leg(0).auto_ack);  // the ACK carries the target's answer
  leg(0).answers(180);
  leg(0).answers(183);
  EXPECT_EQ(observer_.states, (std::vector<std::string>{"ringing 180"}));
  EXPECT_FALSE(call->active());
  leg(0).answers(200, kDevice);
  ASSERT_EQ(legs_.size(), 2u);
  EXPECT_EQ(leg(1).uri, "sip:room1@conf");
  EXPECT_EQ(leg(1).offer, kDevice);
  EXPECT_TRUE(leg(1).auto_ack);
  leg(1).answers(180);
  EXPECT_TRUE(done.empty());
  leg(1).answers(200, kRoom1);
  EXPECT_EQ(log_.back(), "device0: ack " + kRoom1);
  EXPECT_EQ(done, "200 OK");
  EXPECT_TRUE(call->active());
  EXPECT_EQ(observer_.states.back(), "active 200");
}

TEST_F(ThirdPartyCallTest, ARefusalOnEitherSideEndsTheCallWithItsStatus) {
  {
    auto call = make();
    std::string done;
    call->start(record(done));
    leg(0).answers(486, "", "Busy Here");
    EXPECT_EQ(done, "486 device: Busy Here");
    EXPECT_TRUE(call->ended());
    EXPECT_EQ(legs_.size(), 1u);
    EXPECT_EQ(observer_.gone, 0);  // until the device's dialog is over
    leg(0).ends(486);
    EXPECT_EQ(observer_.gone, 1);
  }
  legs_.clear();
  log_.clear();
  {
    auto call = make();
    std::string done;
    call->start(record(done));
    leg(0).answers(200, kDevice);
    leg(1).answers(404, "", "Not Found");
    EXPECT_EQ(done, "404 target: Not Found");
    EXPECT_TRUE(logged("device0: hangup"));
  }
  legs_.clear();
  {
    auto call = make();
    std::string done;
    call->start(record(done));
    leg(0).answers(200, "");
    EXPECT_EQ(done, "488 the device answered without an offer");
  }
}

TEST_F(ThirdPartyCallTest, OffersAreRelayedBothWaysOneAtATime) {
  auto call = active();
  auto hold = sdp("10.0.0.2", 5000) + "a=sendonly\r\n";
  leg(1).events()->on_reoffer(leg(1), std::make_unique<FakeRequest>(log_), hold);
  EXPECT_EQ(log_.back(), "device0: reinvite " + hold);
  // A second offer while the first is relayed: 491.
  leg(0).events()->on_reoffer(leg(0), std::make_unique<FakeRequest>(log_), kDevice2);
  EXPECT_EQ(log_.back(), "respond 491");
  leg(0).answers(200, kDevice2);
  EXPECT_EQ(log_[log_.size() - 2], "device0: ack");
  EXPECT_EQ(log_.back(), "respond 200 " + kDevice2);
  // The device's offer goes to the target; a refusal comes back as it is.
  leg(0).events()->on_reoffer(leg(0), std::make_unique<FakeRequest>(log_), kDevice);
  EXPECT_EQ(log_.back(), "target1: reinvite " + kDevice);
  leg(1).answers(488, "", "Not Acceptable Here");
  EXPECT_EQ(log_.back(), "respond 488");
  // An offerless refresh gets the other side's last description.
  leg(0).events()->on_reoffer(leg(0), std::make_unique<FakeRequest>(log_), "");
  EXPECT_EQ(log_.back(), "respond 200 " + kRoom1);
  EXPECT_TRUE(call->active());
}

TEST_F(ThirdPartyCallTest, MoveWithReplacesKeepsTheDeviceUntouched) {
  auto call = active();
  std::string moved;
  call->move_to("sip:room2@conf", true, [&](int s, const std::string&, const std::string& how) {
    moved = std::to_string(s) + " " + how;
  });
  EXPECT_EQ(observer_.states.back(), "moving 100");
  ASSERT_EQ(legs_.size(), 3u);
  EXPECT_EQ(leg(2).offer, kDevice);
  ASSERT_EQ(leg(2).headers.size(), 1u);
  EXPECT_EQ(leg(2).headers[0].name, "Replaces");
  EXPECT_EQ(leg(2).headers[0].value, "dialog-target1;to-tag=their-tag;from-tag=our-tag");
  // Another SameDeviceJoin meanwhile: busy.
  std::string second;
  call->move_to("sip:room3@conf", true, [&](int s, const std::string&, const std::string&) { second = std::to_string(s); });
  EXPECT_EQ(second, "491");
  leg(2).answers(200, kRoom1);  // same media address: nothing for the device to learn
  EXPECT_EQ(moved, "200 replaces");
  EXPECT_EQ(call->target_uri(), "sip:room2@conf");
  EXPECT_EQ(observer_.states.back(), "moved 200");
  for (auto& line : log_) EXPECT_EQ(line.find("device0"), std::string::npos) << line;
  // The old conference ends our old dialog; that does not end the call.
  leg(1).ends();
  EXPECT_TRUE(call->active());
}

TEST_F(ThirdPartyCallTest, ReplacesWithNewMediaReoffersTheDevice) {
  auto call = active();
  std::string moved;
  call->move_to("sip:room2@conf", true, [&](int s, const std::string&, const std::string& how) {
    moved = std::to_string(s) + " " + how;
  });
  leg(2).answers(200, kRoom1b);  // the new conference sends from another port
  EXPECT_EQ(log_.back(), "device0: reinvite");
  leg(0).answers(200, kDevice2);
  EXPECT_EQ(log_.back(), "target2: reinvite " + kDevice2);
  leg(2).answers(200, kRoom1b);
  EXPECT_EQ(log_.back(), "device0: ack " + kRoom1b);
  EXPECT_EQ(moved, "200 replaces");
}

TEST_F(ThirdPartyCallTest, RefusedReplacesFallsBackToMakeBeforeBreak) {
  auto call = active();
  std::string moved;
  call->move_to("sip:room2@other", true, [&](int s, const std::string&, const std::string& how) {
    moved = std::to_string(s) + " " + how;
  });
  leg(2).answers(481, "", "Call/Transaction Does Not Exist");
  EXPECT_EQ(log_.back(), "device0: reinvite");
  leg(0).answers(200, kDevice2);
  ASSERT_EQ(legs_.size(), 4u);
  EXPECT_EQ(leg(3).offer, kDevice2);
  EXPECT_TRUE(leg(3).headers.empty());
  leg(3).answers(200, kRoom2);
  // Make, then break: the device learns the new conference, then the old one gets its BYE.
  Log tail(log_.end() - 2, log_.end());
  EXPECT_EQ(tail, (Log{"device0: ack " + kRoom2, "target1: hangup"}));
  EXPECT_EQ(moved, "200 reinvite");
  EXPECT_EQ(call->target_uri(), "sip:room2@other");
  EXPECT_TRUE(call->active());
}

TEST_F(ThirdPartyCallTest, ARefusedMoveLeavesTheCallWhereItWas) {
  auto call = active();
  std::string moved;
  call->move_to("sip:room2@other", false, [&](int s, const std::string& why, const std::string&) {
    moved = std::to_string(s) + " " + why;
  });
  EXPECT_EQ(log_.back(), "device0: reinvite");
  leg(0).answers(200, kDevice2);
  leg(2).answers(403, "", "Forbidden");
  EXPECT_EQ(log_.back(), "device0: ack " + kRoom1);  // back to the old conference's media
  EXPECT_EQ(moved, "403 the new target refused: Forbidden");
  EXPECT_EQ(call->target_uri(), "sip:room1@conf");
  EXPECT_TRUE(call->active());
  EXPECT_EQ(observer_.states, (std::vector<std::string>{"moving 100"}));
}

TEST_F(ThirdPartyCallTest, IncomingWithAnOfferTheDevicesAnswerGoesToTheCaller) {
  auto call = make("sip:bob@example.com");
  auto caller = std::make_shared<FakeLeg>("caller", log_);
  std::string done;
  call->answer(caller, std::make_unique<FakeRequest>(log_), kRoom2, record(done));
  EXPECT_TRUE(call->incoming());
  ASSERT_EQ(legs_.size(), 1u);
  EXPECT_EQ(leg(0).offer, kRoom2);
  leg(0).answers(180);
  EXPECT_EQ(log_.back(), "respond 180");
  leg(0).answers(200, kDevice);
  Log tail(log_.end() - 2, log_.end());
  EXPECT_EQ(tail, (Log{"respond 200 " + kDevice, "device0: ack"}));
  EXPECT_EQ(done, "200 OK");
  EXPECT_TRUE(call->active());
}

TEST_F(ThirdPartyCallTest, IncomingWithoutAnOfferTheCallersAnswerComesInItsAck) {
  auto call = make("sip:bob@example.com");
  auto caller = std::make_shared<FakeLeg>("caller", log_);
  std::string done;
  call->answer(caller, std::make_unique<FakeRequest>(log_), "", record(done));
  EXPECT_EQ(leg(0).offer, "");
  leg(0).answers(200, kDevice);
  EXPECT_EQ(log_.back(), "respond 200 " + kDevice);
  EXPECT_FALSE(call->active());
  caller->events()->on_ack(*caller, kRoom2);
  EXPECT_EQ(log_.back(), "device0: ack " + kRoom2);
  EXPECT_EQ(done, "200 OK");
}

TEST_F(ThirdPartyCallTest, IncomingRefusalsReachTheCallerButNotChallenges) {
  auto call = make("sip:bob@example.com");
  auto caller = std::make_shared<FakeLeg>("caller", log_);
  call->answer(caller, std::make_unique<FakeRequest>(log_), kRoom2, nullptr);
  leg(0).answers(407, "", "Proxy Authentication Required");
  EXPECT_TRUE(logged("respond 480"));
  legs_.clear();
  auto busy = make("sip:bob@example.com");
  busy->answer(std::make_shared<FakeLeg>("caller", log_), std::make_unique<FakeRequest>(log_), kRoom2, nullptr);
  leg(0).answers(486, "", "Busy Here");
  EXPECT_TRUE(logged("respond 486"));
}

TEST_F(ThirdPartyCallTest, HangupWhileTheDeviceRingsAnswersTheCallerInsteadOfByeing) {
  auto call = make("sip:bob@example.com");
  auto caller = std::make_shared<FakeLeg>("caller", log_);
  call->answer(caller, std::make_unique<FakeRequest>(log_), kRoom2, nullptr);
  call->hangup();
  EXPECT_TRUE(logged("respond 480"));
  EXPECT_FALSE(logged("caller: hangup"));
  EXPECT_EQ(log_.back(), "device0: hangup");
}

TEST_F(ThirdPartyCallTest, InvitationsAndKeepaliveUseTheTargetsDialog) {
  auto call = active();
  std::string added;
  call->refer_target("sip:carol@example.com", record(added));
  EXPECT_EQ(log_.back(), "target1: refer sip:carol@example.com");
  leg(1).events()->on_refer_notify(leg(1), 7, 100, "Trying");
  leg(1).events()->on_refer_response(leg(1), 202, "Accepted", 7);
  EXPECT_EQ(added, "");  // accepted: the conference now calls carol
  leg(1).events()->on_refer_notify(leg(1), 7, 180, "Ringing");
  EXPECT_EQ(added, "");
  leg(1).events()->on_refer_notify(leg(1), 7, 503, "DNS Error");
  EXPECT_EQ(added, "503 DNS Error");
  // A refused REFER answers at once; a final NOTIFY before the 202 is kept for it.
  std::string refused, early;
  call->refer_target("sip:dan@example.com", record(refused));
  call->refer_target("sip:erin@example.com", record(early));
  leg(1).events()->on_refer_response(leg(1), 403, "Forbidden", 8);
  EXPECT_EQ(refused, "403 Forbidden");
  leg(1).events()->on_refer_notify(leg(1), 9, 200, "OK");
  leg(1).events()->on_refer_response(leg(1), 202, "Accepted", 9);
  EXPECT_EQ(early, "200 OK");
  // One still waiting when the call ends: 481.
  std::string pending;
  call->refer_target("sip:fay@example.com", record(pending));
  leg(1).events()->on_refer_response(leg(1), 202, "Accepted", 10);
  // A ping answered 405 means alive; 481 means the conference is gone.
  leg(1).events()->on_ping_response(leg(1), 405, "Method Not Allowed");
  EXPECT_TRUE(call->active());
  leg(1).events()->on_ping_response(leg(1), 481, "Call/Transaction Does Not Exist");
  EXPECT_TRUE(call->ended());
  EXPECT_EQ(observer_.states.back(), "ended 481");
  EXPECT_EQ(pending, "481 the call ended");
}

TEST_F(ThirdPartyCallTest, GoneOnlyOnceEveryLegIsOver) {
  auto call = active();
  std::string moved;
  leg(0).ends();  // the device hangs up
  EXPECT_TRUE(call->ended());
  EXPECT_EQ(log_.back(), "target1: hangup");
  EXPECT_EQ(observer_.gone, 0);
  call->move_to("sip:room2@conf", true, [&](int s, const std::string&, const std::string&) { moved = std::to_string(s); });
  EXPECT_EQ(moved, "481");
  leg(1).ends();
  EXPECT_EQ(observer_.gone, 1);
}

}  // namespace
}  // namespace confab::service

// A subscription to a conference's event package (RFC 4575) that keeps the
// conference's Roster current: full state first, partial ones after, and a
// re-SUBSCRIBE for full state on a version gap (section 4.6). Who uses it:
// the client service (a call's conference) and the game server (its zones).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "conference_events/roster.h"
#include "sip/user_agent.h"

namespace confab::conference_events {

class ConferenceSubscription final : public sip::SubscriberHandler {
 public:
  using OnChange = std::function<void(const std::vector<RosterMember>& members)>;
  // The subscription is over: refused (404 before the conference exists),
  // terminated by the conference (the last participant left), or timed out.
  using OnEnded = std::function<void(int status, std::string_view why)>;
  ConferenceSubscription(sip::UserAgent& ua, std::string conference, OnChange on_change, OnEnded on_ended = {});
  ~ConferenceSubscription() override;  // un-SUBSCRIBEs

  const std::string& conference() const { return conference_; }
  const Roster& roster() const { return roster_; }
  bool active() const { return subscriber_ && subscriber_->active(); }
  // Over (refused, terminated, timed out): a new one is needed to follow the conference again.
  bool ended() const { return ended_ || !subscriber_; }

  void on_notify(sip::Subscriber& subscriber, const sip::Message& notify) override;
  void on_ended(sip::Subscriber& subscriber, int status, std::string_view why) override;

  static constexpr unsigned kExpires = 600;

 private:
  std::string conference_;
  OnChange on_change_;
  OnEnded on_ended_;
  Roster roster_;
  std::unique_ptr<sip::Subscriber> subscriber_;
  bool ended_ = false;
};

}  // namespace confab::conference_events

#include "conference_events/conference_subscription.h"

#include <spdlog/spdlog.h>

namespace confab::conference_events {

ConferenceSubscription::ConferenceSubscription(sip::UserAgent& ua, std::string conference, OnChange on_change,
                                               OnEnded on_ended)
    : conference_(std::move(conference)), on_change_(std::move(on_change)), on_ended_(std::move(on_ended)) {
  subscriber_ = ua.subscribe(conference_, "conference", kExpires, *this, kContentType);
}

ConferenceSubscription::~ConferenceSubscription() = default;

void ConferenceSubscription::on_notify(sip::Subscriber& subscriber, const sip::Message& notify) {
  if (notify.body().empty()) return;  // e.g. the pending state before the first document
  std::string error;
  auto info = parse(notify.body(), &error);
  if (!info) {
    spdlog::warn("roster {}: unreadable conference-info ({}), ignored", conference_, error);
    return;
  }
  auto outcome = roster_.apply(*info);
  if (outcome == Roster::Outcome::NeedsResync) {
    spdlog::info("roster {}: version gap, asking for full state", conference_);
    subscriber.refresh();
    return;
  }
  if (outcome == Roster::Outcome::Applied && on_change_) on_change_(roster_.members());
}

void ConferenceSubscription::on_ended(sip::Subscriber&, int status, std::string_view why) {
  spdlog::debug("roster {}: subscription ended ({} {})", conference_, status, why);
  ended_ = true;
  if (on_ended_) on_ended_(status, why);
}

}  // namespace confab::conference_events

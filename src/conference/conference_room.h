// One conference: who is in it and who watches it. The room keeps the roster
// and serves the conference event package (RFC 4575): a new subscription gets
// the full state, later changes go out as partial state with a version per
// subscription. Changes within notify_interval are coalesced into one NOTIFY
// per subscriber, and the document is rendered once per change, not once per
// subscriber, so the work per join is linear in the number of subscribers.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "conference/participant.h"
#include "conference_events/conference_info.h"
#include "sip/event_loop.h"
#include "sip/subscription.h"

namespace confab::conference {

class ConferenceRoom final : public sip::NotifierHandler {
 public:
  ConferenceRoom(sip::EventLoop& loop, std::string id, std::string uri, std::chrono::milliseconds notify_interval);
  ~ConferenceRoom() override;
  ConferenceRoom(const ConferenceRoom&) = delete;
  ConferenceRoom& operator=(const ConferenceRoom&) = delete;

  const std::string& id() const { return id_; }
  const std::string& uri() const { return uri_; }

  // Roster changes: a participant arrived (or is being dialled), changed, left.
  void add(Participant& p);
  void changed(Participant& p);
  void remove(Participant& p);
  size_t size() const { return participants_.size(); }
  const std::map<std::string, Participant*>& participants() const { return participants_; }

  // An accepted SUBSCRIBE: the full state goes out at once.
  void subscribe(const std::shared_ptr<sip::Notifier>& notifier);
  size_t subscribers() const { return subscriptions_.size(); }
  // The conference is over: every subscription gets a last full state and ends.
  void close();

  uint64_t notifies_sent() const { return notifies_sent_; }

  void on_refresh(sip::Notifier& notifier) override;
  void on_notify_response(sip::Notifier& notifier, int status) override;
  void on_ended(sip::Notifier& notifier, std::string_view why) override;

 private:
  struct Subscription {
    std::shared_ptr<sip::Notifier> notifier;
    uint32_t version = 0;
    bool needs_full = false;  // missed a partial while a NOTIFY was in flight
  };

  conference_events::User user_entry(const std::string& entity) const;
  conference_events::ConferenceInfo document(bool full) const;
  void send_full(Subscription& s);
  void touch(const std::string& user);
  void flush();

  std::string id_, uri_;
  std::chrono::milliseconds notify_interval_;
  std::map<std::string, Participant*> participants_;  // by participant id
  std::map<std::string, Subscription> subscriptions_;  // by notifier id
  std::set<std::string> dirty_;                        // user entities changed since the last flush
  sip::Timer flush_timer_;
  std::chrono::steady_clock::time_point last_flush_{};
  uint64_t notifies_sent_ = 0;
  bool closed_ = false;
};

}  // namespace confab::conference

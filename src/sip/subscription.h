// SIP event subscriptions (RFC 6665) on Sofia's nua, both sides:
//
// - Notifier: a subscription we serve, created by an incoming SUBSCRIBE for an
//   event the agent allows (UserAgentOptions::allow_events) or by the implicit
//   subscription of an out-of-dialog REFER (RFC 3515). The stack answers
//   refreshes and un-SUBSCRIBEs and ends expired subscriptions by itself.
// - Subscriber: a subscription we hold (SUBSCRIBE sent, NOTIFYs received),
//   refreshed by the stack until destroyed.
//
// One handler interface per usage, as for calls; everything on the SIP thread.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "sip/message.h"

struct nua_s;
struct nua_handle_s;

namespace confab::sip {

class UserAgent;
class Notifier;
class Subscriber;
struct NuaEvents;

class NotifierHandler {
 public:
  virtual ~NotifierHandler() = default;
  // The subscriber refreshed its subscription (the stack answered 200).
  // RFC 6665 section 4.2.1.4: send it the full state again.
  virtual void on_refresh(Notifier& notifier) {}
  // A NOTIFY we sent got its final response.
  virtual void on_notify_response(Notifier& notifier, int status) {}
  // The subscription is over: un-SUBSCRIBE, expiry, a NOTIFY that failed, or
  // terminate(). Called once; the Notifier must not be used for sending after it.
  virtual void on_ended(Notifier& notifier, std::string_view why) = 0;
};

class Notifier {
 public:
  ~Notifier();
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  // The request that created the subscription (SUBSCRIBE or REFER).
  const Message& request() const { return request_; }
  // The event package ("conference", "refer", ...).
  const std::string& event() const { return event_; }
  // Who subscribed (From URI) and a stable id for logs and maps.
  const std::string& subscriber() const { return subscriber_; }
  const std::string& id() const { return id_; }

  // While the creating request is unanswered: accept it (202 for REFER, 200
  // for SUBSCRIBE) granting at most `max_expires` seconds, or reject it.
  // A SUBSCRIBE accepted must be followed at once by a NOTIFY (RFC 6665 4.2.1.2).
  void accept(unsigned max_expires = 3600);
  void reject(int status, std::string_view reason);
  bool accepted() const { return accepted_; }

  void set_handler(NotifierHandler* handler) { handler_ = handler; }
  // Sends a NOTIFY with Subscription-State active. NOTIFYs of one subscription
  // go out one at a time, in order (the stack queues them).
  void notify(std::string_view content_type, std::string_view body);
  // Sends the last NOTIFY, Subscription-State: terminated;reason=<reason>.
  void terminate(std::string_view content_type, std::string_view body, std::string_view reason = "noresource");
  // NOTIFYs sent by notify()/terminate() and not answered yet.
  unsigned notifies_in_flight() const { return in_flight_; }
  bool ended() const { return ended_; }

 private:
  friend class UserAgent;
  friend struct NuaEvents;
  friend struct SubscriptionEvents;
  struct Pending;
  Notifier(UserAgent& ua, nua_handle_s* nh, Message request, std::string event, std::string id);
  void end(std::string_view why);

  UserAgent& ua_;
  nua_handle_s* nh_;
  Message request_;
  std::string event_, subscriber_, id_;
  std::unique_ptr<Pending> pending_;  // the unanswered creating request
  NotifierHandler* handler_ = nullptr;
  bool accepted_ = false;
  bool ended_ = false;
  bool final_sent_ = false;
  unsigned in_flight_ = 0;
};

class SubscriberHandler {
 public:
  virtual ~SubscriberHandler() = default;
  // The final response to our SUBSCRIBE (or to a refresh).
  virtual void on_subscribe_response(Subscriber& subscriber, int status, std::string_view reason) {}
  // A NOTIFY arrived (the stack already answered 200).
  virtual void on_notify(Subscriber& subscriber, const Message& notify) = 0;
  // The subscription is over (rejected, terminated by the notifier, timed out).
  virtual void on_ended(Subscriber& subscriber, int status, std::string_view why) {}
};

class Subscriber {
 public:
  ~Subscriber();  // un-SUBSCRIBEs
  Subscriber(const Subscriber&) = delete;
  Subscriber& operator=(const Subscriber&) = delete;
  const std::string& target() const { return target_; }
  const std::string& event() const { return event_; }
  bool active() const { return active_; }
  // SUBSCRIBE again at once (e.g. to get full state after a version gap).
  void refresh();

 private:
  friend class UserAgent;
  friend struct NuaEvents;
  friend struct SubscriptionEvents;
  Subscriber(UserAgent& ua, nua_handle_s* nh, SubscriberHandler& handler, std::string target, std::string event,
             unsigned expires);
  UserAgent& ua_;
  nua_handle_s* nh_;
  SubscriberHandler* handler_;
  std::string target_, event_;
  unsigned expires_;
  bool active_ = false;
  bool ended_ = false;
};

}  // namespace confab::sip

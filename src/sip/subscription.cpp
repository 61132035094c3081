#include "sip/subscription.h"

#include <sofia-sip/nua.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_tag.h>
#include <sofia-sip/su_tagarg.h>
#include <spdlog/spdlog.h>

#include <strings.h>

#include <algorithm>

#include "sip/nua_internal.h"
#include "sip/user_agent.h"

namespace confab::sip {

namespace {

// RFC 6665 section 4.2.2: NOTIFY responses that end the subscription.
bool ends_subscription(int status) {
  static constexpr int kCodes[] = {404, 405, 408, 410, 416, 480, 481, 482, 483, 484, 485, 489, 501, 604};
  return std::find(std::begin(kCodes), std::end(kCodes), status) != std::end(kCodes);
}

Message saved_message(nua_t* nua, nua_saved_event_t* saved) {
  nua_save_event(nua, saved);
  nua_event_data_t const* data = nua_event_data(saved);
  return data && data->e_msg ? Message::share(data->e_msg) : Message();
}

int substate_of(tagi_t tags[]) {
  int substate = nua_substate_embryonic;
  tl_gets(tags, NUTAG_SUBSTATE_REF(substate), TAG_END());
  return substate;
}

}  // namespace

// ---- Notifier ----

struct Notifier::Pending {
  nua_saved_event_t event[1] = {nullptr};
  ~Pending() { nua_destroy_event(event); }
};

Notifier::Notifier(UserAgent& ua, nua_handle_s* nh, Message request, std::string event, std::string id)
    : ua_(ua), nh_(nh), request_(std::move(request)), event_(std::move(event)), id_(std::move(id)),
      pending_(std::make_unique<Pending>()) {
  subscriber_ = request_ ? request_.from_uri() : std::string();
}

Notifier::~Notifier() = default;

void Notifier::accept(unsigned max_expires) {
  if (!pending_ || accepted_) return;
  bool refer = event_ == "refer";
  std::string expires = std::to_string(max_expires);
  if (refer)
    nua_respond(nh_, SIP_202_ACCEPTED, NUTAG_WITH_SAVED(pending_->event), TAG_END());
  else
    nua_respond(nh_, SIP_200_OK, NUTAG_WITH_SAVED(pending_->event), SIPTAG_EXPIRES_STR(expires.c_str()), TAG_END());
  accepted_ = true;
  pending_.reset();
}

void Notifier::reject(int status, std::string_view reason) {
  if (!pending_ || accepted_) return;
  nua_respond(nh_, status, lasting_phrase(status, reason), NUTAG_WITH_SAVED(pending_->event), TAG_END());
  pending_.reset();
  end("rejected");
}

void Notifier::notify(std::string_view content_type, std::string_view body) {
  if (ended_ || final_sent_ || !accepted_) return;
  std::string ct(content_type), payload(body);
  ++in_flight_;
  // No Event tag: the handle has exactly one notifier usage, which nua then picks
  // (its event may carry an id parameter, e.g. "refer;id=2", that we need not know).
  nua_notify(nh_, NUTAG_SUBSTATE(nua_substate_active), TAG_IF(!ct.empty(), SIPTAG_CONTENT_TYPE_STR(ct.c_str())),
             TAG_IF(!payload.empty(), SIPTAG_PAYLOAD_STR(payload.c_str())), TAG_END());
}

void Notifier::terminate(std::string_view content_type, std::string_view body, std::string_view reason) {
  if (ended_ || final_sent_ || !accepted_) return;
  final_sent_ = true;
  std::string ct(content_type), payload(body), state = "terminated;reason=" + std::string(reason);
  ++in_flight_;
  nua_notify(nh_, NUTAG_SUBSTATE(nua_substate_terminated), SIPTAG_SUBSCRIPTION_STATE_STR(state.c_str()),
             TAG_IF(!ct.empty(), SIPTAG_CONTENT_TYPE_STR(ct.c_str())),
             TAG_IF(!payload.empty(), SIPTAG_PAYLOAD_STR(payload.c_str())), TAG_END());
}

void Notifier::end(std::string_view why) {
  if (ended_) return;
  ended_ = true;
  if (handler_) handler_->on_ended(*this, why);
}

// ---- Subscriber ----

Subscriber::Subscriber(UserAgent& ua, nua_handle_s* nh, SubscriberHandler& handler, std::string target,
                       std::string event, unsigned expires)
    : ua_(ua), nh_(nh), handler_(&handler), target_(std::move(target)), event_(std::move(event)), expires_(expires) {}

Subscriber::~Subscriber() {
  // The handle lives on until the un-SUBSCRIBE is answered (or the agent shuts down).
  ua_.subscribers_[nh_] = nullptr;
  if (ended_) {
    ua_.subscribers_.erase(nh_);
    nua_handle_destroy(nh_);
  } else {
    nua_unsubscribe(nh_, TAG_END());
  }
}

void Subscriber::refresh() {
  if (ended_ || event_ == "refer") return;  // a REFER's subscription lasts as long as the notifier reports
  std::string expires = std::to_string(expires_);
  nua_subscribe(nh_, SIPTAG_EVENT_STR(event_.c_str()), SIPTAG_EXPIRES_STR(expires.c_str()), TAG_END());
}

// ---- UserAgent parts ----

void UserAgent::Handler::on_subscribe(const std::shared_ptr<Notifier>& subscription) {
  subscription->reject(489, "Bad Event");
}

void UserAgent::Handler::on_refer(const std::shared_ptr<Notifier>& refer) {
  refer->reject(405, "Method Not Allowed");
}

std::unique_ptr<Subscriber> UserAgent::subscribe(const std::string& target, const std::string& event,
                                                 unsigned expires, SubscriberHandler& handler,
                                                 std::string_view accept) {
  nua_handle_t* nh = nua_handle(nua_, nullptr, SIPTAG_TO_STR(target.c_str()), SIPTAG_FROM_STR(options_.identity.c_str()),
                                TAG_IF(!options_.proxy.empty(), NUTAG_PROXY(options_.proxy.c_str())), TAG_END());
  if (!nh) return nullptr;
  std::unique_ptr<Subscriber> sub(new Subscriber(*this, nh, handler, target, event, expires));
  subscribers_[nh] = sub.get();
  std::string exp = std::to_string(expires), acc(accept);
  nua_subscribe(nh, SIPTAG_EVENT_STR(event.c_str()), SIPTAG_EXPIRES_STR(exp.c_str()),
                TAG_IF(!acc.empty(), SIPTAG_ACCEPT_STR(acc.c_str())), TAG_END());
  return sub;
}

std::unique_ptr<Subscriber> UserAgent::refer(const std::string& target, const std::string& refer_to,
                                             SubscriberHandler& handler) {
  nua_handle_t* nh = nua_handle(nua_, nullptr, SIPTAG_TO_STR(target.c_str()), SIPTAG_FROM_STR(options_.identity.c_str()),
                                TAG_IF(!options_.proxy.empty(), NUTAG_PROXY(options_.proxy.c_str())), TAG_END());
  if (!nh) return nullptr;
  std::unique_ptr<Subscriber> sub(new Subscriber(*this, nh, handler, target, "refer", 0));
  subscribers_[nh] = sub.get();
  std::string to = refer_to.find('<') == std::string::npos ? "<" + refer_to + ">" : refer_to;
  nua_refer(nh, SIPTAG_REFER_TO_STR(to.c_str()), TAG_END());
  return sub;
}

// ---- event dispatch ----

bool SubscriptionEvents::dispatch(const NuaEvent& e) {
  switch (e.event) {
    case nua_i_subscribe: return on_i_subscribe(e);
    case nua_i_refer: return on_i_refer(e);
    case nua_r_notify: return on_r_notify(e);
    case nua_i_notify: return on_i_notify(e);
    case nua_r_subscribe:
    case nua_r_unsubscribe:
    case nua_r_refer: return on_r_subscribe(e);  // a REFER of ours outside a dialog (else: a Call's, not ours)
    default: return false;
  }
}

bool SubscriptionEvents::on_i_subscribe(const NuaEvent& e) {
  auto it = e.ua.notifiers_.find(e.nh);
  if (it != e.ua.notifiers_.end()) {
    // A refresh or un-SUBSCRIBE of a subscription we serve; the stack answered it.
    auto notifier = it->second;
    if (substate_of(e.tags) == nua_substate_terminated) {
      notifier->end("unsubscribed");  // the stack sends the final NOTIFY; nua_r_notify frees the handle
    } else if (e.status < 300 && notifier->handler_ && !notifier->ended_) {
      notifier->handler_->on_refresh(*notifier);
    }
    return true;
  }
  if (e.status >= 200) return true;  // answered by the stack (489 Bad Event, ...)
  if (e.ua.calls_.count(e.nh)) {
    // SUBSCRIBE inside an INVITE dialog: not a usage we serve.
    nua_respond(e.nh, 403, "Subscribe Outside The Call", NUTAG_WITH_CURRENT(e.nua), TAG_END());
    return true;
  }
  std::string event = e.sip && e.sip->sip_event && e.sip->sip_event->o_type ? e.sip->sip_event->o_type : "";
  offer(e, event, &UserAgent::Handler::on_subscribe);
  return true;
}

bool SubscriptionEvents::on_i_refer(const NuaEvent& e) {
  if (e.ua.calls_.count(e.nh)) return false;  // in a call: the call's handler takes it
  if (e.status < 200) offer(e, "refer", &UserAgent::Handler::on_refer);
  return true;
}

bool SubscriptionEvents::on_r_notify(const NuaEvent& e) {
  auto it = e.ua.notifiers_.find(e.nh);
  if (it == e.ua.notifiers_.end()) return false;
  if (e.status < 200) return true;
  auto notifier = it->second;
  if (notifier->in_flight_ > 0) --notifier->in_flight_;
  bool terminated = substate_of(e.tags) == nua_substate_terminated;
  if (notifier->handler_ && !notifier->ended_) notifier->handler_->on_notify_response(*notifier, e.status);
  if (terminated || ends_subscription(e.status)) {
    notifier->end(e.status >= 300 ? "notify failed" : notifier->final_sent_ ? "terminated" : "expired");
    e.ua.notifiers_.erase(e.nh);
    nua_handle_destroy(e.nh);
  }
  return true;
}

bool SubscriptionEvents::on_i_notify(const NuaEvent& e) {
  auto it = e.ua.subscribers_.find(e.nh);
  if (it == e.ua.subscribers_.end()) return false;
  Subscriber* sub = it->second;
  if (!sub) {  // the owner is gone: the notifier's final NOTIFY (or nua's wait for it) frees the handle
    if (substate_of(e.tags) == nua_substate_terminated) {
      e.ua.subscribers_.erase(it);
      nua_handle_destroy(e.nh);
    }
    return true;
  }
  nua_saved_event_t saved[1] = {nullptr};
  Message msg = saved_message(e.nua, saved);
  if (e.sip && e.sip->sip_subscription_state && e.sip->sip_subscription_state->ss_substate)
    sub->active_ = strcasecmp(e.sip->sip_subscription_state->ss_substate, "terminated") != 0;
  int substate = substate_of(e.tags);  // the event's tags live in `saved`, freed below
  sub->handler_->on_notify(*sub, msg);
  nua_destroy_event(saved);
  if (substate == nua_substate_terminated && !sub->ended_) {
    sub->ended_ = true;
    sub->active_ = false;
    sub->handler_->on_ended(*sub, 200, "terminated by the notifier");
  }
  return true;
}

bool SubscriptionEvents::on_r_subscribe(const NuaEvent& e) {
  auto it = e.ua.subscribers_.find(e.nh);
  if (it == e.ua.subscribers_.end()) return false;
  if (e.status < 200) return true;
  if (answer_challenge(e.ua.options_.credentials, e.nh, e.status, e.sip)) return true;
  Subscriber* sub = it->second;
  if (!sub) {
    // The owner is gone and this answers the un-SUBSCRIBE. Freeing the handle
    // now would make nua un-SUBSCRIBE again; the final NOTIFY frees it, unless
    // the un-SUBSCRIBE failed and none will come.
    if (e.status >= 300) {
      e.ua.subscribers_.erase(it);
      nua_handle_destroy(e.nh);
    }
    return true;
  }
  std::string_view reason = e.phrase ? e.phrase : "";
  sub->handler_->on_subscribe_response(*sub, e.status, reason);
  if (e.status >= 300 || substate_of(e.tags) == nua_substate_terminated) {
    if (!sub->ended_) {
      sub->ended_ = true;
      sub->active_ = false;
      sub->handler_->on_ended(*sub, e.status, reason);
    }
  } else if (!sub->active_) {
    sub->active_ = true;
  }
  return true;
}

void SubscriptionEvents::offer(const NuaEvent& e, const std::string& event,
                               void (UserAgent::Handler::*deliver)(const std::shared_ptr<Notifier>&)) {
  UserAgent& ua = e.ua;
  auto notifier = std::shared_ptr<Notifier>(
      new Notifier(ua, e.nh, Message(), event, "n" + std::to_string(ua.next_notifier_id_++)));
  notifier->request_ = saved_message(e.nua, notifier->pending_->event);
  notifier->subscriber_ = notifier->request_ ? notifier->request_.from_uri() : std::string();
  ua.notifiers_[e.nh] = notifier;
  (ua.handler_.*deliver)(notifier);
  // The handler must accept or reject before returning.
  if (!notifier->accepted_ && !notifier->ended_) notifier->reject(403, "Forbidden");
  if (!notifier->accepted_) {
    ua.notifiers_.erase(e.nh);
    nua_handle_destroy(e.nh);
  }
}

}  // namespace confab::sip

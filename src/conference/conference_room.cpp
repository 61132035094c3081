#include "conference/conference_room.h"

#include "base/log_context.h"

#include <spdlog/spdlog.h>

#include <ctime>

namespace confab::conference {

namespace ce = conference_events;

namespace {

std::string iso_time(std::chrono::system_clock::time_point t) {
  std::time_t s = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

ce::EndpointStatus status_of(const Participant& p) {
  if (!p.connected())
    return p.joining() == Participant::Joining::DialedOut ? ce::EndpointStatus::DialingOut : ce::EndpointStatus::Pending;
  if (p.on_hold()) return ce::EndpointStatus::OnHold;
  if (p.muted()) return ce::EndpointStatus::MutedViaFocus;
  return ce::EndpointStatus::Connected;
}

}  // namespace

ConferenceRoom::ConferenceRoom(sip::EventLoop& loop, std::string id, std::string uri,
                               std::chrono::milliseconds notify_interval)
    : id_(std::move(id)), uri_(std::move(uri)), notify_interval_(notify_interval), flush_timer_(loop) {}

ConferenceRoom::~ConferenceRoom() {
  if (!closed_) close();
}

void ConferenceRoom::add(Participant& p) {
  participants_[p.id()] = &p;
  touch(p.uri());
}

void ConferenceRoom::changed(Participant& p) {
  if (participants_.count(p.id())) touch(p.uri());
}

void ConferenceRoom::remove(Participant& p) {
  if (participants_.erase(p.id())) touch(p.uri());
}

ce::User ConferenceRoom::user_entry(const std::string& entity) const {
  ce::User user;
  user.entity = entity;
  std::set<std::string> endpoint_ids;
  for (auto& [id, p] : participants_) {
    if (p->uri() != entity) continue;
    if (user.display_text.empty()) user.display_text = p->display();
    ce::Endpoint e;
    // The device's contact names the endpoint; the same device twice gets the participant id too.
    e.entity = endpoint_ids.insert(p->contact()).second ? p->contact() : p->contact() + ";participant=" + p->id();
    e.display_text = p->display();
    e.status = status_of(*p);
    e.joining_method = p->joining() == Participant::Joining::DialedOut ? "dialed-out" : "dialed-in";
    if (p->connected()) e.joining_when = iso_time(p->joined_at());
    e.media_id = "1";
    e.media_type = "audio";
    e.media_status = p->on_hold() ? "inactive" : "sendrecv";
    user.endpoints.push_back(std::move(e));
  }
  if (user.endpoints.empty()) user.state = ce::ElementState::Deleted;
  return user;
}

ce::ConferenceInfo ConferenceRoom::document(bool full) const {
  ce::ConferenceInfo info;
  info.entity = uri_;
  info.state = full ? ce::ElementState::Full : ce::ElementState::Partial;
  if (full) {
    info.display_text = id_;
    info.conf_uris = {uri_};
  }
  info.user_count = static_cast<uint32_t>(participants_.size());
  info.active = !participants_.empty() && !closed_;
  std::set<std::string> users;
  if (full)
    for (auto& [id, p] : participants_) users.insert(p->uri());
  else
    users = dirty_;
  for (auto& u : users) {
    ce::User entry = user_entry(u);
    if (full && entry.state == ce::ElementState::Deleted) continue;
    info.users.push_back(std::move(entry));
  }
  return info;
}

void ConferenceRoom::touch(const std::string& user) {
  dirty_.insert(user);
  if (flush_timer_.active() || closed_) return;
  auto due = last_flush_ + notify_interval_;
  auto now = std::chrono::steady_clock::now();
  auto delay = due > now ? std::chrono::duration_cast<std::chrono::milliseconds>(due - now) : std::chrono::milliseconds(0);
  flush_timer_.once(delay, [this] { flush(); });
}

void ConferenceRoom::flush() {
  last_flush_ = std::chrono::steady_clock::now();
  if (dirty_.empty() || subscriptions_.empty()) {
    dirty_.clear();
    return;
  }
  ce::DocumentTemplate partial(document(false));
  std::optional<ce::DocumentTemplate> full;
  for (auto& [id, s] : subscriptions_) {
    if (s.notifier->ended()) continue;
    if (s.notifier->notifies_in_flight() > 0) {
      s.needs_full = true;  // the partial chain breaks for it: full state once its NOTIFY is answered
      continue;
    }
    if (s.needs_full) {
      if (!full) full.emplace(document(true));
      s.needs_full = false;
      s.notifier->notify(ce::kContentType, full->with_version(++s.version));
    } else {
      s.notifier->notify(ce::kContentType, partial.with_version(++s.version));
    }
    ++notifies_sent_;
  }
  dirty_.clear();
}

void ConferenceRoom::send_full(Subscription& s) {
  s.needs_full = false;
  ce::ConferenceInfo info = document(true);
  info.version = ++s.version;
  s.notifier->notify(ce::kContentType, ce::render(info));
  ++notifies_sent_;
}

void ConferenceRoom::subscribe(const std::shared_ptr<sip::Notifier>& notifier) {
  notifier->set_handler(this);
  auto& s = subscriptions_[notifier->id()];
  s.notifier = notifier;
  send_full(s);
}

void ConferenceRoom::on_refresh(sip::Notifier& notifier) {
  auto it = subscriptions_.find(notifier.id());
  if (it == subscriptions_.end()) return;
  if (notifier.notifies_in_flight() > 0)
    it->second.needs_full = true;
  else
    send_full(it->second);
}

void ConferenceRoom::on_notify_response(sip::Notifier& notifier, int status) {
  auto it = subscriptions_.find(notifier.id());
  if (it == subscriptions_.end()) return;
  if (it->second.needs_full && notifier.notifies_in_flight() == 0) send_full(it->second);
}

void ConferenceRoom::on_ended(sip::Notifier& notifier, std::string_view why) {
  base::CallLog(notifier.request().call_id())
      .debug("conference {}: subscription of {} ended ({})", id_, notifier.subscriber(), why);
  subscriptions_.erase(notifier.id());
}

void ConferenceRoom::close() {
  if (closed_) return;
  closed_ = true;
  flush_timer_.cancel();
  participants_.clear();
  ce::DocumentTemplate last(document(true));
  auto subs = std::move(subscriptions_);
  subscriptions_.clear();
  for (auto& [id, s] : subs) {
    s.notifier->set_handler(nullptr);  // the room is going away; the stack finishes the NOTIFY
    s.notifier->terminate(ce::kContentType, last.with_version(++s.version), "noresource");
    ++notifies_sent_;
  }
}

}  // namespace confab::conference

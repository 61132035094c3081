#include "service/api/web_leave_grace.h"

#include <vector>

namespace confab::service {

WebLeaveGrace::WebLeaveGrace(sip::EventLoop& loop, std::chrono::milliseconds grace, EndCall end)
    : loop_(loop), grace_(grace), end_(std::move(end)) {}

WebLeaveGrace::~WebLeaveGrace() = default;

void WebLeaveGrace::page_opened(const std::string& origin) {
  auto& o = origins_[origin];
  ++o.pages;
  o.timer.reset();  // a page of the site is back: it takes the call over
}

void WebLeaveGrace::page_closed(const std::string& origin) {
  auto it = origins_.find(origin);
  if (it == origins_.end() || it->second.pages == 0) return;
  if (--it->second.pages == 0 && owns_calls(origin)) start_grace(origin, it->second);
  forget_if_idle(origin);
}

void WebLeaveGrace::call_taken(const std::string& call_id, const std::string& origin) {
  auto before = owners_.find(call_id);
  std::string previous = before == owners_.end() ? "" : before->second;
  if (origin.empty())
    owners_.erase(call_id);
  else
    owners_[call_id] = origin;
  if (!previous.empty() && previous != origin) {
    if (!owns_calls(previous)) origins_[previous].timer.reset();
    forget_if_idle(previous);
  }
  if (origin.empty()) return;
  auto& o = origins_[origin];
  if (o.pages == 0 && !o.timer) start_grace(origin, o);  // its page left before the call was up
}

void WebLeaveGrace::call_ended(const std::string& call_id) {
  auto it = owners_.find(call_id);
  if (it == owners_.end()) return;
  std::string origin = it->second;
  owners_.erase(it);
  if (!owns_calls(origin)) origins_[origin].timer.reset();
  forget_if_idle(origin);
}

bool WebLeaveGrace::leaving(const std::string& origin) const {
  auto it = origins_.find(origin);
  return it != origins_.end() && it->second.timer && it->second.timer->active();
}

bool WebLeaveGrace::owns_calls(const std::string& origin) const {
  for (auto& [call, owner] : owners_)
    if (owner == origin) return true;
  return false;
}

void WebLeaveGrace::start_grace(const std::string& origin, Origin& o) {
  if (grace_.count() == 0) return;
  o.timer = std::make_unique<sip::Timer>(loop_);
  o.timer->once(grace_, [this, origin] { grace_over(origin); });
}

void WebLeaveGrace::grace_over(const std::string& origin) {
  std::vector<std::string> calls;
  for (auto it = owners_.begin(); it != owners_.end();) {
    if (it->second == origin) {
      calls.push_back(it->first);
      it = owners_.erase(it);
    } else {
      ++it;
    }
  }
  origins_[origin].timer.reset();  // sip::Timer allows it inside its callback
  forget_if_idle(origin);
  for (auto& call : calls) end_(call, origin);
}

void WebLeaveGrace::forget_if_idle(const std::string& origin) {
  auto it = origins_.find(origin);
  if (it != origins_.end() && it->second.pages == 0 && !it->second.timer && !owns_calls(origin)) origins_.erase(it);
}

}  // namespace confab::service

// Applying RFC 4575 full and partial notifications to a subscriber's roster.
#include "conference_events/roster.h"

#include <algorithm>
#include <utility>

namespace confab::conference_events {

namespace {

// A user or endpoint as it is stored: state is always Full, and deleted
// endpoints (meaningless inside a full element) are dropped.
User stored_user(const User& user) {
  User stored = user;
  stored.state = ElementState::Full;
  std::erase_if(stored.endpoints, [](const Endpoint& e) { return e.state == ElementState::Deleted; });
  for (auto& endpoint : stored.endpoints) endpoint.state = ElementState::Full;
  return stored;
}

void merge_endpoint(Endpoint& into, const Endpoint& update) {
  if (!update.display_text.empty()) into.display_text = update.display_text;
  if (update.status) into.status = update.status;
  if (!update.joining_method.empty()) into.joining_method = update.joining_method;
  if (!update.joining_when.empty()) into.joining_when = update.joining_when;
  if (!update.disconnection_method.empty()) into.disconnection_method = update.disconnection_method;
  if (!update.media_id.empty()) into.media_id = update.media_id;
  if (!update.media_type.empty()) into.media_type = update.media_type;
  if (!update.media_status.empty()) into.media_status = update.media_status;
}

void merge_user(User& into, const User& update) {
  if (!update.display_text.empty()) into.display_text = update.display_text;
  for (const auto& endpoint : update.endpoints) {
    auto existing = std::find_if(into.endpoints.begin(), into.endpoints.end(),
                                 [&](const Endpoint& e) { return e.entity == endpoint.entity; });
    switch (endpoint.state) {
      case ElementState::Deleted:
        if (existing != into.endpoints.end()) into.endpoints.erase(existing);
        break;
      case ElementState::Full: {
        Endpoint stored = endpoint;
        if (existing != into.endpoints.end()) {
          *existing = std::move(stored);
        } else {
          into.endpoints.push_back(std::move(stored));
        }
        break;
      }
      case ElementState::Partial:
        if (existing != into.endpoints.end()) {
          merge_endpoint(*existing, endpoint);
        } else {
          into.endpoints.push_back(endpoint);
          into.endpoints.back().state = ElementState::Full;
        }
        break;
    }
  }
}

bool all_endpoints_disconnected(const User& user) {
  return !user.endpoints.empty() && std::all_of(user.endpoints.begin(), user.endpoints.end(), [](const Endpoint& e) {
    return e.status == EndpointStatus::Disconnected;
  });
}

}  // namespace

Roster::Outcome Roster::apply(const ConferenceInfo& info) {
  switch (info.state) {
    case ElementState::Full:
      if (has_state_ && info.version <= version_) return Outcome::Ignored;
      replace_all(info);
      return Outcome::Applied;
    case ElementState::Partial:
      if (!has_state_) return Outcome::NeedsResync;
      if (info.version <= version_) return Outcome::Ignored;
      if (info.version != version_ + 1 || info.entity != conference_) return Outcome::NeedsResync;
      apply_partial(info);
      return Outcome::Applied;
    case ElementState::Deleted:
      break;
  }
  return Outcome::Ignored;
}

void Roster::replace_all(const ConferenceInfo& info) {
  has_state_ = true;
  version_ = info.version;
  conference_ = info.entity;
  user_count_ = info.user_count;
  users_.clear();
  for (const auto& user : info.users) {
    if (user.state != ElementState::Deleted) users_[user.entity] = stored_user(user);
  }
}

void Roster::apply_partial(const ConferenceInfo& info) {
  version_ = info.version;
  if (info.user_count) user_count_ = info.user_count;
  for (const auto& user : info.users) {
    switch (user.state) {
      case ElementState::Deleted:
        users_.erase(user.entity);
        break;
      case ElementState::Full:
        users_[user.entity] = stored_user(user);
        break;
      case ElementState::Partial: {
        auto [it, inserted] = users_.try_emplace(user.entity);
        if (inserted) {
          it->second = stored_user(user);
        } else {
          merge_user(it->second, user);
        }
        break;
      }
    }
  }
}

std::vector<RosterMember> Roster::members() const {
  std::vector<RosterMember> out;
  for (const auto& [entity, user] : users_) {
    if (all_endpoints_disconnected(user)) continue;
    RosterMember member{entity, user.display_text, std::nullopt};
    for (const auto& endpoint : user.endpoints) {
      if (endpoint.status) {
        member.status = endpoint.status;
        break;
      }
    }
    out.push_back(std::move(member));
  }
  return out;
}

}  // namespace confab::conference_events

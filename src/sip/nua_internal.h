// Internal to src/sip: what the nua wrappers (user_agent.cpp, subscription.cpp) share.
#pragma once

#include <sofia-sip/nua.h>

#include "sip/user_agent.h"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace confab::sip {

class Notifier;
struct UserCredentials;

// nua_respond() keeps the reason phrase's pointer (sent asynchronously): an interned copy.
const char* lasting_phrase(int status, std::string_view reason);

// Answers a 401/407 with the first matching credentials; false if not a challenge or none match.
bool answer_challenge(const std::vector<UserCredentials>& credentials, nua_handle_t* nh, int status, sip_t const* sip);

// "Name: value\r\n" lines for SIPTAG_HEADER_STR (fields with line breaks or bad names are dropped).
std::string header_block(const std::vector<HeaderField>& headers);
const char* or_null(const std::string& s);  // nullptr for "" (tags that must be absent)

// A request kept for answering later (IncomingRequest).
struct IncomingRequest::Saved {
  nua_saved_event_t event[1] = {nullptr};
  bool owns_handle = false;  // out-of-dialog request: the handle dies with it
  ~Saved() { nua_destroy_event(event); }
};

// One nua event: the arguments of the nua callback, as every event handler takes them.
struct NuaEvent {
  UserAgent& ua;
  nua_event_t event;
  int status;
  char const* phrase;  // may be null
  nua_t* nua;
  nua_handle_t* nh;
  sip_t const* sip;    // may be null
  tagi_t* tags;
};

// The subscription side of the nua callback (subscription.cpp): one handler per event.
struct SubscriptionEvents {
  // Handles the event if it belongs to a Notifier or Subscriber (or creates one); false otherwise.
  static bool dispatch(const NuaEvent& e);
  // An initial SUBSCRIBE (a new Notifier), or a refresh / un-SUBSCRIBE of one we serve.
  static bool on_i_subscribe(const NuaEvent& e);
  // A REFER outside any dialog (a Notifier of its implicit subscription); false in a dialog.
  static bool on_i_refer(const NuaEvent& e);
  // The response to a NOTIFY a Notifier sent; false if no Notifier sent it.
  static bool on_r_notify(const NuaEvent& e);
  // A NOTIFY for a Subscriber; false if none holds the handle.
  static bool on_i_notify(const NuaEvent& e);
  // The response to a Subscriber's SUBSCRIBE, un-SUBSCRIBE or out-of-dialog REFER; false if none holds the handle.
  static bool on_r_subscribe(const NuaEvent& e);
  // A new Notifier for the request on `e.nh`, handed to the application by `deliver`.
  static void offer(const NuaEvent& e, const std::string& event,
                    void (UserAgent::Handler::*deliver)(const std::shared_ptr<Notifier>&));
};

}  // namespace confab::sip

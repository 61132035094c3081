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

// The subscription side of the nua callback (subscription.cpp).
struct SubscriptionEvents {
  // Handles the event if it belongs to a Notifier or Subscriber (or creates one); false otherwise.
  static bool dispatch(UserAgent& ua, int event, int status, char const* phrase, nua_t* nua, nua_handle_t* nh,
                       sip_t const* sip, tagi_t tags[]);
  static void on_incoming_subscribe(UserAgent& ua, int status, nua_t* nua, nua_handle_t* nh, sip_t const* sip,
                                    tagi_t tags[]);
  static void on_incoming_refer(UserAgent& ua, nua_t* nua, nua_handle_t* nh);
  // A new Notifier for the request on `nh`, handed to the application by `deliver`.
  static void offer(UserAgent& ua, nua_t* nua, nua_handle_t* nh, const std::string& event,
                    void (UserAgent::Handler::*deliver)(const std::shared_ptr<Notifier>&));
};

}  // namespace confab::sip

// Who is in the conference of each page that has viewers, pushed to them. On
// the SIP thread: a viewer (a roster WebSocket) of a page makes the site
// subscribe to its conference (RFC 4575); every change is sent to each of its
// viewers; when the last viewer of a conference has gone for `linger`, the
// subscription ends. A subscription refused (404 before anyone is in the
// conference) or ended by the conference is tried again with back-off while
// there are viewers.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "conference_events/conference_subscription.h"
#include "http/http_server.h"
#include "sip/event_loop.h"
#include "sip/user_agent.h"

namespace confab::web {

// {"type":"roster","path":...,"conference":...,"members":[{"uri","name","status"}]}
std::string roster_json(const std::string& path, const std::string& conference,
                        const std::vector<conference_events::RosterMember>& members);

class Rosters {
 public:
  using Clock = std::chrono::steady_clock;
  struct Timing {
    std::chrono::milliseconds linger{5000};       // a conference without viewers stays subscribed this long
    std::chrono::milliseconds first_retry{500};   // a refused or ended subscription is tried again after this,
    std::chrono::milliseconds max_retry{5000};    // doubling up to this
  };
  Rosters(sip::EventLoop& loop, sip::UserAgent& ua, Timing timing);
  ~Rosters();
  Rosters(const Rosters&) = delete;
  Rosters& operator=(const Rosters&) = delete;

  // A viewer of the page `path`, whose conference is `conference`: sent the
  // roster known now at once, and every change after.
  void add_viewer(const std::shared_ptr<http::WebSocket>& viewer, const std::string& path,
                  const std::string& conference);
  void remove_viewer(uint64_t viewer_id);
  size_t subscriptions() const;

 private:
  struct Room;
  void maintain();
  void subscribe(Room& room);
  void changed(const std::string& conference, const std::vector<conference_events::RosterMember>& members);
  void ended(const std::string& conference, int status, std::string_view why);
  void push(const Room& room) const;

  sip::EventLoop& loop_;
  sip::UserAgent& ua_;
  const Timing timing_;
  sip::Timer maintenance_;
  std::map<std::string, std::unique_ptr<Room>> rooms_;  // by conference URI
  std::map<uint64_t, std::string> viewer_rooms_;        // viewer id -> conference
};

}  // namespace confab::web

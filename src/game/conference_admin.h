// The game server's side of the conference server's admin API
// (docs/api.md, "Conference server admin API"): finding a player's
// participant, moving it to another zone's conference, letting it hear a
// neighbouring zone, hanging it up. Requests go out on an HTTP thread of their
// own; answers come back on the game's SIP thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "base/host_port.h"
#include "http/http_client.h"
#include "sip/event_loop.h"

namespace confab::game {

class ConferenceAdmin {
 public:
  // (status, error): status 0 when no answer came; error "" on 2xx.
  using Done = std::function<void(int status, const std::string& error)>;

  ConferenceAdmin(sip::EventLoop& loop, base::HostPort admin, std::string token);
  ~ConferenceAdmin();  // waits up to 1 s for requests under way; their answers are dropped

  // Asks now and waits (at start): the status (0: no answer) and why not, "" if it answers and takes the token.
  struct Check {
    int status = 0;
    std::string error;
  };
  Check check();
  // The participant of conference `conference_id` whose address is `uri`: its id, or "" (with why not).
  void find_participant(const std::string& conference_id, const std::string& uri,
                        std::function<void(const std::string& pid, const std::string& error)> found);
  // `answered_at`: when the answer reached this process, before it waited for the loop's thread.
  using MoveDone =
      std::function<void(int status, const std::string& error, std::chrono::steady_clock::time_point answered_at)>;
  void move(const std::string& pid, const std::string& to_conference_id, MoveDone done);
  // Lets participant `pid` hear conference `conference_id` at `db`; nullopt stops it.
  void listen(const std::string& pid, const std::string& conference_id, std::optional<double> db, Done done);
  void remove(const std::string& pid, Done done);

 private:
  void request(const std::string& method, const std::string& target, std::string body,
               std::function<void(http::ClientResponse)> done);

  sip::EventLoop& loop_;
  base::HostPort admin_;
  std::string token_;
  http::Client client_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace confab::game

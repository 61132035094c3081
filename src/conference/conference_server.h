// `confab conference`: the ad-hoc conference server. An INVITE to
// sip:<any-id>@<this server> creates conference <any-id> or joins it; each
// participant is a B2BUA pair (participant <-> server <-> mixer leg) so media
// flows participant <-> mixer. It serves the conference event package
// (RFC 4575), RFC 4579 REFERs (add: Refer-To a user; remove: method=BYE),
// INVITE with Replaces (RFC 3891) as a gap-free move between conferences, and
// an HTTP/JSON admin API (see admin_api.h).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "conference/conference_config.h"
#include "conference/conference_room.h"
#include "conference/participant.h"
#include "sip/user_agent.h"

namespace confab::http {
class MetricsPage;
class Server;
}

namespace confab::conference {

class ConferenceServer final : public sip::UserAgent::Handler, public ParticipantObserver {
 public:
  ConferenceServer(sip::EventLoop& loop, ConferenceConfig config);
  ~ConferenceServer() override;

  // Ends every call and subscription (BYE, final NOTIFY) before the process exits.
  void shutdown();

  // The admin API's operations (SIP thread). `done(status, reason)` once the mixer answered.
  std::string conferences_json() const;
  std::optional<std::string> conference_json(const std::string& id) const;
  using Reply = std::function<void(int status, const std::string& reason)>;
  void move_participant(const std::string& participant, const std::string& to, Reply done);
  void mute_participant(const std::string& participant, bool muted, Reply done);
  // The participant also hears `conference` at `db` dB (nullopt: no longer), see Participant::listen.
  void listen_participant(const std::string& participant, const std::string& conference, std::optional<double> db,
                          Reply done);
  bool remove_participant(const std::string& participant);
  // Hangs up every participant of conference `id` (a BYE each); the conference
  // ends when the last has gone. False if there is no such conference.
  bool end_conference(const std::string& id);
  // GET /metrics of the admin API: what the server counts (SIP thread).
  void add_metrics(http::MetricsPage& page) const;
  const ConferenceConfig& config() const { return config_; }
  // Applies what can change while running from `fresh` (limits, domains, outbound
  // proxy) and says what it changed and what needs a restart (conference_operations.cpp).
  // Throws std::runtime_error, changing nothing, on a setting it cannot use.
  std::string reload(const ConferenceConfig& fresh);
  sip::EventLoop& loop() { return loop_; }

  // sip::UserAgent::Handler
  void on_incoming_call(const std::shared_ptr<sip::Call>& call, sip::IncomingRequest invite) override;
  void on_subscribe(const std::shared_ptr<sip::Notifier>& subscription) override;
  void on_refer(const std::shared_ptr<sip::Notifier>& refer) override;

  // ParticipantObserver
  void on_connected(Participant& p) override;
  void on_changed(Participant& p) override;
  void on_dial_progress(Participant& p, int status, std::string_view reason) override;
  void on_leaving(Participant& p) override;
  void on_refer(Participant& p, sip::IncomingRequest refer) override;
  void on_ended(Participant& p, int status, std::string_view reason) override;

 private:
  // The conference a request addresses: the user part of its Request-URI, for a
  // host we serve. On failure, the SIP status and reason to answer.
  struct Target {
    std::string id;
    int status = 0;
    std::string reason;
  };
  Target conference_of(const sip::Message& request) const;
  std::string conference_uri(const std::string& id) const;
  ConferenceRoom* room(const std::string& id);
  // The room for a new participant, created if need be; null (with status) over a limit.
  ConferenceRoom* admit(const std::string& id, int* status, std::string* reason);
  Participant& new_participant(const std::string& conference);
  Participant* participant(const std::string& id);
  Participant* participant_by_dialog(const sip::ReplacesHeader& r);
  void join_replacing(Participant& p, const std::shared_ptr<sip::Call>& call, sip::IncomingRequest invite,
                      const std::string& to);
  // RFC 4579 REFER to the conference: add (dial out) or remove (method=BYE). The
  // referrer's progress NOTIFYs go through `progress(status, reason, final)`.
  using Progress = std::function<void(int status, const std::string& reason, bool final)>;
  struct ReferOutcome {
    int status = 202;
    std::string reason = "Accepted";
    bool done = false;  // finished at once (a removal): the final NOTIFY follows the 202
  };
  ReferOutcome handle_refer(const std::string& conference, const sip::Message& refer, Progress progress);
  void move_between_rooms(Participant& p, const std::string& to, Reply done);
  void close_if_empty(const std::string& id);
  // OPTIONS to the mixer at start: a warning naming it if it does not answer.
  void check_mixer();

  sip::EventLoop& loop_;
  ConferenceConfig config_;
  std::unique_ptr<sip::UserAgent> ua_;
  std::unique_ptr<http::Server> admin_;
  std::map<std::string, std::unique_ptr<ConferenceRoom>> rooms_;
  std::map<std::string, std::unique_ptr<Participant>> participants_;
  std::map<std::string, Progress> dial_progress_;  // participant id -> its REFER's NOTIFYs
  std::map<std::string, size_t> headcount_;         // conference id -> participants in any state
  std::vector<std::unique_ptr<Participant>> ended_;  // destroyed outside their own callbacks
  sip::Timer reaper_;
  uint64_t next_participant_ = 1;
  struct Counters {
    uint64_t conferences_created = 0;
    uint64_t joined = 0;                // participants connected
    uint64_t left = 0;                  // participants gone (hung up, refused, failed)
    uint64_t notifies_of_closed = 0;    // NOTIFYs of conferences that have ended
  } counters_;
};

}  // namespace confab::conference

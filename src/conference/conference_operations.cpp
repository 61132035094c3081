// What an operator does to a running conference server (the admin API, `confab ctl
// conference`): hanging up a participant or a whole conference, re-reading the
// configuration (`reload`, SIGHUP).
#include <spdlog/spdlog.h>

#include <algorithm>

#include "conference/conference_server.h"
#include "control/reload_report.h"
#include "sip/uri.h"

namespace confab::conference {

bool ConferenceServer::remove_participant(const std::string& pid) {
  Participant* p = participant(pid);
  if (!p) return false;
  p->log().info("participant {}: hung up by the admin API or confab ctl (kick)", pid);
  p->hangup();
  return true;
}

bool ConferenceServer::end_conference(const std::string& id) {
  if (!room(id)) return false;
  // Everyone counted in it, also those still being dialled; a hangup may end a
  // participant at once (which edits participants_), so the list comes first.
  std::vector<std::string> in;
  for (auto& [pid, p] : participants_)
    if (p->conference() == id) in.push_back(pid);
  spdlog::info("conference {}: ended by the admin API, hanging up {} participant(s)", id, in.size());
  for (auto& pid : in)
    if (Participant* p = participant(pid)) {
      p->log().info("participant {}: hung up: conference {} ended", pid, id);
      p->hangup();
    }
  return true;
}

std::string ConferenceServer::reload(const ConferenceConfig& fresh) {
  if (!fresh.outbound_proxy.empty() && !sip::is_sip_uri(fresh.outbound_proxy))
    throw std::runtime_error("the outbound proxy '" + fresh.outbound_proxy + "' is not a sip: or sips: URI");
  control::ReloadReport report;
  report.applied_if(fresh.max_participants != config_.max_participants, "max_participants");
  report.applied_if(fresh.max_conferences != config_.max_conferences, "max_conferences");
  report.applied_if(fresh.max_subscribers != config_.max_subscribers, "max_subscribers");
  report.applied_if(fresh.max_subscription_expires != config_.max_subscription_expires, "max_subscription_expires");
  report.applied_if(fresh.notify_interval_ms != config_.notify_interval_ms,
       "notify_interval_ms (for conferences created from now on)");
  report.applied_if(fresh.domains != config_.domains, "domains");
  report.applied_if(fresh.outbound_proxy != config_.outbound_proxy, "outbound_proxy");
  report.restart_if(fresh.listen.size() != config_.listen.size() ||
                    !std::equal(fresh.listen.begin(), fresh.listen.end(), config_.listen.begin(),
                                [](auto& x, auto& y) { return x.str() == y.str(); }),
       "listen");
  // Every participant of a conference has its leg on one mixer: a new one only with a restart.
  report.restart_if(fresh.mixer != config_.mixer, "mixer");
  report.restart_if(fresh.admin_host != config_.admin_host || fresh.admin_port != config_.admin_port ||
                    fresh.admin_token != config_.admin_token,
       "admin API (admin, admin_token, admin_token_file)");
  report.restart_if(fresh.control != config_.control, "control");
  report.restart_if(fresh.transaction_timeout_ms != config_.transaction_timeout_ms, "transaction_timeout_ms");
  report.restart_if(fresh.sip_trace != config_.sip_trace, "sip_trace");
  config_.max_participants = fresh.max_participants;
  config_.max_conferences = fresh.max_conferences;
  config_.max_subscribers = fresh.max_subscribers;
  config_.max_subscription_expires = fresh.max_subscription_expires;
  config_.notify_interval_ms = fresh.notify_interval_ms;
  config_.domains = fresh.domains;
  config_.outbound_proxy = fresh.outbound_proxy;
  std::string said = report.text();
  spdlog::info("reload: {}", said);
  return said;
}

}  // namespace confab::conference

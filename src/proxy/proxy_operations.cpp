// What operators see and change of a running proxy: its metrics (GET /metrics)
// and what `confab ctl proxy` does (registrations, kick, reload).
#include <spdlog/spdlog.h>

#include <algorithm>

#include "control/reload_report.h"
#include "http/metrics_page.h"
#include "proxy/proxy_server.h"

namespace confab::proxy {

void ProxyServer::add_metrics(http::MetricsPage& page) const {
  http::add_sip_message_counts(page, layer_->message_counts());
  auto stats = layer_->stats();
  page.counter("confab_proxy_bad_messages_total", "SIP messages that could not be parsed", stats.bad_messages);
  page.counter("confab_proxy_branches_forwarded_total", "requests sent downstream (one per fork branch)",
               counters_.forwarded);
  page.counter("confab_proxy_registrations_total", "REGISTERs answered 2xx", counters_.registrations);
  page.counter("confab_proxy_rejected_total", "requests the proxy answered with an error itself", counters_.rejected);
  page.counter("confab_proxy_loops_total", "requests refused as loops (482)", counters_.loops);
  for (size_t i = 0; i < kAuthFailureKinds; ++i) {
    auto cause = static_cast<AuthFailure>(i);
    std::string label(auth_failure_name(cause));  // "wrong password" -> "wrong_password"
    std::replace(label.begin(), label.end(), ' ', '_');
    page.counter("confab_proxy_auth_failures_total", "credentials refused, by cause", auth_failures_.count(cause),
                 {{"cause", label}});
  }
  page.gauge("confab_proxy_transactions", "proxy transactions in progress", static_cast<double>(transactions_.size()));
  page.gauge("confab_proxy_registered_contacts", "contacts registered and not expired",
             static_cast<double>(store_.all(unix_now()).size()));
}

std::vector<Binding> ProxyServer::registrations() const { return store_.all(unix_now()); }

size_t ProxyServer::kick(const std::string& text) {
  std::string uri = text.rfind("sip:", 0) == 0 || text.rfind("sips:", 0) == 0 ? text : "sip:" + text;
  auto parsed = sip::Uri::parse(uri);
  if (!parsed || parsed->user().empty())
    throw std::invalid_argument("'" + text + "' is not an address-of-record (e.g. alice@example.com)");
  std::string aor = policy_->aor(*parsed);
  size_t n = store_.lookup(aor, unix_now()).size();
  store_.remove_all(aor);
  spdlog::info("registrar: {} binding(s) of {} removed (confab ctl)", n, aor);
  return n;
}

std::string ProxyServer::reload(const ProxyConfig& fresh) {
  control::ReloadReport report;
  report.applied_if(fresh.domains != config_.domains, "domains");
  report.applied_if(fresh.routes != config_.routes, "routes");
  auto& a = fresh.registrar;
  auto& b = config_.registrar;
  report.applied_if(a.min_expires != b.min_expires || a.max_expires != b.max_expires ||
                    a.default_expires != b.default_expires || a.max_contacts != b.max_contacts,
       "registrar limits");
  report.applied_if(fresh.record_route != config_.record_route, "record_route");
  report.restart_if(fresh.listen.size() != config_.listen.size() ||
                    !std::equal(fresh.listen.begin(), fresh.listen.end(), config_.listen.begin(),
                                [](auto& x, auto& y) { return x.str() == y.str(); }),
       "listen");
  report.restart_if(fresh.db_path != config_.db_path, "db");
  report.restart_if(fresh.auth_register != config_.auth_register || fresh.auth_invite != config_.auth_invite ||
                    fresh.auth_algorithms != config_.auth_algorithms || fresh.nonce_ttl != config_.nonce_ttl ||
                    (!fresh.realm.empty() && fresh.realm != config_.realm),
       "auth");
  report.restart_if(fresh.metrics != config_.metrics, "metrics");
  report.restart_if(fresh.max_message_size != config_.max_message_size ||
                    fresh.transaction_timeout_ms != config_.transaction_timeout_ms,
       "message size / transaction timeout");
  config_.domains = fresh.domains;
  config_.routes = fresh.routes;
  config_.record_route = fresh.record_route;
  config_.registrar = fresh.registrar;
  registrar_.set_policy(fresh.registrar);
  make_domain_policy();
  std::string said = report.text();
  spdlog::info("reload: {}", said);
  return said;
}

}  // namespace confab::proxy

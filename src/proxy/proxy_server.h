// `confab proxy`: an RFC 3261 stateful proxy and registrar on one SIP thread.
#pragma once

#include <cstdint>
#include <memory>
#include <unordered_map>

#include "proxy/auth_failures.h"
#include "proxy/digest_auth.h"
#include "proxy/location_store.h"
#include "proxy/proxy_config.h"
#include "proxy/proxy_transaction.h"
#include "proxy/registrar.h"
#include "proxy/routing.h"
#include "sip/event_loop.h"
#include "sip/transaction_layer.h"
#include "sip/uri.h"

namespace confab::http {
class MetricsPage;
class Server;
}  // namespace confab::http

namespace confab::proxy {

class ProxyServer final : public sip::TransactionLayer::Handler, private ProxyTransaction::Owner {
 public:
  // Opens the database and binds every listen address; throws std::runtime_error on failure.
  ProxyServer(sip::EventLoop& loop, ProxyConfig config);
  ~ProxyServer() override;

  void on_request(sip::Message request) override;
  void on_stray_response(sip::Message response) override;

  struct Counters {
    uint64_t forwarded = 0;     // branches sent
    uint64_t registrations = 0; // REGISTERs answered 2xx
    uint64_t rejected = 0;      // requests answered with an error by the proxy itself
    uint64_t loops = 0;         // 482s
  };
  const Counters& counters() const { return counters_; }
  // Credentials refused, by cause (also counted in `rejected`, except the routine stale nonces).
  const AuthFailureCounts& auth_failures() const { return auth_failures_; }
  size_t active_transactions() const { return transactions_.size(); }
  const sip::TransactionLayer& layer() const { return *layer_; }

  // For `confab ctl proxy` (SIP thread). The bindings not expired, by AOR.
  std::vector<Binding> registrations() const;
  // Removes every binding of `aor` ("sip:alice@example.com" or "alice@example.com");
  // how many there were. Throws std::invalid_argument on something that is no AOR.
  size_t kick(const std::string& aor);
  // Applies what can change while running from `fresh` (domains, routes, registrar
  // limits, record-route) and says what it changed and what needs a restart.
  std::string reload(const ProxyConfig& fresh);

 private:
  struct RouteInfo {
    size_t own_routes = 0;        // our Route entries on top, to remove
    bool strict_previous = false; // the Request-URI was our Record-Route (strict router upstream)
  };

  // GET /metrics (config_.metrics): what the proxy counts, on the SIP thread.
  void add_metrics(http::MetricsPage& page) const;
  void transaction_done(ProxyTransaction& t) override;
  void reject(const sip::Message& request, int status, std::string_view reason,
              const std::vector<sip::HeaderField>& headers = {});
  void forward_ack(sip::Message ack);
  void handle_register(sip::ServerTransaction& st, const sip::Message& request);
  bool authorize_invite(sip::ServerTransaction& st, const sip::Message& request, const sip::Uri& ruri);
  void setup_auth();
  void make_domain_policy();
  // Logs why credentials were refused (with what to do) and counts it.
  void note_auth_failure(AuthFailure failure, const sip::Message& request, const std::string& what,
                         const DigestAuthenticator::Result& result, const std::string& detail = {});
  RouteInfo route_info(const sip::Message& request) const;
  bool is_own_uri(const std::string& uri) const;
  // A copy of `request` ready to go downstream: our Routes removed, Max-Forwards
  // decremented, Request-URI set to `target` (if not empty), Record-Route added.
  sip::Message prepare_branch(const sip::Message& request, const RouteInfo& routes, const std::string& target,
                              const std::string& out_transport) const;
  std::string record_route_uri(const std::string& transport) const;
  uint64_t loop_hash(const sip::Message& request) const;
  bool is_loop(const sip::Message& request, uint64_t hash) const;
  std::string make_branch(uint64_t hash);

  sip::EventLoop& loop_;
  ProxyConfig config_;
  SqliteLocationStore store_;
  Registrar registrar_;
  std::unique_ptr<UserStore> users_;
  std::unique_ptr<DigestAuthenticator> auth_;
  std::unique_ptr<sip::TransactionLayer> layer_;
  std::unique_ptr<DomainPolicy> policy_;
  std::unordered_map<ProxyTransaction*, std::unique_ptr<ProxyTransaction>> transactions_;
  sip::Timer purge_timer_;
  Counters counters_;
  AuthFailureCounts auth_failures_;
  uint64_t branch_salt_ = 0;
  uint64_t branch_counter_ = 0;
  std::unique_ptr<http::Server> metrics_;
};

}  // namespace confab::proxy

#include "proxy/proxy_server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <ctime>

#include "base/host_port.h"
#include "base/log_context.h"
#include "base/random.h"
#include "http/http_server.h"
#include "http/metrics_page.h"

namespace confab::proxy {

namespace {

using sip::Method;

std::string http_date(int64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

// Requests that create a dialog, so later requests must pass us again.
bool forms_dialog(Method m) { return m == Method::Invite || m == Method::Subscribe || m == Method::Refer; }

constexpr std::string_view kBranchMagic = "z9hG4bKcx";
constexpr const char* kAllow = "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, INFO, PRACK, UPDATE, MESSAGE, SUBSCRIBE, NOTIFY, REFER";

uint64_t fnv1a(uint64_t h, std::string_view s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h ^ 0xff;  // field separator
}

std::string hex16(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

uint16_t port_number(const std::string& p) {
  unsigned v = 5060;
  if (!p.empty()) std::from_chars(p.data(), p.data() + p.size(), v);
  return static_cast<uint16_t>(v);
}

}  // namespace

ProxyServer::ProxyServer(sip::EventLoop& loop, ProxyConfig config)
    : loop_(loop), config_(std::move(config)), store_(config_.db_path), registrar_(store_, config_.registrar),
      purge_timer_(loop) {
  sip::TransactionLayerOptions opts;
  opts.listen = config_.listen;
  opts.max_message_size = config_.max_message_size;
  opts.transaction_timeout_ms = config_.transaction_timeout_ms;
  opts.resolv_conf = config_.resolv_conf;
  layer_ = std::make_unique<sip::TransactionLayer>(loop, opts, *this);

  make_domain_policy();

  if (config_.auth_register || config_.auth_invite) setup_auth();
  branch_salt_ = base::random_u64();
  purge_timer_.every(std::chrono::seconds(30), [this] {
    if (size_t n = store_.purge_expired(unix_now())) spdlog::info("registrar: {} expired bindings removed", n);
  });
  if (!config_.metrics.empty()) {
    auto where = base::parse_host_port(config_.metrics, "metrics");
    metrics_ = std::make_unique<http::Server>(where.host, where.port);
    http::serve_metrics(*metrics_, loop_, [this](http::MetricsPage& page) { add_metrics(page); });
    metrics_->start();
    spdlog::info("metrics on http://{}/metrics", base::HostPort{where.host, metrics_->port()}.str());
  }
}

void ProxyServer::make_domain_policy() {
  std::vector<LocalAddress> local;
  for (auto& a : layer_->local_addresses()) local.push_back({a.host, port_number(a.port)});
  for (auto& l : config_.listen) local.push_back({l.host, l.port});
  policy_ = std::make_unique<DomainPolicy>(config_.domains, config_.routes, local);
}

void ProxyServer::setup_auth() {
  if (config_.realm.empty())
    config_.realm = !config_.domains.empty() ? config_.domains.front() : config_.listen.front().host;
  std::vector<DigestAlgorithm> offered;
  for (auto& name : config_.auth_algorithms) {
    auto a = parse_digest_algorithm(name);
    if (!a) throw std::runtime_error("unknown digest algorithm '" + name + "' (MD5 or SHA-256)");
    offered.push_back(*a);
  }
  users_ = std::make_unique<UserStore>(config_.db_path);
  auth_ = std::make_unique<DigestAuthenticator>(*users_, config_.realm, offered, config_.nonce_ttl);
  users_->record_challenge_realm(config_.realm);  // `adduser` without --realm defaults to it
  if (users_->count_in_realm(config_.realm) > 0) return;
  std::string elsewhere;
  for (auto& u : users_->list()) {
    std::string realm = "'" + u.realm + "'";
    if (elsewhere.find(realm) == std::string::npos) elsewhere += (elsewhere.empty() ? "" : ", ") + realm;
  }
  spdlog::warn("digest authentication is on but realm '{}' has no users in {}: every {} will be refused{}; add users "
               "with: {}", config_.realm, config_.db_path,
               config_.auth_register && config_.auth_invite ? "REGISTER and INVITE"
               : config_.auth_register                      ? "REGISTER"
                                                            : "INVITE from our domains",
               elsewhere.empty() ? "" : " (users exist under realm " + elsewhere + " only)",
               adduser_hint(config_.db_path, config_.realm, "NAME"));
}

void ProxyServer::note_auth_failure(AuthFailure failure, const sip::Message& request, const std::string& what,
                                    const DigestAuthenticator::Result& result, const std::string& detail) {
  auth_failures_.add(failure);
  if (!is_routine(failure)) ++counters_.rejected;
  std::string cause = detail.empty() ? describe_auth_failure(failure, result, config_.realm, config_.db_path) : detail;
  auto level = is_routine(failure) ? spdlog::level::info : spdlog::level::warn;
  base::CallLog(request.call_id())
      .log(level, "{} from {}: authentication failed for user '{}': {}", what,
           request.source() ? request.source()->str() : "?", result.username, cause);
}

ProxyServer::~ProxyServer() {
  if (metrics_) metrics_->stop();  // no scrape reaches what is destroyed below
  transactions_.clear();
  layer_.reset();
}

void ProxyServer::transaction_done(ProxyTransaction& t) { transactions_.erase(&t); }

void ProxyServer::reject(const sip::Message& request, int status, std::string_view reason,
                         const std::vector<sip::HeaderField>& headers) {
  ++counters_.rejected;
  if (spdlog::should_log(spdlog::level::debug))
    base::CallLog(request.call_id())
        .debug("{} {} from {}: {} {}", request.method_name(), request.request_uri(),
               request.source() ? request.source()->str() : "?", status, reason);
  layer_->reply_stateless(request, status, reason, headers);
}

bool ProxyServer::is_own_uri(const std::string& uri) const {
  auto u = sip::Uri::parse(uri);
  return u && u->user().empty() && policy_->is_local(*u);
}

ProxyServer::RouteInfo ProxyServer::route_info(const sip::Message& request) const {
  RouteInfo info;
  // RFC 3261 16.4: a Request-URI that is our own Record-Route means the previous
  // hop is a strict router; the real target is the last Route.
  auto routes = request.routes();
  if (!routes.empty() && is_own_uri(request.request_uri())) info.strict_previous = true;
  while (info.own_routes < routes.size() && is_own_uri(routes[info.own_routes])) ++info.own_routes;
  return info;
}

std::string ProxyServer::record_route_uri(const std::string& transport) const {
  const sip::TransactionLayer::LocalAddress* pick = nullptr;
  for (auto& a : layer_->local_addresses())
    if (a.transport == transport) {
      pick = &a;
      break;
    }
  if (!pick) pick = &layer_->local_addresses().front();
  std::string uri = "sip:" + sip::host_port(pick->host, pick->port) + ";lr";
  if (pick->transport != "udp") uri += ";transport=" + pick->transport;
  return uri;
}

sip::Message ProxyServer::prepare_branch(const sip::Message& request, const RouteInfo& routes,
                                         const std::string& target, const std::string& out_transport) const {
  sip::Message m = request.copy();
  for (size_t i = 0; i < routes.own_routes; ++i) m.pop_route();
  if (routes.strict_previous) {
    auto rest = m.routes();
    if (!rest.empty()) {
      m.set_request_uri(rest.back());
      // Drop the last Route: it became the Request-URI.
      std::vector<std::string> keep(rest.begin(), rest.end() - 1);
      m.remove_headers("Route");
      for (auto& r : keep) m.add_header("Route", "<" + r + ">");
    }
  }
  if (!target.empty()) m.set_request_uri(target);
  auto mf = request.max_forwards();
  m.set_max_forwards(mf ? *mf - 1 : 70);
  if (config_.record_route && forms_dialog(request.method()) && request.to_tag().empty()) {
    auto src = request.source();
    std::string in = src ? src->transport : "udp";
    m.add_record_route(record_route_uri(in));
    // Crossing transports: a second entry so each side sees the address it can reach.
    if (out_transport != in) m.add_record_route(record_route_uri(out_transport));
  }
  return m;
}

uint64_t ProxyServer::loop_hash(const sip::Message& r) const {
  uint64_t h = 1469598103934665603ull;
  h = fnv1a(h, r.request_uri());
  h = fnv1a(h, r.from_tag());
  h = fnv1a(h, r.to_tag());
  h = fnv1a(h, r.call_id());
  h = fnv1a(h, std::to_string(r.cseq()));
  for (auto& v : r.header_values("Proxy-Require")) h = fnv1a(h, v);
  return h;
}

bool ProxyServer::is_loop(const sip::Message& request, uint64_t hash) const {
  // RFC 3261 16.3 item 4: one of our Vias carrying the same request hash is a loop;
  // our Via with a different hash is a spiral (the Request-URI changed).
  std::string mark = hex16(hash);
  for (auto& v : request.vias()) {
    if (v.branch.size() < kBranchMagic.size() + 16 || v.branch.compare(0, kBranchMagic.size(), kBranchMagic) != 0)
      continue;
    if (!layer_->is_local(v.host, port_number(v.port))) continue;
    if (v.branch.compare(kBranchMagic.size(), 16, mark) == 0) return true;
  }
  return false;
}

std::string ProxyServer::make_branch(uint64_t hash) {
  return std::string(kBranchMagic) + hex16(hash) + "." + hex16(branch_salt_ + ++branch_counter_);
}

void ProxyServer::on_request(sip::Message request) {
  Method method = request.method();
  if (request.is_malformed()) {
    if (method != Method::Ack) reject(request, 400, "Malformed Request");
    return;
  }
  if (method == Method::Ack) {
    forward_ack(std::move(request));
    return;
  }
  if (method == Method::Cancel) {
    // A CANCEL for a transaction we know is matched by the transaction layer before it gets here.
    reject(request, 481, "Call/Transaction Does Not Exist");
    return;
  }
  auto ruri = sip::Uri::parse(request.request_uri());
  if (!ruri) {
    reject(request, 416, "Unsupported URI Scheme");
    return;
  }
  auto mf = request.max_forwards();
  if (mf && *mf == 0) {
    if (method == Method::Options && ruri->user().empty() && policy_->serves(*ruri))
      layer_->reply_stateless(request, 200, "OK", {{"Allow", kAllow}});
    else
      reject(request, 483, "Too Many Hops");
    return;
  }
  uint64_t hash = loop_hash(request);
  if (is_loop(request, hash)) {
    ++counters_.loops;
    reject(request, 482, "Loop Detected");
    return;
  }
  if (auto pr = request.header_values("Proxy-Require"); !pr.empty()) {
    std::string unsupported;
    for (auto& v : pr) unsupported += (unsupported.empty() ? "" : ", ") + v;
    reject(request, 420, "Bad Extension", {{"Unsupported", unsupported}});
    return;
  }

  auto st = layer_->accept(request);
  if (!st) return;
  if (method == Method::Invite) st->reply(100, "Trying");

  RouteInfo routes = route_info(request);
  bool routed = request.routes().size() > routes.own_routes;

  if (!routed && method == Method::Register && policy_->serves(*ruri)) {
    handle_register(*st, request);
    return;
  }

  std::vector<std::pair<std::string, std::string>> targets;  // (request-uri, next hop)
  if (routed) {
    // Follow the Route set, Request-URI untouched. A first Route without ;lr is a
    // strict router (RFC 3261 16.6 step 6): send to it, not to the Request-URI's host;
    // a --route for the Route's host is where that host is.
    auto next = sip::Uri::parse(request.routes()[routes.own_routes]);
    std::string hop;
    if (auto by_route = next ? policy_->static_route(*next) : std::nullopt) hop = *by_route;
    else if (next && !next->has_param("lr")) hop = next->str();
    targets.emplace_back("", hop);
  } else {
    auto decision = decide_route(*policy_, store_, *ruri, unix_now());
    switch (decision.kind) {
      case RoutingDecision::Kind::Self:
        if (method == Method::Options)
          st->reply(200, "OK", {{"Allow", kAllow}, {"Accept", "application/sdp"}});
        else
          st->reply(404, "Not Found");
        return;
      case RoutingDecision::Kind::NotFound:
        ++counters_.rejected;
        st->reply(404, "Not Found");
        return;
      case RoutingDecision::Kind::Registered:
        for (auto& b : decision.bindings) targets.emplace_back(b.contact, "");
        break;
      case RoutingDecision::Kind::Forward:
        targets.emplace_back("", decision.next_hop);
        break;
    }
  }

  if (method == Method::Invite && request.to_tag().empty() && !authorize_invite(*st, request, *ruri)) return;

  auto t = std::make_unique<ProxyTransaction>(static_cast<ProxyTransaction::Owner&>(*this), loop_, *layer_, std::move(st));
  for (auto& [target, hop] : targets) {
    std::string out_transport = "udp";
    auto via = !target.empty() ? sip::Uri::parse(target) : !hop.empty() ? sip::Uri::parse(hop) : std::nullopt;
    if (via && !via->transport().empty()) out_transport = via->transport();
    sip::Message branch = prepare_branch(request, routes, target, out_transport);
    if (t->fork(std::move(branch), {hop, make_branch(hash)})) ++counters_.forwarded;
  }
  auto* raw = t.get();
  transactions_.emplace(raw, std::move(t));
  raw->forking_done();
}

bool ProxyServer::authorize_invite(sip::ServerTransaction& st, const sip::Message& request, const sip::Uri& ruri) {
  if (!config_.auth_invite || !auth_) return true;
  auto from = sip::Uri::parse(request.from_uri());
  if (!from || !policy_->serves(*from)) {
    // Calls from elsewhere may reach our users, but we relay for nobody else.
    if (policy_->serves(ruri)) return true;
    ++counters_.rejected;
    st.reply(403, "Relaying Denied");
    return false;
  }
  int64_t now = unix_now();
  auto result = auth_->verify(request, true, now);
  std::string what = "INVITE by " + request.from_uri();
  if (result.verdict == DigestAuthenticator::Verdict::Ok) {
    if (result.username == from->user()) return true;
    note_auth_failure(AuthFailure::UserMismatch, request, what, result,
                      "user mismatch: authenticated as '" + result.username + "' but calling as '" + from->user() +
                          "' (From)");
    st.reply(403, "Username Does Not Match From");
    return false;
  }
  auto failure = auth_failure_of(result.verdict);
  if (failure) note_auth_failure(*failure, request, what, result);
  st.reply(407, "Proxy Authentication Required", auth_->challenge(true, failure && is_routine(*failure), now));
  return false;
}

void ProxyServer::handle_register(sip::ServerTransaction& st, const sip::Message& request) {
  int64_t now = unix_now();
  auto to = sip::Uri::parse(request.to_uri());
  if (!to || to->user().empty()) {
    ++counters_.rejected;
    st.reply(400, "Bad To Header");
    return;
  }
  if (!policy_->serves(*to)) {
    ++counters_.rejected;
    st.reply(403, "Domain Not Served Here");
    return;
  }
  for (auto& r : request.header_values("Require")) {
    if (r != "path") {
      ++counters_.rejected;
      st.reply(420, "Bad Extension", {{"Unsupported", r}});
      return;
    }
  }
  if (config_.auth_register && auth_) {
    auto result = auth_->verify(request, false, now);
    std::string what = "REGISTER for " + to->str();
    if (result.verdict != DigestAuthenticator::Verdict::Ok) {
      auto failure = auth_failure_of(result.verdict);
      if (failure) note_auth_failure(*failure, request, what, result);
      st.reply(401, "Unauthorized", auth_->challenge(false, failure && is_routine(*failure), now));
      return;
    }
    if (result.username != to->user()) {
      note_auth_failure(AuthFailure::UserMismatch, request, what, result,
                        "user mismatch: authenticated as '" + result.username + "' but registering '" + to->user() +
                            "' (To)");
      st.reply(403, "Username Does Not Match To");
      return;
    }
  }
  RegisterRequest req;
  req.aor = policy_->aor(*to);
  req.contacts = request.contacts();
  req.expires_header = request.expires();
  req.call_id = std::string(request.call_id());
  req.cseq = request.cseq();
  if (auto src = request.source()) req.source = src->str();
  req.user_agent = request.header("User-Agent").value_or("");
  req.path = request.header("Path").value_or("");
  RegisterResult result;
  try {
    result = registrar_.process(req, now);
  } catch (const std::exception& e) {
    base::CallLog(req.call_id).error("registrar: {} for {}", e.what(), req.aor);
    st.reply(500, "Registrar Storage Error");
    return;
  }
  if (result.status == 423) {
    st.reply(423, result.reason, {{"Min-Expires", std::to_string(*result.min_expires)}});
    return;
  }
  if (result.status != 200) {
    ++counters_.rejected;
    st.reply(result.status, result.reason);
    return;
  }
  ++counters_.registrations;
  std::vector<sip::HeaderField> headers;
  for (auto& c : contact_values(result.bindings, now)) headers.push_back({"Contact", c});
  headers.push_back({"Date", http_date(now)});
  st.reply(200, "OK", headers);
  if (spdlog::should_log(spdlog::level::debug))
    base::CallLog(req.call_id).debug("registrar: {} has {} binding(s)", req.aor, result.bindings.size());
}

void ProxyServer::forward_ack(sip::Message ack) {
  auto mf = ack.max_forwards();
  if (mf && *mf == 0) return;
  RouteInfo routes = route_info(ack);
  bool routed = ack.routes().size() > routes.own_routes;
  std::string hop;
  if (!routed) {
    auto ruri = sip::Uri::parse(ack.request_uri());
    if (!ruri || policy_->is_local(*ruri)) return;  // addressed to us: nothing to do
    if (policy_->serves(*ruri)) {
      auto bindings = store_.lookup(policy_->aor(*ruri), unix_now());
      if (bindings.empty()) return;
      ack = prepare_branch(ack, routes, bindings.front().contact, "");
      base::CallLog(ack.call_id()).debug("ACK forwarded to {}", ack.request_uri());
      layer_->send_stateless(std::move(ack));
      return;
    }
    hop = policy_->static_route(*ruri).value_or("");
  }
  base::CallLog(ack.call_id()).debug("ACK {} forwarded{}", ack.request_uri(), hop.empty() ? "" : " via " + hop);
  layer_->send_stateless(prepare_branch(ack, routes, "", ""), hop);
}

void ProxyServer::on_stray_response(sip::Message response) {
  if (response.is_malformed()) return;
  // RFC 3261 16.7: with no transaction left, forward statelessly by the Via.
  layer_->forward_response_stateless(std::move(response));
}

}  // namespace confab::proxy

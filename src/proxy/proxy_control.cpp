#include "proxy/proxy_control.h"

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>

namespace confab::proxy {

namespace json = boost::json;
using control::Answer;
using control::Args;

void add_proxy_commands(control::ControlServer& control, ProxyServer& server, std::function<std::string()> reload) {
  control.add("registrations", "[AOR]", "the registered contacts (of AOR only, if given)", [&server](const Args& args) {
    auto now = unix_now();
    json::array out;
    for (auto& b : server.registrations()) {
      if (!args.empty() && b.aor != args[0] && "sip:" + b.aor != args[0]) continue;
      out.push_back(json::object{{"aor", b.aor}, {"contact", b.contact}, {"expires", b.expires_at - now},
                                 {"source", b.source}, {"user_agent", b.user_agent}});
    }
    return Answer::done(std::move(out));
  });
  control.add("kick", "AOR", "removes every registration of AOR (the phones register again at their next refresh)",
              [&server](const Args& args) {
                if (args.size() != 1) return Answer::fail("usage: kick AOR (e.g. alice@example.com)");
                size_t n = server.kick(args[0]);
                return Answer::done(json::object{{"removed", n}});
              });
  control.add("stats", "", "what the proxy counted since start", [&server](const Args&) {
    auto& c = server.counters();
    json::object failures;
    for (size_t i = 0; i < kAuthFailureKinds; ++i) {
      auto cause = static_cast<AuthFailure>(i);
      failures[auth_failure_name(cause)] = server.auth_failures().count(cause);
    }
    return Answer::done(json::object{{"branches_forwarded", c.forwarded}, {"registrations", c.registrations},
                                     {"rejected", c.rejected}, {"loops", c.loops},
                                     {"transactions", server.active_transactions()},
                                     {"auth_failures", std::move(failures)}});
  });
  control.add("reload", "", "re-reads the configuration and applies what can change live (also on SIGHUP)",
              [reload](const Args&) { return Answer::done(json::string(reload())); });
}

}  // namespace confab::proxy

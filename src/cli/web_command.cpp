// confab web: serves a site whose pages are conferences.
#include "base/log.h"
#include "cli/commands.h"
#include "sip/event_loop.h"
#include "sip/uri.h"
#include "web/web_server.h"

namespace confab::cli {

namespace {

struct WebArgs {
  std::string listen = "127.0.0.1:8080";
  std::string site;
  std::string conference_host;
  std::vector<std::string> service_apis{"127.0.0.1:5066"};
  std::string sip = "127.0.0.1:5078";
  size_t max_viewers = 1000;
  size_t max_viewers_per_page = 200;
  double linger_s = 5;
  std::string sip_trace;
};

web::WebOptions web_options(const WebArgs& a) {
  web::WebOptions o;
  o.listen = base::parse_host_port(a.listen, "--listen");
  o.site = a.site;
  o.conference_host = sip::parse_conference_host(a.conference_host);
  o.service_apis.clear();
  for (auto& api : a.service_apis) o.service_apis.push_back(base::parse_host_port(api, "--service-api"));
  o.sip = base::parse_host_port(a.sip, "--sip");
  o.max_viewers = a.max_viewers;
  o.max_viewers_per_page = a.max_viewers_per_page;
  if (!(a.linger_s >= 0 && a.linger_s <= 3600))
    throw std::invalid_argument("--linger must be from 0 to 3600 seconds");
  o.linger = std::chrono::milliseconds(static_cast<int64_t>(a.linger_s * 1000));
  return o;
}

}  // namespace

void add_web_command(CLI::App& app, const GlobalOptions& global, Runner& runner) {
  auto a = std::make_shared<WebArgs>();
  auto* cmd = app.add_subcommand("web", "web site server: a site whose pages are conferences, with live rosters");
  cmd->add_option("--listen", a->listen, "HOST:PORT of the site")->capture_default_str();
  cmd->add_option("--site", a->site, "directory of the site (HTML, Markdown, _template.html, assets)")->required();
  cmd->add_option("--conference-host", a->conference_host,
                  "HOST[:PORT] of the conference server: a page's conference is sip:web-<path>@it")
      ->required();
  cmd->add_option("--service-api", a->service_apis,
                  "HOST:PORT of the visitors' client service web API (allowed in the pages' connect-src; "
                  "repeat it for several)")
      ->capture_default_str();
  cmd->add_option("--sip", a->sip, "HOST:PORT of the site's SIP user agent (roster subscriptions)")
      ->capture_default_str();
  cmd->add_option("--max-viewers", a->max_viewers, "roster WebSockets at once (503 beyond)")->capture_default_str();
  cmd->add_option("--max-viewers-per-page", a->max_viewers_per_page, "roster WebSockets of one page")
      ->capture_default_str();
  cmd->add_option("--linger", a->linger_s, "seconds a conference stays subscribed after its last viewer left")
      ->capture_default_str();
  add_sip_trace_option(*cmd, a->sip_trace);
  cmd->callback([a, &global, &runner] {
    runner = [a, &global]() -> int {
      base::init_logging("web", global.log_level);
      web::WebOptions o = web_options(*a);
      auto trace = start_sip_trace(a->sip_trace);  // before the site's user agent, which it taps
      sip::EventLoop loop;
      web::WebServer server(loop, o);
      std::string apis;
      for (auto& api : o.service_apis) apis += (apis.empty() ? "" : ", ") + api.str();
      spdlog::info("web site on http://{}/ (site {}, conferences sip:web-...@{}, service API {})",
                   base::HostPort{o.listen.host, server.port()}.str(), o.site, o.conference_host, apis);
      stop_on_signals([&loop] { loop.stop(); });
      loop.run();
      server.shutdown();
      return 0;
    };
  });
}

}  // namespace confab::cli

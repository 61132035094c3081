// `confab web`: serves a site from a directory (HTML as it is, Markdown
// rendered into the site's template) and tells each page's viewers who is in
// the page's conference. One HTTP server (its own thread) answers files,
// GET /confab.js, GET /_confab/page and the WebSocket /_confab/roster
// (docs/api.md, "Web site"); the roster subscriptions (RFC 4575) run on the
// SIP thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "base/host_port.h"
#include "http/http_server.h"
#include "sip/event_loop.h"
#include "sip/user_agent.h"
#include "web/site.h"

namespace confab::web {

class Rosters;

struct WebOptions {
  base::HostPort listen{"127.0.0.1", 8080};
  std::string site;             // the site's directory
  std::string conference_host;  // "host[:port]": pages' conferences are sip:web-<path>@it
  std::vector<base::HostPort> service_apis{{"127.0.0.1", 5066}};  // the visitors' client services: in connect-src
  base::HostPort sip{"127.0.0.1", 5078};          // the site's SIP user agent (roster subscriptions)
  size_t max_viewers = 1000;          // roster WebSockets at once (503 beyond)
  size_t max_viewers_per_page = 200;  // of one page
  uintmax_t max_file_bytes = 8 * 1024 * 1024;
  std::chrono::milliseconds linger{5000};  // a conference without viewers stays subscribed this long
};

// The Content-Security-Policy of every response: the site's own scripts,
// styles and images, and connections to itself and to the visitor's service.
std::string content_security_policy(const std::vector<base::HostPort>& service_apis);

class WebServer final : public sip::UserAgent::Handler {
 public:
  // On the SIP thread: opens the site (throws std::invalid_argument naming
  // --site), binds options.listen and options.sip (throw std::runtime_error)
  // and starts serving.
  WebServer(sip::EventLoop& loop, WebOptions options);
  ~WebServer() override;
  WebServer(const WebServer&) = delete;
  WebServer& operator=(const WebServer&) = delete;

  // On the SIP thread once the loop has stopped: stops serving, un-SUBSCRIBEs.
  void shutdown();
  uint16_t port() const { return http_.port(); }

  void on_incoming_call(const std::shared_ptr<sip::Call>& call, sip::IncomingRequest invite) override;

 private:
  struct Page {
    std::string path;        // "/films/dune"
    std::string conference;  // "sip:web-films-dune@..."
  };
  void serve();
  void serve_roster_socket();
  http::Response file_response(const http::Request& req) const;
  http::Response page_response(const http::Request& req) const;
  http::Response with_headers(http::Response r) const;
  // The page a decoded path names, or the status why not (404, 400, 413).
  std::optional<Page> page_at(const std::string& path, int& status) const;
  // Its own (a meta tag, front matter) if it names a valid one, else its default.
  std::string conference_of(const SiteFile& f, std::string_view text) const;

  sip::EventLoop& loop_;
  const WebOptions options_;
  const Site site_;
  const std::string csp_;
  std::unique_ptr<sip::UserAgent> ua_;
  std::unique_ptr<Rosters> rosters_;
  http::Server http_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // reset on shutdown: queued work is dropped
  // HTTP thread: open roster WebSockets (id -> page path) and how many per page.
  std::map<uint64_t, std::string> viewers_;
  std::map<std::string, size_t> page_viewers_;
};

}  // namespace confab::web

#include "web/web_server.h"

#include <boost/json.hpp>
#include <boost/url/parse_query.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>

#include "web/markdown.h"
#include "web/page_meta.h"
#include "web/rosters.h"

namespace confab::embedded {
std::string_view confab_js();
}  // namespace confab::embedded

namespace confab::web {

namespace {

// Roster WebSockets only push: a viewer has nothing to say, and a message above this closes it (1009).
constexpr size_t kMaxViewerMessage = 4096;

std::optional<std::string> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The decoded value of `name` in a query string ("" if absent or malformed).
std::string query_value(const std::string& query, std::string_view name) {
  auto params = boost::urls::parse_query(query);
  if (!params) return {};
  for (auto p : *params)
    if (p.key.decode() == name) return p.has_value ? p.value.decode() : std::string();
  return {};
}

bool etag_matches(const std::string& if_none_match, const std::string& etag) {
  return if_none_match == "*" || if_none_match.find(etag) != std::string::npos;
}

http::Response text_response(int status, const std::string& text) {
  return {status, "text/plain; charset=utf-8", text + "\n", {}};
}

}  // namespace

std::string content_security_policy(const std::vector<base::HostPort>& service_apis) {
  std::string connect = "'self'";
  for (auto& api : service_apis) {
    connect += fmt::format(" ws://{0} http://{0}", api.str());
    if (api.host == "127.0.0.1") connect += fmt::format(" ws://localhost:{}", api.port);
  }
  return fmt::format("default-src 'self'; script-src 'self'; connect-src {}; img-src 'self' data:; "
                     "style-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
                     connect);
}

WebServer::WebServer(sip::EventLoop& loop, WebOptions options)
    : loop_(loop),
      options_(std::move(options)),
      site_(options_.site),
      csp_(content_security_policy(options_.service_apis)),
      http_(options_.listen.host, options_.listen.port) {
  sip::UserAgentOptions o;
  auto listen = sip::ListenSpec::parse("udp:" + options_.sip.str());
  if (!listen) throw std::invalid_argument("--sip must be HOST:PORT, not '" + options_.sip.str() + "'");
  o.listen.push_back(*listen);
  o.identity = "sip:web@" + options_.sip.str();
  o.user_agent = "confab-web";
  ua_ = std::make_unique<sip::UserAgent>(loop_, o, *this);
  Rosters::Timing timing;
  timing.linger = options_.linger;
  rosters_ = std::make_unique<Rosters>(loop_, *ua_, timing);
  serve();
}

WebServer::~WebServer() { shutdown(); }

void WebServer::on_incoming_call(const std::shared_ptr<sip::Call>&, sip::IncomingRequest invite) {
  invite.respond(403, "Forbidden");
}

http::Response WebServer::with_headers(http::Response r) const {
  r.headers.emplace_back("Content-Security-Policy", csp_);
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Cache-Control", "no-cache");
  r.headers.emplace_back("Referrer-Policy", "same-origin");
  return r;
}

void WebServer::serve() {
  auto script = [this](const http::Request& req) {
    std::string_view js = embedded::confab_js();
    std::string etag = etag_of(js.size(), static_cast<int64_t>(std::hash<std::string_view>()(js)));
    http::Response r{200, "text/javascript; charset=utf-8", std::string(js), {}};
    if (etag_matches(req.header("if-none-match"), etag)) r.status = 304, r.body.clear();
    // A module any site may import: cross-origin module scripts need CORS.
    r.headers = {{"ETag", etag}, {"Access-Control-Allow-Origin", "*"}};
    return with_headers(std::move(r));
  };
  http_.route("GET", "/confab.js", script);
  http_.route("HEAD", "/confab.js", script);
  http_.route("GET", "/_confab/page", [this](const http::Request& req) { return page_response(req); });
  http_.fallback([this](const http::Request& req) { return file_response(req); });
  serve_roster_socket();
  http_.start();
}

std::optional<WebServer::Page> WebServer::page_at(const std::string& path, int& status) const {
  Lookup found = site_.find_decoded(path);
  status = found.status;
  if (!found.file) return std::nullopt;
  const SiteFile& f = *found.file;
  if (f.kind == FileKind::asset) {
    status = 404;
    return std::nullopt;
  }
  if (f.size > options_.max_file_bytes) {
    spdlog::warn("web: {} is {} bytes, over the {} bytes a page may have: not served", f.path.string(), f.size,
                 options_.max_file_bytes);
    status = 413;
    return std::nullopt;
  }
  auto text = read_file(f.path);
  if (!text) {
    status = 404;
    return std::nullopt;
  }
  status = 200;
  return Page{f.page_path, conference_of(f, *text)};
}

std::string WebServer::conference_of(const SiteFile& f, std::string_view text) const {
  std::string named = f.kind == FileKind::markdown ? split_front_matter(text).conference : meta_conference(text);
  if (!named.empty() && valid_conference_uri(named)) return named;
  if (!named.empty())
    spdlog::warn("web: {} names the conference '{}', not a sip: URI: it gets its default one", f.path.string(), named);
  return default_conference(f.page_path, options_.conference_host);
}

http::Response WebServer::page_response(const http::Request& req) const {
  std::string path = query_value(req.query, "path");
  if (path.empty()) return with_headers(http::Response::error(400, "the query needs path=/some/page"));
  int status = 404;
  auto page = page_at(path, status);
  if (!page) return with_headers(http::Response::error(status, status == 400 ? "bad path" : "no such page"));
  boost::json::object o{{"path", page->path}, {"conference", page->conference}};
  return with_headers(http::Response::json(200, boost::json::serialize(o)));
}

http::Response WebServer::file_response(const http::Request& req) const {
  if (req.path.rfind("/_confab/", 0) == 0) return with_headers(http::Response::error(404, "not found"));
  if (req.method != "GET" && req.method != "HEAD") {
    auto r = with_headers(text_response(405, "405 method not allowed: a site is read with GET"));
    r.headers.emplace_back("Allow", "GET, HEAD");
    return r;
  }
  Lookup found = site_.find(req.path);
  if (!found.file)
    return with_headers(text_response(found.status, found.status == 400 ? "400 bad path" : "404 not found"));
  const SiteFile& f = *found.file;
  if (f.size > options_.max_file_bytes) {
    spdlog::warn("web: {} is {} bytes, over the {} bytes a file may have: not served", f.path.string(), f.size,
                 options_.max_file_bytes);
    return with_headers(text_response(403, "403 this file is too large to be served"));
  }
  std::optional<SiteFile> tpl = f.kind == FileKind::markdown ? site_.page_template() : std::nullopt;
  // A Markdown page changes with its template too (the site's, or the built-in one).
  std::string more;
  if (f.kind == FileKind::markdown)
    more = tpl ? fmt::format("{:x}-{:x}", tpl->size, static_cast<uint64_t>(tpl->mtime_ns))
               : fmt::format("{:x}", std::hash<std::string_view>()(default_template()));
  std::string etag = etag_of(f.size, f.mtime_ns, more);
  http::Response r{200, f.content_type, {}, {}};
  if (etag_matches(req.header("if-none-match"), etag)) {
    r.status = 304;
  } else {
    auto text = read_file(f.path);
    if (!text) return with_headers(text_response(404, "404 not found"));
    r.body = std::move(*text);
  }
  if (f.kind == FileKind::markdown && r.status == 200) {
    FrontMatter fm = split_front_matter(r.body);
    std::string conference = conference_of(f, r.body);
    std::string title = !fm.title.empty() ? fm.title : first_heading(fm.body);
    auto tpl_text = tpl ? read_file(tpl->path) : std::nullopt;
    r.body = render_page(tpl_text ? std::string_view(*tpl_text) : default_template(), fm.body,
                         title.empty() ? f.page_path : title, conference);
  }
  r.headers.emplace_back("ETag", etag);
  return with_headers(std::move(r));
}

void WebServer::serve_roster_socket() {
  http::WebSocketHandler h;
  h.max_message = kMaxViewerMessage;
  std::weak_ptr<int> alive = alive_;
  h.admit = [this](const http::Request& req) -> std::optional<http::Response> {
    int status = 404;
    auto page = page_at(query_value(req.query, "path"), status);
    if (!page) return http::Response::error(status, "no such page");
    if (viewers_.size() >= options_.max_viewers) {
      spdlog::warn("web: refused a roster viewer: {} already open", viewers_.size());
      return http::Response::error(503, "too many viewers");
    }
    if (page_viewers_[page->path] >= options_.max_viewers_per_page) {
      spdlog::warn("web: refused a roster viewer of {}: {} already open", page->path, options_.max_viewers_per_page);
      return http::Response::error(503, "too many viewers of this page");
    }
    return std::nullopt;
  };
  h.on_open = [this, alive](const std::shared_ptr<http::WebSocket>& ws, const http::Request& req) {
    int status = 404;
    auto page = page_at(query_value(req.query, "path"), status);
    if (!page) return ws->close();  // gone since admitted
    viewers_[ws->id()] = page->path;
    ++page_viewers_[page->path];
    loop_.post([this, alive, ws, page = std::move(*page)] {
      if (alive.lock()) rosters_->add_viewer(ws, page.path, page.conference);
    });
  };
  h.on_message = [](const std::shared_ptr<http::WebSocket>& ws, std::string) {
    spdlog::debug("web: roster viewer {} sent a message: ignored (the roster WebSocket only pushes)", ws->id());
  };
  h.on_close = [this, alive](const std::shared_ptr<http::WebSocket>& ws) {
    // Also called for a handshake that failed, which was never opened.
    auto it = viewers_.find(ws->id());
    if (it == viewers_.end()) return;
    if (--page_viewers_[it->second] == 0) page_viewers_.erase(it->second);
    viewers_.erase(it);
    loop_.post([this, alive, id = ws->id()] {
      if (alive.lock()) rosters_->remove_viewer(id);
    });
  };
  http_.websocket("/_confab/roster", std::move(h));
}

void WebServer::shutdown() {
  if (!rosters_) return;
  http_.stop();
  alive_.reset();
  rosters_.reset();
  if (ua_) ua_->shutdown(std::chrono::milliseconds(1000));
}

}  // namespace confab::web

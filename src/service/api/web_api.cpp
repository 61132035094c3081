#include "service/api/web_api.h"

#include <spdlog/spdlog.h>

#include "api/api_json.h"

namespace confab::service {

std::shared_ptr<WebApi> WebApi::create(sip::EventLoop& loop, ApiHandler& handler, OriginPolicy& origins,
                                       const std::string& host, uint16_t port, std::string key,
                                       std::function<void(const std::string&)> on_refused_origin) {
  return std::shared_ptr<WebApi>(new WebApi(loop, handler, origins, host, port, std::move(key),
                                            std::move(on_refused_origin)));
}

WebApi::WebApi(sip::EventLoop& loop, ApiHandler& handler, OriginPolicy& origins, const std::string& host,
               uint16_t port, std::string key, std::function<void(const std::string&)> on_refused_origin)
    : loop_(loop),
      handler_(handler),
      origins_(origins),
      host_(host),
      key_(std::move(key)),
      on_refused_origin_(std::move(on_refused_origin)),
      server_(host, port) {}

WebApi::~WebApi() { stop(); }

std::string WebApi::chooser_url() const {
  return "http://" + host_ + ":" + std::to_string(server_.port()) + "/?key=" + key_;
}

bool WebApi::host_ok(const http::Request& r) const {
  std::string port = ":" + std::to_string(server_.port());
  std::string host = r.header("host");
  return host == host_ + port || host == "localhost" + port;
}

bool WebApi::own_origin(const std::string& origin) const {
  std::string port = ":" + std::to_string(server_.port());
  return origin == "http://" + host_ + port || origin == "http://localhost" + port;
}

std::optional<http::Response> WebApi::admit(const http::Request& r) {
  if (!host_ok(r)) return http::Response::error(403, "Host must be the loopback address");
  std::string origin = r.header("origin");
  if (own_origin(origin)) {
    if (r.query_param("key") == key_) return std::nullopt;
    return http::Response::error(403, "the chooser page needs its key");
  }
  if (origin.empty())
    return http::Response::error(403, "no Origin: programs use the Unix socket or the TCP API with its token");
  if (origins_.approved(origin)) return std::nullopt;
  spdlog::warn("web api: refused a connection from origin {} (not approved)", origin);
  if (origins_.request(origin) && on_refused_origin_) on_refused_origin_(origin);
  return http::Response::error(403, "origin " + origin +
                                        " is not approved; approve it on the device chooser page or with "
                                        "`confab approve " + origin + "`");
}

void WebApi::serve_metrics(http::MetricsFill fill) {
  server_.route("GET", "/metrics", [this, fill = std::move(fill)](const http::Request& r) {
    if (!host_ok(r)) return http::Response::error(403, "Host must be the loopback address");
    if (!r.header("origin").empty()) return http::Response::error(403, "the metrics are not for web pages");
    return http::metrics_response(loop_, fill);
  });
}

void WebApi::start() {
  server_.route("GET", "/", [this](const http::Request& r) {
    if (!host_ok(r)) return http::Response::error(403, "Host must be the loopback address");
    if (r.query_param("key") != key_) {
      http::Response denied{403, "text/plain; charset=utf-8",
                            "Open the device chooser with the link `confab chooser` prints (it carries a key).\n", {}};
      return denied;
    }
    http::Response page{200, "text/html; charset=utf-8", chooser_page(), {}};
    std::string ws = "ws://" + host_ + ":" + std::to_string(server_.port());
    page.headers = {{"Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'; style-src "
                                                "'unsafe-inline'; connect-src " + ws + " ws://localhost:" +
                                                std::to_string(server_.port()) + "; frame-ancestors 'none'"},
                    {"X-Frame-Options", "DENY"},
                    {"Cache-Control", "no-store"},
                    {"Referrer-Policy", "no-referrer"}};
    return page;
  });
  http::WebSocketHandler h;
  std::weak_ptr<WebApi> weak = weak_from_this();
  h.admit = [this](const http::Request& r) { return admit(r); };
  h.on_open = [this, weak](const std::shared_ptr<http::WebSocket>& ws, const http::Request& r) {
    std::string origin = r.header("origin");
    auto connection = std::make_shared<ApiConnection>(std::weak_ptr<ApiTransport>(weak), next_connection_id(),
                                                      own_origin(origin) ? "chooser" : "web:" + origin);
    {
      std::lock_guard lock(mutex_);
      sockets_[connection->id()] = ws;
      connections_[ws->id()] = connection;
    }
    loop_.post([alive = std::weak_ptr<int>(alive_), h = &handler_, connection] {
      if (alive.lock()) h->on_opened(connection);
    });
  };
  h.on_message = [this](const std::shared_ptr<http::WebSocket>& ws, std::string text) {
    std::shared_ptr<ApiConnection> connection;
    {
      std::lock_guard lock(mutex_);
      auto it = connections_.find(ws->id());
      if (it == connections_.end()) return;
      connection = it->second;
    }
    api::ApiMessage m;
    std::string error;
    if (!api::from_json(text, m, &error)) {
      // A WebSocket frames its messages, so one bad message does not end the connection.
      spdlog::info("web api {}: {}", connection->peer(), error);
      ws->send(api::to_json(result({}, 400, error)));
      return;
    }
    loop_.post([alive = std::weak_ptr<int>(alive_), h = &handler_, connection, m = std::move(m)]() mutable {
      if (alive.lock()) h->on_message(connection, std::move(m));
    });
  };
  h.on_close = [this](const std::shared_ptr<http::WebSocket>& ws) {
    std::shared_ptr<ApiConnection> connection;
    {
      std::lock_guard lock(mutex_);
      auto it = connections_.find(ws->id());
      if (it == connections_.end()) return;
      connection = it->second;
      connections_.erase(it);
      sockets_.erase(connection->id());
    }
    loop_.post([alive = std::weak_ptr<int>(alive_), h = &handler_, connection] {
      if (alive.lock()) h->on_closed(connection);
    });
  };
  server_.websocket("/api", std::move(h));
  server_.start();
}

void WebApi::stop() {
  server_.stop();
  alive_.reset();
}

void WebApi::deliver(uint64_t connection, const api::ApiMessage& message, bool close_after) {
  std::shared_ptr<http::WebSocket> ws;
  {
    std::lock_guard lock(mutex_);
    auto it = sockets_.find(connection);
    if (it == sockets_.end()) return;
    ws = it->second;
  }
  if (!message.name.empty()) ws->send(api::to_json(message));
  if (close_after) ws->close();
}

}  // namespace confab::service

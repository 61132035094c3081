// The service's web side on 127.0.0.1:5066: the JSON twin of the API over a
// WebSocket (ws://127.0.0.1:5066/api) for web pages, and the device chooser
// page (http://127.0.0.1:5066/?key=...).
//
// Who may connect: a page from an origin the user approved (OriginPolicy); the
// service's own page with the chooser key; nothing else. A refused origin is
// noted so the user can approve it (the chooser page, `confab approve`). The
// Host header must name the loopback address, against DNS rebinding.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "http/http_server.h"
#include "http/metrics_page.h"
#include "service/api/api_server.h"
#include "service/api/origin_policy.h"

namespace confab::service {

class WebApi : public ApiTransport, public std::enable_shared_from_this<WebApi> {
 public:
  // Binds host:port (throws std::runtime_error naming it); `key` guards the chooser page.
  static std::shared_ptr<WebApi> create(sip::EventLoop& loop, ApiHandler& handler, OriginPolicy& origins,
                                        const std::string& host, uint16_t port, std::string key,
                                        std::function<void(const std::string& origin)> on_refused_origin);
  // GET /metrics (Prometheus) for local programs: refused to web pages (any Origin).
  void serve_metrics(http::MetricsFill fill);
  ~WebApi() override;
  void start();
  void stop();  // on the SIP thread; queued deliveries to the handler are dropped after it
  uint16_t port() const { return server_.port(); }
  std::string chooser_url() const;

  void deliver(uint64_t connection, const api::ApiMessage& message, bool close_after) override;

 private:
  WebApi(sip::EventLoop& loop, ApiHandler& handler, OriginPolicy& origins, const std::string& host, uint16_t port,
         std::string key, std::function<void(const std::string&)> on_refused_origin);
  std::optional<http::Response> admit(const http::Request& request);
  bool host_ok(const http::Request& request) const;
  bool own_origin(const std::string& origin) const;

  sip::EventLoop& loop_;
  ApiHandler& handler_;
  OriginPolicy& origins_;
  std::string host_, key_;
  std::function<void(const std::string&)> on_refused_origin_;
  http::Server server_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // reset on stop: drop queued deliveries
  std::mutex mutex_;
  std::map<uint64_t, std::shared_ptr<http::WebSocket>> sockets_;             // by API connection id
  std::map<uint64_t, std::shared_ptr<ApiConnection>> connections_;          // by WebSocket id
};

// The chooser page (HTML, script inline), talking to ws://<host>/api?key=...
const std::string& chooser_page();

}  // namespace confab::service

// A small HTTP/1.1 server (Boost.Beast) for the admin and web APIs of every
// part: routes by method and path, optional bearer token, bounded requests.
// It runs on its own thread; handlers that touch SIP state hop to the SIP
// thread with call_on() (see below).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <optional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "sip/event_loop.h"

namespace confab::http {

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string path;    // "/mixes" (no query)
  std::string query;   // "a=1&b=2"
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string header(const std::string& lower_name) const;
  std::string query_param(const std::string& name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  static Response json(int status, std::string body);
  // {"error": reason} with the given status.
  static Response error(int status, const std::string& reason);
};

using Handler = std::function<Response(const Request&)>;

struct ServerCore;  // private to http_server.cpp

// One accepted WebSocket connection, as the application holds it: a handle
// safe to use from any thread, also after the connection or the server is
// gone (then it does nothing).
class WebSocket {
 public:
  WebSocket(std::weak_ptr<ServerCore> core, uint64_t id) : core_(std::move(core)), id_(id) {}
  void send(std::string text) const;  // one text frame
  void close() const;                 // after what is queued
  uint64_t id() const { return id_; }

 private:
  std::weak_ptr<ServerCore> core_;
  uint64_t id_;
};

// Callbacks run on the server's thread.
struct WebSocketHandler {
  // The upgrade request: a Response refuses it (e.g. 403 for a foreign Origin), nullopt accepts.
  std::function<std::optional<Response>(const Request&)> admit;
  std::function<void(const std::shared_ptr<WebSocket>&, const Request&)> on_open;
  std::function<void(const std::shared_ptr<WebSocket>&, std::string)> on_message;  // a whole text message
  std::function<void(const std::shared_ptr<WebSocket>&)> on_close;
  size_t max_message = 256 * 1024;  // larger messages close the connection (1009)
  size_t max_queued = 4 * 1024 * 1024;  // a reader this slow is cut off
};

class Server {
 public:
  // Binds host:port (port 0 picks one); throws std::runtime_error on failure.
  Server(const std::string& host, uint16_t port);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Exact path, or a prefix when `path` ends with '/' (e.g. "/mixes/").
  void route(const std::string& method, const std::string& path, Handler handler);
  // Requests for a path no route has (any method) go to `handler` instead of a 404.
  void fallback(Handler handler);
  // WebSocket upgrades on exactly `path` (ws://host:port/path).
  void websocket(const std::string& path, WebSocketHandler handler);
  // Every request must then carry "Authorization: Bearer <token>" (else 401).
  void require_token(std::string token);
  void start();  // serves on a thread of its own
  void stop();
  uint16_t port() const;

  static constexpr size_t kMaxBody = 1024 * 1024;

 private:
  std::shared_ptr<ServerCore> impl_;
};

// Runs `fn` on the SIP thread of `loop` and returns its result to the calling
// (HTTP) thread, or a 503 if the loop does not answer within `timeout`.
Response call_on(sip::EventLoop& loop, std::function<Response()> fn,
                 std::chrono::milliseconds timeout = std::chrono::milliseconds(2000));

// Like call_on, for work that finishes later (e.g. after a SIP transaction):
// `fn` runs on the SIP thread and calls `reply` once, then or later.
using Reply = std::function<void(Response)>;
Response call_on_async(sip::EventLoop& loop, std::function<void(Reply reply)> fn,
                       std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));

}  // namespace confab::http

// The service's local API transports: a Unix socket private to the user and a
// loopback TCP port whose first message must be <Auth token=".."/> with the
// token from a user-only file. Each connection is a stream of XML messages
// (api/api_reader.h). Sockets live on a thread of their own (Boost.Asio);
// every message and every disconnect is handed to the SIP thread, where the
// service runs, so the service never sees a thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "api/api_message.h"
#include "api/api_reader.h"
#include "sip/event_loop.h"

namespace confab::service {

// Where a connection's messages go: each transport (the XML stream sockets,
// the JSON WebSocket) serialises them its own way, on its own thread.
class ApiTransport {
 public:
  virtual ~ApiTransport() = default;
  // Any thread. `close_after`: end the connection once this (if named) is written.
  virtual void deliver(uint64_t connection, const api::ApiMessage& message, bool close_after) = 0;
};

// One connected application, as the service sees it: a handle that stays safe
// to use (from any thread) after the connection or its transport is gone, when
// sending does nothing.
class ApiConnection {
 public:
  ApiConnection(std::weak_ptr<ApiTransport> transport, uint64_t id, std::string peer)
      : transport_(std::move(transport)), id_(id), peer_(std::move(peer)) {}
  void send(const api::ApiMessage& message) const;
  // Sends `last` (if it has a name) and closes once it is written.
  void close(const api::ApiMessage& last = api::ApiMessage()) const;
  uint64_t id() const { return id_; }
  // "unix", "tcp:127.0.0.1:40312", "web:http://example.com"
  const std::string& peer() const { return peer_; }

 private:
  std::weak_ptr<ApiTransport> transport_;
  uint64_t id_;
  std::string peer_;
};

// Connection ids unique across transports (the service keys clients by them).
uint64_t next_connection_id();

class ApiHandler {
 public:
  virtual ~ApiHandler() = default;
  // A complete message from an authenticated connection (on the SIP thread).
  virtual void on_message(const std::shared_ptr<ApiConnection>& from, api::ApiMessage message) = 0;
  // A connection was admitted (on the SIP thread, before its first message). Web pages only.
  virtual void on_opened(const std::shared_ptr<ApiConnection>& connection) {}
  // The connection is gone (on the SIP thread).
  virtual void on_closed(const std::shared_ptr<ApiConnection>& connection) {}
};

struct ApiServerOptions {
  std::string unix_path;       // empty: no Unix socket
  std::string tcp_host = "127.0.0.1";
  int tcp_port = -1;           // -1: no TCP; 0: any free port
  std::string token;           // required first on TCP
  size_t max_connections = 64;
  size_t max_queued_bytes = 4 * 1024 * 1024;  // per connection: a reader this slow is cut off
  unsigned auth_timeout_ms = 10000;           // TCP connections that do not authenticate in time are closed
  api::ReaderLimits limits;
};

struct ApiServerCore;  // the sockets' side, private to api_server.cpp

class ApiServer {
 public:
  // Binds (throws std::runtime_error naming the address on failure); serves after start().
  ApiServer(sip::EventLoop& loop, ApiServerOptions options, ApiHandler& handler);
  ~ApiServer();  // stops; call on the SIP thread
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;
  void start();
  void stop();
  uint16_t tcp_port() const;

 private:
  std::shared_ptr<ApiServerCore> core_;
};

// The result element every request gets (docs/api.md).
api::ApiMessage result(const std::string& tag, int code, const std::string& reason);

}  // namespace confab::service

// HTTP/1.1 requests from a part to another server (Boost.Beast): the service's
// click-to-dial devices, the game server's calls to the conference admin API.
// Each request bounded by one deadline. send_request uses a connection per
// request; a Client keeps connections open for the next request to the same server.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace confab::http {

struct ClientRequest {
  std::string method = "GET";
  std::string host;  // a name or an address (IPv6 without brackets)
  uint16_t port = 80;
  std::string target = "/";  // path and query
  std::vector<std::pair<std::string, std::string>> headers;  // Host, Content-Length and Connection are set here
  std::string body;
  std::chrono::milliseconds timeout{5000};
  size_t body_limit = 1024 * 1024;  // a longer response body is an error
};

struct ClientResponse {
  int status = 0;      // the HTTP status; 0 if none came
  std::string reason;  // its reason phrase, or what went wrong
  std::string body;
  bool timed_out = false;
  std::chrono::steady_clock::time_point received_at;  // when the answer (or the failure) came, on the client's thread
  std::string error() const;  // "HTTP 404 Not Found", "cannot connect: ...", "" on 2xx
};

// Sends `request` on `io`'s thread; `done` runs there, once.
void send_request(boost::asio::io_context& io, ClientRequest request, std::function<void(ClientResponse)> done);

// A client with an I/O thread of its own, keeping connections open (HTTP/1.1
// keep-alive) for the next request to the same server.
class Client {
 public:
  Client();
  ~Client();  // pending requests are dropped: their `done` does not run
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  // `done` runs on the client's thread.
  void send(ClientRequest request, std::function<void(ClientResponse)> done);
  // Waits until every request sent has been answered (or failed), at most `limit`.
  void wait_idle(std::chrono::milliseconds limit);

 private:
  struct Io;
  std::unique_ptr<Io> io_;
  std::thread thread_;
  std::shared_ptr<std::atomic<int>> pending_ = std::make_shared<std::atomic<int>>(0);
};

}  // namespace confab::http

// A blocking client of the local API, for the command-line tools, tests and
// benchmarks: connects by Unix socket or TCP, sends messages, reads them.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>

#include "api/api_message.h"
#include "api/api_reader.h"

namespace confab::api {

class ApiClient {
 public:
  // Throw std::runtime_error naming the address when the connection fails.
  static ApiClient unix_socket(const std::string& path);
  static ApiClient tcp(const std::string& host, uint16_t port);
  ApiClient(ApiClient&& other) noexcept;
  ApiClient& operator=(ApiClient&&) = delete;
  ~ApiClient();

  bool send(const ApiMessage& message);
  bool send_raw(std::string_view bytes);
  // The next message; nullopt on timeout, end of stream (closed() then) or unreadable input.
  std::optional<ApiMessage> next(std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
  // Sends `request` with `tag` and returns its <Result>; events that arrive
  // first are kept for next(). nullopt if none arrives in time.
  std::optional<ApiMessage> call(ApiMessage request, std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
  bool closed() const { return closed_; }
  // The service sent something unreadable: next() returns nullopt from now on.
  bool failed() const { return reader_.failed(); }
  const std::string& error() const { return reader_.error(); }

 private:
  explicit ApiClient(int fd);
  int fd_;
  bool closed_ = false;
  std::deque<ApiMessage> inbox_;
  ApiReader reader_;
  uint64_t next_tag_ = 1;
};

}  // namespace confab::api

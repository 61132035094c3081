// What devices need beyond the SIP thread: an I/O thread (Boost.Asio) for
// their control interfaces and HTTP requests, so that neither a slow program
// nor a slow web server ever blocks SIP, and a private directory each under
// the service's runtime directory. Completions come back on the SIP thread
// through deliver(); once the runtime has stopped they are dropped.
#pragma once

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "sip/event_loop.h"

namespace confab::service {

class DeviceRuntime {
 public:
  // `base_dir`: where each device gets a directory of its own (created 0700
  // when first needed); the service's is <runtime dir>/devices.
  DeviceRuntime(sip::EventLoop& loop, std::string base_dir);
  ~DeviceRuntime();  // stop()
  DeviceRuntime(const DeviceRuntime&) = delete;
  DeviceRuntime& operator=(const DeviceRuntime&) = delete;

  sip::EventLoop& loop() { return loop_; }
  boost::asio::io_context& io() { return io_; }
  // Runs `fn` on the SIP thread, unless the runtime has stopped by then.
  void deliver(std::function<void()> fn);
  // <base>/<device id>, created with mode 0700 (throws std::runtime_error if it cannot be).
  std::string device_dir(const std::string& device_id);
  // Ends the I/O thread; later and pending completions are dropped. Idempotent.
  void stop();
  bool stopped() const { return !alive_; }

  // One request/response exchange with a local control interface: connects to
  // `to` ("127.0.0.1:PORT" for TCP or an absolute Unix socket path), sends
  // `request`, reads until `reply_in(buffer)` finds the whole reply (or, when
  // it is null, until the peer closes), within `timeout` in all.
  // `done(error, reply)`: error "" on success.
  using ReplyFinder = std::function<std::optional<std::string>(std::string_view received)>;
  void exchange(const std::string& to, std::string request, ReplyFinder reply_in, std::chrono::milliseconds timeout,
                std::function<void(const std::string& error, const std::string& reply)> done);

  // Reads lines from `fd` (a pipe; taken over) and hands each, without its
  // newline, to `on_line` on the SIP thread; `on_end` once it closes. Each
  // line is also appended to `copy_to` if not empty. The returned handle stops
  // reading (and closes the fd) when destroyed.
  struct LineReader;
  std::shared_ptr<LineReader> read_lines(int fd, std::string copy_to, std::function<void(std::string)> on_line,
                                         std::function<void()> on_end);

 private:
  sip::EventLoop& loop_;
  std::string base_dir_;
  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::thread thread_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

// Netstring framing (baresip's ctrl_tcp): "5:hello," -> "hello".
std::string netstring(std::string_view payload);
// The first complete netstring in `buffer`: {payload, bytes used}; nullopt if
// incomplete; throws std::runtime_error if `buffer` is not netstrings.
std::optional<std::pair<std::string, size_t>> next_netstring(std::string_view buffer, size_t max_length = 1 << 20);

}  // namespace confab::service

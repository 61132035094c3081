#include "api/api_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

namespace confab::api {

ApiClient ApiClient::unix_socket(const std::string& path) {
  sockaddr_un a{};
  if (path.size() >= sizeof a.sun_path) throw std::runtime_error("socket path too long: " + path);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  a.sun_family = AF_UNIX;
  std::memcpy(a.sun_path, path.data(), path.size());
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    std::string why = std::strerror(errno);
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("cannot connect to " + path + " (" + why + "): is `confab service` running?");
  }
  return ApiClient(fd);
}

ApiClient ApiClient::tcp(const std::string& host, uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  if (::inet_pton(AF_INET, host.c_str(), &a.sin_addr) != 1) throw std::runtime_error("not an IPv4 address: " + host);
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    std::string why = std::strerror(errno);
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("cannot connect to " + host + ":" + std::to_string(port) + " (" + why + ")");
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return ApiClient(fd);
}

ApiClient::ApiClient(int fd) : fd_(fd), reader_([this](ApiMessage&& m) { inbox_.push_back(std::move(m)); }) {}

ApiClient::ApiClient(ApiClient&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      closed_(other.closed_),
      inbox_(std::move(other.inbox_)),
      reader_([this](ApiMessage&& m) { inbox_.push_back(std::move(m)); }),
      next_tag_(other.next_tag_) {}

ApiClient::~ApiClient() {
  if (fd_ >= 0) ::close(fd_);
}

bool ApiClient::send_raw(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool ApiClient::send(const ApiMessage& message) { return send_raw(to_xml(message) + "\n"); }

std::optional<ApiMessage> ApiClient::next(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (inbox_.empty()) {
    if (closed_ || reader_.failed()) return std::nullopt;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[16 * 1024];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) {
      closed_ = true;
      continue;
    }
    reader_.feed(std::string_view(buf, static_cast<size_t>(n)));
  }
  auto m = std::move(inbox_.front());
  inbox_.pop_front();
  return m;
}

std::optional<ApiMessage> ApiClient::call(ApiMessage request, std::chrono::milliseconds timeout) {
  std::string tag = request.attr("tag");
  if (tag.empty()) {
    tag = "t" + std::to_string(next_tag_++);
    request.set("tag", tag);
  }
  if (!send(request)) return std::nullopt;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::deque<ApiMessage> others;
  std::optional<ApiMessage> found;
  while (!found) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    auto m = next(left);
    if (!m) break;
    if (m->name == "Result" && (m->attr("tag") == tag || !m->has("tag")))
      found = std::move(*m);
    else
      others.push_back(std::move(*m));
  }
  // Events that came first stay in front of anything read later.
  for (auto it = others.rbegin(); it != others.rend(); ++it) inbox_.push_front(std::move(*it));
  return found;
}

}  // namespace confab::api

#include "native_host/frames.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace confab::native_host {

namespace {

// Reads up to `n` bytes, retrying short reads; returns how many arrived before the end.
size_t read_fully(int fd, char* out, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::read(fd, out + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += static_cast<size_t>(r);
  }
  return got;
}

bool write_fully(int fd, const char* data, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, data, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    data += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

}  // namespace

Frame read_frame(int fd, size_t max) {
  Frame f;
  char prefix[4];
  size_t got = read_fully(fd, prefix, sizeof prefix);
  if (got == 0) return f;  // Status::end
  if (got < sizeof prefix) {
    f.status = Frame::Status::truncated;
    f.got = got;
    return f;
  }
  std::memcpy(&f.length, prefix, sizeof f.length);  // native byte order
  if (f.length > max) {
    f.status = Frame::Status::too_large;
    return f;
  }
  f.body.resize(f.length);
  f.got = read_fully(fd, f.body.data(), f.length);
  if (f.got < f.length) {
    f.status = Frame::Status::truncated;
    f.body.clear();
    return f;
  }
  f.status = Frame::Status::ok;
  return f;
}

bool write_frame(int fd, std::string_view body, size_t max) {
  if (body.size() > max) return false;
  auto length = static_cast<uint32_t>(body.size());
  std::string frame(sizeof length + body.size(), '\0');
  std::memcpy(frame.data(), &length, sizeof length);
  std::memcpy(frame.data() + sizeof length, body.data(), body.size());
  return write_fully(fd, frame.data(), frame.size());
}

}  // namespace confab::native_host

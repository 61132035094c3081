// Native messaging framing (Chrome and Firefox): each message is a 32-bit length
// in native byte order, then that many bytes of UTF-8 JSON. The browser sends at
// most 64 MiB per message to the host; the host may send at most 1 MB back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace confab::native_host {

constexpr size_t kMaxFromBrowser = 64u * 1024 * 1024;
constexpr size_t kMaxToBrowser = 1024 * 1024;

struct Frame {
  enum class Status { ok, end, truncated, too_large };
  Status status = Status::end;
  std::string body;     // the JSON text when ok
  uint32_t length = 0;  // the announced length (ok, truncated, too_large)
  size_t got = 0;       // bytes of the frame read before the end of input (truncated)
};

// Reads one frame from `fd` (blocking). `end`: input ended between frames;
// `truncated`: it ended inside one; `too_large`: the length is over `max` (the
// body is not read: the stream cannot be trusted any more).
Frame read_frame(int fd, size_t max = kMaxFromBrowser);

// Writes `body` as one frame; false if it is over `max` (nothing written) or the
// output is closed.
bool write_frame(int fd, std::string_view body, size_t max = kMaxToBrowser);

}  // namespace confab::native_host

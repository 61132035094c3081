// Reads a byte stream of API messages (a sequence of XML elements, no root
// element, each may span lines) with expat, incrementally, and hands out each
// complete top-level element. Hostile input is bounded: message size, nesting
// depth, attributes and elements per message; no DTD, so no entity expansion.
// After an error the stream cannot be resynchronised: the connection ends.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "api/api_message.h"

namespace confab::api {

struct ReaderLimits {
  size_t max_message_bytes = 256 * 1024;  // from the end of the previous message
  size_t max_depth = 16;                  // nesting within one message
  size_t max_elements = 1000;             // per message
  size_t max_attributes = 32;             // per element
};

class ApiReader {
 public:
  using OnMessage = std::function<void(ApiMessage&&)>;
  explicit ApiReader(OnMessage on_message, ReaderLimits limits = {});
  ~ApiReader();
  ApiReader(const ApiReader&) = delete;
  ApiReader& operator=(const ApiReader&) = delete;

  // Parses more bytes; calls on_message for each element completed. Returns
  // false on the first error (then error() says why, and later calls do nothing).
  bool feed(std::string_view bytes);
  const std::string& error() const { return error_; }
  bool failed() const { return !error_.empty(); }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string error_;
  friend struct Impl;
};

// Parses exactly one message from `text` (for tests and the JSON bridge);
// nullopt-like: returns false and sets *error on failure.
bool parse_one(std::string_view text, ApiMessage& out, std::string* error = nullptr);

}  // namespace confab::api

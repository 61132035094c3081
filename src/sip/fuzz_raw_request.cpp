// libFuzzer: the Tunnel API's parser of hand-written requests (sip/raw_request.h),
// which runs on text any local application sends.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sip/raw_request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto r = confab::sip::parse_raw_request(text);
  if (r.request) {
    for (auto& h : r.request->headers) (void)confab::sip::canonical_header_name(h.name);
  } else if (r.error.empty() || (r.code != 400 && r.code != 413)) {
    __builtin_trap();  // every refusal must say why
  }
  return 0;
}

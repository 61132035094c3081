// libFuzzer target: the local API's stream reader on arbitrary bytes, fed in
// two pieces at a split point the input chooses, and each message written back.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "api/api_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t split = data[0] % (size);
  std::string_view all(reinterpret_cast<const char*>(data) + 1, size - 1);
  confab::api::ApiReader reader([](confab::api::ApiMessage&& m) {
    confab::api::ApiMessage back;
    std::string xml = confab::api::to_xml(m);
    if (!confab::api::parse_one(xml, back)) __builtin_trap();  // what we write must read back
  }, confab::api::ReaderLimits{64 * 1024, 16, 200, 32});
  split = std::min(split, all.size());
  if (reader.feed(all.substr(0, split))) reader.feed(all.substr(split));
  return 0;
}

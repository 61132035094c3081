// libFuzzer target: the JSON twin of API messages (the WebSocket API's parser);
// what parses must convert to XML and back to the same JSON.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "api/api_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  confab::api::ApiMessage m;
  if (!confab::api::from_json(std::string_view(reinterpret_cast<const char*>(data), size), m)) return 0;
  confab::api::ApiMessage back;
  if (!confab::api::parse_one(confab::api::to_xml(m), back)) __builtin_trap();
  if (confab::api::to_json(back) != confab::api::to_json(m)) __builtin_trap();
  return 0;
}

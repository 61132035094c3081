// libFuzzer: Sofia-SIP's transport dump as it might arrive through the pipe, in
// pieces: the parser never crashes, never loses bytes it did not count, and a
// record's bytes never exceed what its stamp declares.
#include <algorithm>
#include <cstdint>
#include <string_view>

#include "sip/tport_dump.h"
#include "sip/tport_log.h"

using namespace confab::sip;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  TportDumpParser parser;
  size_t consumed = 0, step = size ? 1 + data[0] % 97 : 1;
  for (size_t i = 0; i < input.size(); i += step) {
    parser.feed(input.substr(i, step));
    while (auto record = parser.next(i % 3 == 0)) {
      if (record->bytes.size() > record->wire_size) __builtin_trap();
      complete_cut_record(*record);
      if (record->bytes.size() > record->wire_size) __builtin_trap();
      consumed += record->bytes.size();
    }
  }
  while (auto record = parser.next(true)) consumed += record->bytes.size();
  if (consumed + parser.skipped_bytes() > input.size() + input.size()) __builtin_trap();

  // The same bytes as pieces of Sofia's message log (each up to and including a "\n").
  TportLogAssembler log;
  for (size_t pos = 0; pos < input.size();) {
    size_t nl = input.find('\n', pos);
    size_t end = nl == std::string_view::npos ? input.size() : nl + 1;
    log.feed(input.substr(pos, end - pos));
    if (auto message = log.done()) {
      auto whole = message->rebuild(input.substr(0, std::min<size_t>(input.size(), 16)));
      if (whole && whole->size() != message->stamp.wire_size) __builtin_trap();
    }
    pos = end;
  }
  return 0;
}

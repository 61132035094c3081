// libFuzzer target: what anyone in a chat room may type to the bot (the
// /voice command parser) and the cleaning of outside text the bot repeats.
// Whatever the input: no crash; a command's argument is a part of the input;
// cleaned text is valid UTF-8 with no control or bidirectional-override
// characters and at most 64 characters (then "…").
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "chat/room_commands.h"

namespace {

// The number of code points of `s` if it is valid UTF-8 (shortest forms, no surrogates), else -1.
long utf8_chars(std::string_view s) {
  long n = 0;
  for (size_t i = 0; i < s.size(); ++n) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (!len || i + len > s.size()) return -1;
    uint32_t cp = len == 1 ? c : c & (0x7F >> len);
    for (size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc >> 6) != 0x2) return -1;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
    if (cp < 0x20 || cp == 0x7F || (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069)) return -1;
    i += len;
  }
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace confab::chat;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto command = parse_room_command(text)) {
    if (command->kind != RoomCommand::Kind::bad && text.find(command->argument) == std::string_view::npos)
      __builtin_trap();
    if (command->kind == RoomCommand::Kind::open && !command->argument.empty() &&
        !valid_voice_room_name(command->argument))
      __builtin_trap();
  }
  long chars = utf8_chars(room_text(text));
  if (chars < 0 || chars > 65) __builtin_trap();
  return 0;
}

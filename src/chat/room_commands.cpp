#include "chat/room_commands.h"

#include <algorithm>
#include <cctype>
#include <cstdint>

namespace confab::chat {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// The next code point of `s` at `i` (advanced), or nullopt for an invalid sequence (`i` advanced by one byte).
std::optional<uint32_t> next_code_point(std::string_view s, size_t& i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char lead = byte(i);
  size_t need = lead < 0x80 ? 1 : lead >= 0xF5 ? 0 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC2 ? 2 : 0;
  if (need == 0 || i + need > s.size()) {
    ++i;
    return std::nullopt;
  }
  uint32_t c = need == 1 ? lead : need == 2 ? lead & 0x1F : need == 3 ? lead & 0x0F : lead & 0x07;
  for (size_t k = 1; k < need; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) {
      ++i;
      return std::nullopt;
    }
    c = (c << 6) | (byte(i + k) & 0x3F);
  }
  // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (c < kMin[need] || (c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF) {
    ++i;
    return std::nullopt;
  }
  i += need;
  return c;
}

// Characters that hide, reorder or break what a post says.
bool dropped(uint32_t c) {
  if (c < 0x20 || (c >= 0x7F && c <= 0x9F)) return true;                 // C0, DEL, C1 controls
  if (c == 0x00AD || c == 0x034F || c == 0x061C || c == 0x180E) return true;  // soft hyphen, invisible marks
  if (c >= 0x200B && c <= 0x200F) return true;                          // zero-width, LRM/RLM
  if (c >= 0x2028 && c <= 0x202E) return true;                          // separators, bidi embeddings/overrides
  if (c >= 0x2060 && c <= 0x206F) return true;                          // word joiner, bidi isolates, ...
  if (c == 0xFEFF || (c >= 0xFFF0 && c <= 0xFFFF)) return true;         // BOM, specials
  if ((c & 0xFFFE) == 0xFFFE || (c >= 0xFDD0 && c <= 0xFDEF)) return true;  // noncharacters
  if (c >= 0xE0000 && c <= 0xE007F) return true;                        // tags
  return false;
}

void append_utf8(std::string& out, uint32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

}  // namespace

bool valid_voice_room_name(std::string_view name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](unsigned char c) {
           return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '+';
         });
}

std::optional<RoomCommand> parse_room_command(std::string_view body) {
  constexpr std::string_view kPrefix = "/voice";
  std::string_view text = trim(body);
  if (text.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  if (text.size() > kPrefix.size() && !is_space(text[kPrefix.size()])) return std::nullopt;  // "/voicemail"
  using Kind = RoomCommand::Kind;
  if (body.size() > kMaxCommandBytes) return RoomCommand{Kind::bad, "that command is too long"};
  std::string_view rest = trim(text.substr(kPrefix.size()));
  if (rest.empty()) return RoomCommand{Kind::open, ""};
  size_t end = 0;
  while (end < rest.size() && !is_space(rest[end])) ++end;
  std::string_view word = rest.substr(0, end);
  std::string_view after = trim(rest.substr(end));
  if (word == "invite") {
    if (after.empty()) return RoomCommand{Kind::bad, "invite whom?"};
    return RoomCommand{Kind::invite, std::string(after)};  // a nick may hold spaces
  }
  if (!after.empty()) return RoomCommand{Kind::bad, "one word after /voice, please"};
  if (word == "who") return RoomCommand{Kind::who, ""};
  if (word == "help") return RoomCommand{Kind::help, ""};
  if (!valid_voice_room_name(word))
    return RoomCommand{Kind::bad, "a voice room name is 1-64 letters, digits and - _ . ~ +"};
  return RoomCommand{Kind::open, std::string(word)};
}

std::string room_text(std::string_view text, size_t max_chars) {
  std::string out;
  size_t chars = 0;
  for (size_t i = 0; i < text.size();) {
    auto c = next_code_point(text, i);
    uint32_t cp = c ? *c : 0xFFFD;
    if (c && dropped(cp)) continue;
    if (chars == max_chars) {
      out += "\u2026";
      break;
    }
    append_utf8(out, cp);
    ++chars;
  }
  return out;
}

}  // namespace confab::chat

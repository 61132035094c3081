// What people type to the bot in the room, and text the bot may safely post.
//
//   /voice            open a voice room (a random name), or post the open one's link again
//   /voice NAME       open the voice room NAME (1-64 of A-Z a-z 0-9 - _ . ~ +)
//   /voice who        who is in the voice room now
//   /voice invite NICK  have the conference call NICK's SIP address (from the bot's config)
//   /voice help       the usage line
//
// Anything else that starts with "/voice" gets the usage line; messages that
// do not start with "/voice" are not for the bot.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace confab::chat {

struct RoomCommand {
  enum class Kind { open, who, invite, help, bad };
  Kind kind = Kind::bad;
  std::string argument;  // open: the NAME ("" for a random one); invite: the NICK; bad: what is wrong
};

inline constexpr std::string_view kUsage = "usage: /voice [NAME] | /voice who | /voice invite NICK";
// Longest message read as a command; longer ones starting with "/voice" are bad.
inline constexpr size_t kMaxCommandBytes = 1024;

// The command in a room message body, or nullopt if the message is not for the bot.
std::optional<RoomCommand> parse_room_command(std::string_view body);

// A voice room name that is also a valid conference id on the conference server.
bool valid_voice_room_name(std::string_view name);

// Text from outside (a nick, a SIP display name) made safe to put in a post:
// invalid UTF-8 becomes U+FFFD, control, bidirectional-override and invisible
// formatting characters are dropped, at most `max_chars` characters are kept
// (then "…"). XML escaping is the XMPP library's job; no markup is interpreted
// in a plain-text body.
std::string room_text(std::string_view text, size_t max_chars = 64);

}  // namespace confab::chat

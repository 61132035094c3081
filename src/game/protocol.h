// The game's WebSocket protocol (docs/api.md, "Game server"): one JSON object
// per text message, its kind in "type". What clients send is read with
// limits (size, name length, finite bounded numbers); what the server sends
// is written here too.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "game/voice.h"
#include "game/world.h"

namespace confab::game {

// Client -> server.
struct JoinRequest {
  std::string name;
  std::string sip;  // "" when not given
};
struct MoveRequest {  // a direction; (0, 0) stops
  double dx = 0, dy = 0;
};
struct GotoRequest {  // a point of the world
  double x = 0, y = 0;
};
struct CallAgainRequest {};
struct LeaveRequest {};
using ClientMessage = std::variant<JoinRequest, MoveRequest, GotoRequest, CallAgainRequest, LeaveRequest>;

constexpr size_t kMaxMessageBytes = 4096;
constexpr size_t kMaxNameChars = 32;     // Unicode characters
constexpr size_t kMaxSipBytes = 256;
constexpr double kMaxCoordinate = 1e6;   // |dx|, |dy|, |x|, |y|

struct ProtocolError {
  int code = 400;  // 400 malformed or unknown, 413 too large
  std::string reason;
};

// The message, or nullopt with `error` saying what is wrong with it.
std::optional<ClientMessage> parse_client_message(std::string_view text, ProtocolError& error);
// The JSON of a client message (tests, the fuzzer's round trip).
std::string to_json(const ClientMessage& message);
// 1-32 characters of valid UTF-8, none a control or invisible formatting
// character, not starting or ending with a space.
bool valid_player_name(std::string_view name);

// Server -> client.
std::string world_json(const World& world);  // the "world" object of welcome, also GET /world
std::string welcome_message(const std::string& player_id, const World& world);
std::string error_message(int code, std::string_view reason);

// A state message is put together for each client from pieces written once a
// tick (StateSnapshot): the players' cards (what does not change as they walk),
// each zone's positions and roster, and the client's own part ("you").
struct PlayerCard {
  std::string id, name;
  std::string voice;  // the VoiceStatus state
};
struct Position {
  std::string_view id;
  double x = 0, y = 0;
};
struct YouState {
  std::string id, zone, conference;
  double x = 0, y = 0;
  VoiceStatus voice;
  std::vector<std::pair<std::string, double>> hears;  // (zone, dB): its own zone at 0 first
};
using Rosters = std::map<std::string, std::vector<std::string>>;
// One member of a state's "players" object: "p1":{"name":"Ann","voice":"on"}.
std::string player_card(const PlayerCard& card);
// A zone's players where they are: [["p1",12.35,40],...] (to the centimetre).
std::string zone_positions(const std::vector<Position>& positions);
// A zone's conference roster: ["sip:ann@h",...].
std::string roster_json(const std::vector<std::string>& members);
std::string state_you(const YouState& you);
struct StateParts {
  std::string_view players;  // player_card()s joined by ','; "" leaves "players" out
  std::string_view left;     // quoted ids joined by ','; "" leaves "left" out
  std::vector<std::pair<std::string_view, std::string_view>> zones;    // zone name, zone_positions()
  std::vector<std::pair<std::string_view, std::string_view>> rosters;  // zone name, roster_json()
  std::string_view you;                                               // state_you()
};
std::string state_message(const StateParts& parts);

}  // namespace confab::game

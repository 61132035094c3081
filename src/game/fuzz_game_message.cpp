// libFuzzer target: the game's client message parser (what every WebSocket
// client may send). What parses must write back to JSON that parses to the
// same message (numbers within a relative 1e-12: Boost.JSON 1.81 may read a
// decimal one unit in the last place off).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "game/protocol.h"

namespace {

using namespace confab::game;

bool close_to(double a, double b) { return std::fabs(a - b) <= 1e-12 * std::max(1.0, std::fabs(a)); }

bool same(const ClientMessage& a, const ClientMessage& b) {
  if (a.index() != b.index()) return false;
  if (auto* j = std::get_if<JoinRequest>(&a)) return j->name == std::get<JoinRequest>(b).name && j->sip == std::get<JoinRequest>(b).sip;
  if (auto* m = std::get_if<MoveRequest>(&a))
    return close_to(m->dx, std::get<MoveRequest>(b).dx) && close_to(m->dy, std::get<MoveRequest>(b).dy);
  if (auto* g = std::get_if<GotoRequest>(&a))
    return close_to(g->x, std::get<GotoRequest>(b).x) && close_to(g->y, std::get<GotoRequest>(b).y);
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ProtocolError error;
  auto m = parse_client_message(std::string_view(reinterpret_cast<const char*>(data), size), error);
  if (!m) {
    if (error.reason.empty() || (error.code != 400 && error.code != 413)) __builtin_trap();
    return 0;
  }
  auto back = parse_client_message(to_json(*m), error);
  if (!back || !same(*m, *back)) __builtin_trap();
  return 0;
}

#include "game/protocol.h"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <cmath>

namespace confab::game {

namespace json = boost::json;

namespace {

// A JSON string (escaped, quoted).
std::string quote(std::string_view s) { return json::serialize(json::string_view(s.data(), s.size())); }

// A JSON number, shortest form ("12.5", "100", "-6").
std::string number(double v) { return fmt::format("{}", v == 0 ? 0.0 : v); }
double centimetres(double v) { return std::round(v * 100) / 100; }
double tenths(double v) { return std::round(v * 10) / 10; }

// Reads the fields of one message's object, each once, refusing any other.
class Fields {
 public:
  Fields(const json::object& o, std::string_view type, ProtocolError& error) : o_(o), type_(type), error_(error) {}

  // False (with the error) when the object has a field not in `known`.
  bool only(std::initializer_list<std::string_view> known) {
    for (auto& [key, value] : o_) {
      if (key == "type") continue;
      bool ok = false;
      for (auto k : known) ok = ok || key == k;
      if (!ok) return fail(fmt::format("unknown field \"{}\" in a {} message", std::string_view(key), type_));
    }
    return true;
  }

  bool number(std::string_view key, double& out) {
    const json::value* v = o_.if_contains(key);
    if (!v) return fail(fmt::format("a {} message needs \"{}\" (a number)", type_, key));
    if (v->is_int64()) out = static_cast<double>(v->get_int64());
    else if (v->is_uint64()) out = static_cast<double>(v->get_uint64());
    else if (v->is_double()) out = v->get_double();
    else return fail(fmt::format("\"{}\" must be a number", key));
    if (!std::isfinite(out) || std::fabs(out) > kMaxCoordinate)
      return fail(fmt::format("\"{}\" must be a number from {} to {}", key, -kMaxCoordinate, kMaxCoordinate));
    return true;
  }

  // An optional string of at most `max` bytes ("" when absent).
  bool string(std::string_view key, size_t max, std::string& out) {
    const json::value* v = o_.if_contains(key);
    if (!v) return true;
    if (!v->is_string()) return fail(fmt::format("\"{}\" must be a string", key));
    if (v->get_string().size() > max) return fail(fmt::format("\"{}\" is longer than {} bytes", key, max));
    out = std::string(v->get_string());
    return true;
  }

  bool fail(std::string reason) {
    error_ = {400, std::move(reason)};
    return false;
  }

 private:
  const json::object& o_;
  std::string_view type_;
  ProtocolError& error_;
};

std::optional<ClientMessage> read_join(Fields& f) {
  JoinRequest join;
  if (!f.only({"name", "sip"}) || !f.string("name", 4 * kMaxNameChars, join.name) ||
      !f.string("sip", kMaxSipBytes, join.sip))
    return std::nullopt;
  if (!valid_player_name(join.name)) {
    f.fail(fmt::format("\"name\" must be 1-{} printable characters, not starting or ending with a space",
                       kMaxNameChars));
    return std::nullopt;
  }
  return join;
}

std::optional<ClientMessage> read_message(const json::object& o, ProtocolError& error) {
  const json::value* type = o.if_contains("type");
  if (!type || !type->is_string()) {
    error = {400, "a message needs \"type\": join, move, goto, call_again or leave"};
    return std::nullopt;
  }
  std::string_view t = type->get_string();
  Fields f(o, t, error);
  if (t == "join") return read_join(f);
  if (t == "move") {
    MoveRequest m;
    if (f.only({"dx", "dy"}) && f.number("dx", m.dx) && f.number("dy", m.dy)) return m;
  } else if (t == "goto") {
    GotoRequest g;
    if (f.only({"x", "y"}) && f.number("x", g.x) && f.number("y", g.y)) return g;
  } else if (t == "call_again") {
    if (f.only({})) return CallAgainRequest{};
  } else if (t == "leave") {
    if (f.only({})) return LeaveRequest{};
  } else {
    size_t cut = std::min<size_t>(t.size(), 40);
    while (cut < t.size() && cut > 0 && (static_cast<unsigned char>(t[cut]) & 0xC0) == 0x80) --cut;  // whole characters
    std::string shown(t.substr(0, cut));
    error = {400, "unknown message type " + quote(shown) + " (join, move, goto, call_again, leave)"};
  }
  return std::nullopt;
}

// The next code point of valid UTF-8 (Boost.JSON checked it) at `i`, advancing `i`.
char32_t next_code_point(std::string_view s, size_t& i) {
  auto c = static_cast<unsigned char>(s[i++]);
  int extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
  char32_t cp = extra == 3 ? c & 0x07 : extra == 2 ? c & 0x0F : extra == 1 ? c & 0x1F : c;
  for (int k = 0; k < extra && i < s.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i++]) & 0x3F);
  return cp;
}

bool printable(char32_t c) {
  if (c < 0x20 || (c >= 0x7F && c <= 0x9F)) return false;          // controls
  if (c == 0xAD || (c >= 0x200B && c <= 0x200F)) return false;      // soft hyphen, zero widths, direction marks
  if ((c >= 0x2028 && c <= 0x202E) || (c >= 0x2060 && c <= 0x206F)) return false;  // separators, bidi
  if (c == 0xFEFF || (c >= 0xFFF0 && c <= 0xFFFF)) return false;    // BOM, specials
  if (c >= 0xD800 && c <= 0xDFFF) return false;                     // surrogates
  return true;
}

}  // namespace

bool valid_player_name(std::string_view name) {
  if (name.empty() || name.front() == ' ' || name.back() == ' ') return false;
  size_t chars = 0;
  for (size_t i = 0; i < name.size();) {
    auto lead = static_cast<unsigned char>(name[i]);
    size_t need = lead < 0x80 ? 1 : lead >= 0xF5 ? 0 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC2 ? 2 : 0;
    if (need == 0 || i + need > name.size()) return false;
    for (size_t k = 1; k < need; ++k)
      if ((static_cast<unsigned char>(name[i + k]) & 0xC0) != 0x80) return false;
    if (!printable(next_code_point(name, i)) || ++chars > kMaxNameChars) return false;
  }
  return true;
}

std::optional<ClientMessage> parse_client_message(std::string_view text, ProtocolError& error) {
  if (text.size() > kMaxMessageBytes) {
    error = {413, fmt::format("message larger than {} bytes", kMaxMessageBytes)};
    return std::nullopt;
  }
  json::parse_options options;
  options.max_depth = 4;
  boost::system::error_code ec;
  json::value v = json::parse(json::string_view(text.data(), text.size()), ec, {}, options);
  if (ec) {
    error = {400, "malformed JSON: " + ec.message()};
    return std::nullopt;
  }
  if (!v.is_object()) {
    error = {400, "a message must be a JSON object with a \"type\""};
    return std::nullopt;
  }
  return read_message(v.as_object(), error);
}

std::string to_json(const ClientMessage& message) {
  struct Writer {
    std::string operator()(const JoinRequest& j) const {
      return "{\"type\":\"join\",\"name\":" + quote(j.name) + (j.sip.empty() ? "" : ",\"sip\":" + quote(j.sip)) + "}";
    }
    std::string operator()(const MoveRequest& m) const {
      return "{\"type\":\"move\",\"dx\":" + number(m.dx) + ",\"dy\":" + number(m.dy) + "}";
    }
    std::string operator()(const GotoRequest& g) const {
      return "{\"type\":\"goto\",\"x\":" + number(g.x) + ",\"y\":" + number(g.y) + "}";
    }
    std::string operator()(const CallAgainRequest&) const { return "{\"type\":\"call_again\"}"; }
    std::string operator()(const LeaveRequest&) const { return "{\"type\":\"leave\"}"; }
  };
  return std::visit(Writer{}, message);
}

std::string world_json(const World& w) {
  std::string zones;
  for (auto& z : w.zones) {
    if (!zones.empty()) zones += ",";
    zones += fmt::format(R"({{"name":{},"x":{},"y":{},"width":{},"height":{},"conference":{},"max_players":{}}})",
                         quote(z.name), number(z.x), number(z.y), number(z.width), number(z.height),
                         quote(z.conference), z.max_players);
  }
  return fmt::format(R"({{"name":{},"width":{},"height":{},"speed":{},"tick_ms":{},"voice":{},)"
                     R"("proximity_m":{},"proximity_db_at_line":{},"max_players_per_zone":{},"zones":[{}]}})",
                     quote(w.name), number(w.width), number(w.height), number(w.speed), w.tick_ms,
                     quote(voice_mode_name(w.voice)), number(w.effective_proximity_m()),
                     number(w.proximity_db_at_line), w.max_players_per_zone, zones);
}

std::string welcome_message(const std::string& player_id, const World& world) {
  return R"({"type":"welcome","id":)" + quote(player_id) + R"(,"world":)" + world_json(world) + "}";
}

std::string error_message(int code, std::string_view reason) {
  return R"({"type":"error","code":)" + std::to_string(code) + R"(,"reason":)" + quote(reason) + "}";
}

std::string player_card(const PlayerCard& card) {
  return quote(card.id) + R"(:{"name":)" + quote(card.name) + R"(,"voice":)" + quote(card.voice) + "}";
}

std::string zone_positions(const std::vector<Position>& positions) {
  std::string out = "[";
  for (auto& p : positions)
    out += fmt::format(R"({}[{},{},{}])", out.size() > 1 ? "," : "", quote(p.id), number(centimetres(p.x)),
                       number(centimetres(p.y)));
  return out + "]";
}

std::string roster_json(const std::vector<std::string>& members) {
  std::string out = "[";
  for (auto& m : members) out += (out.size() > 1 ? "," : "") + quote(m);
  return out + "]";
}

std::string state_you(const YouState& you) {
  std::string hears;
  for (auto& [zone, db] : you.hears)
    hears += fmt::format(R"({}{{"zone":{},"db":{}}})", hears.empty() ? "" : ",", quote(zone), number(tenths(db)));
  return fmt::format(R"({{"id":{},"x":{},"y":{},"zone":{},"conference":{},"voice":{{"state":{},"reason":{}}},"hears":[{}]}})",
                     quote(you.id), number(centimetres(you.x)), number(centimetres(you.y)), quote(you.zone),
                     quote(you.conference), quote(you.voice.state), quote(you.voice.reason), hears);
}

std::string state_message(const StateParts& parts) {
  std::string out = R"({"type":"state")";
  if (!parts.players.empty()) out.append(R"(,"players":{)").append(parts.players).append("}");
  if (!parts.left.empty()) out.append(R"(,"left":[)").append(parts.left).append("]");
  auto object = [&](const char* key, const auto& members) {
    if (members.empty()) return;
    out += fmt::format(R"(,"{}":{{)", key);
    for (size_t i = 0; i < members.size(); ++i) {
      if (i) out += ",";
      out.append(quote(members[i].first)).append(":").append(members[i].second);
    }
    out += "}";
  };
  object("zones", parts.zones);
  object("rosters", parts.rosters);
  return out.append(R"(,"you":)").append(parts.you).append("}");
}

}  // namespace confab::game

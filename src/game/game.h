// The game on its SIP thread: the simulation, the connections playing in it,
// and the Voice, told what happens to players. No transport here: GameServer
// hands it what the WebSockets say and sends what it writes, so the unit test
// drives it with a fake Voice and no sockets.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <random>
#include <string>

#include "game/protocol.h"
#include "game/simulation.h"
#include "game/state_snapshot.h"
#include "game/voice.h"

namespace confab::game {

class Game {
 public:
  using Clock = std::chrono::steady_clock;
  // Writes `text` (if not empty) to a connection, then closes it if `close`.
  using Send = std::function<void(uint64_t connection, const std::string& text, bool close)>;

  Game(const World& world, Voice& voice, Send send, std::chrono::milliseconds join_timeout, uint64_t seed);

  void open(uint64_t connection, Clock::time_point now);
  void receive(uint64_t connection, const ClientMessage& message);
  // Sends the error and closes the connection; its player leaves. For messages
  // that did not parse, and for every refusal (each error closes).
  void refuse(uint64_t connection, int code, const std::string& reason);
  void closed(uint64_t connection);  // the connection is gone: its player leaves
  // A player with no connection that wanders the world (the demo's bots): every
  // few seconds it heads for another random point. False (logged) if it cannot join.
  bool add_bot(const std::string& name, const std::string& sip, Clock::time_point now);

  // One tick of `dt` seconds: moves players, tells the voice about crossings
  // and changed proximity, closes connections that did not join in time, and
  // sends each client the state when it changed.
  void tick(double dt, Clock::time_point now);
  // Every player leaves (shutdown); connections are left to the transport.
  void leave_all();

  const Simulation& simulation() const { return simulation_; }
  size_t connections() const { return sessions_.size(); }

  // A player's heard set changed enough to tell the voice: another zone, or a
  // gain that moved more than 1 dB.
  static bool hears_changed(const Heard& before, const Heard& now);

 private:
  struct Session {
    Clock::time_point opened;
    std::string player;  // its player's id; "" until it joins
    bool closing = false;  // refused or left: nothing more is read from it
    Heard told;            // what the voice was last told it hears
    std::string last_you;  // the "you" part of the last state it was sent
    bool has_cards = false;     // it was sent every player's card (its first state)
    std::vector<size_t> near;   // the zones its last state followed (its own, those it hears)
    uint64_t far_sent_at = 0;   // the tick it was last sent the other zones
    bool bot = false;      // no connection behind it: nothing is sent
  };
  void join(uint64_t connection, Session& session, const JoinRequest& request);
  void remove_player(Session& session, const char* why);
  // Tells the voice what the player hears, if that changed enough.
  void update_hearing(Session& session, const Player& player, const Heard& heard);
  // Sends each client its state if what it sees changed; `hears` by player id, from the tick.
  void send_states(const std::map<std::string, Heard>& hears);
  void send_state(uint64_t connection, Session& session, std::string you, const Heard& heard, uint64_t far_every);
  // How often a client is sent the zones it neither is in nor hears (ticks).
  uint64_t far_zones_every() const;

  void wander(Clock::time_point now);

  const World& world_;
  Voice& voice_;
  Send send_;
  std::chrono::milliseconds join_timeout_;
  Simulation simulation_;
  std::map<uint64_t, Session> sessions_;  // by connection
  StateSnapshot snapshot_;
  // A client follows its own zone and the zones it hears every tick; the other
  // zones (what grows with the world) come every tick up to kPlayersPerFarTick
  // players, then every players/kPlayersPerFarTick ticks, at least once a second.
  static constexpr uint64_t kPlayersPerFarTick = 25;
  uint64_t ticks_ = 0;
  std::map<uint64_t, Clock::time_point> bots_;  // bot "connections": when each heads elsewhere next
  std::mt19937_64 random_;
};

}  // namespace confab::game

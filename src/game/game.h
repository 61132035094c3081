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
    bool bot = false;      // no connection behind it: nothing is sent
  };
  void join(uint64_t connection, Session& session, const JoinRequest& request);
  void remove_player(Session& session, const char* why);
  // Tells the voice what the player hears, if that changed enough.
  void update_hearing(Session& session, const Player& player, const Heard& heard);
  // Sends each client its state if it changed; `hears` by player id, from the tick.
  void send_states(const std::map<std::string, Heard>& hears);

  void wander(Clock::time_point now);

  const World& world_;
  Voice& voice_;
  Send send_;
  std::chrono::milliseconds join_timeout_;
  Simulation simulation_;
  std::map<uint64_t, Session> sessions_;  // by connection
  std::string last_shared_;               // the shared part of the last states sent
  // The shared part (every player, the rosters) is what grows with the players:
  // it goes out every tick up to kPlayersPerSharedTick players, then every
  // players/kPlayersPerSharedTick ticks, so the bytes sent stay bounded.
  static constexpr size_t kPlayersPerSharedTick = 100;
  uint64_t ticks_ = 0, shared_tick_ = 0;
  std::map<uint64_t, Clock::time_point> bots_;  // bot "connections": when each heads elsewhere next
  std::mt19937_64 random_;
};

}  // namespace confab::game

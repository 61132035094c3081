// `confab game`: a multi-player world whose zones are conferences.
//
// One HTTP server (its own thread) serves the page at "/" and "/game.js", the
// world at "/world", the counters at "/metrics" and the game's WebSocket at
// "/ws" (docs/api.md, "Game server"). Messages are parsed on the HTTP thread and handed to the SIP
// thread (EventLoop::post), which runs the Game (simulation, connections) and
// its Voice, ticking every world.tick_ms with a sip::Timer.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "game/game_options.h"
#include "game/voice.h"
#include "game/world.h"
#include "http/http_server.h"
#include "sip/event_loop.h"

namespace confab::game {

class Game;

class GameServer {
 public:
  // On the SIP thread: binds options.listen (throws std::runtime_error naming
  // it), makes the Voice with `make_voice` and starts serving and ticking.
  GameServer(sip::EventLoop& loop, World world, GameOptions options, VoiceFactory make_voice);
  ~GameServer();
  GameServer(const GameServer&) = delete;
  GameServer& operator=(const GameServer&) = delete;

  // On the SIP thread once the loop has stopped: stops serving, every player
  // leaves (the Voice is told), the Voice is destroyed.
  void shutdown();
  uint16_t port() const { return http_.port(); }
  // A wandering player with no connection (the demo's bots); false if it cannot join.
  bool add_bot(const std::string& name, const std::string& sip);
  const World& world() const { return world_; }

 private:
  void serve();
  void on_tick();
  std::string metrics_json() const;  // GET /metrics, on the SIP thread
  // On the HTTP thread: false once a connection sends faster than allowed.
  bool within_rate(uint64_t connection);
  void send(uint64_t connection, const std::string& text, bool close);

  sip::EventLoop& loop_;
  const World world_;
  const GameOptions options_;
  const std::string world_json_;  // GET /world
  std::unique_ptr<Voice> voice_;
  std::unique_ptr<Game> game_;
  sip::Timer timer_;
  std::chrono::steady_clock::time_point last_tick_;
  http::Server http_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // reset on shutdown: queued work is dropped
  std::map<uint64_t, std::shared_ptr<http::WebSocket>> sockets_;  // SIP thread: by connection id
  std::atomic<size_t> open_connections_{0};
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point last;
  };
  std::map<uint64_t, Bucket> rates_;  // HTTP thread: by connection id
};

}  // namespace confab::game

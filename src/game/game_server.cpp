#include "game/game_server.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "base/random.h"
#include "game/game.h"
#include "game/protocol.h"

namespace confab::embedded {
std::string_view game_html();
std::string_view game_js();
std::string_view game_confab_js();
}  // namespace confab::embedded

namespace confab::game {

namespace {

// A connection may send this many messages at once, and this many a second on average.
constexpr double kBurstMessages = 60;
constexpr double kMessagesPerSecond = 30;
// Messages above this close the WebSocket at once (1009); below it and above
// kMaxMessageBytes they get a 413 error first.
constexpr size_t kWebSocketMessageLimit = 64 * 1024;

http::Response page(std::string_view body, const char* content_type) {
  http::Response r{200, content_type, std::string(body), {}};
  r.headers = {{"Content-Security-Policy",
                "default-src 'self'; connect-src 'self' ws: wss: http: https:; style-src 'self' 'unsafe-inline'; "
                "frame-ancestors 'self'"},
               {"Cache-Control", "no-cache"},
               {"X-Content-Type-Options", "nosniff"}};
  return r;
}

}  // namespace

GameServer::GameServer(sip::EventLoop& loop, World world, GameOptions options, VoiceFactory make_voice)
    : loop_(loop),
      world_(std::move(world)),
      options_(std::move(options)),
      world_json_(world_json(world_)),
      timer_(loop),
      http_(options_.listen.host, options_.listen.port) {
  voice_ = make_voice(loop_, world_, options_);
  game_ = std::make_unique<Game>(
      world_, *voice_, [this](uint64_t c, const std::string& text, bool close) { send(c, text, close); },
      options_.join_timeout, base::random_u64());
  serve();
  last_tick_ = std::chrono::steady_clock::now();
  timer_.every(std::chrono::milliseconds(world_.tick_ms), [this] { on_tick(); });
}

GameServer::~GameServer() { shutdown(); }

void GameServer::serve() {
  http_.route("GET", "/", [](const http::Request&) { return page(embedded::game_html(), "text/html; charset=utf-8"); });
  http_.route("GET", "/game.js",
              [](const http::Request&) { return page(embedded::game_js(), "text/javascript; charset=utf-8"); });
  http_.route("GET", "/confab.js",
              [](const http::Request&) { return page(embedded::game_confab_js(), "text/javascript; charset=utf-8"); });
  http_.route("GET", "/world", [this](const http::Request&) { return http::Response::json(200, world_json_); });
  http_.route("GET", "/metrics", [this, alive = std::weak_ptr<int>(alive_)](const http::Request&) {
    return http::call_on(loop_, [this, alive] {
      if (!alive.lock()) return http::Response::error(503, "the game server is stopping");
      return http::Response::json(200, metrics_json());
    });
  });
  http::WebSocketHandler h;
  h.max_message = kWebSocketMessageLimit;
  std::weak_ptr<int> alive = alive_;
  h.admit = [this](const http::Request&) -> std::optional<http::Response> {
    if (open_connections_ < options_.max_connections) return std::nullopt;
    spdlog::warn("game: refused a connection: {} already open", options_.max_connections);
    return http::Response::error(503, "the game server is full");
  };
  h.on_open = [this, alive](const std::shared_ptr<http::WebSocket>& ws, const http::Request&) {
    ++open_connections_;
    rates_[ws->id()] = {kBurstMessages, std::chrono::steady_clock::now()};
    loop_.post([this, alive, ws] {
      if (!alive.lock()) return;
      sockets_[ws->id()] = ws;
      game_->open(ws->id(), std::chrono::steady_clock::now());
    });
  };
  h.on_message = [this, alive](const std::shared_ptr<http::WebSocket>& ws, std::string text) {
    ProtocolError error;
    std::optional<ClientMessage> message;
    if (within_rate(ws->id()))
      message = parse_client_message(text, error);
    else
      error = {429, "more than " + std::to_string(static_cast<int>(kMessagesPerSecond)) + " messages a second"};
    loop_.post([this, alive, id = ws->id(), message = std::move(message), error = std::move(error)] {
      if (!alive.lock()) return;
      if (message)
        game_->receive(id, *message);
      else
        game_->refuse(id, error.code, error.reason);
    });
  };
  h.on_close = [this, alive](const std::shared_ptr<http::WebSocket>& ws) {
    // Also called for a handshake that failed, which was never opened.
    if (!rates_.erase(ws->id())) return;
    --open_connections_;
    loop_.post([this, alive, id = ws->id()] {
      if (!alive.lock()) return;
      sockets_.erase(id);
      game_->closed(id);
    });
  };
  http_.websocket("/ws", std::move(h));
  http_.start();
}

bool GameServer::within_rate(uint64_t connection) {
  auto it = rates_.find(connection);
  if (it == rates_.end()) return true;
  auto now = std::chrono::steady_clock::now();
  Bucket& b = it->second;
  b.tokens = std::min(kBurstMessages,
                      b.tokens + std::chrono::duration<double>(now - b.last).count() * kMessagesPerSecond);
  b.last = now;
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}

bool GameServer::add_bot(const std::string& name, const std::string& sip) {
  return game_->add_bot(name, sip, std::chrono::steady_clock::now());
}

void GameServer::send(uint64_t connection, const std::string& text, bool close) {
  auto it = sockets_.find(connection);
  if (it == sockets_.end()) return;
  if (!text.empty()) it->second->send(text);
  if (close) it->second->close();
}

void GameServer::on_tick() {
  auto now = std::chrono::steady_clock::now();
  // A late tick moves players for the time that passed, but never more than
  // four ticks' worth: a stalled loop does not make anyone jump.
  double dt = std::chrono::duration<double>(now - last_tick_).count();
  dt = std::clamp(dt, 0.0, 4 * world_.tick_ms / 1000.0);
  last_tick_ = now;
  game_->tick(dt, now);
}

std::string GameServer::metrics_json() const {
  VoiceMetrics v = voice_->metrics();
  return fmt::format(R"({{"players":{},"connections":{},"crossings":{},"moves":{},"move_failures":{},)"
                     R"("move_ms":{{"p50":{:.2f},"p99":{:.2f},"max":{:.2f}}}}})",
                     game_->simulation().players().size(), game_->connections(), v.crossings, v.moves,
                     v.move_failures, v.move_ms_p50, v.move_ms_p99, v.move_ms_max);
}

void GameServer::shutdown() {
  if (!game_) return;
  timer_.cancel();
  http_.stop();
  alive_.reset();
  game_->leave_all();
  game_.reset();
  voice_.reset();
  sockets_.clear();
}

}  // namespace confab::game

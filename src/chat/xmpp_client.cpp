#include "chat/xmpp_client.h"

#include <spdlog/spdlog.h>
#include <strophe.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <memory>
#include <mutex>

namespace confab::chat {

namespace {

constexpr const char* kMucNs = "http://jabber.org/protocol/muc";
constexpr const char* kMucUserNs = "http://jabber.org/protocol/muc#user";
constexpr const char* kDelayNs = "urn:xmpp:delay";
constexpr const char* kPingNs = "urn:xmpp:ping";
constexpr int kMaxNickTries = 5;

using Clock = std::chrono::steady_clock;

struct CtxFree {
  void operator()(xmpp_ctx_t* ctx) const { xmpp_ctx_free(ctx); }
};
struct ConnRelease {
  void operator()(xmpp_conn_t* conn) const { xmpp_conn_release(conn); }
};
struct StanzaRelease {
  void operator()(xmpp_stanza_t* stanza) const { xmpp_stanza_release(stanza); }
};
using Ctx = std::unique_ptr<xmpp_ctx_t, CtxFree>;
using Conn = std::unique_ptr<xmpp_conn_t, ConnRelease>;
using Stanza = std::unique_ptr<xmpp_stanza_t, StanzaRelease>;

// A string libstrophe allocated (xmpp_jid_*, xmpp_message_get_body), freed with its context.
std::string take_string(xmpp_ctx_t* ctx, char* s) {
  if (!s) return {};
  std::string out(s);
  xmpp_free(ctx, s);
  return out;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::once_flag initialized;

}  // namespace

// Everything libstrophe: used only on the client's thread.
struct XmppRoomClient::Connection {
  XmppRoomClient& client;
  const XmppRoomSettings& s;
  std::string problem;  // libstrophe's last error of this connection attempt (e.g. authentication failed)
  xmpp_log_t log{log_from_strophe, this};
  Ctx ctx;
  Conn conn;
  enum class State { idle, connecting, joining, in_room } state = State::idle;
  bool conn_dead = false;  // libstrophe reported the end: release the conn outside its callback
  Clock::time_point connect_at = Clock::now();
  Clock::time_point rejoin_at = Clock::time_point::max();
  std::chrono::milliseconds backoff{0};
  std::string nick;
  int nick_tries = 0;
  PostRateLimiter limiter;
  std::string room;  // lower case, for comparing bare JIDs

  Connection(XmppRoomClient& c)
      : client(c), s(c.settings_), ctx(xmpp_ctx_new(nullptr, &log)), nick(c.settings_.nick),
        limiter(c.settings_.post_limits), room(lower(c.settings_.room)) {
    if (!ctx) throw std::runtime_error("libstrophe: no context");
  }

  // libstrophe's log at trace/debug; its errors and warnings are kept to say why a connection ended
  // (reported once by retry_later, not at every step).
  static void log_from_strophe(void* self, xmpp_log_level_t level, const char* area, const char* msg) {
    if (level == XMPP_LEVEL_DEBUG) return spdlog::trace("xmpp {}: {}", area, msg);
    spdlog::debug("xmpp {}: {}", area, msg);
    if (level >= XMPP_LEVEL_WARN) static_cast<Connection*>(self)->problem = std::string(area) + ": " + msg;
  }

  std::chrono::milliseconds next_backoff() {
    backoff = backoff.count() == 0 ? s.first_retry : std::min(backoff * 2, s.max_retry);
    return backoff;
  }

  void connect() {
    conn.reset(xmpp_conn_new(ctx.get()));
    conn_dead = false;
    problem.clear();
    if (!conn) return retry_later("libstrophe: no connection object");
    xmpp_conn_set_jid(conn.get(), s.jid.c_str());
    xmpp_conn_set_pass(conn.get(), s.password.c_str());
    if (s.require_tls) xmpp_conn_set_flags(conn.get(), XMPP_CONN_FLAG_MANDATORY_TLS);
    xmpp_conn_set_sockopt_callback(conn.get(), xmpp_sockopt_cb_keepalive);  // TCP keepalive: a dead server is noticed
    xmpp_handler_add(conn.get(), on_presence, nullptr, "presence", nullptr, this);
    xmpp_handler_add(conn.get(), on_message, nullptr, "message", nullptr, this);
    xmpp_handler_add(conn.get(), on_iq, nullptr, "iq", nullptr, this);
    const char* host = s.server ? s.server->host.c_str() : nullptr;
    unsigned short port = s.server ? s.server->port : 0;
    state = State::connecting;
    if (xmpp_connect_client(conn.get(), host, port, on_connection, this) != XMPP_EOK)
      retry_later("cannot start connecting");
  }

  void retry_later(const std::string& why) {
    bool was_in_room = state == State::in_room;
    state = State::idle;
    conn_dead = true;
    rejoin_at = Clock::time_point::max();
    auto wait = next_backoff();
    connect_at = Clock::now() + wait;
    spdlog::warn("chat: XMPP {} ({}): connecting again in {} ms", s.jid, why, wait.count());
    if (was_in_room && client.events_.left) client.events_.left(why);
  }

  void join() {
    Stanza presence(xmpp_presence_new(ctx.get()));
    std::string to = s.room + "/" + nick;
    xmpp_stanza_set_to(presence.get(), to.c_str());
    xmpp_stanza_t* x = xmpp_stanza_new(ctx.get());
    xmpp_stanza_set_name(x, "x");
    xmpp_stanza_set_ns(x, kMucNs);
    xmpp_stanza_t* history = xmpp_stanza_new(ctx.get());
    xmpp_stanza_set_name(history, "history");
    xmpp_stanza_set_attribute(history, "maxstanzas", "0");
    xmpp_stanza_add_child_ex(x, history, 0);
    xmpp_stanza_add_child_ex(presence.get(), x, 0);
    xmpp_send(conn.get(), presence.get());
    state = State::joining;
    rejoin_at = Clock::time_point::max();
  }

  void rejoin_later(const std::string& why) {
    bool was_in_room = state == State::in_room;
    state = State::joining;
    auto wait = next_backoff();
    rejoin_at = Clock::now() + wait;
    spdlog::warn("chat: out of {} ({}): joining again in {} ms", s.room, why, wait.count());
    if (was_in_room && client.events_.left) client.events_.left(why);
  }

  static void on_connection(xmpp_conn_t*, xmpp_conn_event_t event, int error, xmpp_stream_error_t* stream_error,
                            void* self) {
    auto& c = *static_cast<Connection*>(self);
    if (event == XMPP_CONN_CONNECT) {
      spdlog::info("chat: connected to XMPP as {}{}", xmpp_conn_get_bound_jid(c.conn.get()),
                   xmpp_conn_is_secured(c.conn.get()) ? " (TLS)" : "");
      Stanza presence(xmpp_presence_new(c.ctx.get()));
      xmpp_send(c.conn.get(), presence.get());
      c.nick = c.s.nick;
      c.nick_tries = 0;
      c.join();
      return;
    }
    std::string why = event == XMPP_CONN_FAIL ? "connection failed" : "disconnected";
    if (stream_error && stream_error->text) why += std::string(": ") + stream_error->text;
    else if (stream_error) why += ": stream error " + std::to_string(static_cast<int>(stream_error->type));
    else if (error) why += std::string(": ") + std::strerror(error);
    else if (!c.problem.empty()) why += ": " + c.problem;
    if (c.client.stop_) {
      c.state = State::idle;
      c.conn_dead = true;
      return;
    }
    c.retry_later(why);
  }

  // The room's bare JID matches and there is a nick: the nick, else "".
  std::string room_nick(const char* from) const {
    if (!from) return {};
    std::string f(from);
    auto slash = f.find('/');
    if (slash == std::string::npos || slash + 1 == f.size()) return {};
    if (lower(f.substr(0, slash)) != room) return {};
    return f.substr(slash + 1);
  }

  static bool has_status(xmpp_stanza_t* x, const char* code) {
    for (auto* child = x ? xmpp_stanza_get_children(x) : nullptr; child; child = xmpp_stanza_get_next(child)) {
      const char* name = xmpp_stanza_get_name(child);
      const char* c = xmpp_stanza_get_attribute(child, "code");
      if (name && c && std::string(name) == "status" && std::string(c) == code) return true;
    }
    return false;
  }

  static int on_presence(xmpp_conn_t*, xmpp_stanza_t* stanza, void* self) {
    auto& c = *static_cast<Connection*>(self);
    std::string from_nick = c.room_nick(xmpp_stanza_get_from(stanza));
    if (from_nick.empty()) return 1;
    const char* type_attr = xmpp_stanza_get_type(stanza);
    std::string type = type_attr ? type_attr : "";
    xmpp_stanza_t* x = xmpp_stanza_get_child_by_name_and_ns(stanza, "x", kMucUserNs);
    bool self_presence = from_nick == c.nick || has_status(x, "110");
    if (type == "error") {
      if (from_nick != c.nick) return 1;
      xmpp_stanza_t* error = xmpp_stanza_get_child_by_name(stanza, "error");
      bool conflict = error && xmpp_stanza_get_child_by_name(error, "conflict");
      if (conflict && ++c.nick_tries <= kMaxNickTries) {
        spdlog::warn("chat: the nick {} is taken in {}: trying {}_", c.nick, c.s.room, c.nick);
        c.nick += "_";
        c.join();
      } else {
        xmpp_stanza_t* condition = error ? xmpp_stanza_get_children(error) : nullptr;
        const char* name = condition ? xmpp_stanza_get_name(condition) : nullptr;
        c.rejoin_later(std::string("the room refused us: ") + (name ? name : "error"));
      }
      return 1;
    }
    if (self_presence) {
      if (type == "unavailable") {
        if (c.client.stop_) return 1;  // our own leaving, at the end
        c.rejoin_later("removed from the room");
      } else if (c.state != State::in_room) {
        c.state = State::in_room;
        c.backoff = std::chrono::milliseconds(0);
        spdlog::info("chat: in {} as {}", c.s.room, c.nick);
        if (c.client.events_.joined) c.client.events_.joined();
      }
      return 1;
    }
    RoomOccupant occupant{from_nick, "", type != "unavailable"};
    xmpp_stanza_t* item = x ? xmpp_stanza_get_child_by_name(x, "item") : nullptr;
    if (const char* jid = item ? xmpp_stanza_get_attribute(item, "jid") : nullptr)
      occupant.jid = lower(take_string(c.ctx.get(), xmpp_jid_bare(c.ctx.get(), jid)));
    if (c.client.events_.occupant) c.client.events_.occupant(occupant);
    return 1;
  }

  static int on_message(xmpp_conn_t*, xmpp_stanza_t* stanza, void* self) {
    auto& c = *static_cast<Connection*>(self);
    const char* type = xmpp_stanza_get_type(stanza);
    if (type && std::string(type) == "error") {
      spdlog::warn("chat: the room returned a message as an error (not in the room?)");
      return 1;
    }
    if (!type || std::string(type) != "groupchat") return 1;
    std::string nick = c.room_nick(xmpp_stanza_get_from(stanza));
    if (nick.empty() || nick == c.nick) return 1;  // the room itself, or our own line coming back
    if (xmpp_stanza_get_child_by_name_and_ns(stanza, "delay", kDelayNs)) return 1;  // history, not live
    xmpp_stanza_t* body = xmpp_stanza_get_child_by_name(stanza, "body");
    if (!body) return 1;
    RoomMessage message{nick, take_string(c.ctx.get(), xmpp_stanza_get_text(body))};
    if (c.client.events_.message) c.client.events_.message(message);
    return 1;
  }

  // Requests must be answered (RFC 6120 8.2.3): pings with a result, anything else with an error.
  static int on_iq(xmpp_conn_t* conn, xmpp_stanza_t* stanza, void*) {
    const char* type = xmpp_stanza_get_type(stanza);
    if (!type || (std::string(type) != "get" && std::string(type) != "set")) return 1;
    if (xmpp_stanza_get_child_by_name_and_ns(stanza, "ping", kPingNs)) {
      Stanza reply(xmpp_stanza_reply(stanza));
      xmpp_stanza_set_type(reply.get(), "result");
      xmpp_send(conn, reply.get());
    } else {
      Stanza reply(xmpp_stanza_reply_error(stanza, "cancel", "service-unavailable", nullptr));
      if (reply) xmpp_send(conn, reply.get());
    }
    return 1;
  }

  void send_line(const std::string& text) {
    Stanza message(xmpp_message_new(ctx.get(), "groupchat", s.room.c_str(), nullptr));
    xmpp_message_set_body(message.get(), text.c_str());
    xmpp_send(conn.get(), message.get());
  }

  // One turn of the thread: (re)connect or rejoin when due, post what the limiter lets through, run libstrophe.
  void turn() {
    auto now = Clock::now();
    if (conn_dead) conn.reset();
    if (state == State::idle && !conn && now >= connect_at) connect();
    if (state == State::joining && now >= rejoin_at && conn) {
      nick = s.nick;
      nick_tries = 0;
      join();
    }
    {
      std::lock_guard lock(client.mutex_);
      while (!client.outbox_.empty()) {
        if (!limiter.push(std::move(client.outbox_.front())))
          spdlog::warn("chat: {} lines are waiting to be posted: a line was dropped", limiter.queued());
        client.outbox_.pop_front();
      }
    }
    if (state == State::in_room)
      while (auto line = limiter.pop(now)) send_line(*line);
    xmpp_run_once(ctx.get(), 50);
  }

  void shut_down() {
    if (conn && xmpp_conn_is_connected(conn.get())) {
      if (state == State::in_room) {
        Stanza presence(xmpp_presence_new(ctx.get()));
        std::string to = s.room + "/" + nick;
        xmpp_stanza_set_to(presence.get(), to.c_str());
        xmpp_stanza_set_type(presence.get(), "unavailable");
        xmpp_send(conn.get(), presence.get());
      }
      xmpp_disconnect(conn.get());
      auto deadline = Clock::now() + std::chrono::seconds(1);
      while (!conn_dead && Clock::now() < deadline) xmpp_run_once(ctx.get(), 50);
    }
    conn.reset();
  }
};

XmppRoomClient::XmppRoomClient(XmppRoomSettings settings, Events events)
    : settings_(std::move(settings)), events_(std::move(events)) {
  std::call_once(initialized, [] { xmpp_initialize(); });
  thread_ = std::thread([this] { run(); });
}

XmppRoomClient::~XmppRoomClient() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void XmppRoomClient::post(std::string text) {
  std::lock_guard lock(mutex_);
  outbox_.push_back(std::move(text));
}

void XmppRoomClient::run() {
  try {
    Connection connection(*this);
    while (!stop_) connection.turn();
    connection.shut_down();
  } catch (const std::exception& e) {
    spdlog::error("chat: the XMPP client stopped: {}", e.what());
  }
}

}  // namespace confab::chat

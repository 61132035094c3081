// A member of one XMPP multi-user chat room (XEP-0045), over libstrophe: the
// only code in Confab that speaks XMPP. It connects (TLS when the server offers
// it, or required), joins the room without history, reports live messages of
// the others and who is in the room (with their real JIDs when the room shows
// them), and posts lines through a rate limiter. A lost connection, a refused
// join or a removal from the room is retried with back-off (doubling from
// `first_retry` up to `max_retry`, reset once in the room); lines posted while
// out of the room wait in the limiter's queue.
//
// libstrophe runs on the client's own thread; the events below are called on
// it: hand them to your own thread (e.g. sip::EventLoop::post) and return.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "base/host_port.h"
#include "chat/post_rate_limiter.h"

namespace confab::chat {

struct XmppRoomSettings {
  std::string jid;       // our account, bot@example.org
  std::string password;
  std::optional<base::HostPort> server;  // where to connect; default: the JID's domain (DNS SRV)
  bool require_tls = false;              // refuse a server that does not offer TLS
  std::string room;      // room@conference.example.org
  std::string nick = "confab";
  std::chrono::milliseconds first_retry{1000};
  std::chrono::milliseconds max_retry{30000};
  PostRateLimiter::Limits post_limits;
};

struct RoomMessage {
  std::string nick;  // the sender's nick in the room
  std::string body;
};

struct RoomOccupant {
  std::string nick;
  std::string jid;  // bare real JID, "" when the room does not show it (semi-anonymous)
  bool present = true;
};

class XmppRoomClient {
 public:
  struct Events {
    std::function<void()> joined;                       // in the room (again, after a reconnection)
    std::function<void(const std::string& why)> left;   // out of the room: every occupant is gone too
    std::function<void(const RoomMessage&)> message;    // a live groupchat message of someone else
    std::function<void(const RoomOccupant&)> occupant;  // someone (not us) came, changed or went
  };

  // Starts the client's thread, which connects at once.
  XmppRoomClient(XmppRoomSettings settings, Events events);
  // Leaves the room, disconnects and joins the thread (at most about a second).
  ~XmppRoomClient();
  XmppRoomClient(const XmppRoomClient&) = delete;
  XmppRoomClient& operator=(const XmppRoomClient&) = delete;

  // Posts a line of plain text (valid UTF-8) to the room. Any thread.
  void post(std::string text);

 private:
  struct Connection;
  void run();

  const XmppRoomSettings settings_;
  const Events events_;
  std::mutex mutex_;
  std::deque<std::string> outbox_;  // posted, not yet in the limiter (guarded by mutex_)
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace confab::chat

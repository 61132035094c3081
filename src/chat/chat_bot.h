// `confab chat-bot`: an XMPP chat room that knows its voice room.
//
// In the room, `/voice [NAME]` opens an ad-hoc conference on the conference
// server (sip:NAME@<conference host>, a random NAME if none) and posts its
// link and conf:NAME shorthand; while it is open the bot follows its roster
// (RFC 4575, ConferenceSubscription: 404 until the first participant calls in,
// re-subscribed with back-off when refused or ended) and posts who joined and
// left; `/voice who` lists who is in it; `/voice invite NICK` has the
// conference call NICK's SIP address (RFC 4579 REFER), taken from the config's
// address map by NICK's real JID, or by NICK itself when the room hides JIDs.
// A voice room empty for `idle` is closed. Everything but the XMPP client's
// own thread runs on the SIP thread.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chat/chat_bot_config.h"
#include "chat/room_commands.h"
#include "chat/voice_roster.h"
#include "chat/xmpp_client.h"
#include "conference_events/conference_subscription.h"
#include "sip/event_loop.h"
#include "sip/user_agent.h"

namespace confab::chat {

struct ChatBotTiming {
  std::chrono::milliseconds first_retry{250};  // a refused or ended roster subscription is tried again after this,
  std::chrono::milliseconds max_retry{2000};   // doubling up to this
  std::chrono::milliseconds idle{std::chrono::minutes(10)};
};

class ChatBot final : public sip::UserAgent::Handler {
 public:
  // Throws std::runtime_error when the SIP address cannot be bound.
  ChatBot(sip::EventLoop& loop, const ChatBotConfig& config, std::string password, ChatBotTiming timing = {});
  ~ChatBot() override;

  // Nobody calls the bot.
  void on_incoming_call(const std::shared_ptr<sip::Call>& call, sip::IncomingRequest invite) override;

 private:
  struct VoiceRoom;
  class InviteWatch;
  void on_joined();
  void on_left();
  void on_occupant(const RoomOccupant& occupant);
  void on_message(const RoomMessage& message);
  void open(const std::string& name);
  void who();
  void invite(const std::string& nick);
  void roster_changed(const std::vector<conference_events::RosterMember>& members);
  void subscription_ended(const std::string& uri, int status, std::string_view why);
  void maintain();  // a few times a second: subscriptions due again, finished invitations, idle rooms
  std::string name_of(const conference_events::RosterMember& member) const;
  void say(const std::string& line);
  void say_all(const std::vector<std::string>& lines);
  // Runs `fn` on the SIP thread if the bot is still there then (for the XMPP thread's events).
  void post(std::function<void()> fn);

  sip::EventLoop& loop_;
  const ChatBotConfig config_;
  const ChatBotTiming timing_;
  std::unique_ptr<sip::UserAgent> ua_;
  std::unique_ptr<VoiceRoom> voice_;
  std::map<std::string, std::string> occupants_;  // nick -> bare JID ("" if hidden)
  std::vector<std::unique_ptr<InviteWatch>> invites_;
  sip::Timer maintenance_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // false once destruction began (posted events)
  std::unique_ptr<XmppRoomClient> xmpp_;  // last: its thread stops first
};

}  // namespace confab::chat

#include "chat/chat_bot.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "base/random.h"
#include "sip/sipfrag.h"
#include "sip/uri.h"

namespace confab::chat {

namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

struct ChatBot::VoiceRoom {
  std::string name, uri;
  std::unique_ptr<conference_events::ConferenceSubscription> subscription;
  VoiceRoster roster;
  std::chrono::milliseconds backoff{0};
  Clock::time_point retry_at = Clock::now();
  Clock::time_point empty_since = Clock::now();
  bool announced_refusal = false;
};

// The REFER of one `/voice invite`: tells the room when the conference could not reach the invitee.
class ChatBot::InviteWatch final : public sip::SubscriberHandler {
 public:
  InviteWatch(ChatBot& bot, std::string nick, std::string address)
      : address(std::move(address)), bot_(bot), nick_(std::move(nick)) {}
  const std::string address;  // whom the conference calls
  std::unique_ptr<sip::Subscriber> refer;
  bool done = false;

  void on_subscribe_response(sip::Subscriber&, int status, std::string_view reason) override {
    if (status >= 300) finish(status, reason);
  }
  void on_notify(sip::Subscriber&, const sip::Message& notify) override {
    auto frag = sip::parse_sipfrag(notify.body());
    if (frag && frag->status >= 200) finish(frag->status, frag->reason);
  }
  void on_ended(sip::Subscriber&, int status, std::string_view why) override {
    if (status >= 300) finish(status, why);
    done = true;
  }

 private:
  void finish(int status, std::string_view reason) {
    if (done) return;
    done = true;
    if (status < 300) return;  // answered: the roster says it joined
    spdlog::info("chat: the invitation of {} ended {} {}", nick_, status, reason);
    bot_.say("The voice room could not reach " + nick_ + " (" + std::to_string(status) + " " +
             room_text(reason, 40) + ").");
  }
  ChatBot& bot_;
  std::string nick_;  // as the room shows it (room_text)
};

ChatBot::ChatBot(sip::EventLoop& loop, const ChatBotConfig& config, std::string password, ChatBotTiming timing)
    : loop_(loop), config_(config), timing_(timing), maintenance_(loop) {
  sip::UserAgentOptions o;
  o.listen.push_back(*sip::ListenSpec::parse("udp:" + config_.sip.str()));
  o.identity = "sip:chat-bot@" + config_.sip.str();
  o.user_agent = "confab-chat-bot";
  ua_ = std::make_unique<sip::UserAgent>(loop_, o, *this);
  maintenance_.every(std::chrono::milliseconds(100), [this] { maintain(); });

  XmppRoomSettings x;
  x.jid = config_.jid;
  x.password = std::move(password);
  x.server = config_.xmpp_server;
  x.require_tls = config_.require_tls;
  x.room = config_.room;
  x.nick = config_.nick;
  x.post_limits.per_second = config_.posts_per_second;
  XmppRoomClient::Events events;
  events.joined = [this] { post([this] { on_joined(); }); };
  events.left = [this](const std::string&) { post([this] { on_left(); }); };
  events.occupant = [this](const RoomOccupant& o) { post([this, o] { on_occupant(o); }); };
  events.message = [this](const RoomMessage& m) { post([this, m] { on_message(m); }); };
  xmpp_ = std::make_unique<XmppRoomClient>(std::move(x), std::move(events));
  spdlog::info("chat bot {} for {}: voice rooms on {}, SIP {}", config_.jid, config_.room, config_.conference_host,
               o.identity);
}

ChatBot::~ChatBot() {
  *alive_ = false;
  xmpp_.reset();
  maintenance_.cancel();
  invites_.clear();
  voice_.reset();
  ua_->shutdown(std::chrono::milliseconds(1000));
}

void ChatBot::post(std::function<void()> fn) {
  loop_.post([alive = alive_, fn = std::move(fn)] {
    if (*alive) fn();
  });
}

void ChatBot::on_incoming_call(const std::shared_ptr<sip::Call>&, sip::IncomingRequest invite) {
  invite.respond(403, "Forbidden");
}

void ChatBot::say(const std::string& line) { xmpp_->post(line); }

void ChatBot::say_all(const std::vector<std::string>& lines) {
  for (auto& l : lines) say(l);
}

// ---- the chat room ----

void ChatBot::on_joined() { spdlog::debug("chat: {} occupants in the room", occupants_.size()); }

void ChatBot::on_left() { occupants_.clear(); }

void ChatBot::on_occupant(const RoomOccupant& o) {
  if (o.present) {
    occupants_[o.nick] = o.jid;
  } else {
    occupants_.erase(o.nick);
  }
}

void ChatBot::on_message(const RoomMessage& m) {
  auto command = parse_room_command(m.body);
  if (!command) return;
  using Kind = RoomCommand::Kind;
  spdlog::info("chat: {} asked {}", room_text(m.nick), room_text(m.body, 120));
  switch (command->kind) {
    case Kind::open: return open(command->argument);
    case Kind::who: return who();
    case Kind::invite: return invite(command->argument);
    case Kind::help: return say(std::string(kUsage));
    case Kind::bad: {
      const std::string& why = command->argument;
      return say(why + (why.ends_with('?') ? " " : ". ") + std::string(kUsage));
    }
  }
}

void ChatBot::open(const std::string& requested) {
  std::string name = requested.empty() ? (voice_ ? voice_->name : "voice-" + base::random_hex(4)) : requested;
  if (!voice_ || voice_->name != name) {
    voice_ = std::make_unique<VoiceRoom>();
    voice_->name = name;
    voice_->uri = "sip:" + name + "@" + config_.conference_host;
    spdlog::info("chat: voice room {} opened", voice_->uri);
  }
  say("Voice room: " + voice_->uri + " (conf:" + name + ")");
}

void ChatBot::who() {
  if (!voice_) return say("No voice room is open: /voice opens one.");
  say(who_line(voice_->name, voice_->roster.names()));
}

void ChatBot::invite(const std::string& nick) {
  std::string shown = room_text(nick);
  auto in_room = occupants_.find(nick);
  if (in_room == occupants_.end()) return say(shown + " is not in this room.");
  // By real JID when the room shows it; by nick only when it hides JIDs (a nick can be anyone's).
  const std::string& key = in_room->second.empty() ? nick : in_room->second;
  auto address = config_.addresses.find(key);
  if (address == config_.addresses.end())
    return say("I have no SIP address for " + shown + " (the bot's [chat_bot.addresses] maps " +
               (in_room->second.empty() ? "nicks" : "JIDs") + " to them).");
  // One call at a time per address: the room cannot make a phone ring over and over.
  for (auto& w : invites_)
    if (!w->done && w->address == address->second) return say(shown + " is being called already.");
  if (voice_)
    for (auto& m : voice_->roster.members())
      if (sip::address_key(m.entity) == sip::address_key(address->second))
        return say(shown + " is in the voice room already.");
  if (!voice_) open("");
  auto watch = std::make_unique<InviteWatch>(*this, shown, address->second);
  watch->refer = ua_->refer(voice_->uri, address->second, *watch);
  spdlog::info("chat: {} ({}) invited into {}", shown, address->second, voice_->uri);
  invites_.push_back(std::move(watch));
  say("Calling " + shown + " into the voice room " + voice_->name + ".");
}

// ---- the voice room ----

std::string ChatBot::name_of(const conference_events::RosterMember& m) const {
  std::string key = sip::address_key(m.entity);
  for (auto& [who, address] : config_.addresses) {
    if (sip::address_key(address) != key) continue;
    if (who.find('@') == std::string::npos) return room_text(who);  // keyed by nick
    for (auto& [nick, jid] : occupants_)
      if (jid == who) return room_text(nick);
    return room_text(who.substr(0, who.find('@')));
  }
  if (!m.display_text.empty()) return room_text(m.display_text);
  auto u = sip::Uri::parse(m.entity);
  return room_text(u && !u->user().empty() ? u->user() : m.entity);
}

void ChatBot::roster_changed(const std::vector<conference_events::RosterMember>& members) {
  if (!voice_) return;
  std::vector<VoiceMember> now;
  for (auto& m : members)
    if (in_voice_room(m)) now.push_back({m.entity, name_of(m)});
  bool was_empty = voice_->roster.empty();
  auto lines = voice_->roster.update(now);
  for (auto& l : lines) spdlog::info("chat: {}: {}", voice_->name, l);
  say_all(lines);
  if (voice_->roster.empty() && !was_empty) voice_->empty_since = Clock::now();
  voice_->backoff = std::chrono::milliseconds(0);
  voice_->announced_refusal = false;
}

void ChatBot::subscription_ended(const std::string& uri, int status, std::string_view why) {
  if (!voice_ || voice_->uri != uri) return;
  // The conference ended (its last participant left) or does not exist yet (404): nobody is in it.
  say_all(voice_->roster.clear());
  voice_->empty_since = std::min(voice_->empty_since, Clock::now());
  voice_->backoff = std::clamp(voice_->backoff * 2, timing_.first_retry, timing_.max_retry);
  voice_->retry_at = Clock::now() + voice_->backoff;
  bool normal = status == 404 || status < 300;
  if (normal) {
    spdlog::debug("chat: roster of {} ended ({} {}), again in {} ms", uri, status, why, voice_->backoff.count());
  } else if (!voice_->announced_refusal) {
    voice_->announced_refusal = true;
    spdlog::warn("chat: roster of {} ended ({} {}), again in {} ms", uri, status, why, voice_->backoff.count());
  }
}

void ChatBot::maintain() {
  auto now = Clock::now();
  std::erase_if(invites_, [](const std::unique_ptr<InviteWatch>& w) { return w->done; });
  if (!voice_) return;
  if (voice_->roster.empty() && now - voice_->empty_since >= timing_.idle) {
    spdlog::info("chat: voice room {} closed (empty for {} s)", voice_->uri,
                 std::chrono::duration_cast<std::chrono::seconds>(timing_.idle).count());
    say("The voice room " + voice_->name + " was empty and is closed.");
    voice_.reset();
    return;
  }
  bool need = !voice_->subscription || voice_->subscription->ended();
  if (need && now >= voice_->retry_at) {
    voice_->subscription.reset();
    voice_->retry_at = Clock::time_point::max();  // until it ends again
    std::string uri = voice_->uri;
    voice_->subscription = std::make_unique<conference_events::ConferenceSubscription>(
        *ua_, uri, [this](const std::vector<conference_events::RosterMember>& m) { roster_changed(m); },
        [this, uri](int status, std::string_view why) { subscription_ended(uri, status, why); });
  }
}

}  // namespace confab::chat

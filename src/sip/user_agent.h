// SIP user agents (phones, the mixer, B2BUA legs of the conference server, the
// client service): Sofia's nua with its SDP engine off, so the application
// makes every offer and answer itself (as FreeSWITCH does), including RFC 3725
// third-party call control (offerless INVITE, answer in the ACK).
//
// One handler interface per usage (as reSIProcate's DUM): UserAgent::Handler
// for what arrives outside a dialog, CallHandler per INVITE dialog,
// RegistrationHandler per registration. Everything runs on the EventLoop thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sip/event_loop.h"
#include "sip/message.h"
#include "sip/subscription.h"
#include "sip/transaction_layer.h"

struct nua_s;
struct nua_handle_s;

namespace confab::sip {

class Call;
class SipTraceTap;
class UserAgent;
struct NuaEvents;

// A request the application answers (INVITE, re-INVITE, INFO, REFER, ...),
// possibly later: it can be moved and kept. If destroyed unanswered it answers
// 500, so a request is never left hanging.
class IncomingRequest {
 public:
  IncomingRequest(IncomingRequest&& other) noexcept;
  IncomingRequest& operator=(IncomingRequest&& other) noexcept;
  IncomingRequest(const IncomingRequest&) = delete;
  IncomingRequest& operator=(const IncomingRequest&) = delete;
  ~IncomingRequest();

  const Message& message() const { return message_; }
  // Provisional (1xx) responses may precede the final one.
  void respond(int status, std::string_view reason, const std::vector<HeaderField>& headers = {},
               std::string_view content_type = {}, std::string_view body = {});
  bool answered() const { return final_sent_; }

 private:
  friend class UserAgent;
  friend struct NuaEvents;
  struct Saved;
  IncomingRequest(nua_s* nua, nua_handle_s* nh, std::unique_ptr<Saved> saved, Message message);
  nua_s* nua_ = nullptr;
  nua_handle_s* nh_ = nullptr;
  std::unique_ptr<Saved> saved_;
  Message message_;
  bool final_sent_ = false;
};

// A request built field by field (the service's Tunnel, plugins). Out of a
// dialog every field counts; in a dialog only method, headers and body do: the
// dialog supplies Request-URI, From, To, Call-ID, CSeq and Route.
struct RequestSpec {
  std::string method;       // any token: "OPTIONS", "MESSAGE", "INFO", "X-PING", ...
  std::string request_uri;
  std::string from, to;     // "" : our identity / the Request-URI
  std::vector<HeaderField> headers;  // extra fields (not Via, Call-ID, CSeq, Content-Length)
  std::string content_type, body;
};

// Every response to a request, provisional ones first, the final one
// (status >= 200) last. When the stack itself ends the request (timeout,
// transport error) `response` is empty and `phrase` says why.
using ResponseCallback = std::function<void(int status, std::string_view phrase, const Message& response)>;

class CallHandler {
 public:
  virtual ~CallHandler() = default;
  // UAC: a provisional or final response to our INVITE or re-INVITE. With
  // auto_ack off, a 2xx must be acknowledged with Call::ack().
  virtual void on_invite_response(Call& call, int status, const Message& response) {}
  // UAS: a re-INVITE or UPDATE in the dialog (an offer, or none); answer it.
  virtual void on_reinvite(Call& call, IncomingRequest request);
  // The ACK for our 2xx; it carries the answer when our 2xx carried the offer.
  virtual void on_ack(Call& call, const Message& ack) {}
  virtual void on_info(Call& call, IncomingRequest request);
  virtual void on_refer(Call& call, IncomingRequest request);
  // A NOTIFY in the dialog (e.g. the progress of our REFER); already answered 200.
  virtual void on_notify(Call& call, const Message& notify) {}
  // The response to a BYE, INFO, REFER, UPDATE or OPTIONS (ping) we sent.
  virtual void on_request_response(Call& call, Method method, int status, const Message& response) {}
  // A request in the dialog other than those above (MESSAGE, ...); answer it. Default: 405.
  virtual void on_request(Call& call, IncomingRequest request);
  // Each response (provisional and final) to a request sent with Call::request().
  // nua sends a dialog's non-INVITE requests one after another, so responses
  // come in the order the requests were made.
  virtual void on_method_response(Call& call, int status, std::string_view phrase, const Message& response) {}
  // The dialog is over (BYE either way, CANCEL, rejection, timeout). Called once.
  virtual void on_terminated(Call& call, int status, std::string_view reason) = 0;
};

struct CallOptions {
  std::string from;       // our address for this call; default UserAgentOptions::identity
  std::vector<HeaderField> headers;  // extra headers on the INVITE (Replaces, Referred-By, ...)
  bool auto_ack = true;   // false: report the 2xx and let the caller send the ACK (RFC 3725 flow I)
  std::string proxy;      // a proxy this call's INVITE goes through (a pre-loaded Route), besides UserAgentOptions::proxy
};

// An INVITE dialog, in either direction.
class Call {
 public:
  ~Call();
  Call(const Call&) = delete;
  Call& operator=(const Call&) = delete;

  void set_handler(CallHandler* handler) { handler_ = handler; }
  CallHandler* handler() const { return handler_; }

  // Sends a re-INVITE with `sdp` as the offer ("" for an offerless re-INVITE).
  void reinvite(std::string_view sdp, const std::vector<HeaderField>& headers = {});
  // Sends an UPDATE (RFC 3311) with `sdp` as the offer; the answer arrives in on_request_response.
  void update(std::string_view sdp);
  // Acknowledges a 2xx when auto_ack is off, with `sdp` as the answer if the 2xx carried an offer.
  void ack(std::string_view sdp = {});
  void info(std::string_view content_type, std::string_view body, const std::vector<HeaderField>& headers = {});
  // An OPTIONS in the dialog: is the peer (and the dialog) still there? The
  // response arrives in on_request_response (408/481/503: gone).
  void ping();
  // REFER the peer to `target` (a URI, possibly with ?Replaces=...).
  void refer(const std::string& target, const std::vector<HeaderField>& headers = {});
  // Sends a NOTIFY with a message/sipfrag body for the REFER with CSeq
  // `refer_cseq` we accepted (RFC 3515): Event: refer;id=<CSeq>, so that a
  // peer with several REFERs out in this dialog knows which one it is about.
  void notify_refer(uint32_t refer_cseq, int status, std::string_view reason, bool final);
  // Hangs up: CANCEL before an answer, BYE after, a rejection if it is still ringing here.
  void hangup();
  // Any request in this dialog (method, headers and body of `request`); the
  // responses arrive in CallHandler::on_method_response.
  void request(const RequestSpec& request);

  const std::string& id() const { return id_; }  // stable id for logs and APIs
  bool incoming() const { return incoming_; }
  const std::string& call_id() const { return call_id_; }
  std::string remote_uri() const;
  std::string local_uri() const;
  std::string remote_display() const;  // display name of the peer, "" if none
  // Dialog identifiers (RFC 3261 12): with call_id() they name the dialog, as Replaces does (RFC 3891).
  // Known once the dialog is confirmed (our 2xx ACKed, or the peer's 2xx received).
  const std::string& local_tag() const { return local_tag_; }
  const std::string& remote_tag() const { return remote_tag_; }
  bool established() const { return established_; }
  // False when 2xx responses to our INVITEs must be acknowledged with ack().
  bool auto_ack() const { return auto_ack_; }
  bool terminated() const { return terminated_; }

 private:
  friend class UserAgent;
  friend struct NuaEvents;
  Call(UserAgent& ua, nua_handle_s* nh, bool incoming);
  UserAgent& ua_;
  nua_handle_s* nh_;
  CallHandler* handler_ = nullptr;
  std::string id_;
  bool incoming_;
  bool auto_ack_ = true;
  bool established_ = false;
  bool terminated_ = false;
  bool answered_ = false;  // a final response was sent (incoming) / received (outgoing)
  bool bye_pending_ = false;  // hung up after our 2xx but before its ACK: BYE once it comes
  bool ack_due_ = false;      // auto_ack off and a 2xx not acknowledged yet
  std::string call_id_, local_tag_, remote_tag_;
};

class RegistrationHandler {
 public:
  virtual ~RegistrationHandler() = default;
  virtual void on_registration(int status, std::string_view reason) = 0;
};

class Registration {
 public:
  ~Registration();  // unregisters
  Registration(const Registration&) = delete;
  Registration& operator=(const Registration&) = delete;
  bool registered() const { return registered_; }

 private:
  friend class UserAgent;
  friend struct NuaEvents;
  Registration(UserAgent& ua, nua_handle_s* nh, RegistrationHandler* handler);
  UserAgent& ua_;
  nua_handle_s* nh_;
  RegistrationHandler* handler_;
  bool registered_ = false;
};

struct UserCredentials {
  std::string user;
  std::string password;
  std::string realm;  // empty: any realm
};

struct UserAgentOptions {
  std::vector<ListenSpec> listen;  // e.g. udp:127.0.0.1:5090 (the first one names us)
  std::string identity;            // our default From URI, e.g. sip:mixer@127.0.0.1:5090
  std::string proxy;               // outbound proxy URI, empty for none
  std::string user_agent = "confab";
  std::vector<UserCredentials> credentials;  // answers 401/407 challenges
  std::vector<std::string> allow_events;     // event packages we serve (SUBSCRIBE), e.g. "conference"
  unsigned transaction_timeout_ms = 32000;
  int udp_buffer_bytes = 8 * 1024 * 1024;  // see TransactionLayerOptions
};

class UserAgent {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    // A new incoming INVITE dialog. Set a CallHandler on `call` and answer
    // `invite` (now or later). `call` stays alive until it terminates.
    virtual void on_incoming_call(const std::shared_ptr<Call>& call, IncomingRequest invite) = 0;
    // A request outside any dialog that the stack did not answer by itself
    // (MESSAGE, OPTIONS, PUBLISH, ...). Default: 405.
    virtual void on_request(IncomingRequest request);
    // An initial SUBSCRIBE for an allowed event. accept() or reject() it before
    // returning (unanswered: 403); after accept(), set a handler and NOTIFY.
    virtual void on_subscribe(const std::shared_ptr<Notifier>& subscription);
    // A REFER outside any dialog (e.g. RFC 4579 to a conference URI), with its
    // implicit subscription. accept() (202) or reject() before returning
    // (unanswered: 403); then report progress with notify()/terminate()
    // (message/sipfrag). Default: 405.
    virtual void on_refer(const std::shared_ptr<Notifier>& refer);
  };

  // Binds every listen address; throws std::runtime_error if one cannot be bound.
  UserAgent(EventLoop& loop, UserAgentOptions options, Handler& handler);
  ~UserAgent();
  UserAgent(const UserAgent&) = delete;
  UserAgent& operator=(const UserAgent&) = delete;

  // Places a call: INVITE `target` with `sdp` as offer ("" for an offerless INVITE).
  std::shared_ptr<Call> invite(const std::string& target, std::string_view sdp, CallHandler& handler,
                               const CallOptions& options = {});
  // REGISTER `aor` (e.g. sip:alice@example.com) at `registrar`, refreshed until destroyed.
  std::unique_ptr<Registration> register_at(const std::string& aor, const std::string& registrar, unsigned expires,
                                            RegistrationHandler* handler = nullptr);
  // SUBSCRIBE `target` to `event`, refreshed until the Subscriber is destroyed.
  // `accept`: the Accept header (the body types we understand), "" for none.
  std::unique_ptr<Subscriber> subscribe(const std::string& target, const std::string& event, unsigned expires,
                                        SubscriberHandler& handler, std::string_view accept = {});
  // REFER `target` (e.g. a conference URI, RFC 4579) outside any dialog, asking
  // it to contact `refer_to`; the REFER's implicit subscription (RFC 3515) is
  // the returned Subscriber (event "refer"): the REFER's response arrives in
  // on_subscribe_response, each progress NOTIFY (message/sipfrag) in on_notify,
  // and the final one ends it.
  std::unique_ptr<Subscriber> refer(const std::string& target, const std::string& refer_to, SubscriberHandler& handler);
  // Out-of-dialog request (OPTIONS, MESSAGE, ...); `on_response` gets the final response.
  void send_request(Method method, const std::string& target, std::string_view content_type, std::string_view body,
                    std::function<void(int status, const Message& response)> on_response = {},
                    const std::vector<HeaderField>& headers = {});
  // Out-of-dialog request of any method; `on_response` gets every response.
  void send_request(const RequestSpec& request, ResponseCallback on_response);

  // Ends every call and registration and waits (running `loop`) until the stack
  // has said goodbye, at most `timeout`.
  void shutdown(std::chrono::milliseconds timeout = std::chrono::milliseconds(3000));

  // Our contact address ("sip:127.0.0.1:5090") and the host/port we listen on.
  const std::string& contact() const { return contact_; }
  const std::string& host() const { return host_; }
  uint16_t port() const { return port_; }
  size_t active_calls() const { return calls_.size(); }
  size_t active_notifiers() const { return notifiers_.size(); }
  const SipMessageCounts& message_counts() const { return counts_; }
  nua_s* native() const { return nua_; }

 private:
  friend class Call;
  friend class Registration;
  friend class Notifier;
  friend class Subscriber;
  friend struct NuaEvents;
  friend struct SubscriptionEvents;
  void forget(nua_handle_s* nh);

  EventLoop& loop_;
  UserAgentOptions options_;
  Handler& handler_;
  nua_s* nua_ = nullptr;
  std::unique_ptr<SipTraceTap> trace_;  // this stack's messages while a sip::SipTrace is on
  std::string contact_, host_;
  uint16_t port_ = 0;
  std::unordered_map<nua_handle_s*, std::shared_ptr<Call>> calls_;
  std::unordered_map<nua_handle_s*, Registration*> registrations_;
  struct PendingRequest;
  std::unordered_map<nua_handle_s*, std::unique_ptr<PendingRequest>> requests_;
  std::unordered_map<nua_handle_s*, std::shared_ptr<Notifier>> notifiers_;
  std::unordered_map<nua_handle_s*, Subscriber*> subscribers_;  // nullptr: owner gone, un-SUBSCRIBE under way
  uint64_t next_notifier_id_ = 1;
  bool shut_down_ = false;
  SipMessageCounts counts_;
  uint64_t next_call_id_ = 1;
};

}  // namespace confab::sip

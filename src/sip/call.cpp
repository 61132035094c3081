// The usages of a user agent that the application holds: incoming requests,
// INVITE dialogs (Call) and registrations. The nua callback that drives them is
// in user_agent.cpp.
#include <sofia-sip/nua.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_tag.h>
#include <sofia-sip/su_tagarg.h>

#include "sip/nua_internal.h"
#include "sip/user_agent.h"

namespace confab::sip {

// ---- IncomingRequest ----

IncomingRequest::IncomingRequest(nua_s* nua, nua_handle_s* nh, std::unique_ptr<Saved> saved, Message message)
    : nua_(nua), nh_(nh), saved_(std::move(saved)), message_(std::move(message)) {}

IncomingRequest::IncomingRequest(IncomingRequest&& o) noexcept
    : nua_(o.nua_), nh_(std::exchange(o.nh_, nullptr)), saved_(std::move(o.saved_)), message_(std::move(o.message_)),
      final_sent_(o.final_sent_) {}

IncomingRequest& IncomingRequest::operator=(IncomingRequest&& o) noexcept {
  if (this != &o) {
    this->~IncomingRequest();
    new (this) IncomingRequest(std::move(o));
  }
  return *this;
}

IncomingRequest::~IncomingRequest() {
  if (!nh_ || !saved_) return;
  if (!final_sent_) respond(500, "Request Not Handled");
  if (saved_->owns_handle) nua_handle_destroy(nh_);
}

void IncomingRequest::respond(int status, std::string_view reason, const std::vector<HeaderField>& headers,
                              std::string_view content_type, std::string_view body) {
  if (!nh_ || !saved_ || final_sent_) return;
  std::string extra = header_block(headers), ct(content_type), payload(body);
  nua_respond(nh_, status, lasting_phrase(status, reason), NUTAG_WITH_SAVED(saved_->event),
              SIPTAG_HEADER_STR(or_null(extra)),
              TAG_IF(!ct.empty(), SIPTAG_CONTENT_TYPE_STR(ct.c_str())),
              TAG_IF(!payload.empty(), SIPTAG_PAYLOAD_STR(payload.c_str())), TAG_END());
  if (status >= 200) final_sent_ = true;
}

// ---- default handler behaviour ----

void CallHandler::on_reinvite(Call&, IncomingRequest request) { request.respond(488, "Not Acceptable Here"); }
void CallHandler::on_info(Call&, IncomingRequest request) { request.respond(200, "OK"); }
void CallHandler::on_refer(Call&, IncomingRequest request) { request.respond(603, "Declined"); }
void CallHandler::on_request(Call&, IncomingRequest request) { request.respond(405, "Method Not Allowed"); }
void UserAgent::Handler::on_request(IncomingRequest request) { request.respond(405, "Method Not Allowed"); }

// ---- Call ----

Call::Call(UserAgent& ua, nua_handle_s* nh, bool incoming)
    : ua_(ua), nh_(nh), id_("c" + std::to_string(ua.next_call_id_++)), incoming_(incoming) {}

Call::~Call() = default;

void Call::reinvite(std::string_view sdp, const std::vector<HeaderField>& headers) {
  std::string body(sdp), extra = header_block(headers);
  nua_invite(nh_, SIPTAG_HEADER_STR(or_null(extra)),
             TAG_IF(!body.empty(), SIPTAG_CONTENT_TYPE_STR("application/sdp")),
             TAG_IF(!body.empty(), SIPTAG_PAYLOAD_STR(body.c_str())), TAG_END());
}

void Call::update(std::string_view sdp) {
  std::string body(sdp);
  nua_update(nh_, TAG_IF(!body.empty(), SIPTAG_CONTENT_TYPE_STR("application/sdp")),
             TAG_IF(!body.empty(), SIPTAG_PAYLOAD_STR(body.c_str())), TAG_END());
}

void Call::ack(std::string_view sdp) {
  ack_due_ = false;
  std::string body(sdp);
  nua_ack(nh_, TAG_IF(!body.empty(), SIPTAG_CONTENT_TYPE_STR("application/sdp")),
          TAG_IF(!body.empty(), SIPTAG_PAYLOAD_STR(body.c_str())), TAG_END());
}

void Call::info(std::string_view content_type, std::string_view body, const std::vector<HeaderField>& headers) {
  std::string ct(content_type), payload(body), extra = header_block(headers);
  nua_info(nh_, SIPTAG_HEADER_STR(or_null(extra)), TAG_IF(!ct.empty(), SIPTAG_CONTENT_TYPE_STR(ct.c_str())),
           TAG_IF(!payload.empty(), SIPTAG_PAYLOAD_STR(payload.c_str())), TAG_END());
}

void Call::ping() { nua_options(nh_, TAG_END()); }

void Call::refer(const std::string& target, const std::vector<HeaderField>& headers) {
  // In angle brackets, so that URI parameters (;method=BYE) and headers
  // (?Replaces=) stay the URI's and are not read as the header's parameters.
  std::string refer_to = target.find('<') == std::string::npos ? "<" + target + ">" : target;
  std::string extra = header_block(headers);
  nua_refer(nh_, SIPTAG_REFER_TO_STR(refer_to.c_str()), SIPTAG_HEADER_STR(or_null(extra)), TAG_END());
}

void Call::notify_refer(uint32_t refer_cseq, int status, std::string_view reason, bool final) {
  std::string frag = "SIP/2.0 " + std::to_string(status) + " " + std::string(reason) + "\r\n";
  // The UA makes every REFER's subscription with an id (NUTAG_REFER_WITH_ID).
  std::string event = "refer;id=" + std::to_string(refer_cseq);
  nua_notify(nh_, SIPTAG_EVENT_STR(event.c_str()), NUTAG_SUBSTATE(final ? nua_substate_terminated : nua_substate_active),
             SIPTAG_SUBSCRIPTION_STATE_STR(final ? "terminated;reason=noresource" : "active;expires=60"),
             SIPTAG_CONTENT_TYPE_STR("message/sipfrag;version=2.0"), SIPTAG_PAYLOAD_STR(frag.c_str()), TAG_END());
}

void Call::hangup() {
  if (terminated_) return;
  if (ack_due_) {  // a 2xx we have not acknowledged: ACK it (no answer), then BYE
    ack();
    nua_bye(nh_, TAG_END());
  } else if (established_)
    nua_bye(nh_, TAG_END());
  else if (!incoming_)
    nua_cancel(nh_, TAG_END());
  else if (answered_)
    bye_pending_ = true;  // RFC 3261 15: no BYE before the ACK of our 2xx
  else
    nua_respond(nh_, 480, "Temporarily Unavailable", TAG_END());
}

void Call::request(const RequestSpec& r) {
  // nua_method sends any method; on a handle with a dialog nua fills in the
  // dialog's Request-URI (remote target), tags, Call-ID, CSeq and route set.
  std::string extra = header_block(r.headers);
  nua_method(nh_, NUTAG_METHOD(r.method.c_str()), SIPTAG_HEADER_STR(or_null(extra)),
             TAG_IF(!r.content_type.empty(), SIPTAG_CONTENT_TYPE_STR(r.content_type.c_str())),
             TAG_IF(!r.body.empty(), SIPTAG_PAYLOAD_STR(r.body.c_str())), TAG_END());
}

namespace {
// The URI of a From/To header ("" if none).
std::string uri_of(sip_to_t const* address) {
  if (!address) return {};
  char buf[512];
  url_e(buf, sizeof buf, address->a_url);
  return buf;
}
}  // namespace

std::string Call::remote_uri() const { return uri_of(nua_handle_remote(nh_)); }

std::string Call::local_uri() const { return uri_of(nua_handle_local(nh_)); }

std::string Call::remote_display() const {
  sip_to_t const* remote = nua_handle_remote(nh_);
  return remote && remote->a_display ? std::string(remote->a_display) : std::string();
}

// ---- Registration ----

Registration::Registration(UserAgent& ua, nua_handle_s* nh, RegistrationHandler* handler)
    : ua_(ua), nh_(nh), handler_(handler) {}

Registration::~Registration() {
  // The handle lives on until the un-REGISTER is answered (or the agent shuts down).
  ua_.registrations_[nh_] = nullptr;
  nua_unregister(nh_, TAG_END());
}

}  // namespace confab::sip

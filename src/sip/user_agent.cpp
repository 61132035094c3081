// UserAgent: Sofia's nua and its event callback (NuaEvents, one handler per event);
// the usages it hands out are in call.cpp and subscription.cpp.
#include "sip/user_agent.h"

#include <sofia-sip/nua.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_tag.h>
#include <sofia-sip/su_tagarg.h>
#include <sofia-sip/tport_tag.h>
#include <spdlog/spdlog.h>
#include <strings.h>

#include <stdexcept>

#include "base/random.h"
#include "sip/nua_internal.h"
#include "sip/sip_trace.h"
#include "sip/sofia_runtime.h"
#include "sip/uri.h"

namespace confab::sip {

namespace {

std::string_view phrase_or(char const* phrase, std::string_view fallback) {
  return phrase ? std::string_view(phrase) : fallback;
}

// `uri` with the loose-routing flag (;lr), as a Route entry to a proxy wants it.
std::string loose_route(const std::string& uri) {
  auto u = Uri::parse(uri);
  if (!u) return uri;
  if (!u->has_param("lr")) u->set_param("lr", "");
  return u->str();
}

}  // namespace

// ---- UserAgent ----

struct UserAgent::PendingRequest {
  Method method;
  std::function<void(int, const Message&)> on_response;  // final response only
  ResponseCallback on_every_response;                     // provisional ones too
};

// The nua callback of a UserAgent: one handler per event (the subscription
// events go to SubscriptionEvents first).
struct NuaEvents {
  using Saved = std::unique_ptr<IncomingRequest::Saved>;

  static void callback(nua_event_t event, int status, char const* phrase, nua_t* nua, nua_magic_t* magic,
                       nua_handle_t* nh, nua_hmagic_t*, sip_t const* sip, tagi_t tags[]) {
    NuaEvent e{*reinterpret_cast<UserAgent*>(magic), event, status, phrase, nua, nh, sip, tags};
    count(e);
    try {
      dispatch(e);
    } catch (const std::exception& ex) {
      spdlog::error("SIP event {} handler failed: {}", nua_event_name(event), ex.what());
    }
  }

  // Requests as they arrive (nua_i_ events of a request), responses to ours (nua_r_ events with one).
  static void count(const NuaEvent& e) {
    if (!e.sip) return;
    auto& counts = e.ua.counts_;
    switch (e.event) {
      case nua_i_invite: case nua_i_cancel: case nua_i_ack: case nua_i_bye: case nua_i_info:
      case nua_i_update: case nua_i_prack: case nua_i_refer: case nua_i_notify: case nua_i_subscribe:
      case nua_i_message: case nua_i_options: case nua_i_publish: case nua_i_method: case nua_i_register:
        if (e.sip->sip_request && e.sip->sip_request->rq_method_name)
          counts.request_received(e.sip->sip_request->rq_method_name);
        return;
      default:
        if (nua_event_name(e.event)[4] == 'r' && e.sip->sip_status && e.sip->sip_cseq && e.sip->sip_cseq->cs_method_name)
          counts.response_received(e.sip->sip_cseq->cs_method_name, e.sip->sip_status->st_status);
    }
  }

  static void dispatch(const NuaEvent& e) {
    if (SubscriptionEvents::dispatch(e)) return;
    switch (e.event) {
      case nua_i_invite: return on_i_invite(e);
      case nua_i_update: return on_i_update(e);
      case nua_i_ack: return on_i_ack(e);
      case nua_i_info:
      case nua_i_refer: return on_i_info_or_refer(e);
      case nua_i_notify: return on_i_notify(e);
      case nua_i_message:
      case nua_i_options:
      case nua_i_method:
      case nua_i_publish: return on_i_other_request(e);
      case nua_r_invite: return on_r_invite(e);
      case nua_r_bye:
      case nua_r_info:
      case nua_r_refer:
      case nua_r_update:
      case nua_r_notify: return on_r_dialog_request(e);
      case nua_i_state: return on_i_state(e);
      case nua_r_register:
      case nua_r_unregister: return on_r_register(e);
      case nua_r_options:
      case nua_r_message:
      case nua_r_method: return on_r_other_request(e);
      case nua_r_shutdown: return on_r_shutdown(e);
      case nua_i_error: return on_i_error(e);
      default: return;
    }
  }

  // The event's message, kept alive in `saved` (for an IncomingRequest, or as long as the caller needs it).
  static Message event_message(const NuaEvent& e, Saved& saved) {
    saved = std::make_unique<IncomingRequest::Saved>();
    nua_save_event(e.nua, saved->event);
    nua_event_data_t const* data = nua_event_data(saved->event);
    return data && data->e_msg ? Message::share(data->e_msg) : Message();
  }

  static std::shared_ptr<Call> call_of(const NuaEvent& e) {
    auto it = e.ua.calls_.find(e.nh);
    return it == e.ua.calls_.end() ? nullptr : it->second;
  }

  static bool authenticate(const NuaEvent& e) {
    return answer_challenge(e.ua.options_.credentials, e.nh, e.status, e.sip);
  }

  static IncomingRequest incoming(const NuaEvent& e, Saved saved, Message msg) {
    return IncomingRequest(e.nua, e.nh, std::move(saved), std::move(msg));
  }

  // ---- requests that arrive ----

  // A new dialog (the application's on_incoming_call) or a re-INVITE in one.
  static void on_i_invite(const NuaEvent& e) {
    Saved saved;
    Message msg = event_message(e, saved);
    auto call = call_of(e);
    if (!call) {
      call = std::shared_ptr<Call>(new Call(e.ua, e.nh, true));
      if (e.sip && e.sip->sip_call_id && e.sip->sip_call_id->i_id) call->call_id_ = e.sip->sip_call_id->i_id;
      if (e.sip && e.sip->sip_from && e.sip->sip_from->a_tag) call->remote_tag_ = e.sip->sip_from->a_tag;
      nua_handle_bind(e.nh, reinterpret_cast<nua_hmagic_t*>(call.get()));
      e.ua.calls_[e.nh] = call;
      e.ua.handler_.on_incoming_call(call, incoming(e, std::move(saved), std::move(msg)));
    } else if (call->handler_) {
      call->handler_->on_reinvite(*call, incoming(e, std::move(saved), std::move(msg)));
    } else {
      incoming(e, std::move(saved), std::move(msg)).respond(488, "Not Acceptable Here");
    }
  }

  // UPDATE in a dialog: an offer, handled as a re-INVITE.
  static void on_i_update(const NuaEvent& e) {
    Saved saved;
    Message msg = event_message(e, saved);
    auto call = call_of(e);
    if (call && call->handler_ && e.status < 200)
      call->handler_->on_reinvite(*call, incoming(e, std::move(saved), std::move(msg)));
  }

  static void on_i_ack(const NuaEvent& e) {
    Saved saved;
    Message msg = event_message(e, saved);
    auto call = call_of(e);
    // The ACK's To tag is the tag we gave the dialog (nua_handle_local() has none).
    if (call && call->local_tag_.empty() && e.sip && e.sip->sip_to && e.sip->sip_to->a_tag)
      call->local_tag_ = e.sip->sip_to->a_tag;
    if (call && call->handler_) call->handler_->on_ack(*call, msg);
  }

  // INFO or REFER in a dialog (the call's handler), or INFO outside one (the agent's).
  static void on_i_info_or_refer(const NuaEvent& e) {
    Saved saved;
    Message msg = event_message(e, saved);
    auto call = call_of(e);
    if (e.status >= 200) return;  // already answered by the stack
    IncomingRequest req = incoming(e, std::move(saved), std::move(msg));
    if (call && call->handler_) {
      if (e.event == nua_i_info)
        call->handler_->on_info(*call, std::move(req));
      else
        call->handler_->on_refer(*call, std::move(req));
    } else if (!call) {  // INFO outside a dialog (REFER outside one is a SubscriptionEvent)
      req.saved_->owns_handle = true;
      e.ua.handler_.on_request(std::move(req));
    }
  }

  // A NOTIFY in an INVITE dialog (our REFER's progress); the stack answered it.
  static void on_i_notify(const NuaEvent& e) {
    Saved saved;
    Message msg = event_message(e, saved);
    if (auto call = call_of(e); call && call->handler_) call->handler_->on_notify(*call, msg);
  }

  // MESSAGE, OPTIONS, PUBLISH or another method: the call's handler in a dialog, else the agent's.
  static void on_i_other_request(const NuaEvent& e) {
    if (e.status >= 200) return;  // already answered by the stack
    Saved saved;
    Message msg = event_message(e, saved);
    IncomingRequest req = incoming(e, std::move(saved), std::move(msg));
    if (auto call = call_of(e)) {
      if (call->handler_)
        call->handler_->on_request(*call, std::move(req));
      else
        req.respond(405, "Method Not Allowed");
      return;
    }
    req.saved_->owns_handle = true;
    e.ua.handler_.on_request(std::move(req));
  }

  // ---- responses to what we sent ----

  static void on_r_invite(const NuaEvent& e) {
    auto call = call_of(e);
    if (!call || authenticate(e)) return;
    Saved saved;
    Message msg = event_message(e, saved);
    const int status = e.status;
    sip_t const* sip = e.sip;
    if (status >= 200) call->answered_ = true;
    if (status >= 200 && status < 300 && !call->auto_ack_) call->ack_due_ = true;
    if (call->call_id_.empty() && sip && sip->sip_call_id && sip->sip_call_id->i_id)
      call->call_id_ = sip->sip_call_id->i_id;
    if (status >= 200 && status < 300 && sip && sip->sip_to && sip->sip_to->a_tag) {
      call->remote_tag_ = sip->sip_to->a_tag;
      if (sip->sip_from && sip->sip_from->a_tag) call->local_tag_ = sip->sip_from->a_tag;
    }
    if (call->handler_) call->handler_->on_invite_response(*call, status, msg);
  }

  // The response to a BYE, INFO, REFER, UPDATE or NOTIFY we sent in a dialog.
  static void on_r_dialog_request(const NuaEvent& e) {
    auto call = call_of(e);
    if (!call || !call->handler_ || authenticate(e)) return;
    Saved saved;
    Message msg = event_message(e, saved);
    Method m = e.event == nua_r_bye      ? Method::Bye
               : e.event == nua_r_info   ? Method::Info
               : e.event == nua_r_refer  ? Method::Refer
               : e.event == nua_r_update ? Method::Update
                                         : Method::Notify;
    call->handler_->on_request_response(*call, m, e.status, msg);
  }

  static void on_r_register(const NuaEvent& e) {
    auto it = e.ua.registrations_.find(e.nh);
    if (it == e.ua.registrations_.end() || e.status < 200 || authenticate(e)) return;
    Registration* reg = it->second;
    if (!reg) {  // the owner is gone: this was the un-REGISTER
      if (e.event == nua_r_unregister || e.status >= 300) {
        e.ua.registrations_.erase(it);
        nua_handle_destroy(e.nh);
      }
      return;
    }
    reg->registered_ = e.event == nua_r_register && e.status < 300;
    if (reg->handler_) reg->handler_->on_registration(e.status, phrase_or(e.phrase, ""));
  }

  // OPTIONS, MESSAGE or another method: in a dialog (Call::request(), ping()) or out of one (send_request()).
  static void on_r_other_request(const NuaEvent& e) {
    if (auto call = call_of(e); call && e.event != nua_r_message)
      on_r_dialog_method(e, *call);
    else
      on_r_out_of_dialog(e);
  }

  static void on_r_dialog_method(const NuaEvent& e, Call& call) {
    if (!call.handler_ || authenticate(e)) return;
    Saved saved;
    Message msg = event_message(e, saved);
    if (e.event == nua_r_method)
      call.handler_->on_method_response(call, e.status, phrase_or(e.phrase, ""), msg);
    else if (e.status >= 200)
      call.handler_->on_request_response(call, Method::Options, e.status, msg);
  }

  static void on_r_out_of_dialog(const NuaEvent& e) {
    auto it = e.ua.requests_.find(e.nh);
    if (it == e.ua.requests_.end()) return;
    Saved saved;
    if (e.status < 200) {
      if (it->second->on_every_response) {
        Message msg = event_message(e, saved);
        it->second->on_every_response(e.status, phrase_or(e.phrase, ""), msg);
      }
      return;
    }
    if (authenticate(e)) return;
    Message msg = event_message(e, saved);
    auto pending = std::move(it->second);
    e.ua.requests_.erase(it);
    nua_handle_destroy(e.nh);
    if (pending->on_response) pending->on_response(e.status, msg);
    if (pending->on_every_response) pending->on_every_response(e.status, phrase_or(e.phrase, ""), msg);
  }

  // ---- the stack's own news ----

  // A dialog's state changed: established, answered, or over (on_terminated, once).
  static void on_i_state(const NuaEvent& e) {
    auto call = call_of(e);
    if (!call) return;
    int state = nua_callstate_init;
    tl_gets(e.tags, NUTAG_CALLSTATE_REF(state), TAG_END());
    if (state == nua_callstate_completed && call->incoming_) call->answered_ = true;
    if (state == nua_callstate_ready) {
      call->established_ = true;
      if (call->bye_pending_) nua_bye(e.nh, TAG_END());
    }
    if (state == nua_callstate_terminated && !call->terminated_) {
      call->terminated_ = true;
      call->established_ = false;
      if (call->handler_) call->handler_->on_terminated(*call, e.status, phrase_or(e.phrase, ""));
      e.ua.forget(e.nh);
    }
  }

  static void on_r_shutdown(const NuaEvent& e) {
    if (e.status >= 200) e.ua.shut_down_ = true;
  }

  static void on_i_error(const NuaEvent& e) { spdlog::warn("SIP stack error {} {}", e.status, phrase_or(e.phrase, "")); }
};

UserAgent::UserAgent(EventLoop& loop, UserAgentOptions options, Handler& handler)
    : loop_(loop), options_(std::move(options)), handler_(handler) {
  ensure_sofia_runtime();
  if (options_.listen.empty()) throw std::runtime_error("no listen address given");
  const ListenSpec& first = options_.listen.front();
  bool udp = false, tcp = false;
  for (auto& l : options_.listen) {
    if (l.host != first.host || l.port != first.port) continue;
    (l.transport == "tcp" ? tcp : udp) = true;
  }
  host_ = first.host;
  port_ = first.port;
  contact_ = "sip:" + host_port(host_, std::to_string(port_));
  std::string url = contact_ + ((udp && tcp) ? "" : udp ? ";transport=udp" : ";transport=tcp");
  if (options_.identity.empty()) options_.identity = contact_;
  std::string events, allow = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, REFER, NOTIFY, UPDATE, MESSAGE";
  for (auto& e : options_.allow_events) events += (events.empty() ? "" : ", ") + e;
  // SUBSCRIBE is already among nua's default application methods (it is merged
  // into this list); naming it again makes nua_create() read freed memory
  // (Sofia 1.12.11, msg_params_join), so it is not named here.
  std::string appl = "INVITE, INFO, REFER, UPDATE, MESSAGE";
  if (!events.empty()) allow += ", SUBSCRIBE";
  trace_ = SipTrace::tap(options_.listen);
  nua_ = nua_create(loop.native(), reinterpret_cast<nua_callback_f>(&NuaEvents::callback),
                    reinterpret_cast<nua_magic_t*>(this), NUTAG_URL(url.c_str()), NUTAG_MEDIA_ENABLE(0),
                    NUTAG_AUTOALERT(0), NUTAG_AUTOANSWER(0), NUTAG_AUTOACK(1), NUTAG_ENABLEINVITE(1),
                    NUTAG_REFER_WITH_ID(1),
                    TAG_IF(!events.empty(), NUTAG_ALLOW_EVENTS(events.c_str())), NUTAG_ALLOW(allow.c_str()),
                    NUTAG_APPL_METHOD(appl.c_str()),
                    NUTAG_USER_AGENT(options_.user_agent.c_str()), SIPTAG_FROM_STR(options_.identity.c_str()),
                    NUTAG_OUTBOUND("no-natify no-options-keepalive no-validate"), NUTAG_KEEPALIVE(0),
                    TAG_IF(!options_.proxy.empty(), NUTAG_PROXY(options_.proxy.c_str())),
                    NTATAG_SIP_T1X64(options_.transaction_timeout_ms), TPTAG_STUN_SERVER(0),
                    TPTAG_UDP_RMEM(options_.udp_buffer_bytes), TPTAG_UDP_WMEM(options_.udp_buffer_bytes),
                    TAG_IF(trace_, TPTAG_DUMP(trace_ ? trace_->dump_path() : nullptr)), TAG_IF(trace_, TPTAG_LOG(1)),
                    TAG_END());
  if (trace_) trace_->started();
  if (!nua_) {
    std::vector<ListenSpec> tried;  // what the URL above binds
    for (auto& l : options_.listen)
      if (l.host == first.host && l.port == first.port) tried.push_back(l);
    throw std::runtime_error(cannot_listen_message(tried));
  }
}

UserAgent::~UserAgent() {
  if (nua_) {
    if (!shut_down_) shutdown();
    nua_destroy(nua_);
  }
}

void UserAgent::forget(nua_handle_s* nh) {
  auto it = calls_.find(nh);
  if (it == calls_.end()) return;
  nua_handle_bind(nh, nullptr);
  // Keep the Call object alive for whoever still holds it; the handle goes now.
  calls_.erase(it);
  nua_handle_destroy(nh);
}

std::shared_ptr<Call> UserAgent::invite(const std::string& target, std::string_view sdp, CallHandler& handler,
                                        const CallOptions& options) {
  std::string from = options.from.empty() ? options_.identity : options.from;
  // A proxy for this call alone goes in as a pre-loaded route (RFC 3261 section
  // 8.1.2): Sofia 1.12.11's nua ignores NUTAG_PROXY on a handle and would look
  // the target's host up instead.
  std::string route = options.proxy.empty() ? std::string() : "<" + loose_route(options.proxy) + ">";
  // A bare URI in To would lose its parameters (sip:+1555@gw;user=phone) to the
  // header, and with them the Request-URI: keep it whole inside <>.
  std::string to = target.find('<') == std::string::npos ? "<" + target + ">" : target;
  // The Call-ID is ours, not left to the stack, so that the call can be logged
  // under it before the INVITE has gone out.
  std::string call_id = base::random_hex(16);
  nua_handle_t* nh = nua_handle(nua_, nullptr, SIPTAG_TO_STR(to.c_str()), SIPTAG_FROM_STR(from.c_str()),
                                SIPTAG_CALL_ID_STR(call_id.c_str()), NUTAG_AUTOACK(options.auto_ack ? 1 : 0),
                                TAG_IF(!options_.proxy.empty(), NUTAG_PROXY(options_.proxy.c_str())), TAG_END());
  if (!nh) return nullptr;
  auto call = std::shared_ptr<Call>(new Call(*this, nh, false));
  call->call_id_ = call_id;
  call->handler_ = &handler;
  call->auto_ack_ = options.auto_ack;
  nua_handle_bind(nh, reinterpret_cast<nua_hmagic_t*>(call.get()));
  calls_[nh] = call;
  // nua drops a Replaces given among the free-form headers; it must come as its own tag.
  std::vector<HeaderField> others;
  std::string replaces;
  for (auto& h : options.headers)
    if (strcasecmp(h.name.c_str(), "Replaces") == 0)
      replaces = h.value;
    else
      others.push_back(h);
  std::string body(sdp), extra = header_block(others);
  nua_invite(nh, TAG_IF(!route.empty(), SIPTAG_ROUTE_STR(route.c_str())), SIPTAG_HEADER_STR(or_null(extra)),
             TAG_IF(!replaces.empty(), SIPTAG_REPLACES_STR(replaces.c_str())),
             TAG_IF(!body.empty(), SIPTAG_CONTENT_TYPE_STR("application/sdp")),
             TAG_IF(!body.empty(), SIPTAG_PAYLOAD_STR(body.c_str())), TAG_END());
  return call;
}

std::unique_ptr<Registration> UserAgent::register_at(const std::string& aor, const std::string& registrar,
                                                     unsigned expires, RegistrationHandler* handler) {
  nua_handle_t* nh = nua_handle(nua_, nullptr, SIPTAG_TO_STR(aor.c_str()), SIPTAG_FROM_STR(aor.c_str()), TAG_END());
  if (!nh) return nullptr;
  std::unique_ptr<Registration> reg(new Registration(*this, nh, handler));
  registrations_[nh] = reg.get();
  auto user = Uri::parse(aor);
  std::string exp = std::to_string(expires);
  nua_register(nh, NUTAG_REGISTRAR(registrar.c_str()), SIPTAG_EXPIRES_STR(exp.c_str()),
               TAG_IF(user && !user->user().empty(), NUTAG_M_USERNAME(user->user().c_str())), TAG_END());
  return reg;
}

void UserAgent::send_request(Method method, const std::string& target, std::string_view content_type,
                             std::string_view body, std::function<void(int, const Message&)> on_response,
                             const std::vector<HeaderField>& headers) {
  nua_handle_t* nh = nua_handle(nua_, nullptr, SIPTAG_TO_STR(target.c_str()), TAG_END());
  if (!nh) return;
  requests_[nh] = std::make_unique<PendingRequest>(PendingRequest{method, std::move(on_response), {}});
  std::string ct(content_type), payload(body), extra = header_block(headers);
  auto common = [&](auto fn) {
    fn(nh, SIPTAG_HEADER_STR(or_null(extra)), TAG_IF(!ct.empty(), SIPTAG_CONTENT_TYPE_STR(ct.c_str())),
       TAG_IF(!payload.empty(), SIPTAG_PAYLOAD_STR(payload.c_str())), TAG_END());
  };
  if (method == Method::Options)
    common(nua_options);
  else if (method == Method::Message)
    common(nua_message);
  else {
    // nua_method needs the name in NUTAG_METHOD (else it fails with 900).
    std::string name(method_name(method));
    nua_method(nh, NUTAG_METHOD(name.c_str()), SIPTAG_REQUEST_STR((name + " " + target + " SIP/2.0").c_str()),
               SIPTAG_HEADER_STR(or_null(extra)),
               TAG_IF(!ct.empty(), SIPTAG_CONTENT_TYPE_STR(ct.c_str())),
               TAG_IF(!payload.empty(), SIPTAG_PAYLOAD_STR(payload.c_str())), TAG_END());
  }
}

void UserAgent::send_request(const RequestSpec& r, ResponseCallback on_response) {
  std::string to = r.to.empty() ? r.request_uri : r.to;
  std::string from = r.from.empty() ? options_.identity : r.from;
  nua_handle_t* nh = nua_handle(nua_, nullptr, SIPTAG_TO_STR(to.c_str()), SIPTAG_FROM_STR(from.c_str()), TAG_END());
  if (!nh) {
    if (on_response) on_response(500, "cannot create a SIP handle", Message());
    return;
  }
  requests_[nh] = std::make_unique<PendingRequest>(PendingRequest{method_from_name(r.method), {}, std::move(on_response)});
  std::string extra = header_block(r.headers);
  nua_method(nh, NUTAG_METHOD(r.method.c_str()), NUTAG_URL(r.request_uri.c_str()), SIPTAG_HEADER_STR(or_null(extra)),
             TAG_IF(!r.content_type.empty(), SIPTAG_CONTENT_TYPE_STR(r.content_type.c_str())),
             TAG_IF(!r.body.empty(), SIPTAG_PAYLOAD_STR(r.body.c_str())), TAG_END());
}

void UserAgent::shutdown(std::chrono::milliseconds timeout) {
  if (shut_down_ || !nua_) return;
  for (auto& [nh, call] : calls_)
    if (!call->terminated_) call->hangup();
  nua_shutdown(nua_);
  auto until = std::chrono::steady_clock::now() + timeout;
  while (!shut_down_ && std::chrono::steady_clock::now() < until) loop_.run_for(std::chrono::milliseconds(20));
  shut_down_ = true;
}

}  // namespace confab::sip

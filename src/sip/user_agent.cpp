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

#include <set>
#include <stdexcept>

#include "sip/nua_internal.h"
#include "sip/sofia_runtime.h"
#include "sip/uri.h"

namespace confab::sip {

namespace {


// The realm of the first challenge in a 401/407.
std::string challenge_realm(sip_t const* sip) {
  msg_auth_t const* au = sip ? (sip->sip_www_authenticate ? sip->sip_www_authenticate : sip->sip_proxy_authenticate)
                             : nullptr;
  for (; au; au = au->au_next)
    for (auto p = au->au_params; p && *p; ++p)
      if (strncasecmp(*p, "realm=", 6) == 0) {
        std::string r = *p + 6;
        if (r.size() >= 2 && r.front() == '"' && r.back() == '"') r = r.substr(1, r.size() - 2);
        return r;
      }
  return {};
}

std::string_view phrase_or(char const* phrase, std::string_view fallback) {
  return phrase ? std::string_view(phrase) : fallback;
}

}  // namespace

std::string header_block(const std::vector<HeaderField>& headers) {
  std::string s;
  for (auto& h : headers) {
    if (h.name.empty() || h.name.find_first_of(":\r\n ") != std::string::npos ||
        h.value.find_first_of("\r\n") != std::string::npos)
      continue;
    s += h.name + ": " + h.value + "\r\n";
  }
  return s;
}

const char* or_null(const std::string& s) { return s.empty() ? nullptr : s.c_str(); }

// nua_respond() hands its reason phrase to the stack asynchronously and keeps
// the pointer (tags are copied, the phrase is not): it must outlive the call.
// Phrases are interned; past a bound, arbitrary ones fall back to the standard text.
const char* lasting_phrase(int status, std::string_view reason) {
  static std::set<std::string, std::less<>> interned;
  if (auto it = interned.find(reason); it != interned.end()) return it->c_str();
  if (interned.size() < 1024) return interned.emplace(reason).first->c_str();
  const char* standard = sip_status_phrase(status);
  return standard ? standard : "";
}

bool answer_challenge(const std::vector<UserCredentials>& credentials, nua_handle_t* nh, int status, sip_t const* sip) {
  if ((status != 401 && status != 407) || credentials.empty()) return false;
  std::string realm = challenge_realm(sip);
  for (auto& c : credentials) {
    if (!c.realm.empty() && c.realm != realm) continue;
    std::string auth = "Digest:\"" + realm + "\":" + c.user + ":" + c.password;
    nua_authenticate(nh, NUTAG_AUTH(auth.c_str()), TAG_END());
    return true;
  }
  return false;
}

// ---- UserAgent ----

struct UserAgent::PendingRequest {
  Method method;
  std::function<void(int, const Message&)> on_response;  // final response only
  ResponseCallback on_every_response;                     // provisional ones too
};

struct NuaEvents {
  static void callback(nua_event_t event, int status, char const* phrase, nua_t* nua, nua_magic_t* magic,
                       nua_handle_t* nh, nua_hmagic_t*, sip_t const* sip, tagi_t tags[]) {
    auto* ua = reinterpret_cast<UserAgent*>(magic);
    try {
      dispatch(*ua, event, status, phrase, nua, nh, sip, tags);
    } catch (const std::exception& e) {
      spdlog::error("SIP event {} handler failed: {}", nua_event_name(event), e.what());
    }
  }

  static Message event_message(nua_t* nua, std::unique_ptr<IncomingRequest::Saved>& saved) {
    saved = std::make_unique<IncomingRequest::Saved>();
    nua_save_event(nua, saved->event);
    nua_event_data_t const* data = nua_event_data(saved->event);
    return data && data->e_msg ? Message::share(data->e_msg) : Message();
  }

  static std::shared_ptr<Call> call_of(UserAgent& ua, nua_handle_t* nh) {
    auto it = ua.calls_.find(nh);
    return it == ua.calls_.end() ? nullptr : it->second;
  }

  static bool authenticate(UserAgent& ua, nua_handle_t* nh, int status, sip_t const* sip) {
    return answer_challenge(ua.options_.credentials, nh, status, sip);
  }

  static void dispatch(UserAgent& ua, nua_event_t event, int status, char const* phrase, nua_t* nua,
                       nua_handle_t* nh, sip_t const* sip, tagi_t tags[]) {
    if (SubscriptionEvents::dispatch(ua, event, status, phrase, nua, nh, sip, tags)) return;
    std::unique_ptr<IncomingRequest::Saved> saved;
    switch (event) {
      case nua_i_invite: {
        Message msg = event_message(nua, saved);
        auto call = call_of(ua, nh);
        if (!call) {
          call = std::shared_ptr<Call>(new Call(ua, nh, true));
          if (sip && sip->sip_call_id && sip->sip_call_id->i_id) call->call_id_ = sip->sip_call_id->i_id;
          if (sip && sip->sip_from && sip->sip_from->a_tag) call->remote_tag_ = sip->sip_from->a_tag;
          nua_handle_bind(nh, reinterpret_cast<nua_hmagic_t*>(call.get()));
          ua.calls_[nh] = call;
          ua.handler_.on_incoming_call(call, IncomingRequest(nua, nh, std::move(saved), std::move(msg)));
        } else if (call->handler_) {
          call->handler_->on_reinvite(*call, IncomingRequest(nua, nh, std::move(saved), std::move(msg)));
        } else {
          IncomingRequest(nua, nh, std::move(saved), std::move(msg)).respond(488, "Not Acceptable Here");
        }
        return;
      }
      case nua_i_update: {
        Message msg = event_message(nua, saved);
        auto call = call_of(ua, nh);
        if (call && call->handler_ && status < 200)
          call->handler_->on_reinvite(*call, IncomingRequest(nua, nh, std::move(saved), std::move(msg)));
        return;
      }
      case nua_i_ack: {
        Message msg = event_message(nua, saved);
        // The ACK's To tag is the tag we gave the dialog (nua_handle_local() has none).
        if (auto call = call_of(ua, nh); call && call->local_tag_.empty() && sip && sip->sip_to && sip->sip_to->a_tag)
          call->local_tag_ = sip->sip_to->a_tag;
        if (auto call = call_of(ua, nh); call && call->handler_) call->handler_->on_ack(*call, msg);
        return;
      }
      case nua_i_info:
      case nua_i_refer: {
        Message msg = event_message(nua, saved);
        auto call = call_of(ua, nh);
        if (status >= 200) return;  // already answered by the stack
        IncomingRequest req(nua, nh, std::move(saved), std::move(msg));
        if (call && call->handler_) {
          if (event == nua_i_info)
            call->handler_->on_info(*call, std::move(req));
          else
            call->handler_->on_refer(*call, std::move(req));
        } else if (!call) {  // INFO outside a dialog (REFER outside one is a SubscriptionEvent)
          req.saved_->owns_handle = true;
          ua.handler_.on_request(std::move(req));
        }
        return;
      }
      case nua_i_notify: {
        Message msg = event_message(nua, saved);
        if (auto call = call_of(ua, nh); call && call->handler_) call->handler_->on_notify(*call, msg);
        return;
      }
      case nua_i_message:
      case nua_i_options:
      case nua_i_method:
      case nua_i_publish: {
        if (status >= 200) return;  // already answered by the stack
        Message msg = event_message(nua, saved);
        IncomingRequest req(nua, nh, std::move(saved), std::move(msg));
        if (auto call = call_of(ua, nh)) {  // in a dialog: the call's handler answers
          if (call->handler_)
            call->handler_->on_request(*call, std::move(req));
          else
            req.respond(405, "Method Not Allowed");
          return;
        }
        req.saved_->owns_handle = true;
        ua.handler_.on_request(std::move(req));
        return;
      }
      case nua_r_invite: {
        auto call = call_of(ua, nh);
        if (!call) return;
        if (authenticate(ua, nh, status, sip)) return;
        Message msg = event_message(nua, saved);
        if (status >= 200) call->answered_ = true;
        if (status >= 200 && status < 300 && !call->auto_ack_) call->ack_due_ = true;
        if (call->call_id_.empty() && sip && sip->sip_call_id && sip->sip_call_id->i_id)
          call->call_id_ = sip->sip_call_id->i_id;
        if (status >= 200 && status < 300 && sip && sip->sip_to && sip->sip_to->a_tag) {
          call->remote_tag_ = sip->sip_to->a_tag;
          if (sip->sip_from && sip->sip_from->a_tag) call->local_tag_ = sip->sip_from->a_tag;
        }
        if (call->handler_) call->handler_->on_invite_response(*call, status, msg);
        return;
      }
      case nua_r_bye:
      case nua_r_info:
      case nua_r_refer:
      case nua_r_update:
      case nua_r_notify: {
        auto call = call_of(ua, nh);
        if (!call || !call->handler_) return;
        if (authenticate(ua, nh, status, sip)) return;
        Message msg = event_message(nua, saved);
        Method m = event == nua_r_bye ? Method::Bye : event == nua_r_info ? Method::Info
                 : event == nua_r_refer ? Method::Refer : event == nua_r_update ? Method::Update : Method::Notify;
        call->handler_->on_request_response(*call, m, status, msg);
        return;
      }
      case nua_i_state: {
        auto call = call_of(ua, nh);
        if (!call) return;
        int state = nua_callstate_init;
        tl_gets(tags, NUTAG_CALLSTATE_REF(state), TAG_END());
        if (state == nua_callstate_completed && call->incoming_) call->answered_ = true;
        if (state == nua_callstate_ready) {
          call->established_ = true;
          if (call->bye_pending_) nua_bye(nh, TAG_END());
        }
        if (state == nua_callstate_terminated && !call->terminated_) {
          call->terminated_ = true;
          call->established_ = false;
          if (call->handler_) call->handler_->on_terminated(*call, status, phrase_or(phrase, ""));
          ua.forget(nh);
        }
        return;
      }
      case nua_r_register:
      case nua_r_unregister: {
        auto it = ua.registrations_.find(nh);
        if (it == ua.registrations_.end()) return;
        if (status < 200) return;
        if (authenticate(ua, nh, status, sip)) return;
        Registration* reg = it->second;
        if (!reg) {  // the owner is gone: this was the un-REGISTER
          if (event == nua_r_unregister || status >= 300) {
            ua.registrations_.erase(it);
            nua_handle_destroy(nh);
          }
          return;
        }
        reg->registered_ = event == nua_r_register && status < 300;
        if (reg->handler_) reg->handler_->on_registration(status, phrase_or(phrase, ""));
        return;
      }
      case nua_r_options:
      case nua_r_message:
      case nua_r_method: {
        if (auto call = call_of(ua, nh); call && event != nua_r_message) {  // in a dialog: request() or ping()
          if (!call->handler_ || authenticate(ua, nh, status, sip)) return;
          Message msg = event_message(nua, saved);
          if (event == nua_r_method)
            call->handler_->on_method_response(*call, status, phrase_or(phrase, ""), msg);
          else if (status >= 200)
            call->handler_->on_request_response(*call, Method::Options, status, msg);
          return;
        }
        auto it = ua.requests_.find(nh);
        if (it == ua.requests_.end()) return;
        if (status < 200) {
          if (it->second->on_every_response) {
            Message msg = event_message(nua, saved);
            it->second->on_every_response(status, phrase_or(phrase, ""), msg);
          }
          return;
        }
        if (authenticate(ua, nh, status, sip)) return;
        Message msg = event_message(nua, saved);
        auto pending = std::move(it->second);
        ua.requests_.erase(it);
        nua_handle_destroy(nh);
        if (pending->on_response) pending->on_response(status, msg);
        if (pending->on_every_response) pending->on_every_response(status, phrase_or(phrase, ""), msg);
        return;
      }
      case nua_r_shutdown:
        if (status >= 200) ua.shut_down_ = true;
        return;
      case nua_i_error:
        spdlog::warn("SIP stack error {} {}", status, phrase_or(phrase, ""));
        return;
      default:
        return;
    }
  }
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
  nua_ = nua_create(loop.native(), reinterpret_cast<nua_callback_f>(&NuaEvents::callback),
                    reinterpret_cast<nua_magic_t*>(this), NUTAG_URL(url.c_str()), NUTAG_MEDIA_ENABLE(0),
                    NUTAG_AUTOALERT(0), NUTAG_AUTOANSWER(0), NUTAG_AUTOACK(1), NUTAG_ENABLEINVITE(1),
                    TAG_IF(!events.empty(), NUTAG_ALLOW_EVENTS(events.c_str())), NUTAG_ALLOW(allow.c_str()),
                    NUTAG_APPL_METHOD(appl.c_str()),
                    NUTAG_USER_AGENT(options_.user_agent.c_str()), SIPTAG_FROM_STR(options_.identity.c_str()),
                    NUTAG_OUTBOUND("no-natify no-options-keepalive no-validate"), NUTAG_KEEPALIVE(0),
                    TAG_IF(!options_.proxy.empty(), NUTAG_PROXY(options_.proxy.c_str())),
                    NTATAG_SIP_T1X64(options_.transaction_timeout_ms), TPTAG_STUN_SERVER(0),
                    TPTAG_UDP_RMEM(options_.udp_buffer_bytes), TPTAG_UDP_WMEM(options_.udp_buffer_bytes), TAG_END());
  if (!nua_) throw std::runtime_error("cannot listen on " + first.str());
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
  std::string proxy = options.proxy.empty() ? options_.proxy : options.proxy;
  // A bare URI in To would lose its parameters (sip:+1555@gw;user=phone) to the
  // header, and with them the Request-URI: keep it whole inside <>.
  std::string to = target.find('<') == std::string::npos ? "<" + target + ">" : target;
  nua_handle_t* nh = nua_handle(nua_, nullptr, SIPTAG_TO_STR(to.c_str()), SIPTAG_FROM_STR(from.c_str()),
                                NUTAG_AUTOACK(options.auto_ack ? 1 : 0),
                                TAG_IF(!proxy.empty(), NUTAG_PROXY(proxy.c_str())), TAG_END());
  if (!nh) return nullptr;
  auto call = std::shared_ptr<Call>(new Call(*this, nh, false));
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
  nua_invite(nh, SIPTAG_HEADER_STR(or_null(extra)), TAG_IF(!replaces.empty(), SIPTAG_REPLACES_STR(replaces.c_str())),
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

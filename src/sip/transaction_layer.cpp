#include "sip/transaction_layer.h"

#include <sofia-sip/msg_addr.h>
#include <sofia-sip/nta.h>
#include <sofia-sip/nta_stateless.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_tag.h>
#include <sofia-sip/sip_util.h>
#include <sofia-sip/sresolv.h>
#include <sofia-sip/su_tagarg.h>
#include <sofia-sip/tport_tag.h>
#include <spdlog/spdlog.h>
#include <strings.h>

#include <charconv>
#include <stdexcept>

#include "base/bind_error.h"
#include "base/host_port.h"
#include "sip/sip_trace.h"
#include "sip/sofia_runtime.h"
#include "sip/uri.h"

namespace confab::sip {

namespace {

std::string header_block(const std::vector<HeaderField>& headers) {
  std::string s;
  for (auto& h : headers) {
    if (h.name.empty() || h.name.find_first_of(":\r\n ") != std::string::npos ||
        h.value.find_first_of("\r\n") != std::string::npos)
      continue;  // never let a caller inject a header break
    s += h.name + ": " + h.value + "\r\n";
  }
  return s;
}

const char* or_null(const std::string& s) { return s.empty() ? nullptr : s.c_str(); }

}  // namespace

// The C callbacks Sofia calls, with its exact signatures; they forward to the C++ objects.
struct NtaCallbacks {
  static int on_message(nta_agent_magic_t* magic, nta_agent_t*, msg_t* msg, sip_t* sip) {
    auto* self = reinterpret_cast<TransactionLayer*>(magic);
    Message m = Message::adopt(msg);
    try {
      if (sip && sip->sip_request) {
        self->counts_.request_received(m.method_name());
        self->handler_.on_request(std::move(m));
      } else if (sip && sip->sip_status)
        self->handler_.on_stray_response(std::move(m));
    } catch (const std::exception& e) {
      spdlog::error("SIP message handler failed: {}", e.what());
    }
    return 0;
  }

  static int on_ack_cancel(nta_incoming_magic_t* magic, nta_incoming_t*, sip_t const* sip) {
    auto* self = reinterpret_cast<ServerTransaction*>(magic);
    if (sip && sip->sip_request && sip->sip_request->rq_method == sip_method_cancel && self->handler_) {
      try {
        self->handler_->on_cancel(*self);
      } catch (const std::exception& e) {
        spdlog::error("CANCEL handler failed: {}", e.what());
      }
      return 200;
    }
    return 0;
  }

  static int on_response(nta_outgoing_magic_t* magic, nta_outgoing_t* orq, sip_t const* sip) {
    auto* self = reinterpret_cast<ClientTransaction*>(magic);
    Message response = Message::adopt(nta_outgoing_getresponse(orq));
    bool local = nta_sip_is_internal(sip) != 0;
    if (!local && sip && sip->sip_status) self->counts_.response_received(response.cseq_method(), response.status());
    try {
      self->handler_->on_response(*self, response, local);
    } catch (const std::exception& e) {
      spdlog::error("response handler failed: {}", e.what());
    }
    return 0;
  }
};

std::optional<ListenSpec> ListenSpec::parse(std::string_view text) {
  ListenSpec spec;
  spec.transport = "udp";
  for (std::string_view t : {"udp:", "tcp:"}) {
    if (text.size() > t.size() && strncasecmp(text.data(), t.data(), t.size()) == 0) {
      spec.transport = std::string(t.substr(0, 3));
      text.remove_prefix(t.size());
      break;
    }
  }
  auto with_port = base::split_host_port(text);
  auto hp = with_port ? with_port : base::split_host_port(text, true);
  if (!hp || (with_port && with_port->port == 0)) return std::nullopt;
  spec.host = hp->host;
  if (hp->port) spec.port = hp->port;
  return spec;
}

std::string ListenSpec::sofia_url() const {
  return "sip:" + host_port(host, std::to_string(port)) + ";transport=" + transport;
}

std::string ListenSpec::str() const { return transport + ":" + host_port(host, std::to_string(port)); }

std::string cannot_listen_message(const std::vector<ListenSpec>& tried) {
  if (tried.empty()) return "cannot listen: no address given";
  for (const auto& spec : tried)
    if (auto reason = base::bind_failure(spec.transport, spec.host, spec.port))
      return "cannot listen on " + spec.str() + ": " + *reason;
  return "cannot listen on " + tried.front().str() + ": the SIP stack refused it, though a plain socket binds there";
}

TransactionLayer::TransactionLayer(EventLoop& loop, const TransactionLayerOptions& options, Handler& handler)
    : loop_(loop), handler_(handler) {
  ensure_sofia_runtime();
  if (options.listen.empty()) throw std::runtime_error("no listen address given");
  auto first = options.listen.front().sofia_url();
  trace_ = SipTrace::tap(options.listen);
  agent_ = nta_agent_create(loop.native(), URL_STRING_MAKE(first.c_str()), &NtaCallbacks::on_message,
                            reinterpret_cast<nta_agent_magic_t*>(this),
                            NTATAG_UA(0),                 // forward, do not act as a user agent
                            NTATAG_CANCEL_487(0),         // the 487 comes from downstream
                            NTATAG_SERVER_RPORT(1), NTATAG_CLIENT_RPORT(1),
                            NTATAG_MAXSIZE(options.max_message_size), NTATAG_MERGE_482(0),
                            NTATAG_SIP_T1X64(options.transaction_timeout_ms),
                            // Large UDP buffers: a burst during a short stall (a hash table
                            // growing, a page-faulting allocation) must queue, not drop.
                            TPTAG_UDP_RMEM(options.udp_buffer_bytes), TPTAG_UDP_WMEM(options.udp_buffer_bytes),
                            // No built-in STUN server on SIP ports: Sofia's leaks memory on
                            // every STUN request (send_stun_error) and logs each to stderr.
                            TPTAG_STUN_SERVER(0),
                            TAG_IF(!options.resolv_conf.empty(), SRESTAG_RESOLV_CONF(options.resolv_conf.c_str())),
                            TAG_IF(trace_, TPTAG_DUMP(trace_ ? trace_->dump_path() : nullptr)),
                            TAG_IF(trace_, TPTAG_LOG(1)), TAG_END());
  if (trace_) trace_->started();
  if (!agent_) throw std::runtime_error(cannot_listen_message({options.listen.front()}));
  for (size_t i = 1; i < options.listen.size(); ++i) {
    auto url = options.listen[i].sofia_url();
    if (nta_agent_add_tport(agent_, URL_STRING_MAKE(url.c_str()), TPTAG_UDP_RMEM(options.udp_buffer_bytes),
                            TPTAG_UDP_WMEM(options.udp_buffer_bytes), TAG_END()) < 0) {
      std::string message = cannot_listen_message({options.listen[i]});  // before ours close: a repeat is "in use"
      nta_agent_destroy(agent_);
      throw std::runtime_error(message);
    }
  }
  for (sip_via_t* v = nta_agent_via(agent_); v; v = v->v_next) {
    LocalAddress a;
    std::string_view proto = v->v_protocol ? v->v_protocol : "";
    if (auto slash = proto.rfind('/'); slash != std::string_view::npos) proto.remove_prefix(slash + 1);
    for (char c : proto) a.transport += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    a.host = v->v_host ? v->v_host : "";
    a.port = v->v_port ? v->v_port : "5060";
    local_.push_back(std::move(a));
  }
}

TransactionLayer::~TransactionLayer() {
  if (agent_) nta_agent_destroy(agent_);
}

bool TransactionLayer::is_local(std::string_view host, uint16_t port) const {
  if (!host.empty() && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  for (auto& a : local_) {
    if (a.host.size() == host.size() && strncasecmp(a.host.data(), host.data(), host.size()) == 0 &&
        a.port == std::to_string(port))
      return true;
  }
  return false;
}

std::unique_ptr<ServerTransaction> TransactionLayer::accept(const Message& request) {
  if (!request.native()) return nullptr;
  nta_incoming_t* irq = nta_incoming_create(agent_, nullptr, msg_ref_create(request.native()), nullptr, TAG_END());
  if (!irq) return nullptr;
  std::unique_ptr<ServerTransaction> st(new ServerTransaction(irq, request, counts_));
  nta_incoming_bind(irq, &NtaCallbacks::on_ack_cancel, reinterpret_cast<nta_incoming_magic_t*>(st.get()));
  return st;
}

void TransactionLayer::reply_stateless(const Message& request, int status, std::string_view reason,
                                       const std::vector<HeaderField>& headers) {
  if (!request.native()) return;
  std::string phrase(reason), extra = header_block(headers);
  counts_.response_sent(request.method_name(), status);
  nta_msg_treply(agent_, msg_ref_create(request.native()), status, phrase.c_str(),
                 SIPTAG_HEADER_STR(or_null(extra)), TAG_END());
}

std::unique_ptr<ClientTransaction> TransactionLayer::send(Message request, ClientTransactionHandler& handler,
                                                          const SendOptions& options) {
  std::unique_ptr<ClientTransaction> ct(new ClientTransaction(handler, counts_));
  msg_t* msg = request.release();
  if (!msg) return nullptr;
  nta_outgoing_t* orq = nta_outgoing_mcreate(
      agent_, &NtaCallbacks::on_response, reinterpret_cast<nta_outgoing_magic_t*>(ct.get()),
      options.next_hop.empty() ? nullptr : URL_STRING_MAKE(options.next_hop.c_str()), msg,
      TAG_IF(!options.branch.empty(), NTATAG_BRANCH_KEY(options.branch.c_str())), TAG_END());
  if (!orq) {
    msg_destroy(msg);
    return nullptr;
  }
  ct->orq_ = orq;
  if (const char* b = nta_outgoing_branch(orq)) ct->branch_ = b;
  return ct;
}

bool TransactionLayer::send_stateless(Message request, const std::string& next_hop) {
  // nta_msg_tsend() leaks the message when it cannot route it (found by fuzzing),
  // so refuse anything whose next hop or Request-URI is not a SIP URI up front.
  auto sip_uri = [](const std::string& text) {
    auto u = Uri::parse(text);
    return u && (u->scheme() == "sip" || u->scheme() == "sips");
  };
  auto routes = request.routes();
  const std::string& hop = !next_hop.empty() ? next_hop : !routes.empty() ? routes.front() : std::string();
  if (!sip_uri(request.request_uri()) || (!hop.empty() && !sip_uri(hop))) return false;
  msg_t* msg = request.release();
  if (!msg) return false;
  return nta_msg_tsend(agent_, msg, next_hop.empty() ? nullptr : URL_STRING_MAKE(next_hop.c_str()), TAG_END()) == 0;
}

bool TransactionLayer::forward_response_stateless(Message response) {
  auto vias = response.vias();
  if (vias.size() < 2) return false;  // nobody to forward to
  uint16_t port = 5060;
  if (!vias[0].port.empty()) std::from_chars(vias[0].port.data(), vias[0].port.data() + vias[0].port.size(), port);
  if (!is_local(vias[0].host, port)) return false;
  counts_.response_sent(response.cseq_method(), response.status());
  return nta_msg_tsend(agent_, response.release(), nullptr, TAG_END()) == 0;
}

TransactionLayer::Stats TransactionLayer::stats() const {
  usize_t recv_request = 0, recv_response = 0, bad = 0, server_tr = 0, client_tr = 0;
  nta_agent_get_stats(agent_, NTATAG_S_RECV_REQUEST_REF(recv_request), NTATAG_S_RECV_RESPONSE_REF(recv_response),
                      NTATAG_S_BAD_MESSAGE_REF(bad), NTATAG_S_SERVER_TR_REF(server_tr),
                      NTATAG_S_CLIENT_TR_REF(client_tr), TAG_END());
  return {recv_request, recv_response, bad, server_tr, client_tr};
}

void SipMessageCounts::request_received(std::string_view method) {
  auto it = requests_received.find(method);
  if (it == requests_received.end()) it = requests_received.emplace(std::string(method), 0).first;
  ++it->second;
}

namespace {
void add_one(SipMessageCounts::ByMethodStatus& counts, std::string_view method, int status) {
  ++counts[{std::string(method), status}];
}
}  // namespace

void SipMessageCounts::response_received(std::string_view method, int status) {
  add_one(responses_received, method, status);
}
void SipMessageCounts::response_sent(std::string_view method, int status) { add_one(responses_sent, method, status); }

ServerTransaction::ServerTransaction(nta_incoming_s* irq, Message request, SipMessageCounts& counts)
    : irq_(irq), request_(std::move(request)), counts_(counts) {}

ServerTransaction::~ServerTransaction() {
  if (irq_) nta_incoming_destroy(irq_);
}

bool ServerTransaction::reply(int status, std::string_view reason, const std::vector<HeaderField>& headers,
                              std::string_view content_type, std::string_view body) {
  std::string phrase(reason), extra = header_block(headers), ct(content_type), payload(body);
  counts_.response_sent(request_.method_name(), status);
  return nta_incoming_treply(irq_, status, phrase.c_str(), SIPTAG_HEADER_STR(or_null(extra)),
                             TAG_IF(!ct.empty(), SIPTAG_CONTENT_TYPE_STR(ct.c_str())),
                             TAG_IF(!payload.empty(), SIPTAG_PAYLOAD_STR(payload.c_str())), TAG_END()) == 0;
}

bool ServerTransaction::forward_response(Message response) {
  counts_.response_sent(response.cseq_method(), response.status());
  msg_t* msg = response.release();
  if (!msg) return false;
  sip_via_remove(msg, sip_object(msg));
  return nta_incoming_mreply(irq_, msg) == 0;
}

int ServerTransaction::status() const { return nta_incoming_status(irq_); }

ClientTransaction::~ClientTransaction() {
  if (orq_) nta_outgoing_destroy(orq_);
}

bool ClientTransaction::cancel() { return nta_outgoing_tcancel(orq_, nullptr, nullptr, TAG_END()) != nullptr; }

int ClientTransaction::status() const { return nta_outgoing_status(orq_); }

}  // namespace confab::sip

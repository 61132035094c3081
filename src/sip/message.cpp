// Message as a whole: handle lifetime, parsing, start line, body, source and
// serialisation; method names and the Replaces header (header fields are in
// message_headers.cpp).
#include "sip/message.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/msg_header.h>
#include <sofia-sip/msg_parser.h>
#include <sofia-sip/nta.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_protos.h>
#include <sofia-sip/su_alloc.h>

#include <cctype>

#include "sip/message_internal.h"
#include "sip/sofia_runtime.h"
#include "sip/uri.h"

namespace confab::sip {

std::string Address::str() const { return transport + ":" + host_port(host, std::to_string(port)); }

Message::~Message() {
  if (msg_) msg_destroy(msg_);
}

Message::Message(const Message& other) : msg_(other.msg_ ? msg_ref_create(other.msg_) : nullptr) {}

Message& Message::operator=(const Message& other) {
  if (this != &other) {
    Message tmp(other);
    std::swap(msg_, tmp.msg_);
  }
  return *this;
}

Message& Message::operator=(Message&& other) noexcept {
  if (this != &other) {
    if (msg_) msg_destroy(msg_);
    msg_ = std::exchange(other.msg_, nullptr);
  }
  return *this;
}

Message Message::adopt(msg_s* msg) { return Message(msg); }
Message Message::share(msg_s* msg) { return Message(msg ? msg_ref_create(msg) : nullptr); }

std::optional<Message> Message::parse(std::string_view bytes) {
  if (bytes.empty() || bytes.size() > 1024 * 1024) return std::nullopt;
  ensure_sofia_runtime();
  msg_t* m = msg_make(sip_default_mclass(), 0, bytes.data(), static_cast<isize_t>(bytes.size()));
  if (!m) return std::nullopt;
  Message msg(m);
  sip_t* sip = sip_object(m);
  if (!sip || (!sip->sip_request && !sip->sip_status) || msg.is_malformed()) return std::nullopt;
  return msg;
}

Message Message::copy() const { return Message(msg_ ? msg_copy(msg_) : nullptr); }

bool Message::is_request() const { auto* s = sip_of(msg_); return s && s->sip_request; }
bool Message::is_response() const { auto* s = sip_of(msg_); return s && s->sip_status; }

bool Message::is_local() const { return msg_ && nta_is_internal_msg(msg_); }

bool Message::is_malformed() const {
  auto* s = sip_of(msg_);
  if (!s) return true;
  return (s->sip_request && s->sip_status) || (s->sip_flags & MSG_FLG_ERROR) || s->sip_error;
}

Method Message::method() const {
  auto* s = sip_of(msg_);
  if (!s) return Method::Unknown;
  if (s->sip_request) return method_from_name(sv(s->sip_request->rq_method_name));
  if (s->sip_cseq) return method_from_name(sv(s->sip_cseq->cs_method_name));
  return Method::Unknown;
}

std::string_view Message::method_name() const {
  auto* s = sip_of(msg_);
  return s && s->sip_request ? sv(s->sip_request->rq_method_name) : std::string_view();
}

std::string Message::request_uri() const {
  auto* s = sip_of(msg_);
  return s && s->sip_request ? url_str(s->sip_request->rq_url) : std::string();
}

bool Message::set_request_uri(std::string_view uri) {
  auto* s = sip_of(msg_);
  if (!s || !s->sip_request) return false;
  std::string u(uri);
  // Parse first, then copy the parsed URL: handing Sofia the string lets odd URIs
  // (e.g. "sip:@h@:0038...") trip an assertion in sip_request_create (found by fuzzing).
  url_t* parsed = url_hdup(msg_home(msg_), reinterpret_cast<const url_t*>(URL_STRING_MAKE(u.c_str())));
  if (!parsed || (!parsed->url_host && parsed->url_type != url_tel) || (parsed->url_type != url_sip && parsed->url_type != url_sips && parsed->url_type != url_tel))
    return false;
  sip_request_t* rq = sip_request_create(msg_home(msg_), s->sip_request->rq_method, s->sip_request->rq_method_name,
                                         reinterpret_cast<url_string_t*>(parsed), nullptr);
  if (!rq) return false;
  return msg_header_insert(msg_, reinterpret_cast<msg_pub_t*>(s), reinterpret_cast<msg_header_t*>(rq)) == 0;
}

int Message::status() const {
  auto* s = sip_of(msg_);
  return s && s->sip_status ? s->sip_status->st_status : 0;
}

std::string_view Message::reason() const {
  auto* s = sip_of(msg_);
  return s && s->sip_status ? sv(s->sip_status->st_phrase) : std::string_view();
}

std::string_view Message::body() const {
  auto* s = sip_of(msg_);
  if (!s || !s->sip_payload || !s->sip_payload->pl_data) return {};
  return {s->sip_payload->pl_data, static_cast<size_t>(s->sip_payload->pl_len)};
}

std::string Message::content_type() const {
  auto* s = sip_of(msg_);
  return s && s->sip_content_type && s->sip_content_type->c_type ? s->sip_content_type->c_type : "";
}

std::optional<Address> Message::source() const {
  if (!msg_) return std::nullopt;
  su_addrinfo_t* ai = msg_addrinfo(msg_);
  if (!ai || !ai->ai_addr) return std::nullopt;
  Address a;
  a.transport = ai->ai_protocol == IPPROTO_TCP ? "tcp" : ai->ai_protocol == IPPROTO_UDP ? "udp" : "other";
  char buf[INET6_ADDRSTRLEN] = {0};
  if (ai->ai_addr->sa_family == AF_INET) {
    auto* sin = reinterpret_cast<sockaddr_in*>(ai->ai_addr);
    inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof buf);
    a.port = ntohs(sin->sin_port);
  } else if (ai->ai_addr->sa_family == AF_INET6) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(ai->ai_addr);
    inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof buf);
    a.port = ntohs(sin6->sin6_port);
  } else {
    return std::nullopt;
  }
  a.host = buf;
  return a;
}

std::string Message::str() const {
  auto* s = sip_of(msg_);
  if (!s) return {};
  su_home_t home[1] = {SU_HOME_INIT(home)};
  size_t len = 0;
  msg_serialize(msg_, reinterpret_cast<msg_pub_t*>(s));
  char* text = msg_as_string(home, msg_, nullptr, 0, &len);
  std::string out = text ? std::string(text, len) : std::string();
  su_home_deinit(home);
  return out;
}

Method method_from_name(std::string_view n) {
  static const std::pair<std::string_view, Method> table[] = {
      {"INVITE", Method::Invite},   {"ACK", Method::Ack},         {"CANCEL", Method::Cancel},
      {"BYE", Method::Bye},         {"OPTIONS", Method::Options}, {"REGISTER", Method::Register},
      {"INFO", Method::Info},       {"PRACK", Method::Prack},     {"UPDATE", Method::Update},
      {"MESSAGE", Method::Message}, {"SUBSCRIBE", Method::Subscribe}, {"NOTIFY", Method::Notify},
      {"REFER", Method::Refer},     {"PUBLISH", Method::Publish}};
  for (auto& [name, m] : table)
    if (name == n) return m;
  return Method::Unknown;
}

std::string_view method_name(Method m) {
  switch (m) {
    case Method::Invite: return "INVITE";
    case Method::Ack: return "ACK";
    case Method::Cancel: return "CANCEL";
    case Method::Bye: return "BYE";
    case Method::Options: return "OPTIONS";
    case Method::Register: return "REGISTER";
    case Method::Info: return "INFO";
    case Method::Prack: return "PRACK";
    case Method::Update: return "UPDATE";
    case Method::Message: return "MESSAGE";
    case Method::Subscribe: return "SUBSCRIBE";
    case Method::Notify: return "NOTIFY";
    case Method::Refer: return "REFER";
    case Method::Publish: return "PUBLISH";
    case Method::Unknown: break;
  }
  return "";
}

std::optional<ReplacesHeader> ReplacesHeader::parse(std::string_view value) {
  auto trim = [](std::string_view v) {
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    return v;
  };
  ReplacesHeader r;
  size_t pos = 0;
  bool first = true;
  while (pos <= value.size()) {
    size_t semi = value.find(';', pos);
    std::string_view part = trim(value.substr(pos, semi == std::string_view::npos ? std::string_view::npos : semi - pos));
    if (first) {
      r.call_id = std::string(part);
      first = false;
    } else {
      auto eq = part.find('=');
      std::string name(trim(part.substr(0, eq)));
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string_view val = eq == std::string_view::npos ? std::string_view() : trim(part.substr(eq + 1));
      if (name == "to-tag")
        r.to_tag = std::string(val);
      else if (name == "from-tag")
        r.from_tag = std::string(val);
      else if (name == "early-only")
        r.early_only = true;
    }
    if (semi == std::string_view::npos) break;
    pos = semi + 1;
  }
  if (r.call_id.empty() || r.to_tag.empty() || r.from_tag.empty() ||
      r.call_id.find_first_of(" \t\r\n,") != std::string::npos)
    return std::nullopt;
  return r;
}

std::string ReplacesHeader::str() const {
  return call_id + ";to-tag=" + to_tag + ";from-tag=" + from_tag + (early_only ? ";early-only" : "");
}

}  // namespace confab::sip

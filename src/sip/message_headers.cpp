// Message, its header fields: dialog identifiers, routing headers, contacts,
// credentials, and any header by name (the message as a whole is in message.cpp).
#include <sofia-sip/msg_header.h>
#include <sofia-sip/msg_mclass.h>
#include <sofia-sip/msg_parser.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_protos.h>
#include <sofia-sip/sip_tag.h>
#include <sofia-sip/sip_util.h>
#include <sofia-sip/su_tagarg.h>
#include <strings.h>

#include <cctype>
#include <cstdlib>

#include "sip/message.h"
#include "sip/message_internal.h"

namespace confab::sip {

namespace {

std::string field_value(const msg_header_t* h) {
  char small[512];
  issize_t n = msg_header_field_e(small, sizeof small, h, 0);
  if (n < 0) return {};
  if (static_cast<size_t>(n) < sizeof small) return std::string(small, static_cast<size_t>(n));
  std::string s(static_cast<size_t>(n) + 1, '\0');
  msg_header_field_e(s.data(), n + 1, h, 0);
  s.resize(static_cast<size_t>(n));
  return s;
}

bool name_matches(const msg_header_t* h, std::string_view name) {
  auto* hc = h->sh_class;
  if (hc == sip_unknown_class) {
    auto n = sv(h->sh_unknown->un_name);
    return n.size() == name.size() && strncasecmp(n.data(), name.data(), n.size()) == 0;
  }
  if (!hc->hc_name || hc == sip_error_class) return false;
  auto full = sv(hc->hc_name);
  if (full.size() == name.size() && strncasecmp(full.data(), name.data(), full.size()) == 0) return true;
  auto shrt = sv(hc->hc_short);
  return !shrt.empty() && shrt.size() == name.size() && strncasecmp(shrt.data(), name.data(), name.size()) == 0;
}

std::string unquote(std::string_view v) {
  if (v.size() < 2 || v.front() != '"' || v.back() != '"') return std::string(v);
  std::string out;
  for (size_t i = 1; i + 1 < v.size(); ++i) {
    if (v[i] == '\\' && i + 2 < v.size()) ++i;
    out += v[i];
  }
  return out;
}

std::pair<std::string, std::string> split_param(std::string_view p) {
  auto eq = p.find('=');
  if (eq == std::string_view::npos) return {std::string(p), std::string()};
  return {std::string(p.substr(0, eq)), std::string(p.substr(eq + 1))};
}

}  // namespace

std::string ContactField::str() const {
  if (star) return "*";
  std::string s;
  if (!display.empty()) s += display + " ";
  s += "<" + uri + ">";
  for (auto& [n, v] : params) {
    s += ";" + n;
    if (!v.empty()) s += "=" + v;
  }
  return s;
}

std::string_view Message::call_id() const {
  auto* s = sip_of(msg_);
  return s && s->sip_call_id ? sv(s->sip_call_id->i_id) : std::string_view();
}

uint32_t Message::cseq() const {
  auto* s = sip_of(msg_);
  return s && s->sip_cseq ? s->sip_cseq->cs_seq : 0;
}

std::string_view Message::cseq_method() const {
  auto* s = sip_of(msg_);
  return s && s->sip_cseq ? sv(s->sip_cseq->cs_method_name) : std::string_view();
}

std::string Message::from_uri() const {
  auto* s = sip_of(msg_);
  return s && s->sip_from ? url_str(s->sip_from->a_url) : std::string();
}
std::string_view Message::from_tag() const {
  auto* s = sip_of(msg_);
  return s && s->sip_from ? sv(s->sip_from->a_tag) : std::string_view();
}
std::string_view Message::from_display() const {
  auto* s = sip_of(msg_);
  return s && s->sip_from ? sv(s->sip_from->a_display) : std::string_view();
}
std::string Message::to_uri() const {
  auto* s = sip_of(msg_);
  return s && s->sip_to ? url_str(s->sip_to->a_url) : std::string();
}
std::string_view Message::to_tag() const {
  auto* s = sip_of(msg_);
  return s && s->sip_to ? sv(s->sip_to->a_tag) : std::string_view();
}

std::optional<uint32_t> Message::max_forwards() const {
  auto* s = sip_of(msg_);
  if (!s || !s->sip_max_forwards) return std::nullopt;
  return static_cast<uint32_t>(s->sip_max_forwards->mf_count);
}

void Message::set_max_forwards(uint32_t value) {
  auto* s = sip_of(msg_);
  if (!s) return;
  if (s->sip_max_forwards) {
    s->sip_max_forwards->mf_count = value;
    msg_fragment_clear(s->sip_max_forwards->mf_common);
  } else {
    msg_header_add_make(msg_, reinterpret_cast<msg_pub_t*>(s), sip_max_forwards_class, std::to_string(value).c_str());
  }
}

std::vector<Via> Message::vias() const {
  std::vector<Via> out;
  auto* s = sip_of(msg_);
  for (sip_via_t* v = s ? s->sip_via : nullptr; v; v = v->v_next) {
    Via via;
    auto proto = sv(v->v_protocol);
    if (auto slash = proto.rfind('/'); slash != std::string_view::npos) proto.remove_prefix(slash + 1);
    via.transport = std::string(proto);
    via.host = std::string(sv(v->v_host));
    via.port = std::string(sv(v->v_port));
    via.branch = std::string(sv(v->v_branch));
    via.received = std::string(sv(v->v_received));
    via.rport = std::string(sv(v->v_rport));
    out.push_back(std::move(via));
  }
  return out;
}

size_t Message::via_count() const {
  size_t n = 0;
  auto* s = sip_of(msg_);
  for (sip_via_t* v = s ? s->sip_via : nullptr; v; v = v->v_next) ++n;
  return n;
}

std::vector<std::string> Message::routes() const {
  std::vector<std::string> out;
  auto* s = sip_of(msg_);
  for (sip_route_t* r = s ? s->sip_route : nullptr; r; r = r->r_next) out.push_back(url_str(r->r_url));
  return out;
}

void Message::pop_route() {
  auto* s = sip_of(msg_);
  if (s && s->sip_route) sip_route_remove(msg_, s);
}

void Message::add_record_route(std::string_view uri) {
  auto* s = sip_of(msg_);
  if (!s) return;
  std::string value = "<" + std::string(uri) + ">";
  msg_header_add_make(msg_, reinterpret_cast<msg_pub_t*>(s), sip_record_route_class, value.c_str());
}

std::vector<std::string> Message::record_routes() const {
  std::vector<std::string> out;
  auto* s = sip_of(msg_);
  for (sip_record_route_t* r = s ? s->sip_record_route : nullptr; r; r = r->r_next) out.push_back(url_str(r->r_url));
  return out;
}

std::vector<ContactField> Message::contacts() const {
  std::vector<ContactField> out;
  auto* s = sip_of(msg_);
  for (sip_contact_t* m = s ? s->sip_contact : nullptr; m; m = m->m_next) {
    ContactField c;
    if (m->m_url->url_type == url_any) {
      c.star = true;
      out.push_back(std::move(c));
      continue;
    }
    c.display = std::string(sv(m->m_display));
    c.uri = url_str(m->m_url);
    for (auto p = m->m_params; p && *p; ++p) c.params.push_back(split_param(*p));
    if (m->m_expires) {
      char* end = nullptr;
      long long v = std::strtoll(m->m_expires, &end, 10);
      if (end && *end == '\0' && v >= 0) c.expires = v;
    }
    if (m->m_q) {
      char* end = nullptr;
      double q = std::strtod(m->m_q, &end);
      if (end && *end == '\0' && q >= 0.0 && q <= 1.0) c.q = q;
    }
    out.push_back(std::move(c));
  }
  return out;
}

std::optional<int64_t> Message::expires() const {
  auto* s = sip_of(msg_);
  if (!s || !s->sip_expires) return std::nullopt;
  return static_cast<int64_t>(s->sip_expires->ex_delta);
}

namespace {

bool is_token_list(msg_hclass_t const* c) {
  return c == sip_require_class || c == sip_supported_class || c == sip_unsupported_class ||
         c == sip_proxy_require_class || c == sip_allow_class || c == sip_allow_events_class ||
         c == sip_in_reply_to_class || c == sip_content_language_class;
}

}  // namespace

std::vector<std::string> Message::header_values(std::string_view name) const {
  std::vector<std::string> out;
  if (!msg_) return out;
  msg_header_t** head = msg_chain_head(msg_);
  if (!head || !*head) {
    msg_serialize(msg_, nullptr);
    head = msg_chain_head(msg_);
  }
  for (msg_header_t* h = head ? *head : nullptr; h; h = h->sh_succ) {
    if (!h->sh_class || !name_matches(h, name)) continue;
    // Only the plain token-list headers are msg_list_t (k_items); other list-kind
    // headers (Accept, Contact, Via, ...) have structures of their own.
    if (is_token_list(h->sh_class)) {
      for (auto item = reinterpret_cast<msg_list_t*>(h)->k_items; item && *item; ++item) out.emplace_back(*item);
    } else if (h->sh_class == sip_unknown_class) {
      out.emplace_back(sv(h->sh_unknown->un_value));
    } else {
      out.push_back(field_value(h));
    }
  }
  return out;
}

std::optional<std::string> Message::header(std::string_view name) const {
  auto v = header_values(name);
  if (v.empty()) return std::nullopt;
  return v.front();
}

bool Message::add_header(std::string_view name, std::string_view value) {
  auto* s = sip_of(msg_);
  if (!s || name.empty()) return false;
  for (char c : name)
    if (c == ':' || c == '\r' || c == '\n' || c == ' ') return false;
  for (char c : value)
    if (c == '\r' || c == '\n') return false;
  std::string line = std::string(name) + ": " + std::string(value);
  return sip_add_tl(msg_, s, SIPTAG_HEADER_STR(line.c_str()), TAG_END()) == 0;
}

void Message::remove_headers(std::string_view name) {
  auto* s = sip_of(msg_);
  if (!s) return;
  std::string n(name);
  auto* pub = reinterpret_cast<msg_pub_t*>(s);
  msg_href_t const* href = msg_find_hclass(msg_mclass(msg_), n.c_str(), nullptr);
  msg_hclass_t* hc = href ? href->hr_class : nullptr;
  if (hc && hc != sip_unknown_class) {
    msg_header_t** hh = msg_hclass_offset(msg_mclass(msg_), pub, hc);
    while (hh && *hh) msg_header_remove(msg_, pub, *hh);
    return;
  }
  for (sip_unknown_t* u = s->sip_unknown; u;) {
    sip_unknown_t* next = u->un_next;
    if (name_matches(reinterpret_cast<msg_header_t*>(u), name))
      msg_header_remove(msg_, pub, reinterpret_cast<msg_header_t*>(u));
    u = next;
  }
}

std::optional<Credentials> Message::credentials(bool proxy, std::string_view realm) const {
  auto* s = sip_of(msg_);
  if (!s) return std::nullopt;
  msg_auth_t* au = proxy ? s->sip_proxy_authorization : s->sip_authorization;
  for (; au; au = au->au_next) {
    if (!au->au_scheme || strcasecmp(au->au_scheme, "Digest") != 0) continue;
    Credentials c;
    c.scheme = "Digest";
    for (auto p = au->au_params; p && *p; ++p) {
      auto [n, v] = split_param(*p);
      for (auto& ch : n) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      c.params[n] = unquote(v);
    }
    if (!realm.empty() && c.get("realm") != realm) continue;
    return c;
  }
  return std::nullopt;
}

}  // namespace confab::sip

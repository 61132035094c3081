#include "sip/sdp.h"

#include <sofia-sip/sdp.h>
#include <sofia-sip/su_alloc.h>
#include <strings.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>

#include "sip/sofia_runtime.h"
#include "sip/text_lines.h"

namespace confab::sip {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

std::optional<Direction> direction_from(std::string_view name) {
  if (name == "sendrecv") return Direction::SendRecv;
  if (name == "sendonly") return Direction::SendOnly;
  if (name == "recvonly") return Direction::RecvOnly;
  if (name == "inactive") return Direction::Inactive;
  return std::nullopt;
}

std::optional<Direction> direction_in(const sdp_attribute_t* a) {
  for (; a; a = a->a_next)
    if (a->a_name)
      if (auto d = direction_from(a->a_name)) return d;
  return std::nullopt;
}

const char* attribute(const sdp_attribute_t* a, const char* name) {
  for (; a; a = a->a_next)
    if (a->a_name && strcasecmp(a->a_name, name) == 0) return a->a_value ? a->a_value : "";
  return nullptr;
}

bool is_telephone_event(const SdpFormat& f) { return iequals(f.encoding, "telephone-event"); }

std::string ip_kind(const std::string& address) { return address.find(':') != std::string::npos ? "IP6" : "IP4"; }

uint64_t now_id() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

// RFC 4566 token-char.
bool token_char(unsigned char c) {
  return c == 0x21 || (c >= 0x23 && c <= 0x27) || c == 0x2a || c == 0x2b || c == 0x2d || c == 0x2e ||
         (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x5e && c <= 0x7e);
}

// "m=<media> <port>[/<n>] <proto> <fmt> ..." exactly as RFC 4566 spells it:
// media and formats are tokens, the port digits, the proto tokens joined by '/'.
bool plain_media_line(std::string_view line) {
  std::vector<std::string_view> fields;
  for (size_t i = 2; i < line.size();) {
    if (line[i] == ' ') {
      ++i;
      continue;
    }
    size_t end = std::min(line.find(' ', i), line.size());
    fields.push_back(line.substr(i, end - i));
    i = end;
  }
  if (fields.size() < 4) return false;
  auto all = [](std::string_view f, auto pred) {
    return !f.empty() && std::all_of(f.begin(), f.end(), [&](char c) { return pred(static_cast<unsigned char>(c)); });
  };
  auto digit = [](unsigned char c) { return c >= '0' && c <= '9'; };
  std::string_view port = fields[1], count;
  if (auto slash = port.find('/'); slash != std::string_view::npos) {
    count = port.substr(slash + 1);
    port = port.substr(0, slash);
    if (!all(count, digit)) return false;
  }
  if (!all(fields[0], token_char) || !all(port, digit) || port.size() > 5) return false;
  std::string_view proto = fields[2];
  if (proto.front() == '/' || proto.back() == '/' ||
      !all(proto, [](unsigned char c) { return token_char(c) || c == '/'; }))
    return false;
  for (size_t f = 3; f < fields.size(); ++f)
    if (!all(fields[f], token_char)) return false;
  return true;
}

// Screens text before Sofia's parser sees it. SDP is ASCII except in free-text
// fields (s=, i=, e=, p=, u=), which may be UTF-8. Found by fuzzing: Sofia's
// parser allocates without bound on an m= line whose format list holds a
// non-token byte ("m=audio 1 XYZ \xd0", "m=audio 1 R[TP/AVP 0"), so m= lines
// must be well-formed and no other line may carry control or non-ASCII bytes.
bool plain_sdp_text(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    std::string_view line = next_line(text, pos);
    if (line.empty()) continue;
    if (line.size() < 2 || line[0] < 'a' || line[0] > 'z' || line[1] != '=') return false;  // "<type>=<value>"
    bool free_text = line.size() >= 2 && line[1] == '=' && std::string_view("siepu").find(line[0]) != std::string_view::npos;
    for (unsigned char c : line) {
      if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
      if (c >= 0x80 && !free_text) return false;
    }
    if (line.rfind("m=", 0) == 0 && !plain_media_line(line)) return false;
  }
  return true;
}

// "a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>]"
// (RFC 4566 section 6): Sofia's parser refuses the whole description when one
// rtpmap lacks its clock rate ("a=rtpmap:31 LPC", RFC 4475 section 3.1.1.7).
bool well_formed_rtpmap(std::string_view line) {
  std::string_view v = line.substr(9);  // after "a=rtpmap:"
  auto digits = [&](bool required) {
    size_t n = 0;
    while (n < v.size() && v[n] >= '0' && v[n] <= '9') ++n;
    v.remove_prefix(n);
    return n > 0 || !required;
  };
  if (!digits(true) || v.empty() || v.front() != ' ') return false;
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  size_t n = 0;
  while (n < v.size() && token_char(static_cast<unsigned char>(v[n]))) ++n;
  if (n == 0 || n >= v.size() || v[n] != '/') return false;
  v.remove_prefix(n + 1);
  if (!digits(true)) return false;
  return v.empty() || v.front() == '/';
}

// The text without the rtpmap lines that are not well formed, named in *dropped.
// Their payload types stay in the m= line: a static one keeps its RFC 3551
// meaning, a dynamic one has no encoding and is never chosen.
std::string without_broken_rtpmaps(std::string_view text, std::string* dropped) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    size_t start = pos;
    std::string_view line = next_line(text, pos);
    if (line.rfind("a=rtpmap:", 0) == 0 && !well_formed_rtpmap(line)) {
      if (!dropped->empty()) *dropped += ", ";
      *dropped += "\"" + std::string(line) + "\"";
      continue;
    }
    out.append(text.substr(start, pos - start));
  }
  return out;
}

}  // namespace

bool accepts_sdp(const std::vector<std::string>& accept_values) {
  if (accept_values.empty()) return true;
  for (auto& value : accept_values) {
    std::string_view v = value;
    while (!v.empty()) {
      size_t comma = std::min(v.find(','), v.size());
      std::string_view range = v.substr(0, comma);
      v.remove_prefix(std::min(comma + 1, v.size()));
      range = range.substr(0, std::min(range.find(';'), range.size()));  // parameters
      while (!range.empty() && (range.front() == ' ' || range.front() == '\t')) range.remove_prefix(1);
      while (!range.empty() && (range.back() == ' ' || range.back() == '\t')) range.remove_suffix(1);
      if (iequals(range, "application/sdp") || iequals(range, "application/*") || range == "*/*") return true;
    }
  }
  return false;
}

std::string_view direction_name(Direction d) {
  switch (d) {
    case Direction::SendRecv: return "sendrecv";
    case Direction::SendOnly: return "sendonly";
    case Direction::RecvOnly: return "recvonly";
    case Direction::Inactive: return "inactive";
  }
  return "sendrecv";
}

bool sends(Direction d) { return d == Direction::SendRecv || d == Direction::SendOnly; }
bool receives(Direction d) { return d == Direction::SendRecv || d == Direction::RecvOnly; }

Direction answer_direction(Direction offered, Direction wanted) {
  // We may send only if the offerer receives, and receive only if it sends.
  bool send = receives(offered) && sends(wanted);
  bool recv = sends(offered) && receives(wanted);
  if (send && recv) return Direction::SendRecv;
  if (send) return Direction::SendOnly;
  if (recv) return Direction::RecvOnly;
  return Direction::Inactive;
}

bool SdpFormat::same_codec(const SdpFormat& o) const {
  return iequals(encoding, o.encoding) && clock_rate == o.clock_rate && channels == o.channels;
}

std::optional<SessionDescription> SessionDescription::parse(std::string_view text, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<SessionDescription> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  if (text.empty()) return fail("empty SDP");
  if (text.size() > 64 * 1024) return fail("SDP too large");
  if (!plain_sdp_text(text)) return fail("malformed SDP: bad characters or m= line");
  // Lenient where it costs nothing: a broken rtpmap spoils only its own format.
  std::string dropped, cleaned = without_broken_rtpmaps(text, &dropped);
  if (!dropped.empty()) text = cleaned;
  ensure_sofia_runtime();
  su_home_t home[1] = {SU_HOME_INIT(home)};
  sdp_parser_t* parser = sdp_parse(home, text.data(), static_cast<issize_t>(text.size()), sdp_f_anynet);
  struct Cleanup {
    su_home_t* h;
    sdp_parser_t* p;
    ~Cleanup() {
      sdp_parser_free(p);
      su_home_deinit(h);
    }
  } cleanup{home, parser};
  if (const char* e = sdp_parsing_error(parser)) return fail(std::string("malformed SDP: ") + e);
  sdp_session_t* s = sdp_session(parser);
  if (!s) return fail("malformed SDP");

  SessionDescription d;
  d.ignored = std::move(dropped);
  if (s->sdp_origin) {
    d.origin_user = s->sdp_origin->o_username ? s->sdp_origin->o_username : "-";
    d.session_id = s->sdp_origin->o_id;
    d.session_version = s->sdp_origin->o_version;
    if (s->sdp_origin->o_address && s->sdp_origin->o_address->c_address)
      d.origin_address = s->sdp_origin->o_address->c_address;
  }
  if (s->sdp_connection && s->sdp_connection->c_address) d.connection = s->sdp_connection->c_address;
  auto session_direction = direction_in(s->sdp_attributes);

  for (sdp_media_t* m = s->sdp_media; m; m = m->m_next) {
    SdpMedia media;
    media.type = m->m_type_name ? m->m_type_name : "";
    media.port = m->m_port > 65535 ? 0 : static_cast<uint16_t>(m->m_port);
    media.protocol = m->m_proto_name ? m->m_proto_name : "";
    if (m->m_connections && m->m_connections->c_address) media.connection = m->m_connections->c_address;
    // Sofia turns a media-level direction attribute into m_mode (sendrecv if none).
    switch (m->m_mode) {
      case sdp_inactive: media.direction = Direction::Inactive; break;
      case sdp_sendonly: media.direction = Direction::SendOnly; break;
      case sdp_recvonly: media.direction = Direction::RecvOnly; break;
      default: media.direction = direction_in(m->m_attributes).value_or(session_direction.value_or(Direction::SendRecv));
    }
    if (const char* p = attribute(m->m_attributes, "ptime")) media.ptime = std::atoi(p);
    media.rtcp_mux = attribute(m->m_attributes, "rtcp-mux") != nullptr;
    // Sofia lists RTP formats as rtpmaps (in m= line order, static types
    // filled in); other media keep their formats as text.
    for (sdp_rtpmap_t* r = m->m_rtpmaps; r; r = r->rm_next) {
      SdpFormat fmt;
      fmt.payload_type = static_cast<int>(r->rm_pt);
      fmt.encoding = r->rm_encoding ? r->rm_encoding : "";
      fmt.clock_rate = static_cast<int>(r->rm_rate);
      if (r->rm_params) fmt.channels = std::max(1, std::atoi(r->rm_params));
      if (r->rm_fmtp) fmt.fmtp = r->rm_fmtp;
      media.formats.push_back(std::move(fmt));
    }
    if (!m->m_rtpmaps)
      for (sdp_list_t* f = m->m_format; f; f = f->l_next) {
        if (!f->l_text) continue;
        char* end = nullptr;
        long pt = std::strtol(f->l_text, &end, 10);
        if (end && !*end && pt >= 0 && pt <= 127) media.formats.push_back({static_cast<int>(pt), "", 0, 1, ""});
      }
    d.media.push_back(std::move(media));
  }
  return d;
}

std::string SessionDescription::address_of(const SdpMedia& m) const {
  return m.connection.empty() ? connection : m.connection;
}

const SdpMedia* SessionDescription::audio() const {
  for (auto& m : media)
    if (m.type == "audio") return &m;
  return nullptr;
}

std::string SessionDescription::str() const {
  std::string s = "v=0\r\n";
  s += "o=" + origin_user + " " + std::to_string(session_id) + " " + std::to_string(session_version) + " IN " +
       ip_kind(origin_address) + " " + origin_address + "\r\n";
  s += "s=confab\r\n";
  if (!connection.empty()) s += "c=IN " + ip_kind(connection) + " " + connection + "\r\n";
  s += "t=0 0\r\n";
  for (auto& m : media) {
    s += "m=" + m.type + " " + std::to_string(m.port) + " " + m.protocol;
    if (m.formats.empty()) s += " 0";
    for (auto& f : m.formats) s += " " + std::to_string(f.payload_type);
    s += "\r\n";
    if (!m.connection.empty()) s += "c=IN " + ip_kind(m.connection) + " " + m.connection + "\r\n";
    for (auto& f : m.formats) {
      if (f.encoding.empty()) continue;
      s += "a=rtpmap:" + std::to_string(f.payload_type) + " " + f.encoding + "/" + std::to_string(f.clock_rate);
      if (f.channels > 1) s += "/" + std::to_string(f.channels);
      s += "\r\n";
      if (!f.fmtp.empty()) s += "a=fmtp:" + std::to_string(f.payload_type) + " " + f.fmtp + "\r\n";
    }
    if (m.port != 0) {
      if (m.ptime > 0) s += "a=ptime:" + std::to_string(m.ptime) + "\r\n";
      s += "a=" + std::string(direction_name(m.direction)) + "\r\n";
      if (m.rtcp_mux) s += "a=rtcp-mux\r\n";
    }
  }
  return s;
}

SessionDescription make_audio_offer(const std::vector<SdpFormat>& formats, const std::string& address, uint16_t port,
                                    Direction direction, int ptime) {
  SessionDescription d;
  d.session_id = now_id();
  d.session_version = 1;
  d.origin_address = address;
  d.connection = address;
  SdpMedia m;
  m.port = port;
  m.formats = formats;
  m.direction = direction;
  m.ptime = ptime;
  d.media.push_back(std::move(m));
  return d;
}

std::optional<Answer> answer_offer(const SessionDescription& offer, const std::vector<SdpFormat>& supported,
                                   const std::string& address, uint16_t port, Direction wanted, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<Answer> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  Answer a;
  a.sdp.session_id = now_id();
  a.sdp.session_version = 1;
  a.sdp.origin_address = address;
  a.sdp.connection = address;
  bool audio_done = false;
  for (auto& m : offer.media) {
    SdpMedia reply;
    reply.type = m.type;
    reply.protocol = m.protocol;
    reply.port = 0;
    bool usable = !audio_done && m.type == "audio" && m.port != 0 && m.protocol == "RTP/AVP";
    const SdpFormat* chosen = nullptr;
    const SdpFormat* dtmf = nullptr;
    if (usable) {
      for (auto& f : m.formats) {
        if (is_telephone_event(f)) continue;
        for (auto& s : supported)
          if (!is_telephone_event(s) && f.same_codec(s)) {
            chosen = &f;
            break;
          }
        if (chosen) break;
      }
      if (chosen)
        for (auto& f : m.formats)
          if (is_telephone_event(f) && f.clock_rate == chosen->clock_rate)
            for (auto& s : supported)
              if (is_telephone_event(s)) dtmf = &f;
    }
    if (!chosen) {
      // Rejected: keep the offered formats so the m= line stays valid (RFC 3264 6).
      for (auto& f : m.formats) reply.formats.push_back({f.payload_type, "", 0, 1, ""});
      a.sdp.media.push_back(std::move(reply));
      continue;
    }
    audio_done = true;
    reply.port = port;
    reply.formats.push_back(*chosen);
    if (dtmf) reply.formats.push_back(*dtmf);
    reply.direction = answer_direction(m.direction, wanted);
    reply.ptime = m.ptime > 0 ? m.ptime : 20;
    a.terms.codec = *chosen;
    if (dtmf) a.terms.telephone_event = *dtmf;
    a.terms.remote_address = offer.address_of(m);
    a.terms.remote_port = m.port;
    a.terms.direction = reply.direction;
    a.terms.ptime = reply.ptime;
    a.sdp.media.push_back(std::move(reply));
  }
  if (!audio_done) {
    bool has_audio = offer.audio() && offer.audio()->port != 0;
    return fail(has_audio ? "no common audio codec" : "no audio stream offered");
  }
  if (a.terms.remote_address.empty()) return fail("offer has no connection address");
  return a;
}

std::optional<AudioTerms> accept_answer(const SessionDescription& offer, const SessionDescription& answer,
                                        std::string* error) {
  auto fail = [&](std::string why) -> std::optional<AudioTerms> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  const SdpMedia* ours = offer.audio();
  const SdpMedia* theirs = answer.audio();
  if (!ours || !theirs || theirs->port == 0) return fail("audio rejected by the answer");
  AudioTerms t;
  bool found = false;
  for (auto& f : theirs->formats) {
    for (auto& o : ours->formats) {
      if (is_telephone_event(o) || !f.same_codec(o)) continue;
      t.codec = f;
      found = true;
      break;
    }
    if (found) break;
  }
  if (!found) return fail("the answer chose no codec we offered");
  for (auto& f : theirs->formats)
    if (is_telephone_event(f)) t.telephone_event = f;
  t.remote_address = answer.address_of(*theirs);
  if (t.remote_address.empty()) return fail("answer has no connection address");
  t.remote_port = theirs->port;
  // The answer's direction is the peer's; ours is its complement.
  t.direction = answer_direction(theirs->direction, ours->direction);
  t.ptime = theirs->ptime > 0 ? theirs->ptime : 20;
  return t;
}

bool same_audio_address(std::string_view a, std::string_view b) {
  auto da = SessionDescription::parse(a), db = SessionDescription::parse(b);
  const SdpMedia* ma = da ? da->audio() : nullptr;
  const SdpMedia* mb = db ? db->audio() : nullptr;
  return ma && mb && ma->port == mb->port && da->address_of(*ma) == db->address_of(*mb);
}

}  // namespace confab::sip

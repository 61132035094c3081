#include "sip/pcap_writer.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <pcap/pcap.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <stdexcept>

namespace confab::sip {
namespace {

constexpr int kSnapLength = 262144;
// The payload of one packet: IPv4's total length is 16 bits, and TCP segments a
// stream anyway; a UDP datagram of SIP never comes near it.
constexpr size_t kMaxSegment = 65000;

// RFC 1071: the ones' complement of the ones' complement sum of 16-bit words.
struct InternetChecksum {
  uint32_t sum = 0;
  bool odd = false;
  void add(const void* data, size_t size) {
    auto* p = static_cast<const uint8_t*>(data);
    for (size_t i = 0; i < size; ++i) {
      sum += odd ? p[i] : static_cast<uint32_t>(p[i]) << 8;
      odd = !odd;
    }
  }
  uint16_t value() const {
    uint32_t s = sum;
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    return htons(static_cast<uint16_t>(~s & 0xffff));
  }
};

std::string endpoint_text(const PacketEndpoint& e) {
  return e.host() + "|" + std::to_string(e.port);
}

}  // namespace

bool PacketEndpoint::parse(std::string_view host, uint16_t port, PacketEndpoint& out) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  std::string text(host);
  PacketEndpoint e;
  e.port = port;
  if (::inet_pton(AF_INET, text.c_str(), &e.address) == 1) {
    e.family = AF_INET;
  } else if (::inet_pton(AF_INET6, text.c_str(), &e.address) == 1) {
    e.family = AF_INET6;
  } else {
    return false;
  }
  out = e;
  return true;
}

std::string PacketEndpoint::host() const {
  char text[INET6_ADDRSTRLEN] = "";
  ::inet_ntop(family, &address, text, sizeof text);
  return text;
}

PcapWriter::PcapWriter(const std::string& path) : path_(path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("cannot write the SIP trace " + path + ": " + std::strerror(errno));
  struct stat st{};
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
    ::fchmod(fd, 0600);  // a file that was there keeps no wider mode: it holds digest credentials
  FILE* file = ::fdopen(fd, "wb");
  if (!file) {
    ::close(fd);
    throw std::runtime_error("cannot write the SIP trace " + path + ": " + std::strerror(errno));
  }
  pcap_ = ::pcap_open_dead(DLT_RAW, kSnapLength);
  dumper_ = pcap_ ? ::pcap_dump_fopen(pcap_, file) : nullptr;
  if (!dumper_) {
    std::string why = pcap_ ? ::pcap_geterr(pcap_) : "libpcap failed";
    std::fclose(file);
    if (pcap_) ::pcap_close(pcap_);
    throw std::runtime_error("cannot write the SIP trace " + path + ": " + why);
  }
  ::pcap_dump_flush(dumper_);  // the file header: readers can open it before the first message
}

PcapWriter::~PcapWriter() {
  ::pcap_dump_close(dumper_);
  ::pcap_close(pcap_);
}

uint64_t PcapWriter::packets() const {
  std::lock_guard lock(mutex_);
  return packets_;
}

uint32_t& PcapWriter::next_seq(const PacketEndpoint& from, const PacketEndpoint& to) {
  std::string key = endpoint_text(from) + ">" + endpoint_text(to);
  auto it = next_seq_.find(key);
  if (it == next_seq_.end()) {
    // A fixed initial number per direction is plausible and keeps traces comparable.
    it = next_seq_.emplace(key, static_cast<uint32_t>(std::hash<std::string>{}(key))).first;
  }
  return it->second;
}

void PcapWriter::write(const SipPacket& packet) {
  std::lock_guard lock(mutex_);
  size_t wire = std::max(packet.wire_size, packet.payload.size());
  if (packet.transport == SipPacket::Transport::udp) {
    write_segment(packet, packet.payload.substr(0, kMaxSegment), std::min(wire, kMaxSegment), 0, 0);
  } else {
    uint32_t& seq = next_seq(packet.source, packet.destination);
    uint32_t ack = next_seq(packet.destination, packet.source);
    for (size_t offset = 0; offset < wire; offset += kMaxSegment) {
      size_t size = std::min(kMaxSegment, wire - offset);
      std::string_view captured =
          offset < packet.payload.size() ? packet.payload.substr(offset, size) : std::string_view();
      write_segment(packet, captured, size, seq, ack);
      seq += static_cast<uint32_t>(size);
    }
  }
  ::pcap_dump_flush(dumper_);
}

// One IP packet carrying `wire` bytes of payload of which `captured` (a prefix) is in the file.
void PcapWriter::write_segment(const SipPacket& packet, std::string_view captured, size_t wire, uint32_t seq,
                               uint32_t ack) {
  const bool v4 = packet.source.family == AF_INET;
  const bool udp = packet.transport == SipPacket::Transport::udp;
  const size_t transport_size = udp ? sizeof(udphdr) : sizeof(tcphdr);
  const size_t ip_size = v4 ? sizeof(ip) : sizeof(ip6_hdr);
  std::string frame(ip_size + transport_size, '\0');
  frame.append(captured);

  // The transport header and its checksum over the pseudo-header (RFC 768, 793, 8200).
  char* th = frame.data() + ip_size;
  if (udp) {
    udphdr u{};
    u.source = htons(packet.source.port);
    u.dest = htons(packet.destination.port);
    u.len = htons(static_cast<uint16_t>(transport_size + wire));
    std::memcpy(th, &u, sizeof u);
  } else {
    tcphdr t{};
    t.source = htons(packet.source.port);
    t.dest = htons(packet.destination.port);
    t.seq = htonl(seq);
    t.ack_seq = htonl(ack);
    t.doff = sizeof(tcphdr) / 4;
    t.psh = 1;
    t.ack = 1;
    t.window = htons(65535);
    std::memcpy(th, &t, sizeof t);
  }
  const uint8_t protocol = udp ? IPPROTO_UDP : IPPROTO_TCP;
  const size_t address_size = v4 ? 4 : 16;
  const uint32_t transport_length = static_cast<uint32_t>(transport_size + wire);
  if (captured.size() == wire) {  // a checksum only over what is all there
    InternetChecksum sum;
    sum.add(&packet.source.address, address_size);
    sum.add(&packet.destination.address, address_size);
    uint8_t pseudo[8] = {0, 0, 0, 0, 0, 0, 0, protocol};
    uint32_t length_be = htonl(transport_length);
    if (v4) {
      uint8_t short_pseudo[4] = {0, protocol, static_cast<uint8_t>(transport_length >> 8),
                                 static_cast<uint8_t>(transport_length)};
      sum.add(short_pseudo, 4);
    } else {
      std::memcpy(pseudo, &length_be, 4);
      sum.add(pseudo, 8);
    }
    sum.add(th, transport_size + captured.size());
    uint16_t value = sum.value();
    if (udp && value == 0) value = 0xffff;  // 0 means "no checksum" in UDP
    std::memcpy(th + (udp ? offsetof(udphdr, check) : offsetof(tcphdr, check)), &value, 2);
  }

  if (v4) {
    ip h{};
    h.ip_v = 4;
    h.ip_hl = sizeof(ip) / 4;
    h.ip_len = htons(static_cast<uint16_t>(ip_size + transport_length));
    h.ip_ttl = 64;
    h.ip_off = htons(IP_DF);
    h.ip_p = protocol;
    std::memcpy(&h.ip_src, &packet.source.address, 4);
    std::memcpy(&h.ip_dst, &packet.destination.address, 4);
    InternetChecksum sum;
    sum.add(&h, sizeof h);
    h.ip_sum = sum.value();
    std::memcpy(frame.data(), &h, sizeof h);
  } else {
    ip6_hdr h{};
    h.ip6_flow = htonl(6u << 28);
    h.ip6_plen = htons(static_cast<uint16_t>(transport_length));
    h.ip6_nxt = protocol;
    h.ip6_hlim = 64;
    std::memcpy(&h.ip6_src, &packet.source.address, 16);
    std::memcpy(&h.ip6_dst, &packet.destination.address, 16);
    std::memcpy(frame.data(), &h, sizeof h);
  }

  pcap_pkthdr header{};
  header.ts = packet.time;
  header.caplen = static_cast<bpf_u_int32>(frame.size());
  header.len = static_cast<bpf_u_int32>(ip_size + transport_length);
  ::pcap_dump(reinterpret_cast<u_char*>(dumper_), &header, reinterpret_cast<const u_char*>(frame.data()));
  ++packets_;
}

}  // namespace confab::sip

// A pcap file of SIP messages (libpcap's writer): each message becomes an IPv4
// or IPv6 packet (link type RAW) with a UDP header, or TCP segments whose
// sequence numbers follow each connection's byte stream in both directions, so
// Wireshark, tshark and sngrep read the file as a capture taken on the wire.
// Thread-safe; every write is flushed, so the file can be read while it grows.
#pragma once

#include <netinet/in.h>
#include <sys/time.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

struct pcap;
struct pcap_dumper;

namespace confab::sip {

// An IPv4 or IPv6 address and a port.
struct PacketEndpoint {
  int family = AF_INET;  // AF_INET or AF_INET6
  in6_addr address{};    // IPv4: the first 4 bytes
  uint16_t port = 0;
  // "127.0.0.1", "::1", "[::1]"; false when `host` is no numeric address.
  static bool parse(std::string_view host, uint16_t port, PacketEndpoint& out);
  std::string host() const;
};

struct SipPacket {
  enum class Transport { udp, tcp } transport = Transport::udp;
  PacketEndpoint source, destination;  // of one family
  timeval time{};
  std::string_view payload;  // the bytes captured
  // The message's size on the wire, when more than was captured (Sofia-SIP's
  // dump lost the rest): the packet says this size, the file holds `payload`.
  size_t wire_size = 0;
};

class PcapWriter {
 public:
  // Creates (truncates) `path` with mode 0600; throws std::runtime_error with the reason.
  explicit PcapWriter(const std::string& path);
  ~PcapWriter();
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;

  void write(const SipPacket& packet);
  const std::string& path() const { return path_; }
  uint64_t packets() const;

 private:
  void write_segment(const SipPacket& packet, std::string_view captured, size_t wire, uint32_t seq, uint32_t ack);
  std::string path_;
  mutable std::mutex mutex_;
  pcap* pcap_ = nullptr;
  pcap_dumper* dumper_ = nullptr;
  uint64_t packets_ = 0;
  // TCP: the next sequence number of each direction (source -> destination).
  std::map<std::string, uint32_t> next_seq_;
  uint32_t& next_seq(const PacketEndpoint& from, const PacketEndpoint& to);
};

}  // namespace confab::sip

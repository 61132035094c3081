// The pcap writer, read back with libpcap as Wireshark would: addresses, ports,
// payload bytes, TCP sequence numbers, checksums, the file's mode.
#include "sip/pcap_writer.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <pcap/pcap.h>
#include <sys/stat.h>

#include <cstring>
#include <string>
#include <vector>

#include "base/temp_dir.h"

namespace confab::sip {
namespace {

struct ReadPacket {
  int version = 0;
  int protocol = 0;
  std::string source, destination;
  uint16_t source_port = 0, destination_port = 0;
  uint32_t seq = 0, ack = 0;
  size_t wire_length = 0, ip_length = 0;
  std::string payload;
  timeval time{};
  bool checksum_ok = false;
};

uint16_t ones_complement(const std::string& bytes) {
  uint32_t sum = 0;
  for (size_t i = 0; i < bytes.size(); i += 2)
    sum += (static_cast<uint8_t>(bytes[i]) << 8) + (i + 1 < bytes.size() ? static_cast<uint8_t>(bytes[i + 1]) : 0);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

std::vector<ReadPacket> read_back(const std::string& path) {
  char error[PCAP_ERRBUF_SIZE];
  pcap_t* p = pcap_open_offline(path.c_str(), error);
  EXPECT_TRUE(p) << error;
  if (!p) return {};
  EXPECT_EQ(pcap_datalink(p), DLT_RAW);
  std::vector<ReadPacket> out;
  pcap_pkthdr* h;
  const u_char* data;
  while (pcap_next_ex(p, &h, &data) == 1) {
    ReadPacket r;
    r.time = h->ts;
    r.wire_length = h->len;
    std::string frame(reinterpret_cast<const char*>(data), h->caplen);
    r.version = static_cast<uint8_t>(frame[0]) >> 4;
    char text[INET6_ADDRSTRLEN];
    size_t ip_size;
    std::string pseudo;
    if (r.version == 4) {
      ip header;
      std::memcpy(&header, frame.data(), sizeof header);
      ip_size = header.ip_hl * 4;
      r.protocol = header.ip_p;
      r.ip_length = ntohs(header.ip_len);
      r.source = inet_ntop(AF_INET, &header.ip_src, text, sizeof text);
      r.destination = inet_ntop(AF_INET, &header.ip_dst, text, sizeof text);
      EXPECT_EQ(ones_complement(frame.substr(0, ip_size)), 0xffff) << "IPv4 header checksum";
      pseudo = frame.substr(12, 8) + std::string{0, static_cast<char>(r.protocol)};
      uint16_t l = htons(static_cast<uint16_t>(r.ip_length - ip_size));
      pseudo.append(reinterpret_cast<const char*>(&l), 2);
    } else {
      ip6_hdr header;
      std::memcpy(&header, frame.data(), sizeof header);
      ip_size = sizeof header;
      r.protocol = header.ip6_nxt;
      r.ip_length = ntohs(header.ip6_plen) + ip_size;
      r.source = inet_ntop(AF_INET6, &header.ip6_src, text, sizeof text);
      r.destination = inet_ntop(AF_INET6, &header.ip6_dst, text, sizeof text);
      uint32_t l = htonl(static_cast<uint32_t>(r.ip_length - ip_size));
      pseudo = frame.substr(8, 32) + std::string(reinterpret_cast<const char*>(&l), 4) +
               std::string{0, 0, 0, static_cast<char>(r.protocol)};
    }
    size_t th_size;
    if (r.protocol == IPPROTO_UDP) {
      udphdr u;
      std::memcpy(&u, frame.data() + ip_size, sizeof u);
      r.source_port = ntohs(u.source);
      r.destination_port = ntohs(u.dest);
      th_size = sizeof u;
      EXPECT_EQ(ntohs(u.len), r.ip_length - ip_size);
    } else {
      tcphdr t;
      std::memcpy(&t, frame.data() + ip_size, sizeof t);
      r.source_port = ntohs(t.source);
      r.destination_port = ntohs(t.dest);
      r.seq = ntohl(t.seq);
      r.ack = ntohl(t.ack_seq);
      th_size = t.doff * 4;
    }
    r.payload = frame.substr(ip_size + th_size);
    r.checksum_ok = ones_complement(pseudo + frame.substr(ip_size)) == 0xffff;
    out.push_back(r);
  }
  pcap_close(p);
  return out;
}

PacketEndpoint endpoint(const char* host, uint16_t port) {
  PacketEndpoint e;
  EXPECT_TRUE(PacketEndpoint::parse(host, port, e)) << host;
  return e;
}

TEST(PcapWriter, UdpMessagesComeBackWithTheirAddressesPortsBytesAndTime) {
  base::TempDir dir;
  std::string path = dir.path + "/trace.pcap";
  const std::string invite = "INVITE sip:bob@example.com SIP/2.0\r\nCall-ID: a1\r\nContent-Length: 0\r\n\r\n";
  const std::string ok = "SIP/2.0 200 OK\r\nCall-ID: a1\r\nContent-Length: 0\r\n\r\n";
  {
    PcapWriter writer(path);
    struct stat st{};
    ASSERT_EQ(stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_EQ(read_back(path).size(), 0u);  // readable (the header is flushed) before the first packet
    SipPacket p;
    p.source = endpoint("127.0.0.1", 5064);
    p.destination = endpoint("192.0.2.7", 5060);
    p.time = {1700000000, 123456};
    p.payload = invite;
    writer.write(p);
    EXPECT_EQ(read_back(path).size(), 1u);  // flushed at once: a live reader sees it
    p.source = endpoint("[2001:db8::1]", 5060);
    p.destination = endpoint("::1", 40000);
    p.payload = ok;
    writer.write(p);
    EXPECT_EQ(writer.packets(), 2u);
  }
  auto packets = read_back(path);
  ASSERT_EQ(packets.size(), 2u);
  EXPECT_EQ(packets[0].version, 4);
  EXPECT_EQ(packets[0].protocol, IPPROTO_UDP);
  EXPECT_EQ(packets[0].source, "127.0.0.1");
  EXPECT_EQ(packets[0].destination, "192.0.2.7");
  EXPECT_EQ(packets[0].source_port, 5064);
  EXPECT_EQ(packets[0].destination_port, 5060);
  EXPECT_EQ(packets[0].payload, invite);
  EXPECT_EQ(packets[0].time.tv_sec, 1700000000);
  EXPECT_EQ(packets[0].time.tv_usec, 123456);
  EXPECT_TRUE(packets[0].checksum_ok);
  EXPECT_EQ(packets[1].version, 6);
  EXPECT_EQ(packets[1].source, "2001:db8::1");
  EXPECT_EQ(packets[1].destination, "::1");
  EXPECT_EQ(packets[1].source_port, 5060);
  EXPECT_EQ(packets[1].destination_port, 40000);
  EXPECT_EQ(packets[1].payload, ok);
  EXPECT_TRUE(packets[1].checksum_ok);
}

TEST(PcapWriter, TcpSegmentsFollowEachDirectionsStream) {
  base::TempDir dir;
  std::string path = dir.path + "/tcp.pcap";
  std::string big(150000, 'x');  // beyond one IP packet: several segments
  {
    PcapWriter writer(path);
    SipPacket p;
    p.transport = SipPacket::Transport::tcp;
    p.source = endpoint("10.0.0.1", 40001);
    p.destination = endpoint("10.0.0.2", 5060);
    p.payload = "REGISTER";
    writer.write(p);
    p.payload = " sip:x";
    writer.write(p);
    std::swap(p.source, p.destination);
    p.payload = big;
    writer.write(p);
  }
  auto packets = read_back(path);
  ASSERT_EQ(packets.size(), 5u);
  EXPECT_EQ(packets[0].protocol, IPPROTO_TCP);
  EXPECT_EQ(packets[1].seq, packets[0].seq + 8);  // "REGISTER"
  EXPECT_EQ(packets[2].ack, packets[1].seq + 6);  // the other side acknowledges all it got
  EXPECT_EQ(packets[2].source, "10.0.0.2");
  EXPECT_EQ(packets[2].source_port, 5060);
  std::string stream;
  for (size_t i = 2; i < packets.size(); ++i) {
    if (i > 2) EXPECT_EQ(packets[i].seq, packets[i - 1].seq + packets[i - 1].payload.size());
    EXPECT_TRUE(packets[i].checksum_ok);
    stream += packets[i].payload;
  }
  EXPECT_EQ(stream, big);
}

TEST(PcapWriter, AMessageDumpedOnlyInPartSaysItsSizeOnTheWire) {
  base::TempDir dir;
  std::string path = dir.path + "/cut.pcap";
  std::string headers = "INVITE sip:a@b SIP/2.0\r\nContent-Length: 100\r\n\r\n";
  {
    PcapWriter writer(path);
    SipPacket p;
    p.source = endpoint("127.0.0.1", 5060);
    p.destination = endpoint("127.0.0.1", 5062);
    p.payload = headers;
    p.wire_size = headers.size() + 100;
    writer.write(p);
  }
  auto packets = read_back(path);
  ASSERT_EQ(packets.size(), 1u);
  EXPECT_EQ(packets[0].payload, headers);
  EXPECT_EQ(packets[0].ip_length, 20 + 8 + headers.size() + 100);
  EXPECT_EQ(packets[0].wire_length, packets[0].ip_length);
}

TEST(PcapWriter, AFileThatCannotBeWrittenSaysWhichAndWhy) {
  try {
    PcapWriter writer("/nonexistent-dir/trace.pcap");
    FAIL() << "opened";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "cannot write the SIP trace /nonexistent-dir/trace.pcap: No such file or directory");
  }
}

TEST(PcapWriter, AnExistingFileIsTruncatedAndMadePrivate) {
  base::TempDir dir;
  std::string path = dir.path + "/old.pcap";
  FILE* f = fopen(path.c_str(), "w");
  fputs("old contents", f);
  fclose(f);
  chmod(path.c_str(), 0644);
  PcapWriter writer(path);
  struct stat st{};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(read_back(path).size(), 0u);
}

}  // namespace
}  // namespace confab::sip

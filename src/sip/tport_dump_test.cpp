// Sofia-SIP's transport dump, as Debian 12's 1.12.11 writes it (records copied
// from a real run), read in any split the pipe delivers it.
#include "sip/tport_dump.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace confab::sip {
namespace {

const std::string kRegister =
    "REGISTER sip:127.0.0.1:5060;transport=tcp SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5064;branch=z9hG4bKZ\r\n"
    "Call-ID: 7b2e44c9\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n";
const std::string kOk = "SIP/2.0 200 OK\r\nCall-ID: 7b2e44c9\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n";

std::string record(const std::string& stamp_start, const std::string& bytes, const std::string& time) {
  return stamp_start.substr(0, 5) + std::to_string(bytes.size()) + stamp_start.substr(5) + " at " + time + ":\n" +
         bytes + "\v\n";
}

std::string sample() {
  return "dump started at Mon Dec  7 15:12:37 2026\n\n\n" +
         record("recv  bytes from tcp/[127.0.0.1]:55669", kRegister, "15:12:38.482505") +
         record("sent  bytes to udp/[::1]:5060", kOk, "23:59:59.999999");
}

std::vector<TportDumpRecord> read_all(TportDumpParser& parser, bool quiet = false) {
  std::vector<TportDumpRecord> out;
  while (auto r = parser.next(quiet)) out.push_back(*r);
  return out;
}

TEST(TportDump, ReadsEachRecordWithItsDirectionPeerTimeAndBytes) {
  TportDumpParser parser;
  parser.feed(sample());
  auto records = read_all(parser);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_FALSE(records[0].sent);
  EXPECT_EQ(records[0].transport, "tcp");
  EXPECT_EQ(records[0].remote_host, "127.0.0.1");
  EXPECT_EQ(records[0].remote_port, 55669);
  EXPECT_EQ(records[0].time_of_day_us, ((15 * 60 + 12) * 60 + 38) * 1000000LL + 482505);
  EXPECT_EQ(records[0].bytes, kRegister);
  EXPECT_EQ(records[0].wire_size, kRegister.size());
  EXPECT_TRUE(records[1].sent);
  EXPECT_EQ(records[1].transport, "udp");
  EXPECT_EQ(records[1].remote_host, "::1");
  EXPECT_EQ(records[1].remote_port, 5060);
  EXPECT_EQ(records[1].bytes, kOk);
  EXPECT_EQ(parser.skipped_bytes(), 0u);
  EXPECT_EQ(parser.buffered(), 0u);
}

TEST(TportDump, AnySplitOfTheStreamGivesTheSameRecords) {
  std::string all = sample();
  for (size_t chunk : {1u, 2u, 3u, 7u, 64u, 1000u}) {
    TportDumpParser parser;
    std::vector<TportDumpRecord> records;
    for (size_t i = 0; i < all.size(); i += chunk) {
      parser.feed(std::string_view(all).substr(i, chunk));
      for (auto& r : read_all(parser)) records.push_back(r);
    }
    ASSERT_EQ(records.size(), 2u) << chunk;
    EXPECT_EQ(records[0].bytes, kRegister) << chunk;
    EXPECT_EQ(records[1].bytes, kOk) << chunk;
    EXPECT_EQ(parser.skipped_bytes(), 0u) << chunk;
  }
}

TEST(TportDump, ABodyWithTheEndMarkInsideIsKeptWhole) {
  std::string message = "MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 6\r\n\r\nab\v\ncd";
  TportDumpParser parser;
  parser.feed(record("recv  bytes from udp/[10.0.0.1]:5060", message, "01:02:03.000004") +
              record("recv  bytes from udp/[10.0.0.1]:5060", kOk, "01:02:03.000005"));
  auto records = read_all(parser);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].bytes, message);
  EXPECT_EQ(records[1].bytes, kOk);
}

// Sofia 1.12.11 writes only the first piece of a message it sends in pieces.
TEST(TportDump, ARecordSofiaCutShortEndsAtItsMarkBeforeTheNextStamp) {
  std::string headers = "INVITE sip:x@127.0.0.1:5066 SIP/2.0\r\nContent-Type: application/sdp\r\nContent-Length: 321\r\n\r\n";
  std::string cut = "sent " + std::to_string(headers.size() + 321) + " bytes to udp/[127.0.0.1]:5066 at 15:14:15.178603:\n" +
                    headers + "\v\n";
  TportDumpParser parser;
  parser.feed(cut);
  EXPECT_FALSE(parser.next());  // the rest might still come
  parser.feed(record("recv  bytes from udp/[127.0.0.1]:5066", kOk, "15:14:15.178928"));
  auto records = read_all(parser);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].bytes, headers);
  EXPECT_EQ(records[0].wire_size, headers.size() + 321);
  EXPECT_EQ(records[1].bytes, kOk);
  EXPECT_EQ(parser.short_records(), 1u);

  TportDumpParser last;  // the last record: taken once the stream has gone quiet
  last.feed(cut);
  EXPECT_FALSE(last.next(false));
  auto r = last.next(true);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->bytes, headers);
}

TEST(TportDump, ACutMessageMissingOnlyItsEmptyLineIsCompleted) {
  TportDumpRecord r;
  r.bytes = "ACK sip:alice@127.0.0.1 SIP/2.0\r\nContent-Length: 0\r\n";
  r.wire_size = r.bytes.size() + 2;
  complete_cut_record(r);
  EXPECT_EQ(r.bytes, "ACK sip:alice@127.0.0.1 SIP/2.0\r\nContent-Length: 0\r\n\r\n");
  TportDumpRecord body;  // a missing body cannot be made up
  body.bytes = "INVITE sip:a@b SIP/2.0\r\nContent-Length: 2\r\n\r\n";
  body.wire_size = body.bytes.size() + 2;
  complete_cut_record(body);
  EXPECT_EQ(body.bytes.size() + 2, body.wire_size);
}

TEST(TportDump, StampsOutOfTheFormatAreRefused) {
  EXPECT_TRUE(TportDumpParser::parse_stamp("recv 5 bytes from udp/[1.2.3.4]:5 at 00:00:00.000000:"));
  EXPECT_TRUE(TportDumpParser::parse_stamp("recv 5 bytes from udp/[fe80::1]:5/7;comp=sigcomp at 00:00:00.000000:"));
  for (auto bad : {"recv 5 bytes to udp/[1.2.3.4]:5 at 00:00:00.000000:", "sent 5 bytes from udp/[1.2.3.4]:5 at 00:00:00.000000:",
                   "recv -5 bytes from udp/[1.2.3.4]:5 at 00:00:00.000000:", "recv 5 bytes from udp/[1.2.3.x]:5 at 00:00:00.000000:",
                   "recv 5 bytes from udp/[1.2.3.4]:65536 at 00:00:00.000000:", "recv 5 bytes from UDP/[1.2.3.4]:5 at 00:00:00.000000:",
                   "recv 5 bytes from udp/[1.2.3.4]:5 at 24:00:00.000000:", "recv 5 bytes from udp/[1.2.3.4]:5 at 00:00:00.00000:",
                   "recv 5 bytes from udp/[1.2.3.4]:5 at 00:00:00.000000: ", "recv 5 bytes from udp/[1.2.3.4]:5",
                   "recv 9999999999 bytes from udp/[1.2.3.4]:5 at 00:00:00.000000:", "recv 5 bytes from udp/1.2.3.4:5 at 00:00:00.000000:"})
    EXPECT_FALSE(TportDumpParser::parse_stamp(bad)) << bad;
}

TEST(TportDump, GarbageIsSkippedUpToTheNextRecordAndCounted) {
  TportDumpParser parser;
  std::string garbage = "this is not a dump\nrecv 5 bytes from nowhere\n";
  parser.feed(garbage + record("recv  bytes from udp/[10.0.0.1]:5060", kOk, "01:02:03.000004"));
  auto records = read_all(parser);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].bytes, kOk);
  EXPECT_EQ(parser.skipped_bytes(), garbage.size());
}

}  // namespace
}  // namespace confab::sip

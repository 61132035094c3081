// Sofia-SIP's message log, piece by piece as Debian 12's 1.12.11 writes it
// (tport_log_msg), rebuilt into the bytes the transport dump cut short.
#include "sip/tport_log.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace confab::sip {
namespace {

const std::string kSeparator = "   " + std::string(72, '-') + "\n";

// The pieces Sofia logs for `message` (one piece of the message: one iovec).
std::vector<std::string> pieces(const std::string& stamp, const std::string& message) {
  std::vector<std::string> out{stamp + "\n" + kSeparator};
  size_t pos = 0, line_length = 0;
  while (pos < message.size()) {
    size_t n = message.find_first_of("\r\n", pos);
    if (n == std::string::npos) n = message.size();
    out.push_back((line_length ? "" : "   ") + message.substr(pos, n - pos));
    line_length += n - pos;
    pos = n;
    if (pos == message.size()) break;
    line_length = 0;
    out.push_back("\n");
    if (message[pos] == '\r') ++pos;
    if (pos < message.size() && message[pos] == '\n') ++pos;
  }
  out.push_back((line_length ? "\n" : "") + kSeparator);
  return out;
}

std::optional<TportLoggedMessage> assemble(TportLogAssembler& a, const std::vector<std::string>& ps) {
  std::optional<TportLoggedMessage> done;
  for (auto& p : ps) {
    EXPECT_TRUE(a.feed(p)) << p;
    if (auto m = a.done()) done = m;
  }
  return done;
}

const std::string kHeaders =
    "INVITE sip:x@127.0.0.1:5066 SIP/2.0\r\nCall-ID: 69f0d8e9\r\nContent-Type: application/sdp\r\nContent-Length: 30\r\n\r\n";
const std::string kSdp = "v=0\r\ns=confab\r\nm=audio 0 RTP\r\n";

TEST(TportLog, ASentMessageIsRebuiltFromItsLogWhenItFitsTheDumpAndTheSize) {
  std::string message = kHeaders + kSdp;
  TportLogAssembler a;
  auto m = assemble(a, pieces("send " + std::to_string(message.size()) +
                                  " bytes to udp/[127.0.0.1]:5066 at 15:47:57.042027:", message));
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->stamp.sent);
  EXPECT_EQ(m->stamp.remote_port, 5066);
  EXPECT_EQ(m->stamp.wire_size, message.size());
  EXPECT_EQ(m->rebuild(kHeaders), message);
  EXPECT_FALSE(m->rebuild("INVITE sip:y@"));  // not the message the dump has
}

TEST(TportLog, ABodyWithBareLineFeedsIsRebuiltToo) {
  std::string body = "<?xml version=\"1.0\"?>\n<conference-info/>\n";
  std::string message = "NOTIFY sip:a@b SIP/2.0\r\nContent-Length: 41\r\n\r\n" + body;
  TportLogAssembler a;
  auto m = assemble(a, pieces("send " + std::to_string(message.size()) + " bytes to tcp/[::1]:5060 at 00:00:00.000001:",
                              message));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->rebuild("NOTIFY sip:a@b SIP/2.0\r\n"), message);
}

TEST(TportLog, AMessageWithoutAFinalLineEndAndALineSplitAcrossPieces) {
  std::string message = "MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 5\r\n\r\nhello";
  auto ps = pieces("send " + std::to_string(message.size()) + " bytes to udp/[10.0.0.1]:5060 at 01:02:03.000004:",
                   message);
  // "hello" in two iovecs: Sofia logs its second part with no prefix.
  ps.insert(ps.end() - 2, "   hel");
  ps.erase(ps.end() - 2);
  ps.insert(ps.end() - 1, "lo");
  TportLogAssembler a;
  auto m = assemble(a, ps);
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->last_line_ended);
  EXPECT_EQ(m->rebuild("MESSAGE"), message);
}

TEST(TportLog, OtherLogLinesAreNotTakenAndAMismatchedSizeIsNotRebuilt) {
  TportLogAssembler a;
  EXPECT_FALSE(a.feed("nua: some other line\n"));
  EXPECT_FALSE(a.feed("send 5 bytes to udp/[1.2.3.4]:5 at 00:00:00.000000:\n"));  // no separator
  auto m = assemble(a, pieces("send 999 bytes to udp/[1.2.3.4]:5 at 00:00:00.000000:", "OPTIONS sip:a SIP/2.0\r\n\r\n"));
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->rebuild("OPTIONS"));
  EXPECT_TRUE(a.feed("   *** message truncated at 20 ***\n"));  // follows a block Sofia cut
  EXPECT_FALSE(a.feed("   *** message truncated at 20 ***\n"));
  auto received = assemble(a, pieces("recv 22 bytes from udp/[1.2.3.4]:5 at 00:00:00.000000:", "OPTIONS sip:a SIP/2.0\r\n"));
  ASSERT_TRUE(received);
  EXPECT_FALSE(received->stamp.sent);
}

}  // namespace
}  // namespace confab::sip

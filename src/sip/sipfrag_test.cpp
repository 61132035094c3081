#include "sip/sipfrag.h"

#include <gtest/gtest.h>

namespace confab::sip {
namespace {

int status(std::string_view body) {
  auto s = parse_sipfrag(body);
  return s ? s->status : 0;
}

TEST(Sipfrag, ReadsTheStatusLine) {
  EXPECT_EQ(status("SIP/2.0 200 OK\r\n"), 200);
  EXPECT_EQ(status("SIP/2.0 100 Trying"), 100);
  EXPECT_EQ(status("SIP/2.0 486"), 486);
  EXPECT_EQ(parse_sipfrag("SIP/2.0 503 DNS Error\r\nVia: x\r\n")->reason, "DNS Error");
  EXPECT_EQ(parse_sipfrag("SIP/2.0 486")->reason, "");
  for (auto bad : {"", "SIP/2.0 ", "SIP/2.0 20 OK", "SIP/2.0 2000 OK", "SIP/2.0 099 x", "SIP/2.0 700 x", "HTTP/1.1 200 OK",
                   "SIP/2.0 2a0 OK"})
    EXPECT_EQ(status(bad), 0) << bad;
}

}  // namespace
}  // namespace confab::sip

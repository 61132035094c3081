// Requests written by hand (the Tunnel API): what is accepted, what is dropped
// because the stack writes it, and the error a user gets for what is wrong.
#include "sip/raw_request.h"

#include <gtest/gtest.h>

using namespace confab::sip;

namespace {

std::string header(const RawRequest& r, const std::string& name) {
  for (auto& h : r.headers)
    if (h.name == name) return h.value;
  return "<none>";
}

}  // namespace

TEST(RawRequest, LfLineEndsIndentationAndStackFieldsDropped) {
  auto r = parse_raw_request(
      "\n   OPTIONS sip:conf@127.0.0.1:5080 SIP/2.0\n"
      "Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKold\n"
      "Call-ID: mine@host\n"
      "CSeq: 7 OPTIONS\n"
      "Accept: application/sdp\n"
      "X-Folded: one\n"
      "  two\n"
      "Content-Length: 0\n"
      "\n");
  ASSERT_TRUE(r.request) << r.error;
  EXPECT_EQ(r.request->method, "OPTIONS");
  EXPECT_EQ(r.request->request_uri, "sip:conf@127.0.0.1:5080");
  EXPECT_EQ(header(*r.request, "Accept"), "application/sdp");
  EXPECT_EQ(header(*r.request, "X-Folded"), "one two");
  EXPECT_EQ(header(*r.request, "Via"), "<none>");
  EXPECT_EQ(r.request->dropped, (std::vector<std::string>{"Via", "Call-ID", "CSeq", "Content-Length"}));
  EXPECT_TRUE(r.request->body.empty());
}

TEST(RawRequest, CrlfBodyContentTypeAndCompactForms) {
  auto r = parse_raw_request(
      "MESSAGE sip:bob@example.com SIP/2.0\r\n"
      "f: <sip:alice@example.com>;tag=1\r\n"
      "t: <sip:bob@example.com>\r\n"
      "c: text/plain\r\n"
      "i: abc\r\n"
      "\r\n"
      "hello\r\nworld");
  ASSERT_TRUE(r.request) << r.error;
  EXPECT_EQ(r.request->content_type, "text/plain");
  EXPECT_EQ(r.request->body, "hello\r\nworld");
  EXPECT_EQ(header(*r.request, "f"), "<sip:alice@example.com>;tag=1");
  EXPECT_EQ(r.request->dropped, (std::vector<std::string>{"Call-ID"}));
  EXPECT_EQ(canonical_header_name("f"), "From");
  EXPECT_EQ(canonical_header_name("CALL-ID"), "Call-ID");
  EXPECT_EQ(canonical_header_name("X-Mine"), "X-Mine");
}

TEST(RawRequest, ContentLengthCutsTheBodyOrIsRefusedWhenLonger) {
  auto cut = parse_raw_request("INFO sip:a@b SIP/2.0\nContent-Type: text/plain\nContent-Length: 3\n\nabcdef\n");
  ASSERT_TRUE(cut.request) << cut.error;
  EXPECT_EQ(cut.request->body, "abc");
  auto longer = parse_raw_request("INFO sip:a@b SIP/2.0\nContent-Type: text/plain\nContent-Length: 30\n\nabc");
  EXPECT_EQ(longer.code, 400);
  EXPECT_NE(longer.error.find("Content-Length says 30"), std::string::npos) << longer.error;
  auto nan = parse_raw_request("INFO sip:a@b SIP/2.0\nContent-Length: x\n\n");
  EXPECT_EQ(nan.code, 400);
}

TEST(RawRequest, ClearErrors) {
  struct Case {
    const char* text;
    const char* says;
  } cases[] = {
      {"", "empty request"},
      {"   \n\n", "empty request"},
      {"SIP/2.0 200 OK\n\n", "is a response"},
      {"OPTIONS sip:a@b\n\n", "line 1 must be"},
      {"OPTIONS sip:a@b SIP/2.0 extra\n\n", "line 1 must be"},
      {"OPT<IONS sip:a@b SIP/2.0\n\n", "not a method name"},
      {"OPTIONS http://a/ SIP/2.0\n\n", "is not a sip:, sips: or tel: URI"},
      {"OPTIONS sip:a@b SIP/3.0\n\n", "version must be SIP/2.0"},
      {"OPTIONS sip:a@b SIP/2.0\nno colon here\n\n", "line 2"},
      {"OPTIONS sip:a@b SIP/2.0\n folded first\n\n", "no field to continue"},
      {"OPTIONS sip:a@b SIP/2.0\nBad Name: x\n\n", "not a header field name"},
      {"OPTIONS sip:a@b SIP/2.0\nX-A: a\x01 b\n\n", "control character"},
      {"MESSAGE sip:a@b SIP/2.0\n\nbody without type", "needs a Content-Type"},
      {"OPTIONS sip:a@b SIP/2.0\nFrom: <<<not a uri\n\n", "From field"},
      {"OPTIONS sip:a@b SIP/2.0\nCSeq: 1 OPTIONS\nMax-Forwards: many\n\n", "Max-Forwards field"},
  };
  for (auto& c : cases) {
    auto r = parse_raw_request(c.text);
    EXPECT_FALSE(r.request) << c.text;
    EXPECT_EQ(r.code, 400) << c.text;
    EXPECT_NE(r.error.find(c.says), std::string::npos) << c.text << " -> " << r.error;
  }
}

TEST(RawRequest, SizeAndFieldCountLimits) {
  std::string big = "MESSAGE sip:a@b SIP/2.0\nContent-Type: text/plain\n\n" + std::string(kMaxRawRequestBytes, 'x');
  auto r = parse_raw_request(big);
  EXPECT_EQ(r.code, 413);
  EXPECT_NE(r.error.find("at most 65536"), std::string::npos) << r.error;

  std::string many = "OPTIONS sip:a@b SIP/2.0\n";
  for (size_t i = 0; i <= kMaxRawRequestHeaders; ++i) many += "X-H" + std::to_string(i) + ": v\n";
  auto m = parse_raw_request(many + "\n");
  EXPECT_EQ(m.code, 400);
  EXPECT_NE(m.error.find("header fields"), std::string::npos);

  auto nul = parse_raw_request(std::string("MESSAGE sip:a@b SIP/2.0\nContent-Type: text/plain\n\nab\0c", 54));
  EXPECT_EQ(nul.code, 400);
  EXPECT_NE(nul.error.find("NUL"), std::string::npos) << nul.error;
}

TEST(RawRequest, NoBlankLineMeansNoBodyAndTelUrisAreAccepted) {
  auto r = parse_raw_request("OPTIONS tel:+15551234 SIP/2.0\nAccept: text/plain\n  \n");
  ASSERT_TRUE(r.request) << r.error;
  EXPECT_EQ(r.request->request_uri, "tel:+15551234");
  auto no_head = parse_raw_request("X-PING sip:127.0.0.1:5060 SIP/2.0");
  ASSERT_TRUE(no_head.request) << no_head.error;
  EXPECT_EQ(no_head.request->method, "X-PING");
}

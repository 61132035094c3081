// The Tunnel's rules: which methods go where, what of a raw request is sent.
#include "service/tunnel/tunnel.h"

#include <gtest/gtest.h>

namespace confab::service {
namespace {

sip::RawRequest parse(const std::string& text) {
  auto r = sip::parse_raw_request(text);
  EXPECT_TRUE(r.request) << r.error;
  return r.request.value_or(sip::RawRequest{});
}

TEST(TunnelRules, SessionMethodsNeverDialogManagedOnesOnlyOutside) {
  for (const char* m : {"INVITE", "ACK", "CANCEL", "PRACK", "invite"}) {
    EXPECT_TRUE(tunnel_refusal(m, false)) << m;
    EXPECT_TRUE(tunnel_refusal(m, true)) << m;
  }
  for (const char* m : {"BYE", "UPDATE", "REGISTER", "SUBSCRIBE"}) EXPECT_TRUE(tunnel_refusal(m, true)) << m;
  EXPECT_TRUE(tunnel_refusal("SUBSCRIBE", false));
  for (const char* m : {"OPTIONS", "MESSAGE", "INFO", "NOTIFY", "REFER", "PUBLISH", "REGISTER", "BYE", "X-PING"})
    EXPECT_FALSE(tunnel_refusal(m, false)) << m;
  for (const char* m : {"INFO", "MESSAGE", "OPTIONS", "NOTIFY", "REFER", "X-PING"})
    EXPECT_FALSE(tunnel_refusal(m, true)) << m;
  EXPECT_NE(tunnel_refusal("BYE", true)->find("<Hangup"), std::string::npos);
}

TEST(TunnelRules, OutOfDialogTheTextsFromAndToAreUsed) {
  auto plan = plan_tunnel_request(parse("MESSAGE sip:bob@example.com SIP/2.0\nFrom: \"A\" <sip:a@example.com>\n"
                                        "t: <sip:bob@example.com>\nRoute: <sip:proxy.example.com;lr>\nCSeq: 4 MESSAGE\n"
                                        "Content-Type: text/plain\n\nhi"),
                                  false);
  EXPECT_EQ(plan.spec.request_uri, "sip:bob@example.com");
  EXPECT_EQ(plan.spec.from, "\"A\" <sip:a@example.com>");
  EXPECT_EQ(plan.spec.to, "<sip:bob@example.com>");
  ASSERT_EQ(plan.spec.headers.size(), 1u);
  EXPECT_EQ(plan.spec.headers[0].name, "Route");
  EXPECT_EQ(plan.spec.body, "hi");
  EXPECT_EQ(plan.ignored, (std::vector<std::string>{"CSeq"}));
}

TEST(TunnelRules, InADialogTheDialogsFieldsWin) {
  auto plan = plan_tunnel_request(parse("INFO sip:x@192.0.2.1 SIP/2.0\nFrom: <sip:m@x>\nTo: <sip:y@x>\n"
                                        "Contact: <sip:c@x>\nRoute: <sip:r@x;lr>\nVia: SIP/2.0/UDP x\nX-Keep: 1\n\n"),
                                  true);
  EXPECT_TRUE(plan.spec.request_uri.empty());
  EXPECT_TRUE(plan.spec.from.empty() && plan.spec.to.empty());
  ASSERT_EQ(plan.spec.headers.size(), 1u);
  EXPECT_EQ(plan.spec.headers[0].name, "X-Keep");
  EXPECT_EQ(plan.ignored, (std::vector<std::string>{"Request-URI", "Via", "From", "To", "Contact", "Route"}));
}

TEST(TunnelEvents, ResponsesWithAndWithoutAMessage) {
  auto local = tunnel_response_event("t1", "OPTIONS", 408, "Request Timeout", sip::Message());
  EXPECT_EQ(api::to_xml(local), R"(<TunnelResponse tag="t1" method="OPTIONS" status="408" reason="Request Timeout"/>)");
  auto m = sip::Message::parse("SIP/2.0 202 Accepted\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\n"
                               "To: <sip:c@d>\r\nCall-ID: x\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n");
  ASSERT_TRUE(m);
  auto e = tunnel_response_event("t2", "MESSAGE", 202, "", *m);
  EXPECT_EQ(e.attr("reason"), "Accepted");
  EXPECT_EQ(e.text.rfind("SIP/2.0 202 Accepted\r\n", 0), 0u);
}

}  // namespace
}  // namespace confab::service

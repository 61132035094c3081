#include "phone/uri_headers.h"

#include <gtest/gtest.h>

using confab::phone::split_uri_headers;

TEST(UriHeaders, PlainUriHasNone) {
  auto r = split_uri_headers("sip:bob@example.com;transport=tcp");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->uri, "sip:bob@example.com;transport=tcp");
  EXPECT_TRUE(r->headers.empty());
}

TEST(UriHeaders, HeadersAreSplitAndDecoded) {
  auto r = split_uri_headers("sip:b@h:5070?Replaces=a%40h%3Bto-tag%3D1%3Bfrom-tag%3D2&X-Note=a+b%20c&body=hi&flag&=x");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->uri, "sip:b@h:5070");
  ASSERT_EQ(r->headers.size(), 2u);
  EXPECT_EQ(r->headers[0].name, "Replaces");
  EXPECT_EQ(r->headers[0].value, "a@h;to-tag=1;from-tag=2");
  EXPECT_EQ(r->headers[1].name, "X-Note");
  EXPECT_EQ(r->headers[1].value, "a+b c");  // '+' is no space in a SIP URI
}

TEST(UriHeaders, MalformedEscapesAreRefusedNotThrown) {
  for (const char* bad : {"sip:b@h?Replaces=%zz", "sip:b@h?Replaces=a%4", "sip:b@h?Replaces=a%", "sip:b@h?R%zz=1",
                          "sip:b@h?X=%00", "sip:b@h?X=1&Y=%g1"})
    EXPECT_FALSE(split_uri_headers(bad)) << bad;
  EXPECT_TRUE(split_uri_headers("sip:b@h?"));
  EXPECT_TRUE(split_uri_headers("sip:b@h?X=%41"));
}

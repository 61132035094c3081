#include "media/sdp_terms.h"

#include <gtest/gtest.h>

using namespace confab;

namespace {

sip::AudioTerms terms(std::string encoding, int clock, std::string address = "192.0.2.7") {
  sip::AudioTerms t;
  t.codec = {8, std::move(encoding), clock, 1, ""};
  t.remote_address = std::move(address);
  t.remote_port = 40000;
  return t;
}

}  // namespace

TEST(SdpTerms, NegotiatedTermsBecomeStreamTerms) {
  auto t = terms("PCMA", 8000);
  t.telephone_event = sip::SdpFormat{101, "telephone-event", 8000, 1, "0-15"};
  t.direction = sip::Direction::RecvOnly;
  std::string error = "untouched";
  auto s = media::stream_terms(t, &error);
  ASSERT_TRUE(s) << error;
  EXPECT_EQ(error, "untouched");
  EXPECT_EQ(s->codec, media::Codec::Pcma);
  EXPECT_EQ(s->payload_type, 8);
  EXPECT_EQ(s->telephone_event_pt, 101);
  EXPECT_EQ(s->remote, *media::Endpoint::from("192.0.2.7", 40000));
  EXPECT_FALSE(s->send);
  EXPECT_TRUE(s->receive);
  EXPECT_EQ(s->latch, media::Latch::Off);
}

TEST(SdpTerms, DirectionAndCodecNamesFollowTheSdp) {
  auto t = terms("opus", 48000, "::1");
  t.codec.payload_type = 111;
  t.direction = sip::Direction::SendOnly;
  auto s = media::stream_terms(t);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->codec, media::Codec::Opus);
  EXPECT_EQ(s->payload_type, 111);
  EXPECT_FALSE(s->telephone_event_pt);
  EXPECT_TRUE(s->send);
  EXPECT_FALSE(s->receive);
  t.direction = sip::Direction::Inactive;
  s = media::stream_terms(t);
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->send);
  EXPECT_FALSE(s->receive);
  EXPECT_EQ(media::stream_terms(terms("pcmu", 8000))->codec, media::Codec::Pcmu);
}

TEST(SdpTerms, UnknownCodecOrNamedHostIsRefusedWithAReason) {
  std::string error;
  EXPECT_FALSE(media::stream_terms(terms("GSM", 8000), &error));
  EXPECT_EQ(error, "unsupported codec GSM");
  EXPECT_FALSE(media::stream_terms(terms("PCMU", 16000), &error));
  EXPECT_FALSE(media::stream_terms(terms("PCMU", 8000, "phone.example.com"), &error));
  EXPECT_EQ(error, "connection address must be numeric: phone.example.com");
  EXPECT_FALSE(media::stream_terms(terms("PCMU", 8000, "phone.example.com")));  // no error wanted: no crash
}

TEST(SdpOrigin, OneSessionIdPerDialogAndTheVersionGoesUp) {
  media::SdpOrigin origin;
  uint64_t before = media::now_seconds();
  auto offer = sip::make_audio_offer({{0, "PCMU", 8000, 1, ""}}, "192.0.2.1", 4000);
  auto first = sip::SessionDescription::parse(origin.stamp(offer, "confab-test"));
  auto second = sip::SessionDescription::parse(origin.stamp(offer, "confab-test"));
  ASSERT_TRUE(first && second);
  EXPECT_GE(first->session_id, before);
  EXPECT_LE(first->session_id, media::now_seconds());
  EXPECT_EQ(second->session_id, first->session_id);
  EXPECT_EQ(first->session_version, 1u);
  EXPECT_EQ(second->session_version, 2u);
  EXPECT_EQ(first->origin_user, "confab-test");
  EXPECT_EQ(origin.version, 2u);
}

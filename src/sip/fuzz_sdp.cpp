// libFuzzer: SDP parsing and the offer/answer rules applied to whatever parses.
#include <cstdint>
#include <string_view>

#include "sip/sdp.h"

using namespace confab::sip;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto sdp = SessionDescription::parse(text);
  if (!sdp) return 0;
  (void)sdp->str();
  static const std::vector<SdpFormat> supported = {
      {0, "PCMU", 8000, 1, ""}, {9, "G722", 8000, 1, ""}, {111, "opus", 48000, 2, ""}, {101, "telephone-event", 8000, 1, ""}};
  auto answer = answer_offer(*sdp, supported, "127.0.0.1", 20000);
  if (answer) {
    auto reparsed = SessionDescription::parse(answer->sdp.str());
    if (reparsed) (void)accept_answer(*sdp, *reparsed);
  }
  (void)accept_answer(make_audio_offer(supported, "127.0.0.1", 20000), *sdp);
  return 0;
}

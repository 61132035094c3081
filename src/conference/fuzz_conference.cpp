// libFuzzer: bytes sent to a live ConferenceServer over loopback UDP, so every
// input goes through Sofia's parser, the conference's request handling (INVITE
// creating rooms and participants, SUBSCRIBE to the conference event package,
// REFER, INFO, BYE, OPTIONS) and its answers. The mixer it would use listens
// nowhere. A crash or sanitizer report here is a bug in the request-handling path.
#include <cstdint>
#include <memory>

#include <spdlog/spdlog.h>

#include "conference/conference_server.h"
#include "sip/event_loop.h"
#include "sip/fuzz_datagrams.h"

namespace {

constexpr uint16_t kPort = 15961;

struct Harness {
  confab::sip::EventLoop loop;
  std::unique_ptr<confab::conference::ConferenceServer> server;
  confab::sip::FuzzDatagrams datagrams{kPort};

  Harness() {
    spdlog::set_level(spdlog::level::off);
    confab::conference::ConferenceConfig c;
    c.listen.push_back(*confab::sip::ListenSpec::parse("udp:127.0.0.1:" + std::to_string(kPort)));
    c.mixer = "sip:127.0.0.1:9";  // discard: nobody answers there
    server = std::make_unique<confab::conference::ConferenceServer>(loop, c);
  }
  ~Harness() {
    server->shutdown();
    loop.run_for(std::chrono::milliseconds(500));
    server.reset();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto& h = confab::sip::fuzz_harness<Harness>();
  if (size == 0 || size > 8000) return 0;
  h.datagrams.send(h.loop, data, size, [] { return false; }, 3);
  return 0;
}

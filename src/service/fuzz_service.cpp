// libFuzzer: bytes sent to a live ClientService's SIP port over loopback UDP,
// so every input goes through Sofia's parser and the service's handling of
// what reaches it from the network (incoming INVITEs to its identity, the
// in-dialog requests of its calls, REFER, NOTIFY, MESSAGE, OPTIONS, tunnel
// requests). No API clients, no devices: calls for the user are refused.
#include <cstdint>
#include <filesystem>
#include <memory>

#include <spdlog/spdlog.h>

#include "service/client_service.h"
#include "sip/event_loop.h"
#include "sip/fuzz_datagrams.h"

namespace {

constexpr uint16_t kPort = 15962;

struct Harness {
  confab::sip::EventLoop loop;
  std::unique_ptr<confab::service::ClientService> service;
  confab::sip::FuzzDatagrams datagrams{kPort};

  Harness() {
    spdlog::set_level(spdlog::level::off);
    auto dir = std::filesystem::temp_directory_path() / ("confab-fuzz-service-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    confab::service::ServiceConfig c;
    c.sip_listen.push_back(*confab::sip::ListenSpec::parse("udp:127.0.0.1:" + std::to_string(kPort)));
    c.identity = "sip:user@127.0.0.1:" + std::to_string(kPort);
    c.api_socket = (dir / "service.sock").string();
    c.token_file = (dir / "token").string();
    c.origins_file = (dir / "origins").string();
    c.api_tcp = "";
    c.web_api = "";
    c.keepalive_s = 0;
    confab::service::complete_service_config(c);
    service = std::make_unique<confab::service::ClientService>(loop, c);
  }
  ~Harness() {
    service->shutdown();
    service.reset();
    loop.run_for(std::chrono::milliseconds(200));
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto& h = confab::sip::fuzz_harness<Harness>();
  if (size == 0 || size > 8000) return 0;
  h.datagrams.send(h.loop, data, size, [] { return false; }, 3);
  return 0;
}

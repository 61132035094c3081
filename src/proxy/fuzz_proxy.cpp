// libFuzzer: bytes sent to a live ProxyServer over loopback UDP, so every input
// goes through the transaction layer, validation, routing and the registrar.
// A crash, leak or sanitizer report here is a bug in the request-handling path.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>

#include <spdlog/spdlog.h>

#include "proxy/proxy_server.h"
#include "sip/event_loop.h"
#include "sip/fuzz_datagrams.h"

namespace {

constexpr uint16_t kPort = 15960;

struct Harness {
  confab::sip::EventLoop loop;
  std::unique_ptr<confab::proxy::ProxyServer> proxy;
  confab::sip::FuzzDatagrams datagrams{kPort};

  Harness() {
    spdlog::set_level(spdlog::level::off);
    // Fuzzed host names are looked up in DNS: ask a loopback port where nothing
    // listens, so every lookup fails at once instead of staying in flight.
    auto conf = std::filesystem::temp_directory_path() / "confab-fuzz-resolv.conf";
    FILE* f = std::fopen(conf.c_str(), "w");
    if (f) {
      std::fputs("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n", f);
      std::fclose(f);
    }
    confab::proxy::ProxyConfig c;
    c.listen.push_back(*confab::sip::ListenSpec::parse("udp:127.0.0.1:" + std::to_string(kPort)));
    c.db_path = ":memory:";
    c.domains = {"example.com"};
    c.routes = {{"conf.example.com", "127.0.0.1:9"}};
    c.auth_invite = true;
    c.resolv_conf = (std::filesystem::temp_directory_path() / "confab-fuzz-resolv.conf").string();
    proxy = std::make_unique<confab::proxy::ProxyServer>(loop, c);
  }
  ~Harness() {
    // Let in-flight work (failing DNS lookups, retransmissions) finish before tearing down.
    loop.run_for(std::chrono::milliseconds(1500));
    proxy.reset();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto& h = confab::sip::fuzz_harness<Harness>();
  if (size == 0 || size > 8000) return 0;
  auto taken = [&h, before = h.proxy->layer().stats()] {
    auto after = h.proxy->layer().stats();
    return after.received_requests + after.received_responses + after.bad_messages >
           before.received_requests + before.received_responses + before.bad_messages;
  };
  h.datagrams.send(h.loop, data, size, taken);
  return 0;
}

// confab mixer: the SIP-controlled N-1 audio mixer.
#include <charconv>

#include "base/log.h"
#include "base/secret_input.h"
#include "base/host_port.h"
#include "cli/commands.h"
#include "mixer/mixer_control.h"
#include "mixer/mixer_server.h"
#include "sip/event_loop.h"

namespace confab::cli {

namespace {

struct MixerArgs {
  std::vector<std::string> listen;
  std::string rtp_ports = "20000-29999";
  std::string rtp_host = "127.0.0.1";
  int threads = 1;
  int rtp_timeout_s = 60;
  std::string http;
  std::string http_token, http_token_file, control;
  std::string latch = "private";
  std::string sip_trace;
};

// RTP and RTCP take a pair of ports each, above the privileged ones.
std::pair<uint16_t, uint16_t> parse_range(const std::string& s) {
  auto [lo, hi] = base::parse_port_range(s, "--rtp-ports");
  if (lo < 1024 || lo + 1 >= hi)
    throw std::runtime_error("--rtp-ports '" + s + "' must start at 1024 or above and hold at least two ports");
  return {lo, hi};
}

}  // namespace

std::vector<sip::ListenSpec> parse_listen(const std::vector<std::string>& specs, const std::string& fallback) {
  std::vector<sip::ListenSpec> out;
  for (auto& l : specs.empty() ? std::vector<std::string>{fallback} : specs) {
    auto spec = sip::ListenSpec::parse(l);
    if (!spec) throw std::runtime_error("bad --listen '" + l + "' (want [udp:|tcp:]HOST:PORT)");
    out.push_back(*spec);
  }
  return out;
}

void add_mixer_command(CLI::App& app, const GlobalOptions& global, Runner& runner) {
  auto a = std::make_shared<MixerArgs>();
  auto* cmd = app.add_subcommand("mixer", "SIP-controlled N-1 audio mixer: INVITE sip:<mix-id>@mixer joins a mix");
  cmd->add_option("--listen", a->listen, "SIP address, [udp:|tcp:]HOST:PORT (default 127.0.0.1:5090)");
  cmd->add_option("--rtp-ports", a->rtp_ports, "RTP port range")->capture_default_str();
  cmd->add_option("--rtp-host", a->rtp_host, "address for RTP")->capture_default_str();
  cmd->add_option("--threads", a->threads, "mixing threads (at most one per core)")->capture_default_str();
  cmd->add_option("--rtp-timeout", a->rtp_timeout_s, "seconds without RTP before a leg is hung up")->capture_default_str();
  cmd->add_option("--latch", a->latch,
                  "send RTP where the peer's comes from (NAT): private (when its SDP address is private), "
                  "always, off")
      ->check(CLI::IsMember({"private", "always", "off"}))
      ->capture_default_str();
  cmd->add_option("--http", a->http, "HOST:PORT for GET /mixes and /metrics (off by default)");
  cmd->add_option("--http-token", a->http_token,
                  "bearer token required by the HTTP endpoint (visible in the process list: prefer --http-token-file)");
  cmd->add_option("--http-token-file", a->http_token_file, "file whose first line is the HTTP endpoint's bearer token");
  cmd->add_option("--control", a->control, "PATH: the control socket `confab ctl mixer` talks to (default none)");
  add_sip_trace_option(*cmd, a->sip_trace);
  cmd->callback([a, &global, &runner] {
    runner = [a, &global]() -> int {
      base::init_logging("mixer", global.log_level);
      mixer::MixerConfig c;
      c.listen = parse_listen(a->listen, "127.0.0.1:5090");
      std::tie(c.rtp_low, c.rtp_high) = parse_range(a->rtp_ports);
      c.rtp_host = a->rtp_host;
      c.threads = a->threads;
      c.rtp_timeout_ms = a->rtp_timeout_s * 1000;
      c.latch = a->latch == "always" ? media::Latch::Always
                : a->latch == "off"  ? media::Latch::Off
                                     : media::Latch::Private;
      if (!a->http.empty()) {
        auto http = base::parse_host_port(a->http, "--http");
        c.http_host = http.host;
        c.http_port = http.port;
      }
      if (!a->http_token.empty() && !a->http_token_file.empty())
        throw std::invalid_argument("give --http-token or --http-token-file, not both");
      if (!a->http_token.empty()) spdlog::warn(base::secret_on_command_line_warning("--http-token", "--http-token-file"));
      c.http_token = a->http_token_file.empty() ? a->http_token
                                                : base::read_secret_file(a->http_token_file, "--http-token-file");
      auto trace = start_sip_trace(a->sip_trace);
      sip::EventLoop loop;
      mixer::MixerServer server(loop, c);
      spdlog::info("mixer listening on {} (RTP {} {}-{}, {} thread(s){})", c.listen.front().str(), c.rtp_host,
                   c.rtp_low, c.rtp_high, c.threads, c.http_host.empty() ? "" : ", HTTP " + a->http);
      std::unique_ptr<control::ControlServer> control;
      if (!a->control.empty()) {
        control = std::make_unique<control::ControlServer>(loop, a->control, "mixer");
        mixer::add_mixer_commands(*control, server);
      }
      stop_on_signals([&loop] { loop.stop(); });
      loop.run();
      control.reset();
      server.shutdown();
      auto m = server.engine().metrics();
      spdlog::info("mixer stopped: {} ticks, {} late", m.ticks, m.late_ticks);
      return 0;
    };
  });
}

}  // namespace confab::cli

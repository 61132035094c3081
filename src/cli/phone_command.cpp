// confab phone: a headless SIP phone for tests, the demo and scripts.
#include <arpa/inet.h>
#include <netdb.h>
#include <unistd.h>

#include <iostream>
#include <mutex>
#include <thread>

#include "base/log.h"
#include "base/host_port.h"
#include "base/secret_input.h"
#include "cli/commands.h"
#include "media/udp_socket.h"
#include "phone/phone.h"
#include "sip/event_loop.h"

namespace confab::cli {

namespace {

constexpr int kExitNotRegistered = 3;

struct PhoneArgs {
  std::string listen = "127.0.0.1:5064";
  std::string register_aor, proxy, identity, user, password, password_file, dial, subscribe, codec, play, record, notify_dir;
  double tone = 0;
  bool sound_card = false;
  double volume = 0.3;
  bool auto_answer = false;
  std::string rtp_ports = "30000-39999";
  std::string rtp_address, sdp_address;
  std::string sip_trace;
};

// `host` as a numeric address (a name resolved once); throws naming `what` if it has none.
std::string numeric_address(const std::string& host, const std::string& what) {
  if (media::Endpoint::from(host, 0)) return host;
  addrinfo hints{}, *found = nullptr;
  hints.ai_socktype = SOCK_DGRAM;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0 || !found)
    throw std::runtime_error(what + " '" + host + "' is no address and resolves to none");
  char text[NI_MAXHOST] = {};
  int rc = getnameinfo(found->ai_addr, found->ai_addrlen, text, sizeof text, nullptr, 0, NI_NUMERICHOST);
  freeaddrinfo(found);
  if (rc != 0) throw std::runtime_error(what + " '" + host + "' resolves to no numeric address");
  return text;
}

bool is_wildcard(const std::string& address) {
  in_addr v4{};
  in6_addr v6{};
  if (inet_pton(AF_INET, address.c_str(), &v4) == 1) return v4.s_addr == htonl(INADDR_ANY);
  return inet_pton(AF_INET6, address.c_str(), &v6) == 1 && IN6_IS_ADDR_UNSPECIFIED(&v6);
}

// Where RTP is bound: --rtp-address, else the host of --listen (the SIP address). The SDP
// names --sdp-address if given, else this address, so a wildcard one needs --sdp-address.
std::string rtp_address_of(const PhoneArgs& a, const std::string& listen_host) {
  std::string address = a.rtp_address.empty() ? numeric_address(listen_host, "the --listen host")
                                              : numeric_address(a.rtp_address, "--rtp-address");
  if (is_wildcard(address) && a.sdp_address.empty())
    throw std::runtime_error("RTP on the wildcard address " + address +
                             " needs --sdp-address (the address to name in SDP), or a --rtp-address that is not a wildcard");
  return address;
}

// The phone's settings from its options; throws std::runtime_error naming a bad one.
phone::PhoneConfig phone_config(const PhoneArgs& a) {
  phone::PhoneConfig c;
  c.listen = parse_listen({"udp:" + a.listen, "tcp:" + a.listen}, a.listen);
  c.register_aor = a.register_aor;
  c.proxy = a.proxy;
  c.identity = a.identity;
  c.user = a.user;
  if (!a.password.empty() && !a.password_file.empty()) throw std::runtime_error("give --password or --password-file, not both");
  if (!a.password.empty())
    spdlog::warn("{}", base::secret_on_command_line_warning("--password", "--password-file FILE"));
  c.password = a.password_file.empty() ? a.password : base::read_secret_file(a.password_file, "--password-file");
  c.stop_if_not_registered = !a.register_aor.empty();
  c.auto_answer = a.auto_answer;
  c.dial = a.dial;
  c.subscribe = a.subscribe;
  c.codec = a.codec;
  c.source.tone_hz = a.tone;
  c.source.amplitude = a.volume;
  c.source.wav_file = a.play;
  c.source.sound_card = a.sound_card;
  if (a.sound_card && (a.tone > 0 || !a.play.empty()))
    throw std::runtime_error("--sound-card replaces --tone and --play: give only one");
  c.record_file = a.record;
  c.notify_dir = a.notify_dir;
  if (!a.sdp_address.empty() && !media::Endpoint::from(a.sdp_address, 0))
    throw std::runtime_error("--sdp-address must be a numeric address, not '" + a.sdp_address + "'");
  c.sdp_address = a.sdp_address;
  c.rtp_host = rtp_address_of(a, c.listen.front().host);
  std::tie(c.rtp_low, c.rtp_high) = base::parse_port_range(a.rtp_ports, "--rtp-ports");
  if (c.identity.empty() && c.register_aor.empty()) c.identity = "sip:phone@" + a.listen;
  return c;
}

}  // namespace

void add_phone_command(CLI::App& app, const GlobalOptions& global, Runner& runner) {
  auto a = std::make_shared<PhoneArgs>();
  auto* cmd = app.add_subcommand("phone", "headless SIP phone: tone/WAV out, recording in, commands on stdin");
  cmd->add_option("--listen", a->listen, "SIP address HOST:PORT (UDP and TCP); RTP too, on HOST")->capture_default_str();
  cmd->add_option("--register", a->register_aor,
                  "address-of-record to REGISTER, e.g. sip:alice@example.com (exit status 3 when the first REGISTER "
                  "fails)");
  cmd->add_option("--proxy", a->proxy, "registrar and outbound proxy URI, e.g. sip:127.0.0.1:5060");
  cmd->add_option("--from", a->identity, "our From address (default: the AOR, else sip:phone@listen)");
  cmd->add_option("--user", a->user, "digest user name");
  cmd->add_option("--password", a->password, "digest password (visible in the process list: prefer --password-file)");
  cmd->add_option("--password-file", a->password_file, "file whose first line is the digest password");
  cmd->add_flag("--auto-answer", a->auto_answer, "answer every incoming call");
  cmd->add_option("--dial", a->dial, "call this URI at start");
  cmd->add_option("--subscribe", a->subscribe, "subscribe to this conference's roster (RFC 4575) at start");
  cmd->add_option("--tone", a->tone, "send a sine tone of this many Hz");
  cmd->add_option("--play", a->play, "send this WAV file (looped)");
  cmd->add_option("--volume", a->volume, "tone amplitude, 0..1")->capture_default_str();
  cmd->add_flag("--sound-card", a->sound_card,
                "talk and listen through the default sound card (PortAudio) instead of --tone/--play");
  cmd->add_option("--record", a->record, "record what we hear to this WAV file (16 kHz)");
  cmd->add_option("--save-notify", a->notify_dir, "directory to keep each conference NOTIFY body in");
  cmd->add_option("--codec", a->codec, "only this codec: pcmu, pcma, g722, opus (default: all)")
      ->check(CLI::IsMember({"pcmu", "pcma", "g722", "opus"}));
  cmd->add_option("--rtp-ports", a->rtp_ports, "RTP port range")->capture_default_str();
  cmd->add_option("--rtp-address", a->rtp_address, "address to bind RTP to (default: the --listen host)");
  cmd->add_option("--sdp-address", a->sdp_address,
                  "address to name in SDP instead of the RTP one (as a phone behind NAT names its LAN address)");
  add_sip_trace_option(*cmd, a->sip_trace);
  cmd->callback([a, &global, &runner] {
    runner = [a, &global]() -> int {
      base::init_logging("phone", global.log_level);
      phone::PhoneConfig c = phone_config(*a);
      auto trace = start_sip_trace(a->sip_trace);
      sip::EventLoop loop;
      std::mutex out;
      phone::Phone phone(loop, c, [&out](const std::string& line) {
        std::lock_guard lock(out);
        std::cout << line << std::endl;
      });
      stop_on_signals([&loop] { loop.stop(); });
      // Commands from stdin, run on the SIP thread; end of input is not "quit"
      // (a phone in the background has no terminal), only "quit" is.
      std::thread([&loop, &phone] {
        std::string line;
        while (std::getline(std::cin, line)) {
          if (line == "quit") {
            loop.stop();
            return;
          }
          loop.post([&phone, line] { phone.command(line); });
        }
      }).detach();
      loop.run();
      phone.shutdown();
      // the stdin reader may still be blocked in getline; 3: --register could not register
      _exit(phone.registration_failed() && c.stop_if_not_registered ? kExitNotRegistered : 0);
    };
  });
}

}  // namespace confab::cli

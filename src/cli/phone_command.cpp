// confab phone: a headless SIP phone for tests, the demo and scripts.
#include <unistd.h>

#include <iostream>
#include <mutex>
#include <thread>

#include "base/log.h"
#include "cli/commands.h"
#include "media/udp_socket.h"
#include "phone/phone.h"
#include "sip/event_loop.h"

namespace confab::cli {

namespace {

struct PhoneArgs {
  std::string listen = "127.0.0.1:5064";
  std::string register_aor, proxy, identity, user, password, dial, subscribe, codec, play, record, notify_dir;
  double tone = 0;
  bool sound_card = false;
  double volume = 0.3;
  bool auto_answer = false;
  std::string rtp_ports = "30000-39999";
  std::string sdp_address;
};

}  // namespace


void add_phone_command(CLI::App& app, const GlobalOptions& global, Runner& runner) {
  auto a = std::make_shared<PhoneArgs>();
  auto* cmd = app.add_subcommand("phone", "headless SIP phone: tone/WAV out, recording in, commands on stdin");
  cmd->add_option("--listen", a->listen, "SIP address HOST:PORT (UDP and TCP)")->capture_default_str();
  cmd->add_option("--register", a->register_aor, "address-of-record to REGISTER, e.g. sip:alice@example.com");
  cmd->add_option("--proxy", a->proxy, "registrar and outbound proxy URI, e.g. sip:127.0.0.1:5060");
  cmd->add_option("--from", a->identity, "our From address (default: the AOR, else sip:phone@listen)");
  cmd->add_option("--user", a->user, "digest user name");
  cmd->add_option("--password", a->password, "digest password");
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
  cmd->add_option("--sdp-address", a->sdp_address,
                  "address to name in SDP instead of the RTP one (as a phone behind NAT names its LAN address)");
  cmd->callback([a, &global, &runner] {
    runner = [a, &global]() -> int {
      base::init_logging("phone", global.log_level);
      phone::PhoneConfig c;
      c.listen = parse_listen({"udp:" + a->listen, "tcp:" + a->listen}, a->listen);
      c.register_aor = a->register_aor;
      c.proxy = a->proxy;
      c.identity = a->identity;
      c.user = a->user;
      c.password = a->password;
      c.auto_answer = a->auto_answer;
      c.dial = a->dial;
      c.subscribe = a->subscribe;
      c.codec = a->codec;
      c.source.tone_hz = a->tone;
      c.source.amplitude = a->volume;
      c.source.wav_file = a->play;
      c.source.sound_card = a->sound_card;
      if (a->sound_card && (a->tone > 0 || !a->play.empty()))
        throw std::runtime_error("--sound-card replaces --tone and --play: give only one");
      c.record_file = a->record;
      c.notify_dir = a->notify_dir;
      if (!a->sdp_address.empty() && !media::Endpoint::from(a->sdp_address, 0))
        throw std::runtime_error("--sdp-address must be a numeric address, not '" + a->sdp_address + "'");
      c.sdp_address = a->sdp_address;
      auto dash = a->rtp_ports.find('-');
      if (dash == std::string::npos) throw std::runtime_error("bad --rtp-ports");
      c.rtp_low = static_cast<uint16_t>(std::stoi(a->rtp_ports.substr(0, dash)));
      c.rtp_high = static_cast<uint16_t>(std::stoi(a->rtp_ports.substr(dash + 1)));
      if (c.identity.empty() && c.register_aor.empty()) c.identity = "sip:phone@" + a->listen;

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
      _exit(0);  // the stdin reader may still be blocked in getline
    };
  });
}

}  // namespace confab::cli

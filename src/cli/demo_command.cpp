// confab demo: every part on loopback, with instructions for trying it.
// The proxy/registrar, the conference server, the mixer and the client service
// run in this process; phones are child processes. Three phones with different
// tones join the ad-hoc conference sip:demo@conference.confab.local through the
// proxy, a fourth watches its roster (RFC 4575); it prints what each hears and
// the roster. Then the service puts "you" into that conference on your desk
// phone (Join), moves the call to sip:lobby@... without hanging up
// (SameDeviceJoin), and prints the roster events and what the desk phone hears.
// Last come the game server (three bots in its zones) and the web site
// (`confab web` with the example site in packaging/site).
#include <signal.h>

#include <cmath>
#include <filesystem>
#include <future>
#include <iostream>
#include <thread>
#include <tuple>

#include <fstream>
#include <regex>

#include "base/child_process.h"
#include "base/log.h"
#include "cli/commands.h"
#include "conference/conference_server.h"
#include "game/game_server.h"
#include "game/server_voice.h"
#include "media/wav.h"
#include "mixer/mixer_server.h"
#include "api/api_client.h"
#include "proxy/proxy_server.h"
#include "service/client_service.h"
#include "service/paths.h"
#include "sip/event_loop.h"
#include "web/web_server.h"

namespace confab::cli {

namespace {

struct DemoArgs {
  std::string dir;
  uint16_t proxy_port = 5060;
  uint16_t mixer_port = 5090;
  uint16_t conference_port = 5080;
};

constexpr const char* kConferenceDomain = "conference.confab.local";

// A part of the demo on a thread of its own: Sofia wants each loop run by the
// thread that made it, so the part is built there too.
template <typename Part>
class PartThread {
 public:
  template <typename Make>
  explicit PartThread(Make make) {
    std::promise<void> ready;
    auto started = ready.get_future();
    thread_ = std::thread([this, make, &ready] {
      sip::EventLoop loop;
      try {
        auto part = make(loop);
        loop_ = &loop;
        ready.set_value();
        loop.run();
      } catch (...) {
        ready.set_exception(std::current_exception());
      }
    });
    try {
      started.get();  // rethrows a failure to start (a port in use, say)
    } catch (...) {
      thread_.join();
      throw;
    }
  }
  ~PartThread() {
    if (loop_) loop_->stop();
    thread_.join();
  }

 private:
  std::thread thread_;
  sip::EventLoop* loop_ = nullptr;
};

struct ChildPhone {
  std::shared_ptr<base::ChildProcess> process;  // stopped (SIGTERM) when the last copy goes
  std::string name;
  double tone = 0;
  std::string recording;
};

enum class PhoneRole { Dial, Watch, Answer };

// A phone that dials `target`, subscribes to its roster, or waits for calls (a device), through `proxy`.
ChildPhone spawn_phone(const std::string& name, double tone, uint16_t port, const std::string& target,
                       const std::string& proxy, const std::filesystem::path& dir, PhoneRole role = PhoneRole::Dial) {
  ChildPhone p{nullptr, name, tone, (dir / (name + ".wav")).string()};
  std::string log = (dir / (name + ".log")).string();
  std::vector<std::string> args = {"/proc/self/exe", "phone", "--listen", "127.0.0.1:" + std::to_string(port),
                                   "--tone", std::to_string(static_cast<int>(tone)), "--volume", "0.2",
                                   "--record", p.recording, "--proxy", proxy, "--from", "sip:" + name + "@confab.local",
                                   "--rtp-ports", std::to_string(30000 + port % 100 * 40) + "-" +
                                                      std::to_string(30039 + port % 100 * 40)};
  if (role == PhoneRole::Answer) {
    args.push_back("--auto-answer");
  } else {
    args.push_back(role == PhoneRole::Watch ? "--subscribe" : "--dial");
    args.push_back(target);
  }
  std::ofstream{log, std::ios::trunc};  // the log of this run only
  p.process = std::make_shared<base::ChildProcess>(base::SpawnSpec{args, {}, log});
  return p;
}

// What `p` hears now: "440 Hz yes (-12 dB)  660 Hz no (-70 dB) ...".
std::string hearing(const ChildPhone& p, const std::vector<double>& tones);

// Level (dB of full scale) of `freq` in the last second of a 16 kHz recording.
double level_db(const std::vector<int16_t>& x, double freq) {
  const int rate = 16000;
  size_t n = std::min<size_t>(x.size(), rate), start = x.size() - n;
  double c = 0, s = 0;
  for (size_t i = 0; i < n; ++i) {
    double t = 2 * M_PI * freq * static_cast<double>(i) / rate;
    c += x[start + i] * std::cos(t);
    s += x[start + i] * std::sin(t);
  }
  double amp = n ? 2 * std::sqrt(c * c + s * s) / static_cast<double>(n) / 32768.0 : 0;
  return 20 * std::log10(std::max(amp, 1e-9));
}

std::string hearing(const ChildPhone& p, const std::vector<double>& tones) {
  std::vector<int16_t> heard;
  try {
    heard = media::read_wav(p.recording, 16000);
  } catch (const std::exception& e) {
    return std::string(" no recording yet (") + e.what() + ")";
  }
  std::string out;
  for (double f : tones) {
    double db = level_db(heard, f);
    out += "  " + std::to_string(static_cast<int>(f)) + " Hz " + (db > -35 ? "yes" : "no ") + " (" +
           std::to_string(static_cast<int>(db)) + " dB)";
  }
  return out;
}

// Prints the API events that arrived (calls and roster), briefly.
void print_events(api::ApiClient& client, std::chrono::milliseconds for_how_long) {
  auto until = std::chrono::steady_clock::now() + for_how_long;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    if (left.count() <= 0) return;
    auto m = client.next(left);
    if (!m) return;
    if (m->name == "Call") {
      std::cout << "    call " << m->attr("id") << " " << m->attr("state") << " " << m->attr("target") << "\n";
    } else if (m->name == "Roster") {
      std::cout << "    roster " << m->attr("conference") << ":";
      for (auto& c : m->children) std::cout << " " << (c.name == "Joined" ? "+" : "-") << c.attr("uri");
      std::cout << "\n";
    }
  }
}

// Waits (at most `limit`) until the phone log `log` has a line starting with `prefix`.
bool wait_for_line(const std::filesystem::path& log, const std::string& prefix, std::chrono::milliseconds limit) {
  auto until = std::chrono::steady_clock::now() + limit;
  do {
    std::ifstream in(log);
    std::string line;
    while (std::getline(in, line))
      if (line.rfind(prefix, 0) == 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  } while (std::chrono::steady_clock::now() < until);
  return false;
}

// The last roster line the watcher phone printed (event=roster ... members=...).
std::string last_roster(const std::filesystem::path& log) {
  std::ifstream in(log);
  std::string line, last;
  while (std::getline(in, line))
    if (line.rfind("event=roster ", 0) == 0) last = line;
  std::smatch m;
  if (!std::regex_search(last, m, std::regex("version=(\\d+) .*members=(\\S+)"))) return "(no roster yet)";
  std::string members = m[2];
  for (auto& c : members)
    if (c == ',') c = ' ';
  return "version " + m[1].str() + ": " + members;
}

// The browser extension's folder: extension/ of the source tree the binary was built in, or the installed copy.
std::string extension_path() {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  for (auto dir : {self.parent_path() / ".." / "extension", self.parent_path() / ".." / "share" / "confab" / "extension",
                   std::filesystem::path("/usr/share/confab/extension")})
    if (std::filesystem::exists(dir / "manifest.json", ec)) return std::filesystem::weakly_canonical(dir, ec).string();
  return "extension/ of the Confab sources";
}

int run_demo(const GlobalOptions& g, const DemoArgs& a) {
  base::init_logging("demo", g.log_level);
  // Before any thread starts, so that every thread has SIGINT/SIGTERM blocked.
  std::promise<void> stop;
  auto stopped = stop.get_future();
  stop_on_signals([&stop] { stop.set_value(); });
  std::filesystem::path dir = a.dir.empty() ? std::filesystem::temp_directory_path() / "confab-demo"
                                            : std::filesystem::path(a.dir);
  std::filesystem::create_directories(dir);
  std::string proxy_addr = "127.0.0.1:" + std::to_string(a.proxy_port);
  std::string mixer_addr = "127.0.0.1:" + std::to_string(a.mixer_port);
  std::string conference_addr = "127.0.0.1:" + std::to_string(a.conference_port);

  proxy::ProxyConfig pc;
  pc.listen = {*sip::ListenSpec::parse("udp:" + proxy_addr), *sip::ListenSpec::parse("tcp:" + proxy_addr)};
  pc.db_path = (dir / "proxy.db").string();
  pc.domains = {"confab.local"};
  pc.routes[kConferenceDomain] = conference_addr;  // unregistered URIs there go to the conference server
  PartThread<proxy::ProxyServer> proxy(
      [&](sip::EventLoop& loop) { return std::make_unique<proxy::ProxyServer>(loop, pc); });

  mixer::MixerConfig mc;
  mc.listen = {*sip::ListenSpec::parse("udp:" + mixer_addr), *sip::ListenSpec::parse("tcp:" + mixer_addr)};
  mc.rtp_low = 20000;
  mc.rtp_high = 21999;
  mc.http_host = "127.0.0.1";
  mc.http_port = static_cast<uint16_t>(a.mixer_port + 1);
  PartThread<mixer::MixerServer> mixer(
      [&](sip::EventLoop& loop) { return std::make_unique<mixer::MixerServer>(loop, mc); });

  conference::ConferenceConfig cc;
  cc.listen = {*sip::ListenSpec::parse("udp:" + conference_addr), *sip::ListenSpec::parse("tcp:" + conference_addr)};
  cc.mixer = "sip:" + mixer_addr;
  cc.domains = {kConferenceDomain};
  cc.admin_host = "127.0.0.1";
  cc.admin_port = static_cast<uint16_t>(a.conference_port + 1);
  PartThread<conference::ConferenceServer> conference(
      [&](sip::EventLoop& loop) { return std::make_unique<conference::ConferenceServer>(loop, cc); });

  std::string room = std::string("sip:demo@") + kConferenceDomain, via = "sip:" + proxy_addr;
  std::vector<ChildPhone> phones = {spawn_phone("alice", 440, 5172, room, via, dir),
                                    spawn_phone("bob", 660, 5174, room, via, dir),
                                    spawn_phone("carol", 880, 5176, room, via, dir)};
  // The conference exists once a phone is in it; a SUBSCRIBE before that gets 404.
  wait_for_line(dir / "alice.log", "event=answered ", std::chrono::seconds(10));
  ChildPhone watcher = spawn_phone("watcher", 0, 5178, room, via, dir, PhoneRole::Watch);
  std::cout << "\nConfab demo is running on loopback (Ctrl-C to stop). Files: " << dir.string() << "\n\n"
            << "  proxy/registrar    sip:" << proxy_addr << " (UDP+TCP), domain confab.local; "
            << kConferenceDomain << " -> the conference server\n"
            << "  conference server  sip:<any-id>@" << kConferenceDomain << " (direct: sip:<any-id>@" << conference_addr
            << "), admin API http://127.0.0.1:" << cc.admin_port << "/conferences\n"
            << "  mixer              sip:" << mixer_addr << ", mixes: http://127.0.0.1:" << mc.http_port << "/mixes\n"
            << "  phones             alice 440 Hz, bob 660 Hz, carol 880 Hz, joined " << room
            << " through the proxy\n\n"
            << "Listening for 4 seconds..." << std::endl;
  std::this_thread::sleep_for(std::chrono::seconds(4));
  std::vector<double> tones;
  for (auto& p : phones) tones.push_back(p.tone);
  for (auto& p : phones) std::cout << "  " << p.name << " (sends " << p.tone << " Hz) hears:" << hearing(p, tones) << "\n";
  std::cout << "\nEach phone hears the other two and not itself (N-1 mixing).\n"
            << "Roster of " << room << " as the conference event package (RFC 4575) reports it:\n  "
            << last_roster(dir / "watcher.log") << "\n\n";

  // The client service: "you" (sip:you@confab.local) with two phones as devices.
  std::string lobby = std::string("sip:lobby@") + kConferenceDomain;
  phones.push_back(spawn_phone("dave", 1100, 5184, lobby, via, dir));
  ChildPhone desk = spawn_phone("desk", 1320, 5180, "", via, dir, PhoneRole::Answer);
  ChildPhone laptop = spawn_phone("laptop", 1500, 5182, "", via, dir, PhoneRole::Answer);
  service::ServiceConfig sc;
  sc.sip_listen = {*sip::ListenSpec::parse("udp:127.0.0.1:5062")};
  sc.identity = "sip:you@confab.local";
  sc.proxy = via;
  sc.devices = {{"desk", "sip", "Desk phone", {{"uri", "sip:desk@127.0.0.1:5180"}}},
                {"laptop", "sip", "Laptop softphone", {{"uri", "sip:laptop@127.0.0.1:5182"}}}};
  sc.default_device = "desk";
  sc.conference_server = kConferenceDomain;
  sc.origins_file = (dir / "approved-origins").string();
  std::string chooser;
  PartThread<service::ClientService> service([&](sip::EventLoop& loop) {
    auto s = std::make_unique<service::ClientService>(loop, sc);
    s->start();
    chooser = s->chooser_url();
    return s;
  });
  for (auto* device : {&desk, &laptop}) wait_for_line(dir / (device->name + ".log"), "event=ready ", std::chrono::seconds(10));
  std::string socket = service::runtime_dir() + "/service.sock";
  auto client = api::ApiClient::unix_socket(socket);
  client.call(api::ApiMessage("Subscribe").set("events", "calls roster"));
  std::cout << "Client service (you: sip:you@confab.local, devices: desk 1320 Hz, laptop 1500 Hz):\n"
            << "  <Join id=\"" << room << "\"><Use dev=\"desk\"/></Join>\n";
  auto joined = client.call(api::ApiMessage("Join").set("id", room).add(api::ApiMessage("Use").set("dev", "desk")),
                            std::chrono::seconds(10));
  std::cout << "    -> " << (joined ? api::to_xml(*joined) : "no answer") << "\n";
  print_events(client, std::chrono::milliseconds(3000));
  std::vector<double> all = {440, 660, 880, 1100};
  std::cout << "  desk hears:" << hearing(desk, all) << "\n"
            << "  <SameDeviceJoin id=\"" << lobby << "\"/>   (moves the call, the desk phone does not hang up)\n";
  auto moved = client.call(api::ApiMessage("SameDeviceJoin").set("id", lobby), std::chrono::seconds(10));
  std::cout << "    -> " << (moved ? api::to_xml(*moved) : "no answer") << "\n";
  print_events(client, std::chrono::milliseconds(3000));
  // The game: a world of four quadrants whose zones are conferences, with three bots wandering it.
  std::vector<ChildPhone> bots = {spawn_phone("red", 1700, 5186, "", via, dir, PhoneRole::Answer),
                                  spawn_phone("green", 1900, 5188, "", via, dir, PhoneRole::Answer),
                                  spawn_phone("blue", 2100, 5190, "", via, dir, PhoneRole::Answer)};
  for (auto& b : bots) wait_for_line(dir / (b.name + ".log"), "event=ready ", std::chrono::seconds(10));
  game::GameOptions go;
  go.conference_host = conference_addr;
  go.admin_url = "http://127.0.0.1:" + std::to_string(cc.admin_port);
  for (auto& [b, port] : {std::pair{&bots[0], 5186}, {&bots[1], 5188}, {&bots[2], 5190}})
    go.bots.emplace_back(b->name, "sip:" + b->name + "@127.0.0.1:" + std::to_string(port));
  game::World world = game::default_world(conference_addr);
  PartThread<game::GameServer> game_server([&](sip::EventLoop& loop) {
    auto g = std::make_unique<game::GameServer>(loop, world, go, game::server_voice());
    for (auto& [name, sip] : go.bots) g->add_bot(name, sip);
    return g;
  });
  // The web site: the example film-fans forum, each page a conference, two of them with someone in.
  for (auto& [name, tone, port, page] :
       {std::tuple{"eve", 2300, 5194, "films-dune"}, {"frank", 2500, 5196, "films-alien"}})
    bots.push_back(spawn_phone(name, tone, port, "sip:web-" + std::string(page) + "@" + conference_addr, via, dir));
  web::WebOptions wo;
  wo.site = packaged_path("site").string();
  wo.conference_host = conference_addr;
  PartThread<web::WebServer> web_server(
      [&](sip::EventLoop& loop) { return std::make_unique<web::WebServer>(loop, wo); });
  std::cout << "  desk hears:" << hearing(desk, all) << "\n\n"
            << "Web site: http://" << wo.listen.str() << "/  (a film-fans forum from " << wo.site
            << ";\n  each page is a conference, sip:web-<page>@" << conference_addr
            << ", and lists who is in it: eve 2300 Hz is on /films/dune,\n  frank 2500 Hz on /films/alien)\n\n"
            << "Chat links: load the Confab links extension unpacked from " << extension_path()
            << "\n  (Chromium: chrome://extensions, Developer mode, Load unpacked; Firefox: about:debugging, Load\n"
            << "  Temporary Add-on, its manifest.json), run `confab install-desktop` once for its native host, and\n"
            << "  open http://" << wo.listen.str() << "/meetups: conf:watchparty there is a link to sip:watchparty@"
            << kConferenceDomain << ";\n  a click joins it on your default device (desk), Shift+click asks which.\n\n"
            << "Game server: http://" << go.listen.str() << "/  (a world of four quadrants, each a conference;\n"
            << "  bots red 1700 Hz, green 1900 Hz and blue 2100 Hz wander it). Join with a name and the SIP\n"
            << "  address of a phone (e.g. confab phone --listen 127.0.0.1:5192 --auto-answer --sound-card), walk\n"
            << "  with the arrow keys: you hear the players of your quadrant, and the next one near its line.\n\n"
            << "  API: " << socket << " (XML), tcp 127.0.0.1:5065 (token in " << service::runtime_dir()
            << "/token), WebSocket ws://127.0.0.1:5066/api (JSON)\n"
            << "  device chooser page: " << chooser << "\n"
            << "  try: confab calls | confab events | confab same-device-join " << room
            << " | confab join sip:other@" << kConferenceDomain << " --device laptop | confab hangup\n\n"
            << "Try it with any SIP phone (baresip, linphone, Zoiper, a desk phone on this host):\n"
            << "  - join the demo conference: call sip:demo@" << conference_addr
            << " (or any other id: a new conference starts)\n"
            << "  - or register two accounts, sip:alice@confab.local and sip:bob@confab.local, with\n"
            << "    registrar/outbound proxy sip:" << proxy_addr << " (no password), and call one from the other.\n"
            << "    `confab proxy --db " << pc.db_path << " --list` shows who is registered.\n"
            << "  - another headless phone: confab phone --listen 127.0.0.1:5180 --tone 1000 --proxy " << via
            << " --dial " << room << "\n"
            << "  - watch the roster: confab phone --listen 127.0.0.1:5182 --proxy " << via << " --subscribe "
            << room << "\n"
            << std::endl;

  stopped.wait();
  for (auto& b : bots) phones.push_back(std::move(b));
  phones.push_back(std::move(watcher));
  phones.push_back(std::move(desk));
  phones.push_back(std::move(laptop));
  for (auto& p : phones) p.process->signal(SIGTERM);  // all at once, then each is waited for
  phones.clear();
  std::cout << "demo stopped" << std::endl;
  return 0;
}

}  // namespace

void add_demo_command(CLI::App& app, const GlobalOptions& global, Runner& runner) {
  auto args = std::make_shared<DemoArgs>();
  auto* cmd = app.add_subcommand("demo", "run every part on loopback and print how to try it");
  cmd->add_option("--dir", args->dir, "where the demo keeps its files (default /tmp/confab-demo)");
  cmd->add_option("--proxy-port", args->proxy_port, "proxy port")->capture_default_str();
  cmd->add_option("--mixer-port", args->mixer_port, "mixer port")->capture_default_str();
  cmd->add_option("--conference-port", args->conference_port, "conference server port (admin API: +1)")
      ->capture_default_str();
  cmd->callback([args, &global, &runner] { runner = [args, &global] { return run_demo(global, *args); }; });
}

}  // namespace confab::cli

// Device kinds beyond plain SIP: settings validation, the softphone launcher
// (with scripted stand-ins for the programs), the control-interface exchange,
// and the HTTP click-to-dial device against a local server.
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "service/child_process.h"
#include "service/device.h"
#include "service/device_runtime.h"
#include "service/http_device.h"

namespace confab::service {
namespace {

using namespace std::chrono_literals;

DeviceConfig config(const std::string& id, const std::string& kind, std::map<std::string, std::string> settings) {
  DeviceConfig c;
  c.id = id;
  c.kind = kind;
  c.settings = std::move(settings);
  return c;
}

std::string make_error(const DeviceConfig& c) {
  try {
    DeviceFactory::instance().make(c);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

// Runs the loop until `done()` or `limit` passes.
bool run_until(sip::EventLoop& loop, std::function<bool()> done, std::chrono::milliseconds limit = 5000ms) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < end) loop.run_for(10ms);
  return done();
}

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/confab-devices-test-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

// A listening TCP socket on 127.0.0.1 with a free port, serving one connection per `serve` call on a thread.
struct LocalServer {
  int fd = -1;
  uint16_t port = 0;
  std::thread thread;
  std::string received;
  LocalServer() {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd, 4);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  // Accepts one connection, reads until `request_done(received)`, then sends `reply` (or holds it open for `hold`).
  void serve(std::function<bool(const std::string&)> request_done, std::string reply, std::chrono::milliseconds hold = 0ms) {
    thread = std::thread([this, request_done, reply, hold] {
      int c = ::accept(fd, nullptr, nullptr);
      if (c < 0) return;
      char buf[4096];
      while (!request_done(received)) {
        ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        received.append(buf, n);
      }
      if (hold.count()) std::this_thread::sleep_for(hold);
      ::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
      ::close(c);
    });
  }
  ~LocalServer() {
    if (thread.joinable()) thread.join();
    ::close(fd);
  }
};

bool http_request_complete(const std::string& r) {
  auto end = r.find("\r\n\r\n");
  if (end == std::string::npos) return false;
  auto cl = r.find("Content-Length: ");
  size_t length = cl == std::string::npos || cl > end ? 0 : std::stoul(r.substr(cl + 16));
  return r.size() >= end + 4 + length;
}

// ---- settings ----

TEST(DeviceSettings, BadSettingsNameTheDeviceAndTheSetting) {
  EXPECT_EQ(make_error(config("soft", "softphone", {})), "device soft (softphone): setting 'program' is missing");
  EXPECT_NE(make_error(config("soft", "softphone", {{"program", "skype"}, {"sip_port", "7300"}}))
                .find("setting 'program' must be baresip, linphonec or confab-phone, not 'skype'"),
            std::string::npos);
  EXPECT_NE(make_error(config("soft", "softphone", {{"program", "baresip"}, {"sip_port", "99999"}})).find("'sip_port'"),
            std::string::npos);
  EXPECT_NE(make_error(config("soft", "softphone", {{"program", "baresip"}, {"sip_port", "7300"}, {"ctrl_port", "7301"}}))
                .find("setting 'ctrl_port' must differ"),
            std::string::npos);
  EXPECT_NE(make_error(config("soft", "softphone",
                              {{"program", "baresip"}, {"sip_port", "7300"}, {"audio_source", "../../evil,x"}}))
                .find("setting 'audio_source'"),
            std::string::npos);
  EXPECT_NE(make_error(config("soft", "softphone", {{"program", "confab-phone"}, {"sip_port", "7300"}, {"sip_prot", "1"}}))
                .find("unknown setting 'sip_prot'"),
            std::string::npos);
  EXPECT_NE(make_error(config("soft", "softphone",
                              {{"program", "confab-phone"}, {"sip_port", "7300"}, {"args", "--tone 5 --listen 0:1"}}))
                .find("must not set --listen"),
            std::string::npos);
  EXPECT_NE(make_error(config("soft", "softphone", {{"program", "confab-phone"}, {"sip_port", "7300"}, {"rtp_ports", "9-1"}}))
                .find("'rtp_ports'"),
            std::string::npos);
  EXPECT_NE(make_error(config("../x", "softphone", {{"program", "confab-phone"}, {"sip_port", "7300"}})).find("device ../x"),
            std::string::npos);
  EXPECT_NE(make_error(config("soft", "softphone", {{"program", "baresip"}, {"sip_port", "7300"}, {"record_dir", "a\nb"}}))
                .find("must be one line"),
            std::string::npos);
  EXPECT_EQ(make_error(config("soft", "softphone", {{"program", "baresip"}, {"sip_port", "7300"}, {"audio_source", "aufile,/x.wav"},
                                                   {"audio_player", "aubridge,x"}, {"rtp_ports", "44000-44009"}})),
            "");
}

TEST(DeviceSettings, HttpDeviceRefusesWhatCouldLeaveTheConfiguredHost) {
  auto err = [](std::map<std::string, std::string> s) { return make_error(config("desk", "http", std::move(s))); };
  EXPECT_NE(err({{"url", "https://pbx/dial"}}).find("setting 'url' must start with http://"), std::string::npos);
  EXPECT_NE(err({{"url", "http://{target}/dial"}}).find("the host must be written out"), std::string::npos);
  EXPECT_NE(err({{"url", "http://user@pbx/dial"}}).find("the host must be written out"), std::string::npos);
  EXPECT_NE(err({{"url", "http://pbx:0/dial"}}).find("bad port"), std::string::npos);
  EXPECT_NE(err({{"url", "http://pbx/dial?to={number}"}}).find("unknown placeholder {number}"), std::string::npos);
  EXPECT_NE(err({{"url", "http://pbx/dial"}, {"body", "x"}}).find("setting 'body' needs method"), std::string::npos);
  EXPECT_NE(err({{"url", "http://pbx/dial"}, {"method", "DELETE"}}).find("'method'"), std::string::npos);
  EXPECT_NE(err({{"url", "http://pbx/dial"}, {"headers", "Host: evil"}}).find("may not set Host"), std::string::npos);
  EXPECT_NE(err({{"url", "http://pbx/dial"}, {"headers", "no colon"}}).find("'headers'"), std::string::npos);
  EXPECT_NE(err({{"url", "http://pbx/dial"}, {"mode", "loop"}}).find("setting 'mode' must be transfer"), std::string::npos);
  EXPECT_NE(err({{"url", "http://pbx/dial"}, {"timeout_ms", "10"}}).find("'timeout_ms'"), std::string::npos);
  EXPECT_NE(err({{"url", "http://pbx/dial"}, {"method", "POST"}, {"body", "{\"to\": 1}"}}).find("setting 'body' has an unknown placeholder"),
            std::string::npos);  // literal braces are doubled
  EXPECT_EQ(err({{"url", "http://127.0.0.1:8088/dial?to={target}&from={device}"},
                 {"method", "post"},
                 {"body", "{{\"to\": \"{target}\"}}"},
                 {"headers", "X-A: 1"}}),
            "");
  auto d = DeviceFactory::instance().make(config("desk", "http", {{"url", "http://pbx.example.com/dial?to={target}"}}));
  EXPECT_EQ(d->kind(), "http");
  EXPECT_TRUE(d->dials_itself());
  EXPECT_EQ(d->default_mode(), CallMode::Transfer);
}

TEST(HttpTemplates, EncodeValuesAndParseUrls) {
  EXPECT_EQ(url_encode("sip:room1@127.0.0.1:7080;x=a b&c"), "sip%3Aroom1%40127.0.0.1%3A7080%3Bx%3Da%20b%26c");
  EXPECT_EQ(json_escape("a\"b\\c\n\x01"), "a\\\"b\\\\c\\n\\u0001");
  EXPECT_EQ(fill_template("/d?to={target}&me={device}", {{"target", "sip:a@b"}, {"device", "d 1"}}, url_encode),
            "/d?to=sip%3Aa%40b&me=d%201");
  EXPECT_THROW(fill_template("/d?{target", {{"target", "x"}}, url_encode), std::invalid_argument);
  EXPECT_EQ(fill_template("{{\"a\": \"{target}\"}}", {{"target", "q\""}}, json_escape), "{\"a\": \"q\\\"\"}");
  auto t = parse_http_url("http://127.0.0.1:7500/dial?x={target}");
  EXPECT_EQ(t.host, "127.0.0.1");
  EXPECT_EQ(t.port, 7500);
  EXPECT_EQ(t.path, "/dial?x={target}");
  EXPECT_EQ(parse_http_url("HTTP://pbx").path, "/");
  EXPECT_EQ(parse_http_url("http://[::1]:81/").host, "::1");
  EXPECT_THROW(parse_http_url("http://pbx/a b"), std::invalid_argument);
}

TEST(Netstrings, FramesAndRejectsGarbage) {
  EXPECT_EQ(netstring("hello"), "5:hello,");
  auto n = next_netstring("5:hello,3:abc,");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->first, "hello");
  EXPECT_EQ(n->second, 8u);
  EXPECT_FALSE(next_netstring("5:hel"));
  EXPECT_FALSE(next_netstring("12"));
  EXPECT_THROW(next_netstring("5:hello;"), std::runtime_error);
  EXPECT_THROW(next_netstring("x:"), std::runtime_error);
  EXPECT_THROW(next_netstring("99999999999:"), std::runtime_error);
}

// ---- child processes ----

TEST(ChildProcess, InheritsNoDescriptorsAndStopsDespiteBlockedSignals) {
  TempDir dir;
  int leaked = ::open("/dev/null", O_RDONLY);  // not close-on-exec: must not reach the child anyway
  sigset_t term, old;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &term, &old);  // as the service's threads do
  {
    ChildProcess ls({{"/bin/sh", "-c", "ls /proc/self/fd"}, {}, dir.path + "/fds"});
    for (int i = 0; i < 200 && ls.running(); ++i) std::this_thread::sleep_for(10ms);
    std::ifstream in(dir.path + "/fds");
    std::string fds((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(fds, "0\n1\n2\n3\n") << "3 is ls's own directory handle";
  }
  ChildProcess sleeper({{"sleep", "30"}, {}, ""});
  EXPECT_TRUE(sleeper.running());
  auto t0 = std::chrono::steady_clock::now();
  sleeper.terminate(3000ms);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1000ms) << "SIGTERM should have stopped it at once";
  EXPECT_FALSE(sleeper.running());
  EXPECT_EQ(sleeper.status(), "killed by signal 15");
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  ::close(leaked);
  try {
    ChildProcess missing({{"/nonexistent/program"}, {}, ""});
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot start /nonexistent/program"), std::string::npos);
  }
}

// ---- control exchange ----

TEST(DeviceRuntime, ExchangeFindsTheResponseAfterEventsAndTimesOut) {
  sip::EventLoop loop;
  TempDir dir;
  DeviceRuntime rt(loop, dir.path);
  LocalServer server;
  server.serve([](const std::string& r) { return r.find(',') != std::string::npos; },
               netstring(R"({"event":true,"type":"X"})") + netstring(R"({"response":true,"ok":true,"data":"hi"})"));
  std::string error = "-", reply;
  rt.exchange("127.0.0.1:" + std::to_string(server.port), netstring("ping"),
              [](std::string_view b) -> std::optional<std::string> {
                while (auto n = next_netstring(b)) {
                  if (n->first.find("response") != std::string::npos) return n->first;
                  b.remove_prefix(n->second);
                }
                return std::nullopt;
              },
              2000ms, [&](const std::string& e, const std::string& r) { error = e, reply = r; });
  ASSERT_TRUE(run_until(loop, [&] { return error != "-"; }));
  EXPECT_EQ(error, "");
  EXPECT_EQ(reply, R"({"response":true,"ok":true,"data":"hi"})");
  EXPECT_EQ(server.received, "4:ping,");

  LocalServer silent;
  silent.serve([](const std::string& r) { return !r.empty(); }, "", 1500ms);
  error = "-";
  rt.exchange("127.0.0.1:" + std::to_string(silent.port), "x", nullptr, 300ms,
              [&](const std::string& e, const std::string&) { error = e; });
  ASSERT_TRUE(run_until(loop, [&] { return error != "-"; }));
  EXPECT_EQ(error, "no answer within the time allowed");
}

// ---- softphones, with scripts standing in for the program ----

std::string script(const TempDir& dir, const std::string& name, const std::string& body) {
  std::string path = dir.path + "/" + name;
  std::ofstream(path) << "#!/bin/sh\n" << body;
  ::chmod(path.c_str(), 0755);
  return path;
}

struct Prepared {
  int status = 0;
  std::string reason;
};

Prepared prepare(sip::EventLoop& loop, DeviceRuntime& rt, Device& d) {
  Prepared p;
  d.prepare(rt, [&](int s, const std::string& r) { p = {s, r}; });
  run_until(loop, [&] { return p.status != 0; }, 8000ms);
  return p;
}

pid_t pid_in(const std::string& dir) {
  pid_t pid = 0;
  std::ifstream(dir + "/pid") >> pid;
  return pid;
}

TEST(SoftphoneDevice, StartsOnDemandReusesItAndStopsIt) {
  sip::EventLoop loop;
  TempDir dir;
  DeviceRuntime rt(loop, dir.path);
  // A stand-in for `confab phone`: answers "status" on stdout, counts the hangups it is told.
  std::string phone = script(dir, "phone.sh",
                             "echo \"$@\" > " + dir.path + "/args\necho event=ready\ncalls=1\n"
                             "while read line; do case \"$line\" in\n"
                             "  status) echo \"event=status calls=$calls\";;\n"
                             "  hangup) calls=0; echo hung-up >> " + dir.path + "/hangups;;\n"
                             "  quit) exit 0;; esac; done\n");
  auto d = DeviceFactory::instance().make(config(
      "soft", "softphone", {{"program", "confab-phone"}, {"sip_port", "7399"}, {"path", phone}, {"args", "--tone 700"}}));
  EXPECT_EQ(d->sip_uri(), "sip:confab@127.0.0.1:7399");
  auto p = prepare(loop, rt, *d);
  ASSERT_EQ(p.status, 200) << p.reason;
  pid_t first = pid_in(dir.path + "/soft");
  EXPECT_GT(first, 0);
  EXPECT_EQ(::kill(first, 0), 0);
  std::string args;
  std::getline(std::ifstream(dir.path + "/args"), args);
  EXPECT_EQ(args, "phone --listen 127.0.0.1:7399 --auto-answer --from sip:confab@127.0.0.1:7399 --tone 700");
  // Reused while it runs: the health check answers, no second process.
  ASSERT_EQ(prepare(loop, rt, *d).status, 200);
  EXPECT_EQ(pid_in(dir.path + "/soft"), first);
  // A call placed right after a hang-up is left alone by that hang-up's clean-up.
  d->calls_ended(rt);
  ASSERT_EQ(prepare(loop, rt, *d).status, 200);
  run_until(loop, [] { return false; }, 800ms);
  EXPECT_FALSE(std::filesystem::exists(dir.path + "/hangups"));
  // The service's last call on it ended: it still holds one, so it is told to hang up.
  d->calls_ended(rt);
  EXPECT_TRUE(run_until(loop, [&] { return std::filesystem::exists(dir.path + "/hangups"); }, 3000ms));
  // Killed behind our back: the next call starts a new one.
  ::kill(first, SIGKILL);
  std::this_thread::sleep_for(100ms);
  ASSERT_EQ(prepare(loop, rt, *d).status, 200);
  pid_t second = pid_in(dir.path + "/soft");
  EXPECT_NE(second, first);
  d->stop();
  EXPECT_NE(::kill(second, 0), 0) << "stop() must end the program";
  EXPECT_FALSE(std::filesystem::exists(dir.path + "/soft/pid"));
}

TEST(SoftphoneDevice, AProgramLeftByACrashedServiceIsReplaced) {
  sip::EventLoop loop;
  TempDir dir;
  DeviceRuntime rt(loop, dir.path);
  std::string phone = script(dir, "phone.sh",
                             "while read line; do case \"$line\" in status) echo \"event=status calls=0\";; esac; done\n");
  auto settings = config("soft", "softphone", {{"program", "confab-phone"}, {"sip_port", "7395"}, {"path", phone}});
  auto first = DeviceFactory::instance().make(settings);
  ASSERT_EQ(prepare(loop, rt, *first).status, 200);
  pid_t old = pid_in(dir.path + "/soft");
  // The service "crashes": its device object goes without stopping the program.
  auto* leaked = first.release();
  (void)leaked;
  auto second = DeviceFactory::instance().make(settings);
  ASSERT_EQ(prepare(loop, rt, *second).status, 200);
  EXPECT_NE(pid_in(dir.path + "/soft"), old);
  std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(::kill(old, 0) != 0 || std::ifstream("/proc/" + std::to_string(old) + "/stat").good() == false ||
              [&] {
                std::string stat;
                std::getline(std::ifstream("/proc/" + std::to_string(old) + "/stat"), stat);
                return stat.substr(stat.rfind(')') + 2, 1) == "Z";  // killed, not yet reaped by the leaked object
              }())
      << "the leftover program still runs";
  second->stop();
}

TEST(SoftphoneDevice, StoppingWhileTheProgramStartsEndsItWithoutAnsweringOrRestarting) {
  sip::EventLoop loop;
  TempDir dir;
  DeviceRuntime rt(loop, dir.path);
  auto mute = DeviceFactory::instance().make(config("mute", "softphone",
                                                    {{"program", "confab-phone"},
                                                     {"sip_port", "7394"},
                                                     {"path", script(dir, "mute.sh", "exec sleep 30\n")}}));
  Prepared p;
  mute->prepare(rt, [&](int s, const std::string& r) { p = {s, r}; });
  run_until(loop, [&] { return pid_in(dir.path + "/mute") != 0; }, 3000ms);
  pid_t pid = pid_in(dir.path + "/mute");
  ASSERT_NE(pid, 0);
  run_until(loop, [] { return false; }, 300ms);  // a readiness probe is in flight
  mute->stop();  // the service shuts down (this crashed: the failed probe scheduled its next one)
  run_until(loop, [] { return false; }, 300ms);
  EXPECT_EQ(p.status, 0) << "a stopped device answers no one";
  EXPECT_NE(::kill(pid, 0), 0) << "stop() must end the program";
  EXPECT_FALSE(std::filesystem::exists(dir.path + "/mute/pid")) << "and not start another";
}

TEST(SoftphoneDevice, ProgramsThatDieOrNeverAnswerGiveClearErrors) {
  sip::EventLoop loop;
  TempDir dir;
  DeviceRuntime rt(loop, dir.path);
  auto dies = DeviceFactory::instance().make(config(
      "dies", "softphone", {{"program", "confab-phone"}, {"sip_port", "7398"}, {"path", script(dir, "dies.sh", "echo no >&2\nexit 3\n")}}));
  auto p = prepare(loop, rt, *dies);
  EXPECT_EQ(p.status, 503);
  EXPECT_NE(p.reason.find("exited while starting (exited with status 3); see " + dir.path + "/dies/log"), std::string::npos)
      << p.reason;
  auto mute = DeviceFactory::instance().make(config("mute", "softphone",
                                                    {{"program", "confab-phone"},
                                                     {"sip_port", "7397"},
                                                     {"start_timeout_ms", "400"},
                                                     {"path", script(dir, "mute.sh", "exec sleep 30\n")}}));
  p = prepare(loop, rt, *mute);
  EXPECT_EQ(p.status, 504);
  EXPECT_NE(p.reason.find("did not answer on its control interface within 400 ms"), std::string::npos) << p.reason;
  auto missing = DeviceFactory::instance().make(
      config("gone", "softphone", {{"program", "baresip"}, {"sip_port", "7396"}, {"ctrl_port", "1"}, {"path", "/nonexistent/baresip"},
                                   {"audio_source", "aufile,x"}, {"audio_player", "aubridge,x"}}));
  p = prepare(loop, rt, *missing);
  EXPECT_EQ(p.status, 503);
  EXPECT_NE(p.reason.find("cannot start /nonexistent/baresip"), std::string::npos) << p.reason;
}

TEST(SoftphoneDevice, RefusesAControlPortSomeoneElseAnswersOn) {
  sip::EventLoop loop;
  TempDir dir;
  DeviceRuntime rt(loop, dir.path);
  LocalServer other;  // "another baresip" already on the control port
  other.serve([](const std::string& r) { return r.find(',') != std::string::npos; },
              netstring(R"({"response":true,"ok":true,"data":"\n--- Active calls (0) ---\n"})"));
  auto d = DeviceFactory::instance().make(config("b", "softphone",
                                                 {{"program", "baresip"}, {"sip_port", "7394"},
                                                  {"ctrl_port", std::to_string(other.port)}, {"path", "/bin/false"},
                                                  {"audio_source", "aufile,x"}, {"audio_player", "aubridge,x"}}));
  auto p = prepare(loop, rt, *d);
  EXPECT_EQ(p.status, 409);
  EXPECT_NE(p.reason.find("already answers before we start it"), std::string::npos) << p.reason;
}

// ---- HTTP click-to-dial ----

struct Dialed {
  int status = 0;
  std::string reason;
};

Dialed dial(sip::EventLoop& loop, DeviceRuntime& rt, Device& d, const std::string& target) {
  Dialed out;
  d.dial(rt, target, [&](int s, const std::string& r) { out = {s, r}; });
  run_until(loop, [&] { return out.status != 0; }, 5000ms);
  return out;
}

TEST(HttpDevice, SendsTheFilledRequestAndMapsTheAnswer) {
  sip::EventLoop loop;
  TempDir dir;
  DeviceRuntime rt(loop, dir.path);
  {
    LocalServer server;
    server.serve(http_request_complete, "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n");
    auto d = DeviceFactory::instance().make(config(
        "desk", "http",
        {{"url", "http://127.0.0.1:" + std::to_string(server.port) + "/dial?to={target}&from={device}"},
         {"method", "POST"},
         {"body", "{{\"to\": \"{target}\", \"from\": \"{device}\"}}"},
         {"phone", "201"},
         {"headers", "Content-Type: application/json\nAuthorization: Bearer s3cret"}}));
    auto r = dial(loop, rt, *d, "sip:room1@127.0.0.1:7080");
    EXPECT_EQ(r.status, 200) << r.reason;
    server.thread.join();
    auto& q = server.received;
    EXPECT_EQ(q.substr(0, q.find("\r\n")), "POST /dial?to=sip%3Aroom1%40127.0.0.1%3A7080&from=201 HTTP/1.1");
    EXPECT_NE(q.find("\r\nAuthorization: Bearer s3cret\r\n"), std::string::npos) << q;
    EXPECT_NE(q.find("\r\nContent-Type: application/json\r\n"), std::string::npos) << q;
    EXPECT_EQ(q.substr(q.find("\r\n\r\n") + 4), R"({"to": "sip:room1@127.0.0.1:7080", "from": "201"})");
  }
  for (auto [answer, status, words] : {std::tuple{"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n", 500, "HTTP 500 Internal Server Error"},
                                       std::tuple{"HTTP/1.1 302 Found\r\nLocation: http://elsewhere/\r\nContent-Length: 0\r\n\r\n", 302, "redirects are not followed"},
                                       std::tuple{"garbage\r\n\r\n", 502, "no valid HTTP response"}}) {
    LocalServer server;
    server.serve(http_request_complete, answer);
    auto d = DeviceFactory::instance().make(
        config("desk", "http", {{"url", "http://127.0.0.1:" + std::to_string(server.port) + "/d?{target}"}}));
    auto r = dial(loop, rt, *d, "sip:x@y");
    EXPECT_EQ(r.status, status) << r.reason;
    EXPECT_NE(r.reason.find(words), std::string::npos) << r.reason;
    EXPECT_NE(r.reason.find("device desk"), std::string::npos) << r.reason;
    EXPECT_EQ(server.received.substr(0, server.received.find("\r\n")), "GET /d?sip%3Ax%40y HTTP/1.1");
  }
  {
    LocalServer slow;
    slow.serve(http_request_complete, "HTTP/1.1 200 OK\r\n\r\n", 1500ms);
    auto d = DeviceFactory::instance().make(config(
        "desk", "http", {{"url", "http://127.0.0.1:" + std::to_string(slow.port) + "/"}, {"timeout_ms", "300"}}));
    auto t0 = std::chrono::steady_clock::now();
    auto r = dial(loop, rt, *d, "sip:x@y");
    EXPECT_EQ(r.status, 504) << r.reason;
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 1000ms);
  }
  uint16_t closed_port;
  {
    LocalServer s;
    closed_port = s.port;
  }
  auto d = DeviceFactory::instance().make(config("desk", "http", {{"url", "http://127.0.0.1:" + std::to_string(closed_port) + "/"}}));
  auto r = dial(loop, rt, *d, "sip:x@y");
  EXPECT_EQ(r.status, 502) << r.reason;
  EXPECT_NE(r.reason.find("cannot connect"), std::string::npos) << r.reason;
}

}  // namespace
}  // namespace confab::service

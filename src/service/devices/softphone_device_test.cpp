// Softphones launched on demand, with scripts standing in for the programs.
#include <gtest/gtest.h>

#include "service/devices/device_test_support.h"
#include "service/devices/device_runtime.h"
#include "base/child_process.h"

namespace confab::service {
namespace {

using namespace std::chrono_literals;
using namespace testing;
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

}  // namespace
}  // namespace confab::service

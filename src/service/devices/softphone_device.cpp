#include "service/devices/softphone_device.h"

#include <signal.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <fstream>
#include <thread>
#include <vector>

namespace confab::service {

namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr milliseconds kCheckTimeout{2000};   // a running program's health check
constexpr milliseconds kProbeTimeout{500};    // one readiness probe while it starts
constexpr milliseconds kProbeInterval{100};

class SoftphoneDevice final : public Device {
 public:
  SoftphoneDevice(const DeviceConfig& c, std::unique_ptr<SoftphoneProgram> program, milliseconds start_timeout)
      : Device(c), program_(std::move(program)), start_timeout_(start_timeout) {}
  ~SoftphoneDevice() override { stop(); }

  std::string_view kind() const override { return "softphone"; }
  std::string sip_uri() const override { return program_->sip_uri(); }

  void prepare(DeviceRuntime& runtime, DeviceDone done) override {
    ++calls_placed_;  // a pending clean-up after an earlier hang-up must leave this call alone
    waiting_.push_back(std::move(done));
    if (busy_) return;  // a start or a check is under way: its outcome answers this one too
    busy_ = true;
    if (child_ && child_->running()) return check_running(runtime);
    launch(runtime);
  }

  void calls_ended(DeviceRuntime& runtime) override {
    if (!child_ || !child_->running()) return;
    // Our BYE is on its way; a program that still holds calls after it gets told.
    if (!hangup_check_) hangup_check_ = std::make_unique<sip::Timer>(runtime.loop());
    hangup_check_->once(milliseconds(500), [this, &runtime, placed = calls_placed_] {
      if (!child_ || !child_->running() || placed != calls_placed_) return;
      program_->check(runtime, child_.get(), kCheckTimeout, [this, &runtime, placed](const std::string& error, int calls) {
        if (!error.empty() || calls <= 0 || !child_ || !child_->running() || placed != calls_placed_) return;
        spdlog::info("device {}: {} still holds {} call(s) after our hang-up: hanging up through its control interface",
                     id_, program_->name(), calls);
        program_->hang_up(runtime, child_.get(), calls);
      });
    });
  }

  void stop() override {
    poll_.reset();
    hangup_check_.reset();
    waiting_.clear();
    busy_ = false;
    if (!child_) return;
    if (child_->running()) {
      spdlog::info("device {}: stopping {} (pid {})", id_, program_->name(), child_->pid());
      program_->quit(*child_);
      child_->terminate(ChildProcess::kStopGrace);
    }
    stopping_ = true;  // gone() fails the checks in flight: their callbacks must not probe or restart
    program_->gone();
    stopping_ = false;
    child_.reset();
    if (!dir_.empty()) ::unlink((dir_ + "/pid").c_str());
  }

 private:
  void check_running(DeviceRuntime& runtime) {
    program_->check(runtime, child_.get(), kCheckTimeout, [this, &runtime](const std::string& error, int calls) {
      if (stopping_) return;
      if (error.empty() && child_ && child_->running()) return finish(200, "OK");
      spdlog::warn("device {}: {} (pid {}) failed its health check ({}): restarting it", id_, program_->name(),
                   child_ ? child_->pid() : -1, error.empty() ? "it exited" : error);
      kill_now();
      launch(runtime);
    });
  }

  void launch(DeviceRuntime& runtime) {
    try {
      dir_ = runtime.device_dir(id_);
    } catch (const std::exception& e) {
      return finish(500, e.what());
    }
    kill_leftover();
    // Whatever answers on the control interface now is not ours: refuse to drive it.
    program_->check(runtime, nullptr, kProbeTimeout, [this, &runtime](const std::string& error, int) {
      if (error.empty())
        return finish(409, std::string(program_->name()) +
                               "'s control interface already answers before we start it: another program holds it");
      spawn(runtime);
    });
  }

  void spawn(DeviceRuntime& runtime) {
    try {
      auto spec = program_->launch(dir_);
      spec.env.push_back("CONFAB_DEVICE_DIR=" + dir_);  // how kill_leftover() knows it for ours
      child_ = std::make_unique<ChildProcess>(spec);
      std::ofstream(dir_ + "/pid") << child_->pid() << "\n";
      program_->started(runtime, *child_, dir_);
    } catch (const std::exception& e) {
      child_.reset();
      return finish(503, e.what());
    }
    spdlog::info("device {}: started {} (pid {}) in {}", id_, program_->name(), child_->pid(), dir_);
    started_at_ = Clock::now();
    poll_ = std::make_unique<sip::Timer>(runtime.loop());
    probe(runtime);
  }

  // Until the control interface answers, the program exits, or start_timeout_ms passes.
  void probe(DeviceRuntime& runtime) {
    if (!child_->running()) {
      std::string why = std::string(program_->name()) + " exited while starting (" + child_->status() + "); see " +
                        dir_ + "/log";
      program_->gone();
      child_.reset();
      return finish(503, why);
    }
    if (Clock::now() - started_at_ > start_timeout_) {
      kill_now();
      return finish(504, std::string(program_->name()) + " did not answer on its control interface within " +
                             std::to_string(start_timeout_.count()) + " ms; see " + dir_ + "/log");
    }
    program_->check(runtime, child_.get(), kProbeTimeout, [this, &runtime](const std::string& error, int) {
      if (!child_ || stopping_) return;
      if (error.empty()) {
        auto ms = std::chrono::duration_cast<milliseconds>(Clock::now() - started_at_).count();
        spdlog::info("device {}: {} ready after {} ms", id_, program_->name(), ms);
        return finish(200, "OK");
      }
      poll_->once(kProbeInterval, [this, &runtime] { probe(runtime); });
    });
  }

  void finish(int status, const std::string& reason) {
    busy_ = false;
    if (status >= 300) spdlog::warn("device {}: {}", id_, reason);
    for (auto& done : std::exchange(waiting_, {})) done(status, reason);
  }

  void kill_now() {
    if (child_ && child_->running()) ::kill(child_->pid(), SIGKILL);
    if (child_) child_->terminate(milliseconds(500));  // reaps it: it has been killed
    program_->gone();
    child_.reset();
  }

  // A program a crashed service left behind in our directory (its pid file, and
  // its command line naming the directory): it holds our ports, so it goes.
  void kill_leftover() {
    std::ifstream in(dir_ + "/pid");
    pid_t pid = 0;
    if (!(in >> pid) || pid <= 1) return;
    std::ifstream cmd("/proc/" + std::to_string(pid) + "/cmdline");
    std::string cmdline((std::istreambuf_iterator<char>(cmd)), std::istreambuf_iterator<char>());
    std::ifstream env("/proc/" + std::to_string(pid) + "/environ");
    std::string environ((std::istreambuf_iterator<char>(env)), std::istreambuf_iterator<char>());
    if (cmdline.find(dir_) == std::string::npos && environ.find(dir_) == std::string::npos) return;
    spdlog::warn("device {}: {} left running by an earlier service (pid {}): stopping it", id_, program_->name(), pid);
    ::kill(pid, SIGKILL);
    for (int i = 0; i < 50 && ::kill(pid, 0) == 0; ++i) std::this_thread::sleep_for(milliseconds(10));
  }

  std::unique_ptr<SoftphoneProgram> program_;
  milliseconds start_timeout_;
  std::unique_ptr<ChildProcess> child_;
  std::unique_ptr<sip::Timer> poll_;
  std::unique_ptr<sip::Timer> hangup_check_;
  std::vector<DeviceDone> waiting_;
  std::string dir_;
  Clock::time_point started_at_;
  bool busy_ = false;
  bool stopping_ = false;
  uint64_t calls_placed_ = 0;
};

}  // namespace

std::unique_ptr<Device> make_softphone_device(const DeviceConfig& config) {
  DeviceSettings s(config);
  if (!is_safe_device_id(config.id))
    throw std::runtime_error("device " + config.id +
                             " (softphone): the id names its directory: use 1-64 of A-Z a-z 0-9 . _ - (not starting with '.')");
  std::string program = s.required("program");
  std::unique_ptr<SoftphoneProgram> p;
  if (program == "baresip")
    p = make_baresip_program(s);
  else if (program == "linphonec")
    p = make_linphonec_program(s);
  else if (program == "confab-phone")
    p = make_confab_phone_program(s);
  else
    s.fail("program", "must be baresip, linphonec or confab-phone, not '" + program + "'");
  auto timeout = milliseconds(s.integer("start_timeout_ms", 10000, 100, 120000));
  s.reject_unknown();
  return std::make_unique<SoftphoneDevice>(config, std::move(p), timeout);
}

}  // namespace confab::service

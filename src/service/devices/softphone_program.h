// What differs between the programs a "softphone" device can be (baresip,
// linphonec, `confab phone`): how to configure and start one, and its control
// interface. One file per program: baresip_program.cpp, linphonec_program.cpp,
// confab_phone_program.cpp.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "base/child_process.h"
#include "service/devices/device_runtime.h"
#include "service/devices/device_settings.h"

namespace confab::service {

using base::ChildProcess;
using base::SpawnSpec;

class SoftphoneProgram {
 public:
  virtual ~SoftphoneProgram() = default;
  virtual std::string_view name() const = 0;  // "baresip"
  virtual std::string sip_uri() const = 0;   // where the service calls it
  // Writes the program's configuration into `dir` (private to the device) and says how to start it.
  virtual SpawnSpec launch(const std::string& dir) = 0;
  // The program runs: start reading its output if that is its control channel.
  virtual void started(DeviceRuntime& runtime, ChildProcess& child, const std::string& dir) {}
  // Asks the control interface how the program is: done(error, calls it holds); error "" when healthy.
  using Checked = std::function<void(const std::string& error, int calls)>;
  virtual void check(DeviceRuntime& runtime, ChildProcess* child, std::chrono::milliseconds timeout, Checked done) = 0;
  // Hangs up `calls` calls the program holds, through the control interface.
  virtual void hang_up(DeviceRuntime& runtime, ChildProcess* child, int calls) = 0;
  // Asks the program to quit (at shutdown, bounded; SIGTERM follows if it has not).
  virtual void quit(ChildProcess& child) {}
  // The program has gone: forget its output reader, fail waiting checks.
  virtual void gone() {}
};

std::unique_ptr<SoftphoneProgram> make_baresip_program(DeviceSettings& settings);
std::unique_ptr<SoftphoneProgram> make_linphonec_program(DeviceSettings& settings);
std::unique_ptr<SoftphoneProgram> make_confab_phone_program(DeviceSettings& settings);

// What the programs' settings have in common. Settings end up in configuration
// files and command lines: one line each.
std::string one_line(DeviceSettings& s, const std::string& key, const std::string& fallback = "");
// The user part of the program's SIP address (setting "user", default "confab").
std::string sip_user(DeviceSettings& s);
std::string range_text(std::pair<uint16_t, uint16_t> r);  // "20000-20099"
void write_file(const std::string& path, const std::string& text);

}  // namespace confab::service

// The "softphone" device kind: a SIP softphone program that the service
// launches on demand with a configuration of its own (listening on loopback,
// auto-answering), drives through the program's control interface, and calls
// by SIP like any other device.
//
//   [devices.soft]
//   kind = "softphone"
//   program = "baresip"          # or "linphonec", "confab-phone"
//   sip_port = "7300"            # + the program's own settings (docs/deployment.md, "Devices")
//
// Before each call: if the program runs, a health check through its control
// interface (a program that fails it is restarted); otherwise it is started in
// <runtime dir>/devices/<id>/ and the call waits, never blocking SIP, until
// the control interface answers (start_timeout_ms, default 10000) or fails
// with an error naming the log file. When the service hangs up its last call
// on the device, the program is told to hang up whatever it still holds; when
// the service stops, so does the program.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "service/child_process.h"
#include "service/device.h"
#include "service/device_runtime.h"
#include "service/device_settings.h"

namespace confab::service {

// What differs between programs: how to configure and start one, and its control interface.
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

// DeviceFactory maker for kind "softphone" (throws naming the device and setting).
std::unique_ptr<Device> make_softphone_device(const DeviceConfig& config);

}  // namespace confab::service

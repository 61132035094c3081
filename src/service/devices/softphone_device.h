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

#include "service/devices/device.h"
#include "service/devices/device_runtime.h"
#include "service/devices/device_settings.h"
#include "service/devices/softphone_program.h"

namespace confab::service {

// DeviceFactory maker for kind "softphone" (throws naming the device and setting).
std::unique_ptr<Device> make_softphone_device(const DeviceConfig& config);

}  // namespace confab::service

// --sip-trace FILE, shared by every part that speaks SIP.
#include "cli/commands.h"

namespace confab::cli {

void add_sip_trace_option(CLI::App& cmd, std::string& file) {
  cmd.add_option("--sip-trace", file,
                 "write every SIP message sent and received to FILE (pcap, for Wireshark/tshark/sngrep; created 0600: "
                 "it holds digest credentials)");
}

std::unique_ptr<sip::SipTrace> start_sip_trace(const std::string& file) {
  if (file.empty()) return nullptr;
  return std::make_unique<sip::SipTrace>(file);
}

}  // namespace confab::cli

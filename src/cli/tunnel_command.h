// `confab tunnel FILE`: sends the raw SIP request in FILE through the
// service's <Tunnel> command (docs/api.md) and prints the <Result>, then each
// <TunnelResponse> until the final one.
#pragma once

#include <chrono>
#include <string>

#include "api/api_client.h"

namespace confab::cli {

struct TunnelOptions {
  std::string file;  // "-": standard input
  std::string call;  // a loop-mode call id: send in its dialog
  std::string leg;   // "target" (default) or "device"
  bool text = false; // print the raw SIP text of the responses instead of XML lines
};

// The request text of `file` ("-" for standard input); throws std::runtime_error naming the file.
std::string read_request_file(const std::string& file);

// Exit status: 0 when the final response is 2xx; 1 when the service refused the
// request, the final response is not 2xx, or none came within `timeout`.
int run_tunnel(api::ApiClient& client, const TunnelOptions& options, std::chrono::seconds timeout);

}  // namespace confab::cli

#include "cli/tunnel_command.h"

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <stdexcept>

#include "sip/raw_request.h"

namespace confab::cli {

std::string read_request_file(const std::string& file) {
  std::ostringstream text;
  if (file == "-") {
    text << std::cin.rdbuf();
  } else {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + file);
    text << in.rdbuf();
  }
  std::string s = text.str();
  // Checked here too so that an oversized file gets this message rather than
  // the API stream's limit, which closes the connection.
  if (s.size() > sip::kMaxRawRequestBytes)
    throw std::runtime_error((file == "-" ? std::string("standard input") : file) + " holds " +
                             std::to_string(s.size()) + " bytes; the service takes requests of at most " +
                             std::to_string(sip::kMaxRawRequestBytes));
  return s;
}

int run_tunnel(api::ApiClient& client, const TunnelOptions& o, std::chrono::seconds timeout) {
  api::ApiMessage request("Tunnel");
  const std::string tag = "tunnel";
  request.set("tag", tag);
  if (!o.call.empty()) request.set("call", o.call);
  if (!o.leg.empty()) request.set("leg", o.leg);
  request.text = read_request_file(o.file);

  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto result = client.call(request, timeout);
  if (!result) {
    std::cerr << "confab: no answer from the service\n";
    return 1;
  }
  if (!o.text) std::cout << api::to_xml(*result) << std::endl;
  if (result->attr("status") != "ok") {
    std::cerr << "confab: " << result->attr("code") << " " << result->attr("reason") << "\n";
    return 1;
  }
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      std::cerr << "confab: no final response within " << timeout.count() << " s\n";
      return 1;
    }
    auto event = client.next(left);
    if (!event) {
      if (client.closed()) {
        std::cerr << "confab: the service closed the connection\n";
        return 1;
      }
      continue;
    }
    if (event->name != "TunnelResponse" || event->attr("tag") != tag) continue;
    if (o.text)
      std::cout << (event->text.empty() ? event->attr("status") + " " + event->attr("reason") + " (from the stack)\n"
                                        : event->text)
                << std::endl;
    else
      std::cout << api::to_xml(*event) << std::endl;
    int status = std::atoi(event->attr("status").c_str());
    if (status >= 200) return status < 300 ? 0 : 1;
  }
}

}  // namespace confab::cli

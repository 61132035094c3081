#include "game/game_options.h"

#include <stdexcept>

#include "sip/uri.h"

namespace confab::game {

std::string parse_admin_url(std::string_view text) {
  std::string_view rest = text;
  const std::string_view scheme = "http://";
  bool ok = rest.substr(0, scheme.size()) == scheme;
  if (ok) {
    rest.remove_prefix(scheme.size());
    if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
    auto hp = base::split_host_port(rest);
    ok = hp && hp->port != 0;
  }
  if (!ok)
    throw std::invalid_argument("--admin must be the conference server's admin API as http://HOST:PORT "
                                "(e.g. http://127.0.0.1:5081), not '" + std::string(text) + "'");
  return "http://" + std::string(rest);
}


}  // namespace confab::game

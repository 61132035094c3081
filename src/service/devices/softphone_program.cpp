#include "service/devices/softphone_program.h"

#include <fstream>
#include <regex>
#include <stdexcept>

namespace confab::service {

std::string one_line(DeviceSettings& s, const std::string& key, const std::string& fallback) {
  std::string v = s.optional(key, fallback);
  if (v.find_first_of("\r\n") != std::string::npos) s.fail(key, "must be one line");
  return v;
}

std::string sip_user(DeviceSettings& s) {
  std::string user = s.optional("user", "confab");
  if (!std::regex_match(user, std::regex("[A-Za-z0-9._~+-]{1,64}")))
    s.fail("user", "must be 1-64 of A-Z a-z 0-9 . _ ~ + -, not '" + user + "'");
  return user;
}

std::string range_text(std::pair<uint16_t, uint16_t> r) { return std::to_string(r.first) + "-" + std::to_string(r.second); }

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
}

}  // namespace confab::service

#include "base/toml_file.h"

#include <stdexcept>

namespace confab::base {

toml::table parse_toml_file(const std::string& path) {
  try {
    return toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    throw std::runtime_error(path + ": " + std::string(e.description()));
  }
}

std::vector<std::string> toml_strings(const toml::node_view<toml::node>& node, const std::string& key) {
  std::vector<std::string> out;
  if (!node) return out;
  auto* arr = node.as_array();
  if (!arr) throw std::runtime_error(key + " must be an array of strings");
  for (auto& v : *arr) {
    auto s = v.value<std::string>();
    if (!s) throw std::runtime_error(key + " must be an array of strings");
    out.push_back(*s);
  }
  return out;
}

}  // namespace confab::base

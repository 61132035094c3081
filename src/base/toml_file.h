// Reading the parts' TOML config files (toml++) with errors that name the file and key.
#pragma once

#include <toml++/toml.h>

#include <string>
#include <vector>

namespace confab::base {

// The parsed file; throws std::runtime_error "PATH: what is wrong".
toml::table parse_toml_file(const std::string& path);
// The strings of an array (none if `node` is absent); throws naming `key` if it is not an array of strings.
std::vector<std::string> toml_strings(const toml::node_view<toml::node>& node, const std::string& key);

}  // namespace confab::base

// The options every part with a config file shares: --check-config, and the
// "[file: KEY]" its settings' options name in --help (from the part's settings table).
#include <iostream>
#include <stdexcept>

#include "cli/commands.h"

#include "base/toml_file.h"

namespace confab::cli {

void note_file_keys(CLI::App& cmd, const std::vector<base::ConfigSetting>& settings) {
  for (auto& s : settings) {
    if (s.flag.empty()) continue;
    CLI::Option* option = cmd.get_option_no_throw(s.flag);
    if (!option) throw std::logic_error(cmd.get_name() + ": setting " + s.key + " names no option " + s.flag);
    option->description(option->get_description() + " [file: " + s.key + "]");
  }
}

void add_check_config_option(CLI::App& cmd, std::string& file) {
  cmd.add_option("--check-config", file,
                 "check FILE (syntax, keys, values, with the other options given) and exit: 0 and \"FILE: OK\", or "
                 "1 and what is wrong");
}

int config_ok(const std::string& file) {
  std::cout << file << ": OK\n";
  return 0;
}

}  // namespace confab::cli

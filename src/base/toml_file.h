// Reading the parts' TOML config files (toml++): the one place that parses a
// file, refuses the keys no part knows and reads values by type. Every error
// names the file and the line (and, for syntax errors, the column):
//   proxy.toml:7: proxy.auth.registr: unknown key (did you mean 'register'?)
//   conference.toml:1: conferences: unknown table (did you mean [conference]?)
//   proxy.toml:12: proxy.auth.register: must be true or false, not "yes"
//   proxy.toml:3:9: Error while parsing key-value pair: expected value
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace confab::base {

// The parsed file; throws std::runtime_error "PATH:LINE:COLUMN: what is wrong"
// (or "PATH: ..." when the file cannot be read).
toml::table parse_toml_file(const std::string& path);

// One setting of a part: its key in the file, dotted from the top
// ("proxy.auth.register"; "proxy.routes.*" is a table of any keys), and the
// command-line option that sets it as well ("" when there is none).
struct ConfigSetting {
  std::string key;
  std::string flag;
};

// A value as errors show it: "not -1", "not \"fast\"", "not a table".
std::string shown_value(const toml::node& node);

// Throws "PATH:LINE: NAME: what" (":LINE" only when known).
[[noreturn]] void fail_at(const std::string& path, const toml::source_region& where, std::string_view name,
                          std::string_view what);

// Refuses every key and table of `root` no setting names, with the nearest
// known one at that place: "PATH:LINE: proxy.auth.registr: unknown key (did you
// mean 'register'?)", else the list of the keys known there.
void reject_unknown_keys(const std::string& path, const toml::table& root, const std::vector<ConfigSetting>& settings);

// One table of a config file read key by key; errors name the file, the line
// and the key under `prefix` ("proxy.auth"; "" for the top of the file).
class TomlTable {
 public:
  TomlTable(const std::string& path, const toml::table& table, std::string prefix);

  // "proxy.auth.register" for "register".
  std::string name(std::string_view key) const;
  [[noreturn]] void fail(const toml::source_region& where, std::string_view key, std::string_view what) const;
  // At the key's value, or at the table when the key is absent.
  [[noreturn]] void fail(std::string_view key, std::string_view what) const;
  // Refuses keys not in `known` (did you mean ...?).
  void only(std::initializer_list<std::string_view> known) const;

  const toml::node* get(std::string_view key) const;
  // A number from lo to hi (integer or float), or `fallback` when absent.
  double number(std::string_view key, double fallback, double lo, double hi, std::string_view unit) const;
  int64_t integer(std::string_view key, int64_t fallback, int64_t lo, int64_t hi, std::string_view unit) const;
  std::optional<std::string> string(std::string_view key) const;
  std::optional<bool> boolean(std::string_view key) const;
  std::optional<std::vector<std::string>> strings(std::string_view key) const;
  // The table under `key` ([proxy.auth]), empty when absent; fails when it is not a table.
  TomlTable table(std::string_view key) const;

  const toml::table& items() const { return table_; }
  const toml::source_region& where() const { return table_.source(); }

 private:
  const std::string& path_;
  const toml::table& table_;
  std::string prefix_;
};

}  // namespace confab::base

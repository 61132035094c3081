#include "base/toml_file.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>

#include "base/spelling.h"

namespace confab::base {

std::string shown_value(const toml::node& node) {
  if (auto* s = node.as_string()) return fmt::format("not \"{}\"", s->get());
  if (auto* i = node.as_integer()) return fmt::format("not {}", i->get());
  if (auto* f = node.as_floating_point()) return fmt::format("not {}", f->get());
  if (auto* b = node.as_boolean()) return fmt::format("not {}", b->get());
  if (node.is_table()) return "not a table";
  if (node.is_array()) return "not an array";
  return "not a date or time";
}

namespace {

const toml::table& empty_table() {
  static const toml::table empty;
  return empty;
}

// The key of `known` meant by `typed` ("" if none is close): base::nearest_name,
// which counts two neighbouring letters swapped ("widht") as one slip.
std::string meant_key(std::string_view typed, const std::vector<std::string>& known) {
  auto near = nearest_name(typed, known);
  return near ? *near : "";
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

// The keys settings name right under the table `prefix` ("" for the top).
std::vector<std::string> keys_under(const std::string& prefix, const std::vector<ConfigSetting>& settings) {
  std::set<std::string> keys;
  std::string head = prefix.empty() ? "" : prefix + ".";
  for (auto& s : settings) {
    if (!starts_with(s.key, head)) continue;
    std::string rest = s.key.substr(head.size());
    keys.insert(rest.substr(0, rest.find('.')));
  }
  keys.erase("*");
  return {keys.begin(), keys.end()};
}

void check_table(const std::string& path, const toml::table& table, const std::string& prefix,
                 const std::vector<ConfigSetting>& settings) {
  for (auto& [key, node] : table) {
    std::string name = prefix.empty() ? std::string(key.str()) : prefix + "." + std::string(key.str());
    auto named = [&](const std::string& k) {
      return std::any_of(settings.begin(), settings.end(), [&](auto& s) { return s.key == k; });
    };
    if (named(name) || named(name + ".*")) continue;  // a setting (its value is checked as it is read)
    bool has_children =
        std::any_of(settings.begin(), settings.end(), [&](auto& s) { return starts_with(s.key, name + "."); });
    if (has_children) {
      auto* sub = node.as_table();
      if (!sub) fail_at(path, key.source(), name, fmt::format("must be a table ([{}]), {}", name, shown_value(node)));
      check_table(path, *sub, name, settings);
      continue;
    }
    auto known = keys_under(prefix, settings);
    std::string near = meant_key(key.str(), known);
    bool is_table = node.is_table();
    std::string hint;
    if (!near.empty())
      hint = is_table ? fmt::format("did you mean [{}]?", prefix.empty() ? near : prefix + "." + near)
                      : fmt::format("did you mean '{}'?", near);
    else
      hint = fmt::format("known here: {}", fmt::join(known, ", "));
    fail_at(path, key.source(), name, fmt::format("unknown {} ({})", is_table ? "table" : "key", hint));
  }
}

}  // namespace

toml::table parse_toml_file(const std::string& path) {
  try {
    return toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    auto& at = e.source().begin;
    std::string where = at.line ? fmt::format(":{}:{}", at.line, at.column) : "";
    throw std::runtime_error(fmt::format("{}{}: {}", path, where, e.description()));
  }
}

void fail_at(const std::string& path, const toml::source_region& where, std::string_view name, std::string_view what) {
  std::string line = where.begin.line ? ":" + std::to_string(where.begin.line) : "";
  throw std::runtime_error(fmt::format("{}{}: {}: {}", path, line, name, what));
}

void reject_unknown_keys(const std::string& path, const toml::table& root, const std::vector<ConfigSetting>& settings) {
  check_table(path, root, "", settings);
}

TomlTable::TomlTable(const std::string& path, const toml::table& table, std::string prefix)
    : path_(path), table_(table), prefix_(std::move(prefix)) {}

std::string TomlTable::name(std::string_view key) const {
  if (prefix_.empty()) return std::string(key);
  if (key.empty()) return prefix_;
  return prefix_ + "." + std::string(key);
}

void TomlTable::fail(const toml::source_region& where, std::string_view key, std::string_view what) const {
  fail_at(path_, where, name(key), what);
}

void TomlTable::fail(std::string_view key, std::string_view what) const {
  const toml::node* node = get(key);
  fail(node ? node->source() : where(), key, what);
}

void TomlTable::only(std::initializer_list<std::string_view> known) const {
  std::vector<std::string> names(known.begin(), known.end());
  for (auto& [key, node] : table_) {
    if (std::find(known.begin(), known.end(), key.str()) != known.end()) continue;
    std::string near = meant_key(key.str(), names);
    fail(key.source(), key.str(),
         near.empty() ? fmt::format("unknown key (known here: {})", fmt::join(names, ", "))
                      : fmt::format("unknown key (did you mean '{}'?)", near));
  }
}

const toml::node* TomlTable::get(std::string_view key) const { return table_.get(key); }

double TomlTable::number(std::string_view key, double fallback, double lo, double hi, std::string_view unit) const {
  const toml::node* node = get(key);
  if (!node) return fallback;
  std::optional<double> v;
  if (auto* i = node->as_integer()) v = static_cast<double>(i->get());
  if (auto* f = node->as_floating_point()) v = f->get();
  if (!v || !std::isfinite(*v) || *v < lo || *v > hi)
    fail(node->source(), key, fmt::format("must be a number from {} to {}{}, {}", lo, hi, unit, shown_value(*node)));
  return *v;
}

int64_t TomlTable::integer(std::string_view key, int64_t fallback, int64_t lo, int64_t hi, std::string_view unit) const {
  const toml::node* node = get(key);
  if (!node) return fallback;
  auto* i = node->as_integer();
  if (!i || i->get() < lo || i->get() > hi)
    fail(node->source(), key, fmt::format("must be a whole number from {} to {}{}, {}", lo, hi, unit, shown_value(*node)));
  return i->get();
}

std::optional<std::string> TomlTable::string(std::string_view key) const {
  const toml::node* node = get(key);
  if (!node) return std::nullopt;
  auto* s = node->as_string();
  if (!s) fail(node->source(), key, "must be a string, " + shown_value(*node));
  return s->get();
}

std::optional<bool> TomlTable::boolean(std::string_view key) const {
  const toml::node* node = get(key);
  if (!node) return std::nullopt;
  auto* b = node->as_boolean();
  if (!b) fail(node->source(), key, "must be true or false, " + shown_value(*node));
  return b->get();
}

std::optional<std::vector<std::string>> TomlTable::strings(std::string_view key) const {
  const toml::node* node = get(key);
  if (!node) return std::nullopt;
  auto* array = node->as_array();
  if (!array) fail(node->source(), key, "must be an array of strings, e.g. [\"a\", \"b\"], " + shown_value(*node));
  std::vector<std::string> out;
  for (auto& item : *array) {
    auto* s = item.as_string();
    if (!s) fail(item.source(), key, "must be an array of strings, e.g. [\"a\", \"b\"], " + shown_value(item));
    out.push_back(s->get());
  }
  return out;
}

TomlTable TomlTable::table(std::string_view key) const {
  const toml::node* node = get(key);
  if (!node) return TomlTable(path_, empty_table(), name(key));
  auto* sub = node->as_table();
  if (!sub) fail(node->source(), key, fmt::format("must be a table ([{}]), {}", name(key), shown_value(*node)));
  return TomlTable(path_, *sub, name(key));
}

}  // namespace confab::base

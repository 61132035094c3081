#include "cli/usage_errors.h"

#include <vector>

#include "base/spelling.h"

namespace confab::cli {

namespace {

// "confab proxy adduser" for the deepest subcommand parsed.
std::string command_path(const CLI::App* command) {
  std::string path;
  for (; command && command->get_parent(); command = command->get_parent()) path = " " + command->get_name() + path;
  return "confab" + path;
}

const CLI::App* deepest_command(const CLI::App& app) {
  const CLI::App* command = &app;
  while (!command->get_subcommands().empty()) command = command->get_subcommands().front();
  return command;
}

// The options `command` takes: its own and, as the command line falls through,
// those of the commands it is under ("--log-level").
std::vector<std::string> option_names(const CLI::App* command) {
  std::vector<std::string> names;
  for (; command; command = command->get_parent())
    for (const CLI::Option* o : command->get_options()) {
      for (auto& l : o->get_lnames()) names.push_back("--" + l);
      for (auto& s : o->get_snames()) names.push_back("-" + s);
    }
  return names;
}

std::vector<std::string> command_names(const CLI::App* command) {
  std::vector<std::string> names;
  for (const CLI::App* sub : command->get_subcommands([](const CLI::App* s) { return !s->get_disabled(); }))
    names.push_back(sub->get_name());
  return names;
}

std::string unknown_command(const CLI::App* command, const std::string& typed) {
  std::string path = command_path(command);
  std::string line = "unknown command '" + typed + "'" + (command->get_parent() ? " for " + path : "");
  if (auto near = base::nearest_name(typed, command_names(command))) return line + ": did you mean '" + *near + "'?\n";
  return line + " (`" + path + " --help` lists the commands)\n";
}

std::string unknown_option(const CLI::App* command, const std::string& typed) {
  std::string name = typed.substr(0, typed.find('='));
  std::string path = command_path(command);
  std::string line = "unknown option '" + name + "'" + (command->get_parent() ? " for " + path : "");
  if (auto near = base::nearest_name(name, option_names(command))) return line + ": did you mean '" + *near + "'?\n";
  return line + " (`" + path + " --help` lists the options)\n";
}

// One line per argument nobody took, in the order given; a word right after an
// unknown option is taken to be its value and not named again.
std::string explain_extras(const CLI::App* command, const std::vector<std::string>& extras) {
  std::string out;
  bool after_unknown_option = false;
  for (const auto& extra : extras) {
    bool is_option = extra.size() > 1 && extra.front() == '-';
    if (is_option) {
      out += unknown_option(command, extra);
    } else if (!after_unknown_option) {
      out += command_names(command).empty()
                 ? "unexpected argument '" + extra + "' for " + command_path(command) + "\n"
                 : unknown_command(command, extra);
    }
    after_unknown_option = is_option && extra.find('=') == std::string::npos;
  }
  return out;
}

}  // namespace

std::string usage_error_message(const CLI::App& app, const CLI::Error& error) {
  const CLI::App* command = deepest_command(app);
  std::vector<std::string> extras = app.remaining();
  // By type: CLI11 names an ExtrasError after the command, not the error.
  bool extra = dynamic_cast<const CLI::ExtrasError*>(&error) != nullptr;
  bool no_command = dynamic_cast<const CLI::RequiredError*>(&error) != nullptr && command == &app;
  std::string text;
  if (extra || (no_command && !extras.empty())) {
    text = explain_extras(command, extras);
  } else if (no_command) {
    std::string names;
    for (auto& name : command_names(command)) names += (names.empty() ? "" : ", ") + name;
    text = "which part? give a command: " + names + "\n";
  }
  if (text.empty()) text = std::string(error.what()) + "\n";
  return text + "Run `" + command_path(command) + " --help` for more information.\n";
}

void explain_usage_errors(CLI::App& app) {
  app.failure_message([](const CLI::App* top, const CLI::Error& e) { return usage_error_message(*top, e); });
}

}  // namespace confab::cli

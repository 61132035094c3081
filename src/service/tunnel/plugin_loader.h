// Loads the service's plugins (service/plugin.h) with dlopen and gives each a
// PluginHost bound to the service. What a plugin registers during its init
// takes effect only if the init succeeds and nothing clashes, so a rejected
// plugin leaves no command or handler behind.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "service/tunnel/extension_host.h"

namespace confab::service {

class Tunnel;

class PluginLoader {
 public:
  PluginLoader(ExtensionHost& host, Tunnel& tunnel);
  // Plugins are never unloaded (no dlclose): their code may still sit in
  // callbacks held by the SIP stack or the API when the service goes down.
  ~PluginLoader();
  PluginLoader(const PluginLoader&) = delete;
  PluginLoader& operator=(const PluginLoader&) = delete;

  // Loads every *.so in `dir`, in name order; each failure is logged and
  // skipped. The directory and the files must not be writable by others (they
  // become code running as the user). Returns how many plugins were loaded.
  size_t load_directory(const std::string& dir);
  // Loads one plugin: "" on success, else why it was not loaded.
  std::string load(const std::string& path);
  // Names (file names without .so) of the plugins loaded.
  std::vector<std::string> loaded() const;

 private:
  class Host;
  ExtensionHost& host_;
  Tunnel& tunnel_;
  std::vector<std::unique_ptr<Host>> hosts_;  // rejected ones too, disabled: a plugin may still hold its host
  std::set<std::string> claimed_methods_;     // methods some plugin handles
};

}  // namespace confab::service

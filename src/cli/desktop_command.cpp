// confab install-desktop: makes Confab the handler of sip:, sips:, tel: and
// callto: links (a .desktop file registered with xdg-mime), installs the
// systemd user unit of the service and the native messaging host manifests of
// the Confab links extension (Chromium, Chrome, Firefox). Both files come from packaging/, with the
// path of this binary written into them.
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "native_host/host_manifest.h"

namespace confab::cli {

std::filesystem::path packaged_path(const std::string& name) {
  namespace fs = std::filesystem;
  fs::path self = fs::read_symlink("/proc/self/exe");
  for (fs::path dir : {self.parent_path() / ".." / "packaging", self.parent_path() / ".." / "share" / "confab",
                       fs::path("/usr/share/confab")}) {
    std::error_code ec;
    if (fs::exists(dir / name, ec)) return dir / name;
  }
  throw std::runtime_error("cannot find packaging/" + name + " next to " + self.string());
}

namespace {

namespace fs = std::filesystem;

constexpr const char* kSchemes[] = {"x-scheme-handler/sip", "x-scheme-handler/sips", "x-scheme-handler/tel",
                                    "x-scheme-handler/callto"};

// The packaging/ file `name`, with "confab " commands pointing at `binary`.
std::string packaged(const std::string& name, const std::string& binary) {
  std::ifstream in(packaged_path(name));
  std::stringstream text;
  text << in.rdbuf();
  std::string s = text.str();
  // "Exec=confab open %u" -> "Exec=/path/to/confab open %u" (and ExecStart= likewise)
  for (size_t at = 0; (at = s.find("=confab ", at)) != std::string::npos; at += binary.size())
    s.replace(at + 1, 6, binary);
  return s;
}

int run(const std::vector<std::string>& args) {
  pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

// The native messaging host of the Confab links extension: a script that runs
// `confab native-host` and, for each browser, a manifest naming it (only the
// extension's id may start it). Prints what it wrote.
void install_native_messaging_hosts(const fs::path& home, const fs::path& data_home, const fs::path& config_home,
                                    const std::string& binary) {
  fs::path script = data_home / "confab" / "native-host";
  fs::create_directories(script.parent_path());
  std::ofstream(script) << native_host::host_script(binary);
  fs::permissions(script, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                              fs::perms::others_read | fs::perms::others_exec);
  std::cout << "installed " << script.string() << "\n";
  for (auto& place : native_host::manifest_places(home, config_home)) {
    fs::create_directories(place.file.parent_path());
    std::ofstream(place.file) << native_host::host_manifest(place.browser, script.string());
    std::cout << "installed " << place.file.string() << "\n";
  }
}

}  // namespace

void add_desktop_command(CLI::App& app, const GlobalOptions&, Runner& runner) {
  auto* cmd = app.add_subcommand("install-desktop",
                                 "make confab the handler of sip:, sips:, tel:, callto: links and install the "
                                 "service's systemd user unit and the Confab links extension's native messaging host");
  cmd->callback([&runner] {
    runner = [] {
      exit_on_stop_signals();  // Ctrl-C ends it (and xdg-mime, which inherits the signal mask)
      const char* home = std::getenv("HOME");
      if (!home || !*home) throw std::runtime_error("HOME is not set");
      const char* data = std::getenv("XDG_DATA_HOME");
      const char* config = std::getenv("XDG_CONFIG_HOME");
      fs::path apps = (data && *data ? fs::path(data) : fs::path(home) / ".local" / "share") / "applications";
      fs::path units = (config && *config ? fs::path(config) : fs::path(home) / ".config") / "systemd" / "user";
      std::string binary = fs::read_symlink("/proc/self/exe").string();
      fs::create_directories(apps);
      fs::create_directories(units);
      std::ofstream(apps / "confab.desktop") << packaged("confab.desktop", binary);
      std::ofstream(units / "confab-service.service") << packaged("confab-service.service", binary);
      std::cout << "installed " << (apps / "confab.desktop").string() << "\n"
                << "installed " << (units / "confab-service.service").string() << "\n";
      install_native_messaging_hosts(home, data && *data ? fs::path(data) : fs::path(home) / ".local" / "share",
                                     config && *config ? fs::path(config) : fs::path(home) / ".config", binary);
      int failed = 0;
      for (const char* scheme : kSchemes) failed |= run({"xdg-mime", "default", "confab.desktop", scheme});
      if (failed) {
        std::cerr << "confab: xdg-mime failed (is xdg-utils installed?)\n";
        return 1;
      }
      std::cout << "confab now opens sip:, sips:, tel: and callto: links\n"
                << "start the service with: systemctl --user daemon-reload && systemctl --user enable --now "
                   "confab-service\n";
      return 0;
    };
  });
}

}  // namespace confab::cli

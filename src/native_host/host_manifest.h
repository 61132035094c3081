// The native messaging host manifests `confab install-desktop` writes: they tell
// Chromium, Chrome and Firefox where `confab native-host` is and that only the
// Confab links extension (extension/, its id fixed by the manifest's "key" and
// browser_specific_settings.gecko.id) may start it.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace confab::native_host {

constexpr const char* kHostName = "org.confab.native_host";
constexpr const char* kChromiumExtensionId = "iblkjdlcnnnhdjmlfaiejalbmcbcfkgo";
constexpr const char* kFirefoxExtensionId = "confab-links@confab";

enum class Browser { chromium, chrome, firefox };

// The manifest's JSON: `program` is what the browser runs (it cannot pass
// arguments of ours, so a script that runs `confab native-host "$@"`).
std::string host_manifest(Browser browser, const std::string& program);

struct ManifestPlace {
  Browser browser;
  std::filesystem::path file;  // .../NativeMessagingHosts/org.confab.native_host.json
};
// Where each browser looks for a user's hosts: $XDG_CONFIG_HOME/chromium and
// /google-chrome (default ~/.config), ~/.mozilla/native-messaging-hosts.
std::vector<ManifestPlace> manifest_places(const std::filesystem::path& home, const std::filesystem::path& config_home);

// The script the manifests name: runs `binary native-host` with the browser's arguments.
std::string host_script(const std::string& binary);

}  // namespace confab::native_host

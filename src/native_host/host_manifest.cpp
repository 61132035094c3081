#include "native_host/host_manifest.h"

#include <boost/json.hpp>

namespace confab::native_host {

std::string host_manifest(Browser browser, const std::string& program) {
  boost::json::object m{{"name", kHostName},
                        {"description", "Confab: lets the Confab links extension join calls through confab service"},
                        {"path", program},
                        {"type", "stdio"}};
  if (browser == Browser::firefox)
    m["allowed_extensions"] = boost::json::array{kFirefoxExtensionId};
  else
    m["allowed_origins"] = boost::json::array{std::string("chrome-extension://") + kChromiumExtensionId + "/"};
  return boost::json::serialize(m) + "\n";
}

std::vector<ManifestPlace> manifest_places(const std::filesystem::path& home, const std::filesystem::path& config_home) {
  const std::string file = std::string(kHostName) + ".json";
  return {{Browser::chromium, config_home / "chromium" / "NativeMessagingHosts" / file},
          {Browser::chrome, config_home / "google-chrome" / "NativeMessagingHosts" / file},
          {Browser::firefox, home / ".mozilla" / "native-messaging-hosts" / file}};
}

std::string host_script(const std::string& binary) {
  std::string quoted = "'";
  for (char c : binary) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  quoted += "'";
  return "#!/bin/sh\n# Started by the browser for the Confab links extension (written by confab install-desktop).\nexec " +
         quoted + " native-host \"$@\"\n";
}

}  // namespace confab::native_host

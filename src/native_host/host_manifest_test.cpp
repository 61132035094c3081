#include "native_host/host_manifest.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace confab::native_host {
namespace {

TEST(HostManifest, ChromiumAndChromeAllowOnlyTheExtensionsOrigin) {
  for (auto browser : {Browser::chromium, Browser::chrome}) {
    auto m = boost::json::parse(host_manifest(browser, "/home/u/.local/share/confab/native-host")).as_object();
    EXPECT_EQ(m.at("name").as_string(), "org.confab.native_host");
    EXPECT_EQ(m.at("type").as_string(), "stdio");
    EXPECT_EQ(m.at("path").as_string(), "/home/u/.local/share/confab/native-host");
    ASSERT_EQ(m.at("allowed_origins").as_array().size(), 1u);
    EXPECT_EQ(m.at("allowed_origins").as_array()[0].as_string(), "chrome-extension://iblkjdlcnnnhdjmlfaiejalbmcbcfkgo/");
    EXPECT_FALSE(m.contains("allowed_extensions"));
  }
}

TEST(HostManifest, FirefoxAllowsOnlyTheExtensionsId) {
  auto m = boost::json::parse(host_manifest(Browser::firefox, "/x \"y\"")).as_object();
  EXPECT_EQ(m.at("path").as_string(), "/x \"y\"");  // escaped as JSON, read back as written
  ASSERT_EQ(m.at("allowed_extensions").as_array().size(), 1u);
  EXPECT_EQ(m.at("allowed_extensions").as_array()[0].as_string(), "confab-links@confab");
  EXPECT_FALSE(m.contains("allowed_origins"));
}

TEST(HostManifest, PlacesAreEachBrowsersUserDirectory) {
  auto places = manifest_places("/home/u", "/home/u/.config");
  ASSERT_EQ(places.size(), 3u);
  EXPECT_EQ(places[0].file, "/home/u/.config/chromium/NativeMessagingHosts/org.confab.native_host.json");
  EXPECT_EQ(places[1].file, "/home/u/.config/google-chrome/NativeMessagingHosts/org.confab.native_host.json");
  EXPECT_EQ(places[2].file, "/home/u/.mozilla/native-messaging-hosts/org.confab.native_host.json");
}

TEST(HostManifest, TheScriptQuotesTheBinary) {
  EXPECT_EQ(host_script("/opt/it's/confab"),
            "#!/bin/sh\n# Started by the browser for the Confab links extension (written by confab install-desktop).\n"
            "exec '/opt/it'\\''s/confab' native-host \"$@\"\n");
}

}  // namespace
}  // namespace confab::native_host

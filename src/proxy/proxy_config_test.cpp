// The [proxy] table of a config file: every setting read, mistakes refused
// with the file, line and key.
#include "proxy/proxy_config.h"

#include <gtest/gtest.h>

#include <fstream>

#include "base/temp_dir.h"

namespace confab::proxy {
namespace {

struct File {
  base::TempDir dir{"confab-proxy-config"};
  std::string path = dir.path + "/proxy.toml";
  explicit File(const std::string& text) { std::ofstream(path) << text; }
};

std::string error_of(const std::string& text) {
  File f(text);
  ProxyConfig c;
  try {
    load_proxy_config(f.path, c);
  } catch (const std::runtime_error& e) {
    std::string what = e.what();
    return what.rfind(f.path, 0) == 0 ? "F" + what.substr(f.path.size()) : what;
  }
  return "";
}

TEST(ProxyConfig, ReadsEverySetting) {
  File f(R"([proxy]
listen = ["udp:127.0.0.1:5070", "tcp:127.0.0.1:5070"]
db = "/var/lib/confab/proxy.db"
domains = ["example.com"]
record_route = false
max_message_size = 32768
transaction_timeout_ms = 8000
[proxy.routes]
"conf.example.com" = "10.0.0.5:5080"
[proxy.registrar]
min_expires = 30
max_expires = 7200
default_expires = 600
max_contacts = 4
[proxy.auth]
register = true
invite = true
algorithms = ["SHA-256", "MD5"]
realm = "example.com"
nonce_ttl = 120
)");
  ProxyConfig c;
  load_proxy_config(f.path, c);
  ASSERT_EQ(c.listen.size(), 2u);
  EXPECT_EQ(c.listen[1].str(), "tcp:127.0.0.1:5070");
  EXPECT_EQ(c.db_path, "/var/lib/confab/proxy.db");
  EXPECT_EQ(c.domains, std::vector<std::string>{"example.com"});
  EXPECT_EQ(c.routes.at("conf.example.com"), "10.0.0.5:5080");
  EXPECT_FALSE(c.record_route);
  EXPECT_EQ(c.max_message_size, 32768u);
  EXPECT_EQ(c.transaction_timeout_ms, 8000u);
  EXPECT_EQ(c.registrar.min_expires, 30);
  EXPECT_EQ(c.registrar.max_expires, 7200);
  EXPECT_EQ(c.registrar.default_expires, 600);
  EXPECT_EQ(c.registrar.max_contacts, 4u);
  EXPECT_TRUE(c.auth_register);
  EXPECT_TRUE(c.auth_invite);
  EXPECT_EQ(c.auth_algorithms, (std::vector<std::string>{"SHA-256", "MD5"}));
  EXPECT_EQ(c.realm, "example.com");
  EXPECT_EQ(c.nonce_ttl, 120);
  EXPECT_NO_THROW(check_proxy_config(c));
}

TEST(ProxyConfig, MistakesAreRefusedWithLineAndKey) {
  // The mistake that ran a proxy without authentication.
  EXPECT_EQ(error_of("[proxy.auth]\nregistr = true\n"), "F:2: proxy.auth.registr: unknown key (did you mean 'register'?)");
  EXPECT_EQ(error_of("[proxy.auth]\nregister = \"yes\"\n"), "F:2: proxy.auth.register: must be true or false, not \"yes\"");
  EXPECT_EQ(error_of("[porxy]\n"), "F:1: porxy: unknown table (did you mean [proxy]?)");
  EXPECT_EQ(error_of("[proxy]\nlisten = [\"udp:127.0.0.1:x\"]\n"),
            "F:2: proxy.listen: bad address 'udp:127.0.0.1:x' (want udp:HOST:PORT or tcp:HOST:PORT)");
  EXPECT_EQ(error_of("[proxy.routes]\n\"a.example\" = 5\n"), "F:2: proxy.routes.a.example: must be a string, not 5");
  EXPECT_EQ(error_of("[proxy.auth]\nalgorithms = [\"SHA-512\"]\n"),
            "F:2: proxy.auth.algorithms: unknown digest algorithm 'SHA-512' (MD5 or SHA-256)");
  EXPECT_EQ(error_of("[proxy.registrar]\nmax_contacts = 0\n"),
            "F:2: proxy.registrar.max_contacts: must be a whole number from 1 to 10000 contacts, not 0");
  EXPECT_EQ(error_of(""), "");
}

TEST(ProxyConfig, ExpiriesMustBeInOrder) {
  ProxyConfig c;
  c.registrar.min_expires = 600;
  c.registrar.default_expires = 300;
  EXPECT_THROW(check_proxy_config(c), std::invalid_argument);
}

}  // namespace
}  // namespace confab::proxy

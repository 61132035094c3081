// The config files' common reading: syntax errors with line and column,
// unknown keys and tables with the nearest known one, values by type.
#include "base/toml_file.h"

#include <gtest/gtest.h>

#include <fstream>

#include "base/temp_dir.h"

namespace confab::base {
namespace {

const std::vector<ConfigSetting> kSettings = {
    {"proxy.listen", "--listen"},         {"proxy.routes.*", "--route"},         {"proxy.auth.register", "--auth-register"},
    {"proxy.auth.realm", "--realm"},      {"proxy.auth.nonce_ttl", "--nonce-ttl"}, {"proxy.db", "--db"},
};

struct File {
  TempDir dir{"confab-toml"};
  std::string path = dir.path + "/f.toml";
  explicit File(const std::string& text) { std::ofstream(path) << text; }
};

// What checking `text` against kSettings says ("" when it is fine), the path shown as "F".
std::string error_of(const std::string& text) {
  File f(text);
  try {
    reject_unknown_keys(f.path, parse_toml_file(f.path), kSettings);
  } catch (const std::runtime_error& e) {
    std::string what = e.what();
    return what.rfind(f.path, 0) == 0 ? "F" + what.substr(f.path.size()) : what;
  }
  return "";
}

TEST(TomlFile, SyntaxErrorsNameLineAndColumn) {
  EXPECT_EQ(error_of("[proxy]\ndb = \n"), "F:2:6: Error while parsing key-value pair: expected value, saw '\\n'");
  EXPECT_EQ(error_of("[proxy\n"), "F:1:7: Error while parsing table header: expected ']', saw '\\n'");
  File none("");
  try {
    parse_toml_file(none.dir.path + "/missing.toml");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(none.dir.path + "/missing.toml: "), std::string::npos) << e.what();
  }
}

TEST(TomlFile, UnknownKeysAndTablesNameTheLineAndTheNearestKnownOne) {
  EXPECT_EQ(error_of("[proxy]\ndb = \"x\"\n[proxy.auth]\nrealm = \"r\"\nregistr = true\n"),
            "F:5: proxy.auth.registr: unknown key (did you mean 'register'?)");
  EXPECT_EQ(error_of("[proxys]\ndb = \"x\"\n"), "F:1: proxys: unknown table (did you mean [proxy]?)");
  EXPECT_EQ(error_of("[proxies]\ndb = \"x\"\n"), "F:1: proxies: unknown table (known here: proxy)");
  EXPECT_EQ(error_of("[proxy.atuh]\nrealm = \"r\"\n"), "F:1: proxy.atuh: unknown table (did you mean [proxy.auth]?)");
  EXPECT_EQ(error_of("proxy.auth.nonce_tll = 3\n"), "F:1: proxy.auth.nonce_tll: unknown key (did you mean 'nonce_ttl'?)");
  EXPECT_EQ(error_of("[proxy]\ncolour = \"blue\"\n"),
            "F:2: proxy.colour: unknown key (known here: auth, db, listen, routes)");
  EXPECT_EQ(error_of("proxy = 5\n"), "F:1: proxy: must be a table ([proxy]), not 5");
}

TEST(TomlFile, KnownKeysAndFreeTablesPass) {
  EXPECT_EQ(error_of(""), "");
  EXPECT_EQ(error_of("[proxy]\nlisten = [\"udp:127.0.0.1:5060\"]\n[proxy.routes]\n\"any.example\" = \"h:1\"\n"
                     "[proxy.auth]\nregister = true\n"),
            "");
}

TEST(TomlFile, ValuesAreReadByTypeWithTheirLine) {
  File f("[t]\nflag = \"yes\"\nn = 7\nlist = [\"a\", 2]\nname = \"x\"\nsub = 3\n");
  toml::table root = parse_toml_file(f.path);
  TomlTable t = TomlTable(f.path, root, "").table("t");
  auto error = [&](auto&& read) -> std::string {
    try {
      read();
    } catch (const std::runtime_error& e) {
      return std::string(e.what()).substr(f.path.size());
    }
    return "";
  };
  EXPECT_EQ(error([&] { t.boolean("flag"); }), ":2: t.flag: must be true or false, not \"yes\"");
  EXPECT_EQ(error([&] { t.integer("n", 0, 10, 20, " s"); }), ":3: t.n: must be a whole number from 10 to 20 s, not 7");
  EXPECT_EQ(error([&] { t.strings("list"); }), ":4: t.list: must be an array of strings, e.g. [\"a\", \"b\"], not 2");
  EXPECT_EQ(error([&] { t.table("sub"); }), ":6: t.sub: must be a table ([t.sub]), not 3");
  EXPECT_EQ(error([&] { t.only({"flag", "n", "list", "name", "sub"}); }), "");
  EXPECT_EQ(error([&] { t.only({"flag", "n", "list", "nmae", "sub"}); }), ":5: t.name: unknown key (did you mean 'nmae'?)");
  EXPECT_EQ(*t.string("name"), "x");
  EXPECT_EQ(t.integer("n", 0, 0, 10, ""), 7);
  EXPECT_EQ(t.integer("absent", 42, 0, 10, ""), 42);
  EXPECT_FALSE(t.boolean("absent"));
  EXPECT_TRUE(t.table("absent").items().empty());
}

}  // namespace
}  // namespace confab::base

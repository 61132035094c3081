#include "base/sqlite.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "base/temp_dir.h"

namespace confab::base {
namespace {

mode_t mode_of(const std::string& path) {
  struct stat st{};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

TEST(Sqlite, NewDatabaseAndItsWalAreReadableByTheOwnerOnly) {
  TempDir dir;
  mode_t old = ::umask(022);
  {
    SqliteDatabase db(dir.path + "/x.db");
    db.exec("CREATE TABLE t (a TEXT)");
    db.exec("INSERT INTO t VALUES ('hash')");
    EXPECT_EQ(mode_of(dir.path + "/x.db"), 0600u);
    EXPECT_EQ(mode_of(dir.path + "/x.db-wal"), 0600u);
  }
  ::umask(old);
  SqliteDatabase again(dir.path + "/x.db");  // an existing file opens as it is
  auto s = again.prepare("SELECT a FROM t");
  ASSERT_TRUE(s.step());
  EXPECT_EQ(s.text(0), "hash");
}

TEST(Sqlite, ExistingOnlyNeverCreatesAFile) {
  TempDir dir;
  std::string path = dir.path + "/none.db";
  try {
    SqliteDatabase db(path, SqliteDatabase::Open::ExistingOnly);
    FAIL() << "opened a database that does not exist";
  } catch (const SqliteError& e) {
    EXPECT_EQ(std::string(e.what()), "no database at " + path);
  }
  struct stat st{};
  EXPECT_NE(::stat(path.c_str(), &st), 0);
}

}  // namespace
}  // namespace confab::base

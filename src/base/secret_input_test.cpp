#include "base/secret_input.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "base/temp_dir.h"

namespace confab::base {
namespace {

std::string error_of(auto&& f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST(SecretInput, FirstLineOfAFileWithoutItsLineEnd) {
  TempDir dir;
  std::ofstream(dir.path + "/pw") << "s3cret\r\nsecond line\n";
  EXPECT_EQ(read_secret_file(dir.path + "/pw", "--password-file"), "s3cret");
}

TEST(SecretInput, MissingOrEmptyFileIsAnErrorNamingOptionAndFile) {
  TempDir dir;
  std::ofstream(dir.path + "/empty") << "\n";
  EXPECT_EQ(error_of([&] { read_secret_file(dir.path + "/empty", "--password-file"); }),
            "--password-file " + dir.path + "/empty is empty");
  auto missing = error_of([&] { read_secret_file(dir.path + "/none", "--password-file"); });
  EXPECT_EQ(missing, "--password-file " + dir.path + "/none: cannot be read (No such file or directory)");
}

TEST(SecretInput, LineFromAStream) {
  std::istringstream piped("secret\n");
  EXPECT_EQ(read_secret_line(piped, "stdin"), "secret");
  std::istringstream nothing("");
  EXPECT_EQ(error_of([&] { read_secret_line(nothing, "stdin"); }), "stdin: no input (end of file)");
}

TEST(SecretInput, CommandLineWarningSaysWhyAndWhatInstead) {
  auto w = secret_on_command_line_warning("--password", "--password-file FILE");
  EXPECT_NE(w.find("process list"), std::string::npos);
  EXPECT_NE(w.find("use --password-file FILE instead"), std::string::npos);
}

}  // namespace
}  // namespace confab::base

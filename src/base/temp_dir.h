// A private directory under /tmp, removed with everything in it when the
// object goes (tests, scratch files).
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>

namespace confab::base {

struct TempDir {
  std::string path;
  explicit TempDir(const std::string& prefix = "confab") {
    std::string tmpl = "/tmp/" + prefix + "-XXXXXX";
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("cannot create a directory under /tmp");
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

}  // namespace confab::base

#include "service/paths.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include "base/random.h"

namespace confab::service {

namespace {
std::string config_base() {
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  const char* home = std::getenv("HOME");
  return (xdg && *xdg ? std::string(xdg) : std::string(home ? home : "") + "/.config") + "/confab";
}
}  // namespace

std::string default_config_path() { return config_base() + "/service.toml"; }

std::string config_dir() {
  std::string dir = config_base();
  std::string parent = dir.substr(0, dir.rfind('/'));
  ::mkdir(parent.c_str(), 0700);
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) throw std::runtime_error("cannot create " + dir);
  return dir;
}

std::string runtime_dir() {
  const char* xdg = std::getenv("XDG_RUNTIME_DIR");
  std::string dir = xdg && *xdg ? std::string(xdg) + "/confab" : "/tmp/confab-" + std::to_string(geteuid());
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) throw std::runtime_error("cannot create " + dir);
  struct stat st{};
  if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077))
    throw std::runtime_error(dir + " must be a directory of ours that no one else can enter (mode 0700)");
  return dir;
}

std::string write_token_file(const std::string& path) {
  std::string token = base::random_hex(32);
  write_private_file(path, token + "\n");
  return token;
}

void write_private_file(const std::string& path, const std::string& text) {
  std::string tmp = path + ".new";
  ::unlink(tmp.c_str());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("cannot write " + tmp);
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) throw std::runtime_error("cannot write " + path);
}

std::string read_token_file(const std::string& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) throw std::runtime_error(path + " not found: is `confab service` running?");
  if (st.st_mode & 077) throw std::runtime_error(path + " is readable by others; refusing to use it");
  std::ifstream in(path);
  std::string token;
  std::getline(in, token);
  if (token.empty()) throw std::runtime_error(path + " is empty");
  return token;
}

}  // namespace confab::service

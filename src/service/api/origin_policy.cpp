#include "service/api/origin_policy.h"

#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <spdlog/spdlog.h>

namespace confab::service {

bool plausible_origin(const std::string& o) {
  auto sep = o.find("://");
  if (sep == std::string::npos || o.size() > 256) return false;
  std::string scheme = o.substr(0, sep);
  if (scheme != "http" && scheme != "https") return false;
  std::string rest = o.substr(sep + 3);
  if (rest.empty()) return false;
  for (char c : rest)
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']'))
      return false;  // no path, query, user info or spaces
  return true;
}

OriginPolicy::OriginPolicy(std::string file) : file_(std::move(file)) {
  if (file_.empty()) return;
  std::ifstream in(file_);
  for (std::string line; std::getline(in, line);)
    if (plausible_origin(line)) approved_.insert(line);
}

bool OriginPolicy::approved(const std::string& origin) const {
  std::lock_guard lock(mutex_);
  return approved_.count(origin) > 0;
}

bool OriginPolicy::request(const std::string& origin) {
  if (!plausible_origin(origin)) return false;
  std::lock_guard lock(mutex_);
  if (approved_.count(origin) || pending_.count(origin) || pending_.size() >= kMaxPending) return false;
  pending_.insert(origin);
  return true;
}

bool OriginPolicy::approve(const std::string& origin, bool yes) {
  if (!plausible_origin(origin)) return false;
  {
    std::lock_guard lock(mutex_);
    pending_.erase(origin);
    if (yes)
      approved_.insert(origin);
    else
      approved_.erase(origin);
  }
  save();
  return true;
}

std::vector<std::string> OriginPolicy::approved_list() const {
  std::lock_guard lock(mutex_);
  return {approved_.begin(), approved_.end()};
}

std::vector<std::string> OriginPolicy::pending_list() const {
  std::lock_guard lock(mutex_);
  return {pending_.begin(), pending_.end()};
}

void OriginPolicy::save() const {
  if (file_.empty()) return;
  std::string text;
  for (auto& o : approved_list()) text += o + "\n";
  std::string tmp = file_ + ".new";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  bool ok = fd >= 0 && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  if (fd >= 0) ::close(fd);
  if (!ok || ::rename(tmp.c_str(), file_.c_str()) != 0) spdlog::error("cannot save approved origins to {}", file_);
}

}  // namespace confab::service

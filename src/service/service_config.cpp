#include "service/service_config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/toml_file.h"

#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

namespace confab::service {

std::vector<base::IpNetwork> parse_networks(const std::vector<std::string>& texts, const std::string& what) {
  std::vector<base::IpNetwork> networks;
  for (auto& text : texts) {
    auto n = base::IpNetwork::parse(text);
    if (!n) throw std::runtime_error(what + ": '" + text + "' is not an IP address or network (e.g. 10.0.0.0/8)");
    networks.push_back(*n);
  }
  return networks;
}

void load_service_config(const std::string& path, ServiceConfig& c) {
  toml::table root = base::parse_toml_file(path);
  try {
    if (auto t = root["service"]) {
      if (t["sip"]) c.sip_listen.clear();
      for (auto& s : base::toml_strings(t["sip"], "service.sip")) {
        auto spec = sip::ListenSpec::parse(s);
        if (!spec) throw std::runtime_error("service.sip: bad address '" + s + "'");
        c.sip_listen.push_back(*spec);
      }
      auto str = [&](const char* key, std::string& out) {
        auto node = t[key];
        if (!node) return;
        auto v = node.value<std::string>();
        if (!v) throw std::runtime_error(std::string("service.") + key + " must be a string");
        out = *v;
      };
      str("identity", c.identity);
      str("proxy", c.proxy);
      str("password", c.password);
      str("conference_server", c.conference_server);
      str("default_device", c.default_device);
      str("incoming_device", c.incoming_device);
      if (t["incoming_from"])
        c.incoming_from = parse_networks(base::toml_strings(t["incoming_from"], "service.incoming_from"),
                                         "service.incoming_from");
      str("tel_gateway", c.tel_gateway);
      str("api_socket", c.api_socket);
      str("api_tcp", c.api_tcp);
      str("token_file", c.token_file);
      str("web_api", c.web_api);
      str("origins_file", c.origins_file);
      if (auto v = t["keepalive_s"].value<int64_t>()) {
        if (*v < 0) throw std::runtime_error("service.keepalive_s must not be negative");
        c.keepalive_s = static_cast<unsigned>(*v);
      }
      if (auto v = t["transaction_timeout_ms"].value<int64_t>()) {
        if (*v < 1000) throw std::runtime_error("service.transaction_timeout_ms must be at least 1000");
        c.transaction_timeout_ms = static_cast<unsigned>(*v);
      }
      if (auto v = t["choice_timeout_s"].value<int64_t>()) {
        if (*v <= 0) throw std::runtime_error("service.choice_timeout_s must be positive");
        c.choice_timeout_s = static_cast<unsigned>(*v);
      }
      str("plugin_dir", c.plugin_dir);
      if (auto v = t["register"].value<bool>()) c.register_at_proxy = *v;
    }
    if (auto* devices = root["devices"].as_table()) {
      for (auto& [key, node] : *devices) {
        auto* table = node.as_table();
        if (!table) throw std::runtime_error("devices." + std::string(key.str()) + " must be a table");
        DeviceConfig d;
        d.id = std::string(key.str());
        for (auto& [k, v] : *table) {
          auto s = v.value<std::string>();
          if (auto* number = v.as_integer()) s = std::to_string(number->get());  // sip_port = 7300
          if (!s) throw std::runtime_error("devices." + d.id + "." + std::string(k.str()) + " must be a string or an integer");
          if (k == "kind")
            d.kind = *s;
          else if (k == "name")
            d.name = *s;
          else
            d.settings[std::string(k.str())] = *s;
        }
        c.devices.push_back(std::move(d));
      }
    }
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
}

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
  std::random_device rd;  // the kernel's random source
  std::ostringstream token;
  for (int i = 0; i < 4; ++i) token << std::hex << std::uniform_int_distribution<uint64_t>()(rd);
  write_private_file(path, token.str() + "\n");
  return token.str();
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

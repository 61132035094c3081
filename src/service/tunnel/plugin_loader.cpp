#include "service/tunnel/plugin_loader.h"

#include <dlfcn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>

#include "service/tunnel/plugin.h"
#include "service/tunnel/tunnel.h"
#include "sip/raw_request.h"

namespace confab::service {

namespace {

// Refuses what others could replace: the files become code running as the user.
std::string unsafe_because(const std::string& path, bool directory) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) return "it does not exist";
  if (directory ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) return directory ? "it is not a directory" : "it is not a file";
  if (st.st_uid != ::geteuid() && st.st_uid != 0) return "it belongs to another user";
  if (st.st_mode & (S_IWGRP | S_IWOTH)) return "others may write to it";
  return "";
}

bool has_line_break(const std::string& s) { return s.find_first_of("\r\n") != std::string::npos; }

// A display name as a person reads it: Sofia keeps the quotes of "Carol" and its escapes.
std::string unquoted(std::string_view display) {
  if (display.size() < 2 || display.front() != '"' || display.back() != '"') return std::string(display);
  std::string out;
  for (size_t i = 1; i + 1 < display.size(); ++i) {
    if (display[i] == '\\' && i + 2 < display.size()) ++i;
    out += display[i];
  }
  return out;
}

}  // namespace

// One plugin's view of the service. Until the plugin's init has succeeded its
// registrations are only staged; a rejected plugin's host stays, disabled.
class PluginLoader::Host final : public PluginHost {
 public:
  Host(PluginLoader& loader, std::string name) : loader_(loader), name_(std::move(name)) {}

  void add_command(const std::string& name, Command command) override {
    if (state_ == State::Disabled) return;
    commands_.emplace_back(name, std::move(command));
    if (state_ == State::Enabled) commit_late();
  }

  void handle_requests(const std::string& method, RequestHandler handler) override {
    if (state_ == State::Disabled) return;
    handlers_.emplace_back(method, std::move(handler));
    if (state_ == State::Enabled) commit_late();
  }

  void add_event_kind(const std::string& kind) override {
    if (state_ == State::Disabled) return;
    loader_.host_.events().add_kind(kind);  // harmless even if the plugin is rejected later
  }

  std::string send_request(const PluginSipRequest& r, ResponseHandler on_response) override {
    if (state_ == State::Disabled) return "the plugin is disabled";
    for (auto* field : {&r.method, &r.request_uri, &r.from, &r.to, &r.content_type})
      if (has_line_break(*field)) return "a line break in a request field";
    // Written out as text and read back with the Tunnel's parser, so a plugin's
    // request is checked exactly as a client's raw request is.
    std::string text = r.method + " " + r.request_uri + " SIP/2.0\r\n";
    if (!r.from.empty()) text += "From: " + r.from + "\r\n";
    if (!r.to.empty()) text += "To: " + r.to + "\r\n";
    for (auto& [name, value] : r.headers) {
      if (has_line_break(name) || has_line_break(value)) return "a line break in header field " + name;
      text += name + ": " + value + "\r\n";
    }
    if (!r.content_type.empty()) text += "Content-Type: " + r.content_type + "\r\n";
    text += "\r\n" + r.body;
    auto parsed = sip::parse_raw_request(text);
    if (!parsed.request) return parsed.error;
    if (auto why = tunnel_refusal(parsed.request->method, false)) return *why;
    auto plan = plan_tunnel_request(std::move(*parsed.request), false);
    loader_.host_.user_agent().send_request(plan.spec, [handler = std::move(on_response), name = name_](
                                            int status, std::string_view phrase, const sip::Message& m) {
      PluginSipResponse response;
      response.status = status;
      response.reason = std::string(phrase.empty() && m ? m.reason() : phrase);
      if (m) {
        response.content_type = m.content_type();
        response.body = std::string(m.body());
        response.text = m.str();
      }
      try {
        if (handler) handler(response);
      } catch (const std::exception& e) {
        spdlog::error("plugin {}: its response handler failed: {}", name, e.what());
      }
    });
    return "";
  }

  void publish(const std::string& kind, const api::ApiMessage& event) override {
    if (state_ != State::Disabled) loader_.host_.events().publish(kind, event);
  }
  bool has_subscribers(const std::string& kind) const override { return loader_.host_.events().has_subscriber(kind); }
  std::string identity() const override { return loader_.host_.identity(); }

  void log(LogLevel level, const std::string& text) override {
    auto l = level == LogLevel::Debug  ? spdlog::level::debug
             : level == LogLevel::Info ? spdlog::level::info
             : level == LogLevel::Warn ? spdlog::level::warn
                                       : spdlog::level::err;
    spdlog::log(l, "plugin {}: {}", name_, text);
  }

  void post(std::function<void()> work) override {
    loader_.host_.loop().post([work = std::move(work), name = name_] {
      try {
        work();
      } catch (const std::exception& e) {
        spdlog::error("plugin {}: posted work failed: {}", name, e.what());
      }
    });
  }

  // Applies what is staged; "" on success, else why the plugin must be rejected (then nothing is applied).
  std::string commit() {
    for (auto& [name, _] : commands_)
      if (loader_.host_.commands().has(name)) return "the command <" + name + "> already exists";
    for (auto& [method, _] : handlers_)
      if (loader_.claimed_methods_.count(method)) return "another plugin already handles " + method + " requests";
    for (auto& [name, command] : commands_) {
      spdlog::info("plugin {}: command <{}>", name_, name);
      loader_.host_.commands().add(name, std::move(command));
    }
    for (auto& [method, handler] : handlers_) {
      loader_.claimed_methods_.insert(method);
      loader_.tunnel_.add_request_handler(method, [handler = std::move(handler), name = name_](const sip::Message& m) {
        PluginIncomingRequest in;
        in.method = std::string(m.method_name());
        in.request_uri = m.request_uri();
        in.from = m.from_uri();
        in.from_display = unquoted(m.from_display());
        in.to = m.to_uri();
        in.content_type = m.content_type();
        in.body = std::string(m.body());
        in.text = m.str();
        PluginSipAnswer a = handler(in);  // exceptions are caught by the Tunnel (500)
        return std::make_pair(a.status, a.reason);
      });
    }
    commands_.clear();
    handlers_.clear();
    state_ = State::Enabled;
    return "";
  }

  // A registration after a successful init: refused alone, the plugin stays.
  void commit_late() {
    if (auto why = commit(); !why.empty()) {
      spdlog::error("plugin {}: {}; not added", name_, why);
      commands_.clear();
      handlers_.clear();
    }
  }

  void disable() {
    state_ = State::Disabled;
    commands_.clear();
    handlers_.clear();
  }
  bool enabled() const { return state_ == State::Enabled; }
  const std::string& name() const { return name_; }

 private:
  enum class State { Staging, Enabled, Disabled };
  PluginLoader& loader_;
  std::string name_;
  State state_ = State::Staging;
  std::vector<std::pair<std::string, Command>> commands_;
  std::vector<std::pair<std::string, RequestHandler>> handlers_;
};

PluginLoader::PluginLoader(ExtensionHost& host, Tunnel& tunnel) : host_(host), tunnel_(tunnel) {}

PluginLoader::~PluginLoader() = default;

size_t PluginLoader::load_directory(const std::string& dir) {
  if (auto why = unsafe_because(dir, true); !why.empty()) {
    spdlog::warn("plugins: not loading any from {}: {}", dir, why);
    return 0;
  }
  std::vector<std::string> paths;
  std::error_code ec;
  for (auto& entry : std::filesystem::directory_iterator(dir, ec))
    if (entry.path().extension() == ".so") paths.push_back(entry.path().string());
  std::sort(paths.begin(), paths.end());
  size_t count = 0;
  for (auto& path : paths) {
    std::string why = load(path);
    if (why.empty())
      ++count;
    else
      spdlog::warn("plugin {} skipped: {}", path, why);
  }
  spdlog::info("plugins: {} loaded from {}", count, dir);
  return count;
}

std::string PluginLoader::load(const std::string& path) {
  if (auto why = unsafe_because(path, false); !why.empty()) return why;
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* e = ::dlerror();
    return e ? e : "dlopen failed";
  }
  auto version = reinterpret_cast<int (*)()>(::dlsym(handle, "confab_plugin_api_version"));
  auto init = reinterpret_cast<bool (*)(PluginHost&, std::string&)>(::dlsym(handle, "confab_plugin_init"));
  if (!version || !init) {
    ::dlclose(handle);  // nothing of it ran
    return std::string("not a Confab plugin: it does not export ") +
           (!version ? "confab_plugin_api_version" : "confab_plugin_init");
  }
  if (int v = version(); v != kPluginApiVersion) {
    ::dlclose(handle);
    return "built for plugin API version " + std::to_string(v) + ", this service has version " +
           std::to_string(kPluginApiVersion);
  }
  std::string name = std::filesystem::path(path).stem().string();
  hosts_.push_back(std::make_unique<Host>(*this, name));
  Host& host = *hosts_.back();
  // From here on the library stays loaded, whatever happens: its init may have
  // left callbacks with the stack.
  std::string error;
  bool ok = false;
  try {
    ok = init(host, error);
  } catch (const std::exception& e) {
    error = std::string("it threw: ") + e.what();
  } catch (...) {
    error = "it threw something that is not a std::exception";
  }
  if (!ok) {
    host.disable();
    return "confab_plugin_init failed: " + (error.empty() ? std::string("no reason given") : error);
  }
  if (auto why = host.commit(); !why.empty()) {
    host.disable();
    return why;
  }
  spdlog::info("plugin {} loaded from {}", name, path);
  return "";
}

std::vector<std::string> PluginLoader::loaded() const {
  std::vector<std::string> out;
  for (auto& h : hosts_)
    if (h->enabled()) out.push_back(h->name());
  return out;
}

}  // namespace confab::service

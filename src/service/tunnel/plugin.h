// The plugin interface of `confab service` (docs/api.md, "Plugins").
//
// A plugin is a shared object in the service's plugin directory (`plugin_dir`
// in [service] of service.toml, or `confab service --plugin-dir DIR`). It
// exports two C functions:
//
//   CONFAB_PLUGIN_DEFINE_API_VERSION()   // defines confab_plugin_api_version()
//   extern "C" bool confab_plugin_init(confab::service::PluginHost& host, std::string& error);
//
// The service loads every *.so there at start (in name order), checks the API
// version, then calls confab_plugin_init, which registers what the plugin
// offers through `host` and returns true; false (with `error` set) or an
// exception rejects the plugin and nothing it registered takes effect. A plugin
// that fails to load is logged and skipped; the service runs on. Plugins stay
// loaded until the service exits.
//
// Everything happens on the service's SIP thread: handlers must not block
// (no sleeping, no blocking I/O). Long work belongs on a thread of the
// plugin's own, which hands its results back with host.post(); nothing else in
// `host` may be called from another thread. A plugin may use this header,
// api::ApiMessage (api/api_message.h) and Reply (service/reply.h); they are
// resolved against the `confab` binary, which exports its symbols for that.
//
// Compatibility: kPluginApiVersion changes whenever anything in this header,
// reply.h or api_message.h changes in a way that breaks a built plugin; a
// plugin built for another version is refused with a log line naming both.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "api/api_message.h"
#include "service/api/reply.h"

namespace confab::service {

inline constexpr int kPluginApiVersion = 1;

// An out-of-dialog request for the plugin to send (as the service's Tunnel does).
struct PluginSipRequest {
  std::string method;       // e.g. "MESSAGE"; not INVITE, ACK, CANCEL or PRACK
  std::string request_uri;  // sip:, sips: or tel: URI
  std::string from, to;     // "" : the service's identity / the Request-URI
  std::vector<std::pair<std::string, std::string>> headers;  // extra fields (not Via, Call-ID, CSeq, Content-Length)
  std::string content_type, body;
};

// One response to a request the plugin sent.
struct PluginSipResponse {
  int status = 0;
  std::string reason;
  std::string content_type, body;
  std::string text;  // the whole response as received; "" when the stack ended the request (timeout, transport)
};

// An out-of-dialog request that arrived at the service.
struct PluginIncomingRequest {
  std::string method, request_uri;
  std::string from, from_display, to;
  std::string content_type, body;
  std::string text;  // the whole request as received
};

// How the service answers an incoming request a plugin handled.
struct PluginSipAnswer {
  int status = 200;
  std::string reason = "OK";
};

class PluginHost {
 public:
  // Same shape as the built-in commands: parse `request`, act, answer through `reply` once (now or later).
  using Command = std::function<void(const api::ApiMessage& request, const Reply& reply)>;
  // Called for every response, provisional ones first; the final one (status >= 200) last.
  using ResponseHandler = std::function<void(const PluginSipResponse& response)>;
  using RequestHandler = std::function<PluginSipAnswer(const PluginIncomingRequest& request)>;
  enum class LogLevel { Debug, Info, Warn, Error };

  virtual ~PluginHost() = default;

  // Adds the API command <name>. Refused (the plugin is not loaded) if the name is taken.
  virtual void add_command(const std::string& name, Command command) = 0;
  // Sends an out-of-dialog request. Returns "" when sent, else why not (and `on_response` is never called).
  virtual std::string send_request(const PluginSipRequest& request, ResponseHandler on_response) = 0;
  // Incoming out-of-dialog requests of `method` go to `handler`, which says how to answer.
  // The SIP stack hands over MESSAGE and INFO; it answers OPTIONS itself and refuses
  // methods it does not allow (405). One plugin per method.
  virtual void handle_requests(const std::string& method, RequestHandler handler) = 0;
  // Makes `kind` a valid <Subscribe events=".."> kind; then publish() reaches its subscribers.
  virtual void add_event_kind(const std::string& kind) = 0;
  virtual void publish(const std::string& kind, const api::ApiMessage& event) = 0;
  virtual bool has_subscribers(const std::string& kind) const = 0;
  // The service's SIP identity (its From), e.g. sip:alice@example.com.
  virtual std::string identity() const = 0;
  // To the service's log, prefixed with the plugin's name.
  virtual void log(LogLevel level, const std::string& text) = 0;
  // Thread-safe: runs `work` on the SIP thread soon (the one call a plugin's own threads may make).
  virtual void post(std::function<void()> work) = 0;
};

}  // namespace confab::service

#define CONFAB_PLUGIN_DEFINE_API_VERSION()                                                      \
  extern "C" __attribute__((visibility("default"))) int confab_plugin_api_version() {          \
    return ::confab::service::kPluginApiVersion;                                                 \
  }

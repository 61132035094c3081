// Plugins for plugin_loader's unit test (tunnel_test.cpp), one per TEST_PLUGIN_KIND:
// good, wrong_version, failing_init, throwing_init, name_clash.
#include <stdexcept>
#include <string>

#include "service/tunnel/plugin.h"

using confab::service::PluginHost;

#define TEST_PLUGIN_STR2(x) #x
#define TEST_PLUGIN_STR(x) TEST_PLUGIN_STR2(x)
static const std::string kKind = TEST_PLUGIN_STR(TEST_PLUGIN_KIND);

extern "C" __attribute__((visibility("default"))) int confab_plugin_api_version() {
  return kKind == "wrong_version" ? confab::service::kPluginApiVersion + 1 : confab::service::kPluginApiVersion;
}

extern "C" __attribute__((visibility("default"))) bool confab_plugin_init(PluginHost& host, std::string& error) {
  if (kKind == "good") {
    host.add_event_kind("echoes");
    host.add_command("Echo", [&host](const confab::api::ApiMessage& m, const confab::service::Reply& reply) {
      host.publish("echoes", confab::api::ApiMessage("Echoed"));
      reply.ok("echo", {{"said", m.text}});
    });
    host.handle_requests("INFO", [](const confab::service::PluginIncomingRequest&) {
      return confab::service::PluginSipAnswer{202, "Seen"};
    });
    return true;
  }
  if (kKind == "failing_init") {
    host.add_command("Never", [](const confab::api::ApiMessage&, const confab::service::Reply& reply) { reply.ok(); });
    error = "no licence";
    return false;
  }
  if (kKind == "throwing_init") throw std::runtime_error("boom");
  if (kKind == "name_clash") {
    host.add_command("Echo2", [](const confab::api::ApiMessage&, const confab::service::Reply& reply) { reply.ok(); });
    host.add_command("Join", [](const confab::api::ApiMessage&, const confab::service::Reply& reply) { reply.ok(); });
    return true;
  }
  return false;
}

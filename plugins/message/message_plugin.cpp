// Example plugin of `confab service`: instant messages (SIP MESSAGE, RFC 3428).
//
//   <Message to="sip:bob@example.com">Hello</Message>
//     sends a MESSAGE with a text/plain body and answers with its final status:
//     <Result status="ok" code="200" reason="OK" to=".." sip_status="200"/>, or
//     status="error" with the SIP status as code when the peer refused it.
//   An incoming MESSAGE is published to clients subscribed to "messages":
//     <Message from="sip:bob@example.com" display="Bob">Hello</Message>
//   and answered 200; 480 when no client listens (the sender learns nobody read
//   it), 415 for a body that is not text.
#include <string>

#include "service/tunnel/plugin.h"

namespace {

using confab::service::PluginHost;

bool is_text(const std::string& content_type) {
  return content_type.empty() || content_type.rfind("text/", 0) == 0;
}

}  // namespace

CONFAB_PLUGIN_DEFINE_API_VERSION()

extern "C" __attribute__((visibility("default"))) bool confab_plugin_init(PluginHost& host, std::string& error) {
  host.add_event_kind("messages");

  host.add_command("Message", [&host](const confab::api::ApiMessage& m, const confab::service::Reply& reply) {
    std::string to = m.attr("to");
    if (to.empty()) return reply.error(400, "<Message> needs to=\"sip:..\"");
    if (m.text.empty()) return reply.error(400, "<Message> needs text");
    confab::service::PluginSipRequest request;
    request.method = "MESSAGE";
    request.request_uri = to;
    request.content_type = "text/plain;charset=UTF-8";
    request.body = m.text;
    std::string why = host.send_request(request, [reply, to](const confab::service::PluginSipResponse& r) {
      if (r.status < 200) return;  // only the final status answers the command
      if (r.status < 300)
        reply.ok(r.reason, {{"to", to}, {"sip_status", std::to_string(r.status)}});
      else
        reply.error(r.status, "the message was not delivered: " + std::to_string(r.status) + " " + r.reason);
    });
    if (!why.empty()) reply.error(400, why);
  });

  host.handle_requests("MESSAGE", [&host](const confab::service::PluginIncomingRequest& in) {
    if (!is_text(in.content_type)) return confab::service::PluginSipAnswer{415, "Unsupported Media Type"};
    if (!host.has_subscribers("messages")) return confab::service::PluginSipAnswer{480, "Temporarily Unavailable"};
    confab::api::ApiMessage event("Message");
    event.set("from", in.from);
    if (!in.from_display.empty()) event.set("display", in.from_display);
    event.text = in.body;
    host.publish("messages", event);
    return confab::service::PluginSipAnswer{200, "OK"};
  });
  host.log(PluginHost::LogLevel::Info, "<Message> and \"messages\" events ready");
  return true;
}

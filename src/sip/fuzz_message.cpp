// libFuzzer: Sofia's parser plus every accessor and rewrite Confab applies to a message.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sip/message.h"
#include "sip/uri.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto m = confab::sip::Message::parse(text);
  if (!m) {
    confab::sip::Uri::parse(text.substr(0, 512));
    return 0;
  }
  (void)m->method();
  auto ruri = confab::sip::Uri::parse(m->request_uri());
  if (ruri) {
    (void)ruri->str();
    (void)ruri->transport();
    (void)ruri->port_or_default();
  }
  (void)m->from_uri();
  (void)m->to_uri();
  (void)m->vias();
  (void)m->routes();
  (void)m->contacts();
  (void)m->expires();
  (void)m->header_values("Require");
  (void)m->header_values("Proxy-Require");
  (void)m->header("X-Anything");
  (void)m->credentials(true);
  (void)m->credentials(false, "example.com");
  (void)m->body();
  auto c = m->copy();
  c.set_max_forwards(69);
  c.pop_route();
  c.add_record_route("sip:127.0.0.1:5060;lr");
  if (ruri) c.set_request_uri(ruri->str());
  c.remove_headers("Route");
  (void)c.str();
  return 0;
}

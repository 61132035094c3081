// The "http" device kind: a phone that is not reached by SIP but told by an
// HTTP request to call the target itself (click-to-dial APIs of PBXs and desk
// phones). It behaves as transfer mode: the service sends the request and
// leaves; the Result is ok when the answer is 2xx, else an error carrying
// the HTTP status.
//
//   [devices.desk]
//   kind = "http"
//   url = "http://pbx.example.com:8088/dial?from={device}&to={target}"
//   method = "POST"                      # GET (default) or POST
//   body = '{{"to": "{target}"}}'        # POST only; {{ and }} are literal braces
//   headers = "Content-Type: application/json\nAuthorization: Bearer 123"
//   timeout_ms = "5000"
//   phone = "201"                        # what {device} stands for (default: the device id)
//
// Only http:// to the host written in the url: placeholders may not appear in
// the host, and redirects are not followed. Values are URL-encoded in the url
// and in form bodies, JSON-escaped in bodies whose Content-Type names json.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "service/devices/device.h"

namespace confab::service {

struct HttpTarget {
  std::string host;       // as written (name or address)
  uint16_t port = 80;
  std::string path;       // "/dial?from={device}&to={target}" (still a template)
};
// Parses an http:// URL template; throws std::invalid_argument saying what is wrong.
HttpTarget parse_http_url(const std::string& url);

// RFC 3986: every byte but A-Z a-z 0-9 - . _ ~ as %XX.
std::string url_encode(std::string_view text);
// The inside of a JSON string (no quotes).
std::string json_escape(std::string_view text);
// Replaces {name} by encode(values[name]), {{ and }} by literal braces; throws
// std::invalid_argument for an unknown name or a stray brace.
std::string fill_template(std::string_view tmpl, const std::map<std::string, std::string>& values,
                          std::string (*encode)(std::string_view));

// DeviceFactory maker for kind "http".
std::unique_ptr<Device> make_http_device(const DeviceConfig& config);

}  // namespace confab::service

#include "service/devices/http_device.h"

#include <boost/json.hpp>
#include <boost/url.hpp>
#include <spdlog/spdlog.h>

#include <sstream>
#include <stdexcept>

#include "base/host_port.h"
#include "http/http_client.h"
#include "service/devices/device_runtime.h"
#include "service/devices/device_settings.h"

namespace confab::service {


HttpTarget parse_http_url(const std::string& url) {
  // The path may hold {placeholders}, which are no URL characters: check the
  // URL with each one standing for a plain word, keep the path as written.
  std::string probe;
  for (size_t i = 0; i < url.size(); ++i) {
    if (url[i] != '{') {
      probe += url[i];
      continue;
    }
    auto close = url.find('}', i);
    if (close == std::string::npos) throw std::invalid_argument("has a '{' without '}'");
    probe += "x";
    i = close;
  }
  auto parsed = boost::urls::parse_absolute_uri(probe);
  if (!parsed) throw std::invalid_argument("is not a URL (" + parsed.error().message() + ")");
  const boost::urls::url_view& u = *parsed;
  if (u.scheme_id() != boost::urls::scheme::http)
    throw std::invalid_argument("must start with http:// (https and other schemes are not supported)");
  if (u.has_userinfo()) throw std::invalid_argument("the host must be written out: no user info before it");
  HttpTarget t;
  t.host = u.host_type() == boost::urls::host_type::ipv6 ? u.host_address() : std::string(u.encoded_host());
  if (t.host.empty()) throw std::invalid_argument("has no host");
  // The host must be written out: a placeholder there could send the request anywhere.
  auto authority_end = url.find_first_of("/?#", url.find("//") + 2);
  if (url.substr(0, authority_end).find_first_of("{}") != std::string::npos)
    throw std::invalid_argument("the host must be written out: no placeholders before the path");
  if (u.has_port()) {
    if (u.port_number() == 0) throw std::invalid_argument("has a bad port '" + std::string(u.port()) + "'");
    t.port = u.port_number();
  }
  if (u.has_fragment()) throw std::invalid_argument("has a #fragment, which is never sent");
  t.path = authority_end == std::string::npos ? "/" : url.substr(authority_end);
  if (t.path[0] == '?') t.path = "/" + t.path;
  return t;
}

std::string url_encode(std::string_view text) { return boost::urls::encode(text, boost::urls::unreserved_chars); }

std::string json_escape(std::string_view text) {
  std::string quoted = boost::json::serialize(boost::json::string(text));
  return quoted.substr(1, quoted.size() - 2);
}

std::string fill_template(std::string_view tmpl, const std::map<std::string, std::string>& values,
                          std::string (*encode)(std::string_view)) {
  std::string out;
  for (size_t i = 0; i < tmpl.size();) {
    char c = tmpl[i];
    if ((c == '{' || c == '}') && i + 1 < tmpl.size() && tmpl[i + 1] == c) {  // {{ and }}: literal braces
      out += c;
      i += 2;
      continue;
    }
    if (c == '}') throw std::invalid_argument("has a '}' without '{' (write }} for a literal one)");
    if (c != '{') {
      out += c;
      ++i;
      continue;
    }
    auto close = tmpl.find('}', i);
    if (close == std::string_view::npos) throw std::invalid_argument("has a '{' without '}' (write {{ for a literal one)");
    std::string name(tmpl.substr(i + 1, close - i - 1));
    auto it = values.find(name);
    if (it == values.end()) {
      std::string known;
      for (auto& [k, v] : values) known += (known.empty() ? "{" : ", {") + k + "}";
      throw std::invalid_argument("has an unknown placeholder {" + name + "} (known: " + known + ")");
    }
    out += encode(it->second);
    i = close + 1;
  }
  return out;
}

namespace {

using std::chrono::milliseconds;

std::string as_is(std::string_view s) { return std::string(s); }

class HttpDevice final : public Device {
 public:
  explicit HttpDevice(const DeviceConfig& c) : Device(c) {
    DeviceSettings s(c);
    url_ = s.required("url");
    try {
      target_ = parse_http_url(url_);
      fill_template(target_.path, sample(), as_is);
    } catch (const std::invalid_argument& e) {
      s.fail("url", e.what());
    }
    method_ = s.optional("method", "GET");
    for (auto& ch : method_) ch = static_cast<char>(toupper(static_cast<unsigned char>(ch)));
    if (method_ != "GET" && method_ != "POST") s.fail("method", "must be GET or POST, not '" + method_ + "'");
    body_ = s.optional("body");
    if (!body_.empty() && method_ != "POST") s.fail("body", "needs method = \"POST\"");
    std::istringstream lines(s.optional("headers"));
    for (std::string line; std::getline(lines, line);) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.find_first_not_of(" \t") == std::string::npos) continue;
      auto colon = line.find(':');
      std::string name = line.substr(0, colon);
      bool token = colon != std::string::npos && colon > 0;
      for (unsigned char ch : name) token = token && (isalnum(ch) || std::string_view("!#$%&'*+-.^_`|~").find(ch) != std::string_view::npos);
      if (!token) s.fail("headers", "has a line that is not 'Name: value': '" + line + "'");
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(" \t"));
      for (unsigned char ch : value)
        if (ch < 0x20 && ch != '\t') s.fail("headers", "has a control character in " + name);
      std::string lower = name;
      for (auto& ch : lower) ch = static_cast<char>(tolower(static_cast<unsigned char>(ch)));
      if (lower == "host" || lower == "content-length" || lower == "transfer-encoding" || lower == "connection")
        s.fail("headers", "may not set " + name + " (the service does)");
      if (lower == "content-type") content_type_ = value;
      headers_.emplace_back(name, value);
    }
    if (method_ == "POST" && content_type_.empty()) {
      content_type_ = "application/x-www-form-urlencoded";
      headers_.emplace_back("Content-Type", content_type_);
    }
    json_body_ = content_type_.find("json") != std::string::npos;
    try {
      fill_template(body_, sample(), as_is);
    } catch (const std::invalid_argument& e) {
      s.fail("body", e.what());
    }
    phone_ = s.optional("phone", c.id);
    timeout_ = milliseconds(s.integer("timeout_ms", 5000, 100, 60000));
    if (c.settings.count("mode") && default_mode_ != CallMode::Transfer)
      s.fail("mode", "must be transfer: the phone calls the target itself");
    default_mode_ = CallMode::Transfer;
    s.reject_unknown();
  }

  std::string_view kind() const override { return "http"; }
  std::string sip_uri() const override { return url_; }  // what <Devices/> shows: where the request goes
  bool dials_itself() const override { return true; }

  void dial(DeviceRuntime& runtime, const std::string& target, DeviceDone done) override {
    std::map<std::string, std::string> values{{"target", target}, {"device", phone_}};
    http::ClientRequest r;
    r.method = method_;
    r.host = target_.host;
    r.port = target_.port;
    r.target = fill_template(target_.path, values, url_encode);
    r.headers = headers_;
    r.headers.emplace_back("User-Agent", "confab-service");
    if (method_ == "POST") r.body = fill_template(body_, values, json_body_ ? json_escape : url_encode);
    r.timeout = timeout_;
    r.body_limit = 64 * 1024;
    std::string what = method_ + " http://" + base::HostPort{target_.host, target_.port}.str() + r.target;
    spdlog::info("device {}: {} (click-to-dial {})", id_, what, target);
    http::send_request(runtime.io(), std::move(r), [this, &runtime, done = std::move(done), what](http::ClientResponse o) {
      runtime.deliver([this, done, what, o] {
        if (o.status >= 200 && o.status < 300)
          return done(200, "the phone is calling (HTTP " + std::to_string(o.status) + ")");
        std::string why = o.error();
        if (o.status >= 300 && o.status < 400) why += " (redirects are not followed)";
        spdlog::warn("device {}: {} failed: {}", id_, what, why);
        done(o.status >= 300 ? o.status : (o.timed_out ? 504 : 502), "device " + id_ + ": " + why);
      });
    });
  }

 private:
  static std::map<std::string, std::string> sample() { return {{"target", ""}, {"device", ""}}; }

  std::string url_, method_, body_, content_type_, phone_;
  HttpTarget target_;
  std::vector<std::pair<std::string, std::string>> headers_;
  bool json_body_ = false;
  milliseconds timeout_;
};

}  // namespace

std::unique_ptr<Device> make_http_device(const DeviceConfig& config) { return std::make_unique<HttpDevice>(config); }

}  // namespace confab::service

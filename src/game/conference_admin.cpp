#include "game/conference_admin.h"

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include <future>

namespace confab::game {

namespace json = boost::json;

namespace {

// What went wrong, from the API's {"error": reason} or the transport.
std::string error_of(const http::ClientResponse& r) {
  if (r.status >= 200 && r.status < 300) return "";
  boost::system::error_code ec;
  auto v = json::parse(r.body, ec);
  if (!ec && v.is_object() && v.as_object().contains("error") && v.as_object().at("error").is_string())
    return "HTTP " + std::to_string(r.status) + ": " + std::string(v.as_object().at("error").as_string());
  return r.error();
}

}  // namespace

ConferenceAdmin::ConferenceAdmin(sip::EventLoop& loop, base::HostPort admin, std::string token)
    : loop_(loop), admin_(std::move(admin)), token_(std::move(token)) {}

ConferenceAdmin::~ConferenceAdmin() {
  alive_.reset();
  client_.wait_idle(std::chrono::milliseconds(1000));  // e.g. the hang-ups of players leaving at shutdown
}

void ConferenceAdmin::request(const std::string& method, const std::string& target, std::string body,
                              std::function<void(http::ClientResponse)> done) {
  http::ClientRequest r;
  r.method = method;
  r.host = admin_.host;
  r.port = admin_.port;
  r.target = target;
  if (!token_.empty()) r.headers.emplace_back("Authorization", "Bearer " + token_);
  if (!body.empty()) r.headers.emplace_back("Content-Type", "application/json");
  r.body = std::move(body);
  r.timeout = std::chrono::milliseconds(3000);
  client_.send(std::move(r), [&loop = loop_, alive = std::weak_ptr<int>(alive_), done = std::move(done)](
                                 http::ClientResponse response) mutable {
    loop.post([alive, done = std::move(done), response = std::move(response)] {
      if (alive.lock()) done(response);
    });
  });
}

ConferenceAdmin::Check ConferenceAdmin::check() {
  http::ClientRequest r;
  r.host = admin_.host;
  r.port = admin_.port;
  r.target = "/conferences";
  if (!token_.empty()) r.headers.emplace_back("Authorization", "Bearer " + token_);
  r.timeout = std::chrono::milliseconds(3000);
  std::promise<http::ClientResponse> answer;
  auto got = answer.get_future();
  client_.send(std::move(r), [&answer](http::ClientResponse response) { answer.set_value(std::move(response)); });
  auto response = got.get();
  return {response.status, error_of(response)};
}

void ConferenceAdmin::find_participant(const std::string& conference_id, const std::string& uri,
                                       std::function<void(const std::string&, const std::string&)> found) {
  request("GET", "/conferences/" + conference_id, "", [uri, found = std::move(found)](http::ClientResponse r) {
    if (auto error = error_of(r); !error.empty()) return found("", error);
    boost::system::error_code ec;
    auto v = json::parse(r.body, ec);
    if (ec || !v.is_object() || !v.as_object().contains("participants") || !v.at("participants").is_array())
      return found("", "the admin API's answer has no participants");
    for (auto& p : v.at("participants").as_array()) {
      if (!p.is_object()) continue;
      auto& o = p.as_object();
      auto field = [&o](const char* key) {
        return o.contains(key) && o.at(key).is_string() ? std::string(o.at(key).as_string()) : std::string();
      };
      if (field("uri") == uri || field("contact") == uri) return found(field("id"), "");
    }
    found("", uri + " is not in the conference");
  });
}

void ConferenceAdmin::move(const std::string& pid, const std::string& to_conference_id, MoveDone done) {
  json::object body{{"to", to_conference_id}};
  request("POST", "/participants/" + pid + "/move", json::serialize(body),
          [done = std::move(done)](http::ClientResponse r) { done(r.status, error_of(r), r.received_at); });
}

void ConferenceAdmin::listen(const std::string& pid, const std::string& conference_id, std::optional<double> db,
                             Done done) {
  json::object body{{"conference", conference_id}};
  if (db)
    body["db"] = *db;
  else
    body["db"] = nullptr;
  request("POST", "/participants/" + pid + "/listen", json::serialize(body),
          [done = std::move(done)](http::ClientResponse r) { done(r.status, error_of(r)); });
}

void ConferenceAdmin::remove(const std::string& pid, Done done) {
  request("DELETE", "/participants/" + pid, "", [done = std::move(done)](http::ClientResponse r) {
    done(r.status, error_of(r));
  });
}

}  // namespace confab::game

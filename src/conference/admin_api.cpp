#include "conference/admin_api.h"

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include <optional>

#include "conference/conference_server.h"
#include "http/metrics_page.h"

namespace confab::conference {

namespace {

using http::Request;
using http::Response;

Response status_response(int status, const std::string& reason) {
  if (status < 300) return Response::json(200, "{\"status\":\"ok\"}");
  return Response::error(status, reason);
}

// "/participants/p7/move" -> {"p7", "move"}; "/participants/p7" -> {"p7", ""}.
std::pair<std::string, std::string> participant_path(const std::string& path) {
  std::string rest = path.substr(std::string("/participants/").size());
  auto slash = rest.find('/');
  if (slash == std::string::npos) return {rest, ""};
  return {rest.substr(0, slash), rest.substr(slash + 1)};
}

std::optional<boost::json::object> json_body(const Request& req) {
  boost::system::error_code ec;
  auto value = boost::json::parse(req.body, ec);
  if (ec || !value.is_object()) return std::nullopt;
  return value.as_object();
}

// POST /participants/<pid>/listen {"conference": "room2", "db": -12}; "db": null stops.
Response listen(ConferenceServer& server, sip::EventLoop& loop, const std::string& pid,
                const boost::json::object& body) {
  const auto* conference = body.if_contains("conference");
  const auto* db = body.if_contains("db");
  if (!conference || !conference->is_string())
    return Response::error(400, "listen needs \"conference\": a conference id");
  if (!db || !(db->is_number() || db->is_null()))
    return Response::error(400, "listen needs \"db\": a gain in dB (-60 to +12), or null to stop listening");
  std::string id(conference->as_string());
  std::optional<double> gain;
  if (db->is_number()) gain = db->to_number<double>();
  return http::call_on_async(loop, [&server, pid, id, gain](http::Reply reply) {
    server.listen_participant(pid, id, gain, [reply](int s, const std::string& r) { reply(status_response(s, r)); });
  });
}

}  // namespace

std::unique_ptr<http::Server> start_admin_api(ConferenceServer& server) {
  const auto& c = server.config();
  auto http = std::make_unique<http::Server>(c.admin_host, c.admin_port);
  if (!c.admin_token.empty())
    http->require_token(c.admin_token);
  else
    spdlog::warn("admin API on {}:{} without a token: anyone who can reach it can move and remove participants "
                 "and end conferences; set --admin-token-file FILE (admin_token_file in [conference])",
                 c.admin_host, c.admin_port);
  sip::EventLoop& loop = server.loop();
  http::serve_metrics(*http, loop, [&server](http::MetricsPage& page) { server.add_metrics(page); });

  http->route("GET", "/conferences", [&server, &loop](const Request&) {
    return http::call_on(loop, [&server] { return Response::json(200, server.conferences_json()); });
  });
  http->route("GET", "/conferences/", [&server, &loop](const Request& req) {
    std::string id = req.path.substr(std::string("/conferences/").size());
    return http::call_on(loop, [&server, id] {
      auto json = server.conference_json(id);
      return json ? Response::json(200, *json) : Response::error(404, "no such conference");
    });
  });
  http->route("POST", "/participants/", [&server, &loop](const Request& req) {
    auto [pid, action] = participant_path(req.path);
    auto body = json_body(req);
    if (!body) return Response::error(400, "body must be a JSON object");
    if (action == "move") {
      const auto* to = body->if_contains("to");
      if (!to || !to->is_string()) return Response::error(400, "move needs \"to\": a conference id");
      std::string target(to->as_string());
      return http::call_on_async(loop, [&server, pid = pid, target](http::Reply reply) {
        server.move_participant(pid, target, [reply](int s, const std::string& r) { reply(status_response(s, r)); });
      });
    }
    if (action == "mute") {
      const auto* muted = body->if_contains("muted");
      if (!muted || !muted->is_bool()) return Response::error(400, "mute needs \"muted\": true or false");
      bool m = muted->as_bool();
      return http::call_on_async(loop, [&server, pid = pid, m](http::Reply reply) {
        server.mute_participant(pid, m, [reply](int s, const std::string& r) { reply(status_response(s, r)); });
      });
    }
    if (action == "listen") return listen(server, loop, pid, *body);
    return Response::error(404, "unknown action (move, mute, listen)");
  });
  http->route("DELETE", "/participants/", [&server, &loop](const Request& req) {
    auto [pid, action] = participant_path(req.path);
    if (!action.empty()) return Response::error(404, "not found (DELETE /participants/<id> removes one)");
    return http::call_on(loop, [&server, pid = pid] {
      return server.remove_participant(pid) ? Response::json(200, "{\"status\":\"ok\"}")
                                            : Response::error(404, "no such participant");
    });
  });
  http->route("DELETE", "/conferences/", [&server, &loop](const Request& req) {
    std::string id = req.path.substr(std::string("/conferences/").size());
    return http::call_on(loop, [&server, id] {
      return server.end_conference(id) ? Response::json(200, "{\"status\":\"ok\"}")
                                       : Response::error(404, "no such conference");
    });
  });
  http->start();
  return http;
}

}  // namespace confab::conference

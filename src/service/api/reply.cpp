#include "service/api/reply.h"

#include "service/api/api_server.h"

namespace confab::service {

void Reply::ok(const std::string& reason, const std::vector<std::pair<std::string, std::string>>& ids,
               std::vector<api::ApiMessage> children) const {
  auto r = result(tag_, 200, reason);
  for (auto& [k, v] : ids) r.set(k, v);
  r.children = std::move(children);
  to_->send(r);
}

void Reply::error(int code, const std::string& reason) const { to_->send(result(tag_, code, reason)); }

void Reply::error(int code, const std::string& reason, std::vector<api::ApiMessage> children) const {
  auto r = result(tag_, code, reason);
  r.children = std::move(children);
  to_->send(r);
}

}  // namespace confab::service

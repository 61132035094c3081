// How an API request is answered, possibly later (after SIP transactions): the
// <Result> goes to the connection that asked, with its tag (docs/api.md). The
// built-in commands and plugins (service/plugin.h) answer through it.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "api/api_message.h"

namespace confab::service {

class ApiConnection;

// Copyable; a reply to a connection that has gone does nothing.
class Reply {
 public:
  Reply(std::shared_ptr<ApiConnection> to, std::string tag) : to_(std::move(to)), tag_(std::move(tag)) {}
  // <Result status="ok" code="200" ...> with extra attributes (the ids created) and children.
  void ok(const std::string& reason = "OK", const std::vector<std::pair<std::string, std::string>>& ids = {},
          std::vector<api::ApiMessage> children = {}) const;
  void error(int code, const std::string& reason) const;
  // <Result status="error"> with children saying more (e.g. one <Added> per invitation).
  void error(int code, const std::string& reason, std::vector<api::ApiMessage> children) const;
  const std::shared_ptr<ApiConnection>& connection() const { return to_; }
  const std::string& tag() const { return tag_; }

 private:
  std::shared_ptr<ApiConnection> to_;
  std::string tag_;
};

}  // namespace confab::service

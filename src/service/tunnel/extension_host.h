// What the service's extensions (the Tunnel, plugins) see of it, and nothing
// more (as Envoy's extensions see a factory context): the command table, the
// event hub, its calls by id, its identity and its SIP stack.
#pragma once

#include <string>

#include "service/api/command_table.h"
#include "service/api/event_hub.h"
#include "service/calls/service_call.h"
#include "sip/event_loop.h"
#include "sip/user_agent.h"

namespace confab::service {

class ExtensionHost {
 public:
  virtual ~ExtensionHost() = default;
  virtual CommandTable& commands() = 0;
  virtual EventHub& events() = 0;
  // A call of the service (<Call id="c3">), null if there is none.
  virtual ServiceCall* find_call(const std::string& id) const = 0;
  // The service's SIP identity (its From), e.g. sip:alice@example.com.
  virtual const std::string& identity() const = 0;
  virtual sip::UserAgent& user_agent() = 0;
  virtual sip::EventLoop& loop() = 0;
};

}  // namespace confab::service

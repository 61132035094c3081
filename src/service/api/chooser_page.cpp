// The device chooser page the service serves at http://127.0.0.1:5066/?key=...
// One static page (chooser_page.html, built into the binary); everything it
// shows comes over the JSON WebSocket API (State, then events), and every
// button sends an API message (Choose, Approve).
#include "service/api/web_api.h"

namespace confab::embedded {
std::string_view chooser_page_html();
}

namespace confab::service {

const std::string& chooser_page() {
  static const std::string page(embedded::chooser_page_html());
  return page;
}

}  // namespace confab::service

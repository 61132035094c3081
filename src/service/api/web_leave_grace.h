// Leaving a site ends its call: a call placed (or last moved) by a web page is
// ended `grace` after the last WebSocket of that page's origin closed, unless a
// page of that origin connected again within the grace. Closing the last tab
// of a site so ends its call; following a link does not (the old page's socket
// closes, the new page's opens and takes the call over with SameDeviceJoin).
// On the SIP thread; the timers are sip::Timers on its loop.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "sip/event_loop.h"

namespace confab::service {

class WebLeaveGrace {
 public:
  // Ends a call whose origin's pages have all been gone for the grace.
  using EndCall = std::function<void(const std::string& call_id, const std::string& origin)>;
  // `grace` 0: calls are never ended for this.
  WebLeaveGrace(sip::EventLoop& loop, std::chrono::milliseconds grace, EndCall end);
  ~WebLeaveGrace();

  void page_opened(const std::string& origin);  // a WebSocket of `origin` connected
  void page_closed(const std::string& origin);  // one closed
  // The call is now `origin`'s (it placed or moved it); "" : a local program's, never ended here.
  void call_taken(const std::string& call_id, const std::string& origin);
  void call_ended(const std::string& call_id);

  // The grace of `origin` runs (its pages are gone and it has a call).
  bool leaving(const std::string& origin) const;

 private:
  struct Origin {
    int pages = 0;
    std::unique_ptr<sip::Timer> timer;  // set while leaving
  };
  bool owns_calls(const std::string& origin) const;
  void start_grace(const std::string& origin, Origin& o);
  void grace_over(const std::string& origin);
  void forget_if_idle(const std::string& origin);

  sip::EventLoop& loop_;
  std::chrono::milliseconds grace_;
  EndCall end_;
  std::map<std::string, Origin> origins_;       // by origin
  std::map<std::string, std::string> owners_;   // call id -> origin
};

}  // namespace confab::service

// One scrape of a part's Prometheus metrics: the part adds what it counts now
// (its own plain counters, read on its SIP thread) and gets the text exposition
// format (prometheus-cpp's serializer). serve_metrics() puts it at GET /metrics.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "http/http_server.h"
#include "sip/event_loop.h"
#include "sip/transaction_layer.h"

namespace prometheus {
class Registry;
}  // namespace prometheus

namespace confab::http {

using MetricLabels = std::map<std::string, std::string>;

class MetricsPage {
 public:
  MetricsPage();
  ~MetricsPage();
  MetricsPage(const MetricsPage&) = delete;
  MetricsPage& operator=(const MetricsPage&) = delete;

  // A counter's value since start (name ends in _total); one sample per label set.
  void counter(const std::string& name, const std::string& help, double value, const MetricLabels& labels = {});
  void gauge(const std::string& name, const std::string& help, double value, const MetricLabels& labels = {});
  // "# HELP", "# TYPE" and the samples of every metric added (text format 0.0.4).
  std::string text() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::map<std::string, void*> families_;  // name -> prometheus::Family<Counter|Gauge>*
  std::map<std::string, bool> is_counter_;
};

// confab_sip_requests_received_total{method}, confab_sip_responses_received_total{method,status}
// and confab_sip_responses_sent_total{method,status} (docs/deployment.md, "Metrics"), and the
// process's confab_sip_dropped_messages_total{reason} (sip/dropped_messages.h).
void add_sip_message_counts(MetricsPage& page, const sip::SipMessageCounts& counts);

// The response to GET /metrics: `fill` runs on the SIP thread of `loop` (where
// the part's state lives).
using MetricsFill = std::function<void(MetricsPage&)>;
Response metrics_response(sip::EventLoop& loop, const MetricsFill& fill);
// GET /metrics on `server`, each scrape a metrics_response().
void serve_metrics(Server& server, sip::EventLoop& loop, MetricsFill fill);

}  // namespace confab::http

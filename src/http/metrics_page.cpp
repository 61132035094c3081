#include "http/metrics_page.h"

#include "sip/dropped_messages.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <sstream>
#include <stdexcept>

namespace confab::http {

MetricsPage::MetricsPage() : registry_(std::make_shared<prometheus::Registry>()) {}
MetricsPage::~MetricsPage() = default;

void MetricsPage::counter(const std::string& name, const std::string& help, double value, const MetricLabels& labels) {
  auto [it, added] = families_.try_emplace(name, nullptr);
  if (added) {
    it->second = &prometheus::BuildCounter().Name(name).Help(help).Register(*registry_);
    is_counter_[name] = true;
  } else if (!is_counter_[name]) {
    throw std::logic_error("metric " + name + " is a gauge");
  }
  static_cast<prometheus::Family<prometheus::Counter>*>(it->second)->Add(labels).Increment(value);
}

void MetricsPage::gauge(const std::string& name, const std::string& help, double value, const MetricLabels& labels) {
  auto [it, added] = families_.try_emplace(name, nullptr);
  if (added) {
    it->second = &prometheus::BuildGauge().Name(name).Help(help).Register(*registry_);
    is_counter_[name] = false;
  } else if (is_counter_[name]) {
    throw std::logic_error("metric " + name + " is a counter");
  }
  static_cast<prometheus::Family<prometheus::Gauge>*>(it->second)->Add(labels).Set(value);
}

std::string MetricsPage::text() const {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, registry_->Collect());
  return out.str();
}

void add_sip_message_counts(MetricsPage& page, const sip::SipMessageCounts& counts) {
  for (auto& [method, n] : counts.requests_received)
    page.counter("confab_sip_requests_received_total", "SIP requests received (not retransmissions), by method", n,
                 {{"method", method}});
  for (auto& [key, n] : counts.responses_received)
    page.counter("confab_sip_responses_received_total", "SIP responses received to our requests, by method and status",
                 n, {{"method", key.first}, {"status", std::to_string(key.second)}});
  for (auto& [key, n] : counts.responses_sent)
    page.counter("confab_sip_responses_sent_total", "SIP responses sent, by the request's method and status", n,
                 {{"method", key.first}, {"status", std::to_string(key.second)}});
  for (auto& [reason, n] : sip::dropped_messages())
    page.counter("confab_sip_dropped_messages_total", "SIP messages the stack discarded without an answer, by reason",
                 n, {{"reason", reason}});
}

Response metrics_response(sip::EventLoop& loop, const MetricsFill& fill) {
  return call_on(loop, [&fill] {
    MetricsPage page;
    fill(page);
    return Response{200, "text/plain; version=0.0.4; charset=utf-8", page.text(), {}};
  });
}

void serve_metrics(Server& server, sip::EventLoop& loop, MetricsFill fill) {
  server.route("GET", "/metrics", [&loop, fill = std::move(fill)](const Request&) {
    return metrics_response(loop, fill);
  });
}

}  // namespace confab::http

#include "proxy/proxy_transaction.h"

#include <spdlog/spdlog.h>

#include "proxy/response_selection.h"

namespace confab::proxy {

namespace {
// How long an INVITE transaction keeps listening for 2xx on other branches
// after it has answered upstream (64*T1, RFC 3261 timer B).
constexpr std::chrono::milliseconds kLinger{32000};
}  // namespace

ProxyTransaction::ProxyTransaction(Owner& owner, sip::EventLoop& loop, sip::TransactionLayer& layer,
                                   std::unique_ptr<sip::ServerTransaction> server)
    : owner_(owner), layer_(layer), server_(std::move(server)), linger_(loop),
      invite_(server_->request().method() == sip::Method::Invite), log_(server_->request().call_id()),
      what_(std::string(server_->request().method_name()) + " " + std::string(server_->request().request_uri())) {
  server_->set_handler(this);
}

ProxyTransaction::~ProxyTransaction() {
  // Pending INVITE branches are cancelled, never abandoned: nta then completes
  // them (487 + ACK) on its own after we are gone.
  cancel_pending();
  server_->set_handler(nullptr);
}

bool ProxyTransaction::fork(sip::Message request, const sip::TransactionLayer::SendOptions& options) {
  Branch b;
  b.target = options.next_hop.empty() ? std::string(request.request_uri())
                                      : std::string(request.request_uri()) + " via " + options.next_hop;
  b.client = layer_.send(std::move(request), *this, options);
  if (!b.client) {
    log_.warn("{}: cannot forward to {}", what_, b.target);
    return false;
  }
  log_.debug("{}: forwarded to {}", what_, b.target);
  branches_.push_back(std::move(b));
  return true;
}

void ProxyTransaction::forking_done() {
  if (branches_.empty()) {
    log_.warn("{}: no target could be reached; answering 500", what_);
    server_->reply(500, "Cannot forward request");
    final_sent_ = true;
    maybe_done();
  }
}

ProxyTransaction::Branch* ProxyTransaction::branch_of(sip::ClientTransaction& t) {
  for (auto& b : branches_)
    if (b.client.get() == &t) return &b;
  return nullptr;
}

bool ProxyTransaction::all_final() const {
  for (auto& b : branches_)
    if (b.status < 200) return false;
  return true;
}

void ProxyTransaction::cancel_pending() {
  if (!invite_) return;
  for (auto& b : branches_)
    if (b.status < 200 && b.client) b.client->cancel();
}

void ProxyTransaction::on_cancel(sip::ServerTransaction&) {
  size_t pending = 0;
  for (auto& b : branches_) pending += b.status < 200 ? 1 : 0;
  log_.info("{}: CANCEL from upstream, cancelling {} pending branch(es)", what_, pending);
  cancelled_ = true;
  cancel_pending();
}

void ProxyTransaction::on_response(sip::ClientTransaction& t, const sip::Message& response, bool local) {
  Branch* b = branch_of(t);
  if (!b) return;
  int status = response ? response.status() : t.status();
  if (status < 200) {
    if (status > 100 && !final_sent_ && response) server_->forward_response(response);
    return;
  }
  if (b->status >= 200) {
    // A second final on one branch: only further 2xx (forked by a downstream proxy) matter.
    if (status < 300 && !local && response) server_->forward_response(response);
    return;
  }
  if (local && status == 408)
    log_.info("{}: no answer from {} (408 timeout)", what_, b->target);
  else if (local)
    log_.warn("{}: {} unreachable ({} {})", what_, b->target, status, response ? response.reason() : "");
  else
    log_.debug("{}: {} answered {} {}", what_, b->target, status, response ? response.reason() : "");
  b->status = status;
  b->local = local;
  if (status < 300) {
    // 2xx goes upstream at once, from any branch, even after another 2xx.
    if (response) server_->forward_response(response);
    final_sent_ = true;
    cancel_pending();
    maybe_done();
    return;
  }
  b->final_response = response;
  if (status >= 600) cancel_pending();
  if (!final_sent_ && all_final()) send_best_response();
  maybe_done();
}

void ProxyTransaction::send_best_response() {
  std::vector<int> statuses;
  std::vector<Branch*> finals;
  for (auto& b : branches_) {
    statuses.push_back(b.status);
    finals.push_back(&b);
  }
  Branch* best = finals[select_best_response(statuses)];
  final_sent_ = true;
  int status = upstream_status(best->status);
  log_.debug("{}: answering {} (the best of {} branch(es))", what_, status, finals.size());
  if (best->local || !best->final_response || status != best->status) {
    server_->reply(status, best->local && status == 408 ? "Request Timeout" : "Server Error");
    return;
  }
  sip::Message out = best->final_response.copy();
  if (status == 401 || status == 407) {
    // Collect the challenges of every branch (RFC 3261 16.7 step 7).
    const char* name = status == 401 ? "WWW-Authenticate" : "Proxy-Authenticate";
    for (auto* b : finals)
      if (b != best && (b->status == 401 || b->status == 407) && b->final_response)
        for (auto& v : b->final_response.header_values(name)) out.add_header(name, v);
  }
  server_->forward_response(std::move(out));
}

void ProxyTransaction::maybe_done() {
  if (done_ || !final_sent_) return;
  bool pending = false;
  for (auto& b : branches_)
    if (b.status < 200) pending = true;
  if (pending && invite_) {
    // Keep listening for late 2xx on the cancelled branches for a while.
    if (!linger_.active())
      linger_.once(kLinger, [this] {
        done_ = true;
        owner_.transaction_done(*this);
      });
    return;
  }
  done_ = true;
  owner_.transaction_done(*this);
}

}  // namespace confab::proxy

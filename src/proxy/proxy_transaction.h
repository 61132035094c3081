// One proxied request (RFC 3261 section 16): its server transaction upstream,
// one client transaction per target downstream (parallel forking), CANCEL
// propagation and best-response selection.
#pragma once

#include <memory>
#include <vector>

#include "base/log_context.h"
#include "sip/event_loop.h"
#include "sip/transaction_layer.h"

namespace confab::proxy {

class ProxyTransaction final : public sip::ServerTransaction::Handler, public sip::ClientTransactionHandler {
 public:
  class Owner {
   public:
    virtual ~Owner() = default;
    // The transaction is finished; the owner destroys it (possibly right away).
    virtual void transaction_done(ProxyTransaction& transaction) = 0;
  };

  ProxyTransaction(Owner& owner, sip::EventLoop& loop, sip::TransactionLayer& layer,
                   std::unique_ptr<sip::ServerTransaction> server);
  ~ProxyTransaction() override;

  // Sends one branch. False if the request could not be sent at all.
  bool fork(sip::Message request, const sip::TransactionLayer::SendOptions& options);
  // Call after the last fork(): answers 500 if no branch could be started.
  void forking_done();
  sip::ServerTransaction& server() { return *server_; }

  void on_cancel(sip::ServerTransaction& transaction) override;
  void on_response(sip::ClientTransaction& transaction, const sip::Message& response, bool local) override;

 private:
  struct Branch {
    std::unique_ptr<sip::ClientTransaction> client;
    int status = 0;
    sip::Message final_response;
    bool local = false;
    std::string target;  // where it went, for the log
  };
  Branch* branch_of(sip::ClientTransaction& t);
  bool all_final() const;
  void cancel_pending();
  void send_best_response();
  void maybe_done();

  Owner& owner_;
  sip::TransactionLayer& layer_;
  std::unique_ptr<sip::ServerTransaction> server_;
  std::vector<Branch> branches_;
  sip::Timer linger_;
  bool invite_;
  base::CallLog log_;  // every line about this request: its Call-ID
  std::string what_;   // "INVITE sip:bob@example.com", for the log
  bool final_sent_ = false;
  bool cancelled_ = false;
  bool done_ = false;
};

}  // namespace confab::proxy

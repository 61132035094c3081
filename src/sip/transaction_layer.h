// The SIP transaction layer (RFC 3261 section 17) for elements that handle
// requests one transaction at a time: proxies and registrars. Wraps Sofia's nta.
// User agents (calls, subscriptions) use sip::UserAgent instead.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sip/event_loop.h"
#include "sip/message.h"

struct nta_agent_s;
struct nta_incoming_s;
struct nta_outgoing_s;

namespace confab::sip {

class ServerTransaction;
class ClientTransaction;
class SipTraceTap;

struct ListenSpec {
  std::string transport;  // "udp" or "tcp"
  std::string host;
  uint16_t port = 5060;
  // Parses "udp:127.0.0.1:5060", "tcp:[::1]:5070", "127.0.0.1" (udp, 5060).
  static std::optional<ListenSpec> parse(std::string_view text);
  std::string sofia_url() const;  // "sip:127.0.0.1:5060;transport=udp"
  std::string str() const;
};

// The error for listen addresses Sofia-SIP could not bind together, with the
// reason: "cannot listen on udp:127.0.0.1:5090: address already in use: ...".
// Sofia does not say why, so the reason is what a plain socket bound to each
// address meets (base::bind_failure); the first that fails is named.
std::string cannot_listen_message(const std::vector<ListenSpec>& tried);

struct TransactionLayerOptions {
  std::vector<ListenSpec> listen;
  // Largest message accepted, in bytes; larger ones get 413.
  size_t max_message_size = 65536;
  // UDP socket buffers (SO_RCVBUF/SO_SNDBUF; as root beyond net.core.rmem_max).
  // The kernel's default (~200 KB, ~100 small datagrams) overflows in a 10 ms stall at 3,000 calls/s.
  int udp_buffer_bytes = 8 * 1024 * 1024;
  // RFC 3261's 64*T1: how long a request may go unanswered (timers B, F) and how
  // long a finished transaction keeps absorbing retransmissions (timers H, J).
  unsigned transaction_timeout_ms = 32000;
  // resolv.conf for RFC 3263 lookups; empty: /etc/resolv.conf.
  std::string resolv_conf;
};

// The SIP messages a part received and sent, for its metrics (SIP thread).
// Retransmissions the stack absorbs are not counted.
struct SipMessageCounts {
  using ByMethodStatus = std::map<std::pair<std::string, int>, uint64_t, std::less<>>;
  std::map<std::string, uint64_t, std::less<>> requests_received;  // by method
  ByMethodStatus responses_received;  // to our requests, by their method and status
  ByMethodStatus responses_sent;      // by the request's method and status
  void request_received(std::string_view method);
  void response_received(std::string_view method, int status);
  void response_sent(std::string_view method, int status);
};

class TransactionLayer {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    // A request that starts no known transaction: new requests and ACKs for 2xx.
    // Retransmissions, CANCELs of known INVITEs and non-2xx ACKs never get here.
    virtual void on_request(Message request) = 0;
    // A response that matches no client transaction (2xx retransmissions,
    // responses to requests that were sent statelessly).
    virtual void on_stray_response(Message response) = 0;
  };

  // Binds every listen address; throws std::runtime_error naming the one that failed.
  TransactionLayer(EventLoop& loop, const TransactionLayerOptions& options, Handler& handler);
  ~TransactionLayer();
  TransactionLayer(const TransactionLayer&) = delete;
  TransactionLayer& operator=(const TransactionLayer&) = delete;

  // Makes `request` (from on_request, during that call) a server transaction.
  std::unique_ptr<ServerTransaction> accept(const Message& request);
  // Replies without keeping transaction state (requests refused up front).
  void reply_stateless(const Message& request, int status, std::string_view reason,
                       const std::vector<HeaderField>& headers = {});

  struct SendOptions {
    std::string next_hop;  // URI of the next hop; empty: top Route (lr) or the Request-URI (RFC 3263)
    std::string branch;    // Via branch to use; empty: a random one
  };
  // Starts a client transaction; nullptr if the request could not be sent.
  std::unique_ptr<ClientTransaction> send(Message request, class ClientTransactionHandler& handler,
                                          const SendOptions& options = {});
  // Sends a request without a transaction (ACK for 2xx), same next-hop rules.
  bool send_stateless(Message request, const std::string& next_hop = {});
  // Removes the top Via (which must be one of ours) and sends the response to the next Via.
  bool forward_response_stateless(Message response);

  struct LocalAddress {
    std::string transport;  // lower case
    std::string host;
    std::string port;
  };
  const std::vector<LocalAddress>& local_addresses() const { return local_; }
  // True if host:port is one of the addresses this layer listens on.
  bool is_local(std::string_view host, uint16_t port) const;

  struct Stats {
    uint64_t received_requests = 0, received_responses = 0, bad_messages = 0, server_transactions = 0,
             client_transactions = 0;
  };
  Stats stats() const;
  const SipMessageCounts& message_counts() const { return counts_; }

  nta_agent_s* native() const { return agent_; }

 private:
  friend struct NtaCallbacks;
  EventLoop& loop_;
  Handler& handler_;
  nta_agent_s* agent_ = nullptr;
  std::unique_ptr<SipTraceTap> trace_;  // this stack's messages while a sip::SipTrace is on
  std::vector<LocalAddress> local_;
  SipMessageCounts counts_;
};

class ServerTransaction {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    // A CANCEL matched this (INVITE) transaction; nta has already answered it 200.
    virtual void on_cancel(ServerTransaction& transaction) = 0;
  };

  ~ServerTransaction();
  ServerTransaction(const ServerTransaction&) = delete;
  ServerTransaction& operator=(const ServerTransaction&) = delete;

  void set_handler(Handler* handler) { handler_ = handler; }
  // Sends a response built from the request; extra headers as name/value pairs.
  bool reply(int status, std::string_view reason, const std::vector<HeaderField>& headers = {},
             std::string_view content_type = {}, std::string_view body = {});
  // Sends a response received from downstream, after removing its top Via (ours).
  bool forward_response(Message response);
  int status() const;
  const Message& request() const { return request_; }

 private:
  friend class TransactionLayer;
  friend struct NtaCallbacks;
  ServerTransaction(nta_incoming_s* irq, Message request, SipMessageCounts& counts);
  nta_incoming_s* irq_;
  Message request_;
  SipMessageCounts& counts_;
  Handler* handler_ = nullptr;
};

class ClientTransactionHandler {
 public:
  virtual ~ClientTransactionHandler() = default;
  // Every response (1xx included). Timeouts and transport errors arrive as
  // responses (408, 503) generated locally; `local` tells which.
  virtual void on_response(ClientTransaction& transaction, const Message& response, bool local) = 0;
};

class ClientTransaction {
 public:
  using Handler = ClientTransactionHandler;
  ~ClientTransaction();
  ClientTransaction(const ClientTransaction&) = delete;
  ClientTransaction& operator=(const ClientTransaction&) = delete;

  // Sends CANCEL (INVITE only, after a provisional response or when one arrives).
  bool cancel();
  int status() const;
  const std::string& branch() const { return branch_; }

 private:
  friend class TransactionLayer;
  friend struct NtaCallbacks;
  ClientTransaction(Handler& handler, SipMessageCounts& counts) : handler_(&handler), counts_(counts) {}
  nta_outgoing_s* orq_ = nullptr;
  Handler* handler_;
  SipMessageCounts& counts_;
  std::string branch_;
};

}  // namespace confab::sip

// A SIP message (request or response) as a reference-counted handle over a
// Sofia msg_t, with typed accessors for what Confab reads and rewrites.
// Views (std::string_view) point into the message and live as long as it does.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct msg_s;

namespace confab::sip {

enum class Method { Unknown, Invite, Ack, Cancel, Bye, Options, Register, Info, Prack, Update, Message, Subscribe, Notify, Refer, Publish };

// Where a message came from: transport ("udp", "tcp", ...), address, port.
struct Address {
  std::string transport;
  std::string host;
  uint16_t port = 0;
  std::string str() const;  // "udp:127.0.0.1:5060"
};

struct Via {
  std::string transport;  // "UDP", "TCP", ...
  std::string host;
  std::string port;
  std::string branch;
  std::string received;
  std::string rport;
};

struct ContactField {
  bool star = false;  // "Contact: *"
  std::string display;
  std::string uri;
  std::optional<int64_t> expires;  // ;expires= parameter
  std::optional<double> q;         // ;q= parameter
  std::vector<std::pair<std::string, std::string>> params;  // all header parameters, values as written
  std::string str() const;  // the whole field value, e.g. "<sip:a@b>;expires=60"
};

// Parsed Authorization / Proxy-Authorization credentials, values unquoted.
struct Credentials {
  std::string scheme;  // "Digest"
  std::map<std::string, std::string> params;  // lower-case names
  std::string get(const std::string& name) const {
    auto it = params.find(name);
    return it == params.end() ? std::string() : it->second;
  }
};

struct HeaderField {
  std::string name;
  std::string value;
};

class Message {
 public:
  Message() = default;
  ~Message();
  Message(const Message& other);
  Message& operator=(const Message& other);
  Message(Message&& other) noexcept : msg_(std::exchange(other.msg_, nullptr)) {}
  Message& operator=(Message&& other) noexcept;

  // For src/sip only: wrap a Sofia message, taking over one reference / adding one.
  static Message adopt(msg_s* msg);
  static Message share(msg_s* msg);
  msg_s* native() const { return msg_; }
  msg_s* release() { return std::exchange(msg_, nullptr); }

  // Parses a complete message from bytes (tests, the Tunnel API, fuzzing).
  // nullopt unless it is a syntactically valid request or response.
  static std::optional<Message> parse(std::string_view bytes);

  // An independent copy: header edits on the copy do not affect this message.
  Message copy() const;
  explicit operator bool() const { return msg_ != nullptr; }

  bool is_request() const;
  bool is_response() const;
  // A start line plus a second one (a request with a status line inside, or the
  // reverse) or headers Sofia could not parse: not safe to forward or re-serialize.
  bool is_malformed() const;
  // A response the SIP stack made up itself (a timeout, a peer that cannot be
  // reached), not one that came from the network.
  bool is_local() const;

  Method method() const;
  std::string_view method_name() const;
  std::string request_uri() const;
  bool set_request_uri(std::string_view uri);
  int status() const;
  std::string_view reason() const;

  std::string_view call_id() const;
  uint32_t cseq() const;
  std::string_view cseq_method() const;
  std::string from_uri() const;
  std::string_view from_tag() const;
  std::string_view from_display() const;
  std::string to_uri() const;
  std::string_view to_tag() const;

  std::optional<uint32_t> max_forwards() const;
  void set_max_forwards(uint32_t value);

  std::vector<Via> vias() const;
  size_t via_count() const;
  std::vector<std::string> routes() const;  // Route URIs, top first
  void pop_route();
  void add_record_route(std::string_view uri);  // inserted on top
  std::vector<std::string> record_routes() const;

  std::vector<ContactField> contacts() const;
  std::optional<int64_t> expires() const;  // Expires header (delta seconds)

  // Values of every header named `name` (long or compact form, any case),
  // each comma-separated element separately for list headers such as Require.
  std::vector<std::string> header_values(std::string_view name) const;
  std::optional<std::string> header(std::string_view name) const;  // the first one
  bool add_header(std::string_view name, std::string_view value);
  void remove_headers(std::string_view name);

  // First Digest credentials in Proxy-Authorization (proxy=true) or Authorization.
  std::optional<Credentials> credentials(bool proxy, std::string_view realm = {}) const;

  std::string_view body() const;
  std::string content_type() const;

  std::optional<Address> source() const;  // for received messages
  std::string str() const;  // the message as it would be sent

 private:
  explicit Message(msg_s* m) : msg_(m) {}
  msg_s* msg_ = nullptr;
};

// A Replaces header (RFC 3891): the dialog an INVITE replaces. The recipient
// compares to_tag with its local tag and from_tag with its remote tag.
struct ReplacesHeader {
  std::string call_id;
  std::string to_tag;
  std::string from_tag;
  bool early_only = false;
  static std::optional<ReplacesHeader> parse(std::string_view value);
  std::string str() const;  // "call-id;to-tag=..;from-tag=.."
};

Method method_from_name(std::string_view name);
std::string_view method_name(Method m);

}  // namespace confab::sip

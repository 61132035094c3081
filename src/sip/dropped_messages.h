// The SIP messages a part's stack discarded without an answer, with the reason.
// Sofia-SIP's transaction engine (nta) drops a message it cannot answer: one whose
// start line does not parse (RFC 4475 "intmeth", "lwsruri"), a request without a
// usable Via ("badinv01": no address to answer to), a request whose Via names
// another transport than the one it came on. It only says so in its own debug log;
// observe_dropped_messages() (called once by ensure_sofia_runtime) reads that log,
// logs each drop at debug ("SIP message dropped: ...") and counts it by reason for
// the metrics (confab_sip_dropped_messages_total{reason}).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace confab::sip {

// Reasons, as metric labels.
inline constexpr std::string_view kDropUnparsable = "unparsable";     // start line or framing unreadable
inline constexpr std::string_view kDropNoVia = "no_usable_via";       // nowhere to send an answer
inline constexpr std::string_view kDropViaTransport = "via_transport";  // Via names another transport

// The drop reason a line of nta's log reports, nullopt for any other line.
// `line` as formatted ("nta_agent: received garbage from udp/...").
std::optional<std::string_view> drop_reason_of_nta_line(std::string_view line);

// Drops so far in this process, by reason (a reason appears once it happened).
std::map<std::string, uint64_t, std::less<>> dropped_messages();

// Routes nta's log through the drop observer (idempotent).
void observe_dropped_messages();

}  // namespace confab::sip

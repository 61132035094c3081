// Reads Sofia-SIP's message log (TPTAG_LOG): each message a stack sends or
// receives, written through Sofia's default log one piece at a time:
//
//   "send 853 bytes to udp/[127.0.0.1]:5066 at 15:47:57.042027:\n   ---(72 dashes)\n"
//   "   INVITE sip:x@127.0.0.1:5066 SIP/2.0"  "\n"  "   Via: ..."  "\n" ...
//   "   ---(72 dashes)\n"                     (or "\n   ---...\n" when the last line had no end)
//
// Line ends are not kept (CRLF, CR and LF all become "\n"). SipTraceTap uses it
// only to complete what the transport dump (tport_dump.h) cut short: the body of
// a message sent in several pieces, accepted only when it rebuilds the exact
// bytes the dump has and the exact size the stamp gives.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sip/tport_dump.h"

namespace confab::sip {

struct TportLoggedMessage {
  TportDumpRecord stamp;  // sent ("send ... to") or received; bytes empty
  std::vector<std::string> lines;
  bool last_line_ended = true;
  // The message's bytes if they can be rebuilt to start with `dumped` and be
  // `stamp.wire_size` long (CRLF line ends; else CRLF headers and an LF body).
  std::optional<std::string> rebuild(std::string_view dumped) const;
};

class TportLogAssembler {
 public:
  // One piece of Sofia's default log, as formatted. False: not part of a message
  // log (the caller logs it as usual). A block completed by this piece is in done().
  bool feed(std::string_view piece);
  std::optional<TportLoggedMessage> done();

 private:
  bool active_ = false, at_line_start_ = true, just_ended_ = false;
  TportLoggedMessage current_;
  std::optional<TportLoggedMessage> done_;
};

}  // namespace confab::sip

// Reads Sofia-SIP's transport dump (TPTAG_DUMP): the stream of every message a
// stack sends and receives, each as a stamp line, the bytes, and "\v\n":
//
//   recv 529 bytes from tcp/[127.0.0.1]:55669 at 15:12:38.482505:\n<529 bytes>\v\n
//   sent 362 bytes to udp/[::1]:5060 at 15:12:38.482892:\n<362 bytes>\v\n
//
// (the time is UTC time of day; the file starts with "dump started at <ctime>\n\n").
// Sofia-SIP 1.12.11 (Debian 12) writes only the first piece of a message it sends
// in several pieces (the headers, without the body or the final CRLF) while the
// stamp gives the full size: such a record ends at the first "\v\n" followed by
// the next stamp, or when nothing more comes for a while. Anything else that
// does not fit the format is skipped up to the next stamp and counted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace confab::sip {

struct TportDumpRecord {
  bool sent = false;          // "sent ... to", else "recv ... from"
  std::string transport;      // "udp", "tcp", "tls", "sctp", ...
  std::string remote_host;    // without brackets
  uint16_t remote_port = 0;
  int64_t time_of_day_us = 0;  // since 00:00 UTC
  size_t wire_size = 0;        // the stamp's byte count
  std::string bytes;           // what the dump holds: wire_size bytes, or fewer (see above)
};

class TportDumpParser {
 public:
  void feed(std::string_view data) { buffer_.append(data); }
  // The next whole record, if the buffer holds one. `quiet`: nothing more has
  // arrived for a while (or the stream ended), so a record that may have been
  // cut short by Sofia is taken as it is.
  std::optional<TportDumpRecord> next(bool quiet = false);
  // Bytes skipped because they were not in the format, and the records cut short.
  size_t skipped_bytes() const { return skipped_; }
  size_t short_records() const { return short_records_; }
  size_t buffered() const { return buffer_.size(); }

  // Parses one stamp line (without its "\n"); nullopt unless it is exactly in the format.
  static std::optional<TportDumpRecord> parse_stamp(std::string_view line);

 private:
  bool skip_to_stamp();
  std::string buffer_;
  size_t skipped_ = 0, short_records_ = 0;
};

// Completes a record Sofia cut short where the rest is certain: a message
// without a body whose last CRLF (the empty line) is all that is missing.
void complete_cut_record(TportDumpRecord& record);

}  // namespace confab::sip

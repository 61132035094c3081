#include "sip/tport_dump.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>

namespace confab::sip {
namespace {

constexpr std::string_view kPreamble = "dump started at ";
constexpr std::string_view kEnd = "\v\n";
constexpr size_t kLongestStamp = 200;  // Sofia's stamp buffer is 128 (144 in later versions)
constexpr uint64_t kLargestRecord = 64 * 1024 * 1024;  // beyond any message or read Sofia makes

// Consumes `word` at the front of `text`.
bool take(std::string_view& text, std::string_view word) {
  if (text.substr(0, word.size()) != word) return false;
  text.remove_prefix(word.size());
  return true;
}

// Consumes 1..max_digits decimal digits (exactly `max_digits` when `exact`) into `value`.
bool take_number(std::string_view& text, size_t max_digits, bool exact, uint64_t& value) {
  size_t n = 0;
  value = 0;
  while (n < text.size() && n < max_digits && text[n] >= '0' && text[n] <= '9') value = value * 10 + (text[n++] - '0');
  if (n == 0 || (exact && n != max_digits)) return false;
  text.remove_prefix(n);
  return true;
}

}  // namespace

std::optional<TportDumpRecord> TportDumpParser::parse_stamp(std::string_view line) {
  TportDumpRecord r;
  if (take(line, "recv ")) {
    r.sent = false;
  } else if (take(line, "sent ")) {
    r.sent = true;
  } else {
    return std::nullopt;
  }
  uint64_t size = 0;
  if (!take_number(line, 9, false, size) || size > kLargestRecord || !take(line, " bytes ")) return std::nullopt;
  if (!take(line, r.sent ? "to " : "from ")) return std::nullopt;
  size_t slash = line.find("/[");
  if (slash == 0 || slash == std::string_view::npos || slash > 8) return std::nullopt;
  r.transport = std::string(line.substr(0, slash));
  if (!std::all_of(r.transport.begin(), r.transport.end(), [](char c) { return c >= 'a' && c <= 'z'; }))
    return std::nullopt;
  line.remove_prefix(slash + 2);
  size_t close = line.find(']');
  if (close == 0 || close == std::string_view::npos || close > 45) return std::nullopt;
  r.remote_host = std::string(line.substr(0, close));
  std::array<unsigned char, 16> address{};
  if (inet_pton(r.remote_host.find(':') == std::string::npos ? AF_INET : AF_INET6, r.remote_host.c_str(),
                address.data()) != 1)
    return std::nullopt;
  line.remove_prefix(close + 1);
  uint64_t port = 0;
  if (!take(line, ":") || !take_number(line, 5, false, port) || port > 65535) return std::nullopt;
  r.remote_port = static_cast<uint16_t>(port);
  uint64_t ignored = 0;
  if (take(line, "/") && !take_number(line, 10, false, ignored)) return std::nullopt;  // IPv6 flow label
  take(line, ";comp=sigcomp");
  uint64_t h = 0, m = 0, s = 0, us = 0;
  if (!take(line, " at ") || !take_number(line, 2, true, h) || !take(line, ":") || !take_number(line, 2, true, m) ||
      !take(line, ":") || !take_number(line, 2, true, s) || !take(line, ".") || !take_number(line, 6, true, us) ||
      !take(line, ":") || !line.empty() || h > 23 || m > 59 || s > 60)
    return std::nullopt;
  r.time_of_day_us = static_cast<int64_t>(((h * 60 + m) * 60 + s) * 1000000 + us);
  r.wire_size = static_cast<size_t>(size);
  return r;
}

// Drops bytes up to the next line that starts a stamp or the preamble; false if
// none is in the buffer yet (the tail that may begin one is kept).
bool TportDumpParser::skip_to_stamp() {
  size_t from = 1;
  while (true) {
    size_t nl = buffer_.find('\n', from);
    if (nl == std::string::npos) {
      size_t keep = std::min(buffer_.size(), kPreamble.size());
      skipped_ += buffer_.size() - keep;
      buffer_.erase(0, buffer_.size() - keep);
      return false;
    }
    std::string_view rest = std::string_view(buffer_).substr(nl + 1);
    if (rest.starts_with("recv ") || rest.starts_with("sent ") || rest.starts_with(kPreamble)) {
      skipped_ += nl + 1;
      buffer_.erase(0, nl + 1);
      return true;
    }
    from = nl + 1;
  }
}

std::optional<TportDumpRecord> TportDumpParser::next(bool quiet) {
  while (!buffer_.empty()) {
    std::string_view view(buffer_);
    if (view.front() == '\n') {  // blank lines after the preamble
      buffer_.erase(0, 1);
      continue;
    }
    size_t eol = view.find('\n');
    if (view.starts_with(kPreamble)) {
      if (eol == std::string_view::npos) return std::nullopt;
      buffer_.erase(0, eol + 1);
      continue;
    }
    if (eol == std::string_view::npos) {
      if (view.size() <= kLongestStamp) return std::nullopt;  // the rest of the stamp is on its way
      if (!skip_to_stamp()) return std::nullopt;
      continue;
    }
    auto record = parse_stamp(view.substr(0, eol));
    if (!record) {
      if (!skip_to_stamp()) return std::nullopt;
      continue;
    }
    const size_t start = eol + 1, size = record->wire_size;
    if (view.size() >= start + size + kEnd.size() && view.substr(start + size, kEnd.size()) == kEnd) {
      record->bytes = std::string(view.substr(start, size));
      buffer_.erase(0, start + size + kEnd.size());
      return record;
    }
    // Cut short by Sofia: the bytes end at a "\v\n" followed by the next record
    // (or, when the stream has gone quiet, by nothing).
    for (size_t end = view.find(kEnd, start); end != std::string_view::npos && end < start + size;
         end = view.find(kEnd, end + 1)) {
      std::string_view after = view.substr(end + kEnd.size());
      bool next_is_whole_stamp = false;
      if (size_t nl = after.find('\n'); nl != std::string_view::npos)
        next_is_whole_stamp = after.starts_with("\n") || after.starts_with(kPreamble) ||
                              parse_stamp(after.substr(0, nl)).has_value();
      if (next_is_whole_stamp || (after.empty() && quiet)) {
        record->bytes = std::string(view.substr(start, end - start));
        buffer_.erase(0, end + kEnd.size());
        ++short_records_;
        return record;
      }
    }
    if (view.size() >= start + size + kEnd.size()) {  // all there, yet not in the format
      if (!skip_to_stamp()) return std::nullopt;
      continue;
    }
    return std::nullopt;  // the rest of the record is on its way
  }
  return std::nullopt;
}

void complete_cut_record(TportDumpRecord& record) {
  const std::string& b = record.bytes;
  if (b.size() + 2 == record.wire_size && b.ends_with("\r\n") && b.find("\r\n\r\n") == std::string::npos)
    record.bytes += "\r\n";
}

}  // namespace confab::sip

#include "sip/tport_log.h"

namespace confab::sip {
namespace {

const std::string kSeparator = "   " + std::string(72, '-') + "\n";
constexpr std::string_view kTruncated = "   *** message truncated at ";

}  // namespace

std::optional<std::string> TportLoggedMessage::rebuild(std::string_view dumped) const {
  for (bool lf_body : {false, true}) {
    std::string text;
    bool in_body = false;
    for (size_t i = 0; i < lines.size(); ++i) {
      text += lines[i];
      if (i + 1 < lines.size() || last_line_ended) text += (lf_body && in_body) ? "\n" : "\r\n";
      if (lines[i].empty()) in_body = true;
    }
    if (text.size() == stamp.wire_size && text.starts_with(dumped)) return text;
  }
  return std::nullopt;
}

bool TportLogAssembler::feed(std::string_view piece) {
  if (!active_) {
    bool after_block = just_ended_;
    just_ended_ = false;
    if (after_block && piece.starts_with(kTruncated)) return true;  // follows a block Sofia's log cut
    size_t eol = piece.find('\n');
    if (eol == std::string_view::npos || piece.substr(eol + 1) != kSeparator) return false;
    std::string line(piece.substr(0, eol));
    if (line.starts_with("send ")) line.replace(0, 4, "sent");
    auto stamp = TportDumpParser::parse_stamp(line);
    if (!stamp) return false;
    current_ = TportLoggedMessage{*stamp, {}, true};
    active_ = true;
    at_line_start_ = true;
    return true;
  }
  if (piece == kSeparator || piece == "\n" + kSeparator) {
    current_.last_line_ended = piece == kSeparator;
    active_ = false;
    just_ended_ = true;
    done_ = std::move(current_);
    return true;
  }
  if (piece == "\n") {
    at_line_start_ = true;
    return true;
  }
  if (at_line_start_) {
    if (!piece.starts_with("   ")) {  // not Sofia's format: give the block up
      active_ = false;
      return false;
    }
    current_.lines.emplace_back(piece.substr(3));
    at_line_start_ = false;
  } else if (!current_.lines.empty()) {
    current_.lines.back() += piece;  // a line continued in the next piece of the message
  }
  return true;
}

std::optional<TportLoggedMessage> TportLogAssembler::done() {
  auto out = std::move(done_);
  done_.reset();
  return out;
}

}  // namespace confab::sip

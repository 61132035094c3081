#include "base/log_context.h"

namespace confab::base {

namespace {
constexpr std::string_view kPrefixStart = "[call-id=";

// What a Call-ID may hold here: no space (it ends the prefix) and no comma (it separates them).
std::string usable(std::string_view call_id) {
  std::string id;
  for (char c : call_id) id += c == ' ' || c == ',' || c == '\n' || c == '\t' ? '_' : c;
  return id;
}
}  // namespace

void CallLog::add_call_id(std::string_view call_id) {
  if (call_id.empty()) return;
  std::string id = usable(call_id);
  for (size_t start = 0; start <= call_ids_.size();) {  // already there?
    size_t end = call_ids_.find(',', start);
    if (end == std::string::npos) end = call_ids_.size();
    if (!call_ids_.empty() && std::string_view(call_ids_).substr(start, end - start) == id) return;
    start = end + 1;
  }
  call_ids_ += (call_ids_.empty() ? "" : ",") + id;
  prefix_ = std::string(kPrefixStart) + call_ids_ + "] ";
}

void CallLog::set_call_id(std::string_view call_id) {
  call_ids_.clear();
  prefix_.clear();
  add_call_id(call_id);
}

CallLogMessage split_call_log_prefix(std::string_view message) {
  if (message.substr(0, kPrefixStart.size()) != kPrefixStart) return {std::nullopt, message};
  size_t space = message.find(' ');
  if (space == std::string_view::npos || message[space - 1] != ']' || space - 1 <= kPrefixStart.size())
    return {std::nullopt, message};
  return {message.substr(kPrefixStart.size(), space - 1 - kPrefixStart.size()), message.substr(space + 1)};
}

}  // namespace confab::base

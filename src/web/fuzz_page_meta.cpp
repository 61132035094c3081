// libFuzzer target: the readers of what a site's pages say about themselves
// (the meta tag of an HTML page, the front matter of a Markdown one) and the
// path -> conference mapping. Whatever the input: no crash, the body is a
// suffix of the input, a conference user part is bounded and of [a-z0-9-].
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "web/page_meta.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace confab::web;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)meta_conference(text);
  FrontMatter fm = split_front_matter(text);
  if (fm.body.size() > text.size() || text.substr(text.size() - fm.body.size()) != fm.body) __builtin_trap();
  std::string user = conference_user(text);
  if (user.size() > kMaxUser || user.rfind("web-", 0) != 0) __builtin_trap();
  for (char c : user)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) __builtin_trap();
  return 0;
}

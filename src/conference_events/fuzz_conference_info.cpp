// libFuzzer: conference-info parsing; whatever parses must render into a
// document that parses again, and must be applicable to a Roster.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "conference_events/conference_info.h"
#include "conference_events/roster.h"

using namespace confab::conference_events;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto info = parse(text);
  if (!info) return 0;

  std::string rendered = render(*info);
  // Escaping can grow text ('>' becomes "&gt;"), so a document near the size
  // limit may render past it; everything else must parse again.
  if (rendered.size() <= kMaxDocumentBytes) {
    std::string error;
    auto reparsed = parse(rendered, &error);
    if (!reparsed) {
      std::fprintf(stderr, "rendering does not parse again: %s\n%s\n", error.c_str(), rendered.c_str());
      std::abort();
    }
    if (reparsed->users.size() != info->users.size() || reparsed->version != info->version ||
        reparsed->state != info->state) {
      std::fprintf(stderr, "rendering changed the document\n%s\n", rendered.c_str());
      std::abort();
    }
    if (DocumentTemplate(*info).with_version(info->version) != rendered) {
      std::fprintf(stderr, "template differs from render\n%s\n", rendered.c_str());
      std::abort();
    }
  }

  Roster roster;
  (void)roster.apply(*info);
  (void)roster.members();
  auto next = *info;
  next.state = ElementState::Partial;
  next.version = info->version + 1;
  (void)roster.apply(next);
  (void)roster.members();
  return 0;
}

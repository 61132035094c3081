#include "api/api_reader.h"

#include <expat.h>

#include <vector>

namespace confab::api {

namespace {
// The stream has no root element; the reader parses it as the content of this
// invisible one, so each top-level message is a child at depth 1.
constexpr std::string_view kStreamOpen = "<confab-api-stream>";
}  // namespace

struct ApiReader::Impl {
  ApiReader& owner;
  OnMessage on_message;
  ReaderLimits limits;
  XML_Parser parser = nullptr;
  std::vector<ApiMessage*> open;  // open elements of the current message, outermost first
  ApiMessage current;
  size_t elements = 0;
  XML_Index boundary = 0;  // byte index (in expat's count) where the current message may start
  XML_Index fed = 0;       // bytes given to expat so far

  Impl(ApiReader& o, OnMessage cb, ReaderLimits l) : owner(o), on_message(std::move(cb)), limits(l) {
    parser = XML_ParserCreate("UTF-8");
    XML_SetUserData(parser, this);
    XML_SetParamEntityParsing(parser, XML_PARAM_ENTITY_PARSING_NEVER);
    XML_SetStartDoctypeDeclHandler(parser, &Impl::doctype);
    // The invisible stream element first, before the handlers that build messages.
    XML_Parse(parser, kStreamOpen.data(), static_cast<int>(kStreamOpen.size()), XML_FALSE);
    fed = boundary = static_cast<XML_Index>(kStreamOpen.size());
    XML_SetElementHandler(parser, &Impl::start, &Impl::end);
    XML_SetCharacterDataHandler(parser, &Impl::text);
    XML_SetEntityDeclHandler(parser, &Impl::entity);
  }
  ~Impl() { XML_ParserFree(parser); }

  void fail(std::string why) {
    if (owner.error_.empty()) owner.error_ = std::move(why);
    XML_StopParser(parser, XML_FALSE);
  }

  static void start(void* self, const XML_Char* name, const XML_Char** atts) {
    auto* s = static_cast<Impl*>(self);
    if (s->owner.failed()) return;
    if (s->open.size() >= s->limits.max_depth) return s->fail("message nested deeper than " + std::to_string(s->limits.max_depth));
    if (++s->elements > s->limits.max_elements)
      return s->fail("message has more than " + std::to_string(s->limits.max_elements) + " elements");
    ApiMessage* m;
    if (s->open.empty()) {
      s->current = ApiMessage(name);
      m = &s->current;
    } else {
      s->open.back()->children.emplace_back(name);
      m = &s->open.back()->children.back();
    }
    size_t count = 0;
    for (const XML_Char** a = atts; a[0] && a[1]; a += 2) {
      if (++count > s->limits.max_attributes)
        return s->fail("element <" + std::string(name) + "> has more than " + std::to_string(s->limits.max_attributes) +
                       " attributes");
      m->attributes.emplace_back(a[0], a[1]);
    }
    s->open.push_back(m);
  }

  static void end(void* self, const XML_Char*) {
    auto* s = static_cast<Impl*>(self);
    // After fail() expat may still report the end of an empty element stopped in its
    // start handler: that would close (and hand out) the refused message.
    if (s->owner.failed()) return;
    if (s->open.empty()) return s->fail("end of the stream element");  // "</confab-api-stream>"
    s->open.pop_back();
    if (!s->open.empty()) return;
    XML_Index end_at = XML_GetCurrentByteIndex(s->parser) + XML_GetCurrentByteCount(s->parser);
    // Exact here; feed() also checks after every slice, for a message that does not end.
    if (static_cast<size_t>(end_at - s->boundary) > s->limits.max_message_bytes)
      return s->fail("message larger than " + std::to_string(s->limits.max_message_bytes) + " bytes");
    s->boundary = end_at;
    s->elements = 0;
    ApiMessage done = std::move(s->current);
    s->current = ApiMessage();
    s->on_message(std::move(done));
  }

  static void text(void* self, const XML_Char* data, int len) {
    auto* s = static_cast<Impl*>(self);
    if (s->owner.failed()) return;
    if (!s->open.empty()) s->open.back()->text.append(data, static_cast<size_t>(len));
    // Whitespace between messages is ignored; other text there is an error.
    else
      for (int i = 0; i < len; ++i)
        if (data[i] != ' ' && data[i] != '\n' && data[i] != '\r' && data[i] != '\t')
          return s->fail("text outside a message");
  }

  static void doctype(void* self, const XML_Char*, const XML_Char*, const XML_Char*, int) {
    static_cast<Impl*>(self)->fail("DTDs are not allowed");
  }
  static void entity(void* self, const XML_Char*, int, const XML_Char*, int, const XML_Char*, const XML_Char*,
                     const XML_Char*, const XML_Char*) {
    static_cast<Impl*>(self)->fail("entity declarations are not allowed");
  }
};

ApiReader::ApiReader(OnMessage on_message, ReaderLimits limits)
    : impl_(std::make_unique<Impl>(*this, std::move(on_message), limits)) {}

ApiReader::~ApiReader() = default;

bool ApiReader::feed(std::string_view bytes) {
  if (failed()) return false;
  // Feed in slices so that the size limit is checked even inside one huge tag
  // (expat reports nothing until a tag is complete).
  constexpr size_t kSlice = 16 * 1024;
  while (!bytes.empty() && !failed()) {
    size_t n = std::min(bytes.size(), kSlice);
    if (XML_Parse(impl_->parser, bytes.data(), static_cast<int>(n), XML_FALSE) == XML_STATUS_ERROR && !failed()) {
      error_ = std::string("malformed XML at line ") +
               std::to_string(XML_GetCurrentLineNumber(impl_->parser)) + ": " +
               XML_ErrorString(XML_GetErrorCode(impl_->parser));
    }
    impl_->fed += static_cast<XML_Index>(n);
    bytes.remove_prefix(n);
    if (!failed() && static_cast<size_t>(impl_->fed - impl_->boundary) > impl_->limits.max_message_bytes)
      error_ = "message larger than " + std::to_string(impl_->limits.max_message_bytes) + " bytes";
  }
  return !failed();
}

bool parse_one(std::string_view text, ApiMessage& out, std::string* error) {
  int count = 0;
  ApiReader reader([&](ApiMessage&& m) {
    if (++count == 1) out = std::move(m);
  });
  bool ok = reader.feed(text);
  std::string why = ok ? (count == 1 ? "" : count == 0 ? "no complete element" : "more than one element")
                       : reader.error();
  if (!why.empty() && error) *error = why;
  return why.empty();
}

}  // namespace confab::api

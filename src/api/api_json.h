// The JSON twin of every API message, for web pages (the WebSocket API):
//   <Join id="sip:room7@conf" tag="1"><Use dev="desk"/></Join>
//   {"type":"Join","id":"sip:room7@conf","tag":"1","children":[{"type":"Use","dev":"desk"}]}
// Attributes are string members; "type" names the element, "children" lists
// child elements in order, "text" holds character data. Lossless both ways.
#pragma once

#include <string>
#include <string_view>

#include "api/api_message.h"
#include "api/api_reader.h"

namespace confab::api {

std::string to_json(const ApiMessage& message);
// False (reason in *error) for anything that is not one message object within `limits`.
bool from_json(std::string_view json, ApiMessage& out, std::string* error = nullptr, const ReaderLimits& limits = {});

}  // namespace confab::api

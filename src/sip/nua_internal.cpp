// The helpers the nua wrappers share (nua_internal.h).
#include "sip/nua_internal.h"

#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_tagarg.h>
#include <strings.h>

#include <set>

namespace confab::sip {

namespace {

// The realm of the first challenge in a 401/407.
std::string challenge_realm(sip_t const* sip) {
  msg_auth_t const* au = sip ? (sip->sip_www_authenticate ? sip->sip_www_authenticate : sip->sip_proxy_authenticate)
                             : nullptr;
  for (; au; au = au->au_next)
    for (auto p = au->au_params; p && *p; ++p)
      if (strncasecmp(*p, "realm=", 6) == 0) {
        std::string r = *p + 6;
        if (r.size() >= 2 && r.front() == '"' && r.back() == '"') r = r.substr(1, r.size() - 2);
        return r;
      }
  return {};
}

}  // namespace

std::string header_block(const std::vector<HeaderField>& headers) {
  std::string s;
  for (auto& h : headers) {
    if (h.name.empty() || h.name.find_first_of(":\r\n ") != std::string::npos ||
        h.value.find_first_of("\r\n") != std::string::npos)
      continue;
    s += h.name + ": " + h.value + "\r\n";
  }
  return s;
}

const char* or_null(const std::string& s) { return s.empty() ? nullptr : s.c_str(); }

// nua_respond() hands its reason phrase to the stack asynchronously and keeps
// the pointer (tags are copied, the phrase is not): it must outlive the call.
// Phrases are interned; past a bound, arbitrary ones fall back to the standard text.
const char* lasting_phrase(int status, std::string_view reason) {
  static std::set<std::string, std::less<>> interned;
  if (auto it = interned.find(reason); it != interned.end()) return it->c_str();
  if (interned.size() < 1024) return interned.emplace(reason).first->c_str();
  const char* standard = sip_status_phrase(status);
  return standard ? standard : "";
}

bool answer_challenge(const std::vector<UserCredentials>& credentials, nua_handle_t* nh, int status, sip_t const* sip) {
  if ((status != 401 && status != 407) || credentials.empty()) return false;
  std::string realm = challenge_realm(sip);
  for (auto& c : credentials) {
    if (!c.realm.empty() && c.realm != realm) continue;
    std::string auth = "Digest:\"" + realm + "\":" + c.user + ":" + c.password;
    nua_authenticate(nh, NUTAG_AUTH(auth.c_str()), TAG_END());
    return true;
  }
  return false;
}

}  // namespace confab::sip

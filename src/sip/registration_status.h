// What the outcome of a REGISTER means, in words a person can act on. Sofia-SIP
// reports some failures with its own 9xx codes (904 "Operation has no matching
// challenge" when the registrar refused the credentials it had just challenged
// for): those become the SIP status that happened, with a plain reason.
#pragma once

#include <string>
#include <string_view>

namespace confab::sip {

struct RegistrationStatus {
  int status = 0;
  std::string reason;
  bool ok() const { return status >= 200 && status < 300; }
};

// `have_credentials`: whether the part has a user name and password to answer challenges with;
// `how_to_give_them`: what to do when it has none and the registrar asks.
RegistrationStatus describe_registration(int status, std::string_view reason, bool have_credentials,
                                         std::string_view how_to_give_them = "give --user and --password-file "
                                                                             "(or --password)");

}  // namespace confab::sip

#include "sip/registration_status.h"

namespace confab::sip {

RegistrationStatus describe_registration(int status, std::string_view reason, bool have_credentials,
                                         std::string_view how_to_give_them) {
  std::string said(reason);
  while (!said.empty() && said.back() == ' ') said.pop_back();  // Sofia's 904 phrase ends in a space
  if (status == 904) return {401, "authentication failed: wrong password or realm"};
  if (status == 900 && have_credentials)
    return {401, "authentication failed: the credentials could not be used (" + said + ")"};
  if (status >= 900) return {500, "internal error of the SIP stack: " + said};
  if ((status == 401 || status == 407) && !have_credentials)
    return {status, "authentication required: " + std::string(how_to_give_them)};
  if (status == 408) return {408, "no answer from the registrar (" + said + ")"};
  return {status, said};
}

}  // namespace confab::sip

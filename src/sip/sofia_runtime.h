// Process-wide Sofia-SIP initialisation (su_init) and its logs routed to spdlog.
#pragma once

namespace confab::sip {

// Idempotent; called by everything in src/sip that needs Sofia.
void ensure_sofia_runtime();

}  // namespace confab::sip

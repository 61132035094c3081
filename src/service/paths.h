// Where the service keeps its per-user files: the configuration directory
// (~/.config/confab) and the runtime directory with the API socket, the TCP
// token and the chooser page's address, all private to the user.
#pragma once

#include <string>

namespace confab::service {

// ~/.config/confab/service.toml (XDG_CONFIG_HOME honoured).
std::string default_config_path();
// The directory of the files above (~/.config/confab), created 0700 if missing.
std::string config_dir();

// $XDG_RUNTIME_DIR/confab, else /tmp/confab-<uid>: created 0700 if missing;
// throws if it exists but is not a directory owned by us with no group/other access.
std::string runtime_dir();
// Writes a fresh random token to `path` (mode 0600, replacing any old one) and returns it.
std::string write_token_file(const std::string& path);
// Writes `text` to `path` readable by us only (replacing it).
void write_private_file(const std::string& path, const std::string& text);
// The token in `path`; throws if missing or readable by others.
std::string read_token_file(const std::string& path);

}  // namespace confab::service

// Unpredictable values (tokens, keys, ad-hoc names) from OpenSSL's CSPRNG.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace confab::base {

// Fills `out` with `size` random bytes. Throws std::runtime_error if the
// system has no randomness to give (as do the others).
void random_bytes(void* out, size_t size);
// `bytes` random bytes as 2*bytes lower-case hex digits (tokens, keys, names).
std::string random_hex(size_t bytes);
// A random 64-bit number (salts).
uint64_t random_u64();

}  // namespace confab::base

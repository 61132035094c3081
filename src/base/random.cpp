#include "base/random.h"

#include <openssl/rand.h>

#include <stdexcept>
#include <vector>

namespace confab::base {

void random_bytes(void* out, size_t size) {
  if (size && RAND_bytes(static_cast<unsigned char*>(out), static_cast<int>(size)) != 1)
    throw std::runtime_error("no randomness available (OpenSSL RAND_bytes failed)");
}

uint64_t random_u64() {
  uint64_t v = 0;
  random_bytes(&v, sizeof v);
  return v;
}

std::string random_hex(size_t bytes) {
  std::vector<unsigned char> raw(bytes);
  random_bytes(raw.data(), raw.size());
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(bytes * 2);
  for (unsigned char b : raw) {
    out += hex[b >> 4];
    out += hex[b & 15];
  }
  return out;
}

}  // namespace confab::base

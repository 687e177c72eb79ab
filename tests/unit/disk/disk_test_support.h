// What the disk tests share: a file's SHA-256 as sha256sum prints it.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

#include "magicboot/loader/payload/hash.h"

namespace mb::loader::test {

inline std::string sha256_hex(const uint8_t* p, size_t n) {
  Sha256 s;
  s.update(p, n);
  std::string out;
  char b[3];
  for (uint8_t x : s.final()) {
    std::snprintf(b, sizeof b, "%02x", x);
    out += b;
  }
  return out;
}

}  // namespace mb::loader::test

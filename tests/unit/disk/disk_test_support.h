// What the disk tests share: a file's SHA-256 as sha256sum prints it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

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

// The names fs.list() gives for `dir`, sorted; on an error, its check in
// `error`.
template <class Fs>
std::vector<std::string> names_in(Fs& fs, const char* dir, std::string* error = nullptr) {
  std::vector<std::string> names;
  auto r = fs.list(
      dir,
      [](void* c, const char* n, size_t l) {
        static_cast<std::vector<std::string>*>(c)->emplace_back(n, l);
        return true;
      },
      &names);
  if (!r.ok() && error) *error = r.error().check;
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace mb::loader::test

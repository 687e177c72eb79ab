#include "magicboot/cmdline.h"

#include <cstring>

namespace mb {

bool cmdline_has(const char* line, const char* word) {
  if (line == nullptr || word == nullptr || *word == '\0') return false;
  const size_t n = std::strlen(word);
  for (const char* p = line; *p != '\0';) {
    while (*p == ' ' || *p == '\t' || *p == '\n') ++p;
    const char* end = p;
    while (*end != '\0' && *end != ' ' && *end != '\t' && *end != '\n') ++end;
    if (static_cast<size_t>(end - p) == n && std::memcmp(p, word, n) == 0) return true;
    p = end;
  }
  return false;
}

}  // namespace mb

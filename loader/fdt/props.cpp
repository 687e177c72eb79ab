// Properties: finding one, and reading cells and string lists out of it.
#include <cstring>

#include "magicboot/loader/fdt/reader.h"
#include "magicboot/loader/fdt/tokens.h"

namespace mb::fdt {

const void* getprop(const void* fdt, int node, const char* name, int* len) {
  const Blocks b = blocks_of(fdt);
  int dummy;
  if (len == nullptr) len = &dummy;
  const auto n = static_cast<uint32_t>(node);
  if (node < 0 || (n & 3) != 0 || n >= b.st_size || b.st_size - n < 4 || be32(b.st + n) != kBeginNode) {
    *len = -kBadOffset;
    return nullptr;
  }
  const size_t want = strlen(name);
  int64_t off = next_token(b, n).next;
  while (off >= 0) {
    const Token t = token(b, static_cast<uint32_t>(off));
    if (t.next < 0) {
      *len = static_cast<int>(t.next);
      return nullptr;
    }
    if (t.tag == kProp) {
      // The name matches when its first `want` bytes do and a NUL follows
      // inside the strings block (then it is the string libfdt would read).
      const uint32_t nameoff = be32(b.st + off + 8);
      bool match = nameoff < b.strings_size && b.strings_size - nameoff > want;
      if (match) {
        const char* pn = b.strings + nameoff;
        size_t k = 0;
        while (k < want && pn[k] == name[k]) ++k;
        match = k == want && pn[want] == '\0';
      }
      if (match) {
        const uint32_t vlen = be32(b.st + off + 4);
        if (vlen > INT32_MAX) break;
        *len = static_cast<int>(vlen);
        return b.st + off + 12;
      }
    } else if (t.tag != kNop) {
      break;  // properties come before children
    }
    off = t.next;
  }
  *len = -kNotFound;
  return nullptr;
}

namespace {

// A #...-cells property: its value (at most 4), or -kX.
int cells_prop(const void* fdt, int node, const char* name) {
  int len = 0;
  const auto* p = static_cast<const uint8_t*>(getprop(fdt, node, name, &len));
  if (p == nullptr) return len;
  if (len != 4) return -kBadNCells;
  const uint32_t v = be32(p);
  return v > 4 ? -kBadNCells : static_cast<int>(v);
}

}  // namespace

int address_cells(const void* fdt, int node) {
  const int v = cells_prop(fdt, node, "#address-cells");
  if (v == 0) return -kBadNCells;
  return v == -kNotFound ? 2 : v;
}

int size_cells(const void* fdt, int node) {
  const int v = cells_prop(fdt, node, "#size-cells");
  return v == -kNotFound ? 1 : v;
}

int stringlist_count(const void* fdt, int node, const char* prop) {
  int len = 0;
  const char* s = static_cast<const char*>(getprop(fdt, node, prop, &len));
  if (s == nullptr) return len;
  int count = 0;
  for (const char* end = s + len; s < end; ++count) {
    const char* nul = static_cast<const char*>(memchr(s, '\0', static_cast<size_t>(end - s)));
    if (nul == nullptr) return -kBadValue;
    s = nul + 1;
  }
  return count;
}

const char* stringlist_get(const void* fdt, int node, const char* prop, int index, int* lenp) {
  int dummy;
  int& len = lenp != nullptr ? *lenp : dummy;
  const char* s = static_cast<const char*>(getprop(fdt, node, prop, &len));
  if (s == nullptr) return nullptr;
  for (const char* end = s + len; s < end; --index) {
    const char* nul = static_cast<const char*>(memchr(s, '\0', static_cast<size_t>(end - s)));
    if (nul == nullptr) {
      len = -kBadValue;
      return nullptr;
    }
    if (index == 0) {
      len = static_cast<int>(nul - s);
      return s;
    }
    s = nul + 1;
  }
  len = -kNotFound;
  return nullptr;
}

int check_compatible(const void* fdt, int node, const char* compatible) {
  int len = 0;
  const char* s = static_cast<const char*>(getprop(fdt, node, "compatible", &len));
  if (s == nullptr) return len;
  const size_t want = strlen(compatible) + 1;  // with its NUL
  for (const char* end = s + len; static_cast<size_t>(end - s) >= want;) {
    if (memcmp(s, compatible, want) == 0) return 0;
    const char* nul = static_cast<const char*>(memchr(s, '\0', static_cast<size_t>(end - s)));
    if (nul == nullptr) break;
    s = nul + 1;
  }
  return 1;
}

int node_by_compatible(const void* fdt, int from, const char* compatible) {
  int node = next_node(fdt, from);
  for (; node >= 0; node = next_node(fdt, node)) {
    const int rc = check_compatible(fdt, node, compatible);
    if (rc == 0) return node;
    if (rc < 0 && rc != -kNotFound) return rc;
  }
  return node;
}

}  // namespace mb::fdt

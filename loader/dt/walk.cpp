#include "walk.h"

#include <libfdt.h>

#include <cstring>

namespace mb::loader::dt_detail {
namespace {

// The two blocks the walk reads, clamped to totalsize (fdt_check_header
// already put them inside it; the clamp keeps every read in bounds anyway).
struct Blocks {
  const uint8_t* st;
  uint32_t st_size;
  const char* strings;
  uint32_t strings_size;
};

uint32_t clamp(uint32_t off, uint32_t size, uint32_t total) {
  if (off >= total) return 0;
  return size < total - off ? size : total - off;
}

Blocks blocks_of(const void* fdt) {
  const auto* b = static_cast<const uint8_t*>(fdt);
  const uint32_t total = fdt_totalsize(fdt);
  return Blocks{b + fdt_off_dt_struct(fdt), clamp(fdt_off_dt_struct(fdt), fdt_size_dt_struct(fdt), total),
                reinterpret_cast<const char*>(b + fdt_off_dt_strings(fdt)),
                clamp(fdt_off_dt_strings(fdt), fdt_size_dt_strings(fdt), total)};
}

// Byte loads, spelled out: under -Os a 4-byte memcpy of unknown alignment
// is a library call (the firmware builds with -mstrict-align).
[[gnu::always_inline]] inline uint32_t be32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}

using Word [[gnu::may_alias, gnu::aligned(4)]] = uint32_t;

// The offset of the NUL ending the string at `from`, or `size` when there is
// none before `size`. A word at a time where the block allows (node names
// start on a token boundary); memchr costs a call and its set-up per name.
[[gnu::always_inline]] inline uint32_t find_nul(const uint8_t* st, uint32_t from, uint32_t size) {
  uint32_t i = from;
  if ((reinterpret_cast<uintptr_t>(st + i) & 3) == 0) {
    for (; size - i >= 4; i += 4) {
      const uint32_t w = *reinterpret_cast<const Word*>(st + i);  // byte order does not matter here
      if (((w - 0x01010101u) & ~w & 0x80808080u) != 0) break;      // some byte is zero
    }
  }
  for (; i < size; ++i)
    if (st[i] == 0) return i;
  return size;
}

constexpr uint32_t align4(uint64_t v) { return static_cast<uint32_t>((v + 3) & ~uint64_t{3}); }

// One token. Returns its tag and sets *next to the following token, or
// returns 0 with *next = -FDT_ERR_* (the error fdt_next_tag would leave).
struct Token {
  uint32_t tag;
  int64_t next;  // < 0: -FDT_ERR_*
};

[[gnu::always_inline]] inline Token token(const Blocks& b, uint32_t off) {
  if (off > b.st_size || b.st_size - off < 4 || (off & 3) != 0) return {0, -FDT_ERR_TRUNCATED};
  const uint32_t tag = be32(b.st + off);
  switch (tag) {
    case FDT_BEGIN_NODE: {
      const uint32_t nul = find_nul(b.st, off + 4, b.st_size);
      if (nul == b.st_size) return {0, -FDT_ERR_TRUNCATED};
      return {tag, align4(uint64_t{nul} + 1)};
    }
    case FDT_PROP: {
      if (b.st_size - off < 12) return {0, -FDT_ERR_TRUNCATED};
      const uint64_t end = uint64_t{off} + 12 + be32(b.st + off + 4);
      if (end > b.st_size) return {0, -FDT_ERR_TRUNCATED};
      return {tag, align4(end)};
    }
    case FDT_END_NODE:
    case FDT_NOP:
    case FDT_END:
      return {tag, off + 4};
    default:
      return {0, -FDT_ERR_BADSTRUCTURE};
  }
}

// The property name at nameoff, or nullptr (fdt_get_string's conditions).
const char* prop_name(const Blocks& b, uint32_t nameoff, size_t* len) {
  if (nameoff >= b.strings_size || nameoff > INT32_MAX) return nullptr;
  const auto* s = reinterpret_cast<const uint8_t*>(b.strings);
  const uint32_t nul = find_nul(s, nameoff, b.strings_size);
  if (nul == b.strings_size) return nullptr;
  *len = nul - nameoff;
  return b.strings + nameoff;
}

// From a BEGIN_NODE: the offset just past its END_NODE.
int64_t past_subtree(const Blocks& b, uint32_t off) {
  int depth = 0;
  for (;;) {
    const Token t = token(b, off);
    if (t.next < 0) return t.next;
    if (t.tag == FDT_BEGIN_NODE) {
      ++depth;
    } else if (t.tag == FDT_END_NODE) {
      if (--depth == 0) return t.next;
      if (depth < 0) return -FDT_ERR_BADSTRUCTURE;
    } else if (t.tag == FDT_END) {
      return -FDT_ERR_BADSTRUCTURE;
    }
    off = static_cast<uint32_t>(t.next);
  }
}

// The next child at or after `off` (inside a node, past its properties):
// skips properties and NOPs; END_NODE ends the search.
int next_child_from(const Blocks& b, int64_t off) {
  for (;;) {
    if (off < 0) return static_cast<int>(off);
    const Token t = token(b, static_cast<uint32_t>(off));
    if (t.next < 0) return static_cast<int>(t.next);
    if (t.tag == FDT_BEGIN_NODE) return static_cast<int>(off);
    if (t.tag == FDT_END_NODE || t.tag == FDT_END) return -FDT_ERR_NOTFOUND;
    off = t.next;
  }
}

// The tag alone (the name is skipped only when the walk goes on).
bool is_node(const Blocks& b, int node) {
  const auto off = static_cast<uint32_t>(node);
  return node >= 0 && (off & 3) == 0 && off < b.st_size && b.st_size - off >= 4 && be32(b.st + off) == FDT_BEGIN_NODE;
}

int first_child_in(const Blocks& b, int node) {
  if (!is_node(b, node)) return -FDT_ERR_BADOFFSET;
  return next_child_from(b, token(b, static_cast<uint32_t>(node)).next);
}

int next_sibling_in(const Blocks& b, int child) {
  if (!is_node(b, child)) return -FDT_ERR_BADOFFSET;
  return next_child_from(b, past_subtree(b, static_cast<uint32_t>(child)));
}

}  // namespace

int check_structure(const void* fdt) {
  const Blocks b = blocks_of(fdt);
  uint32_t off = 0;
  unsigned depth = 0;
  bool expect_end = false;
  for (;;) {
    const Token t = token(b, off);
    if (t.next < 0) return static_cast<int>(t.next);
    if (expect_end && t.tag != FDT_END) return -FDT_ERR_BADSTRUCTURE;  // a second root
    switch (t.tag) {
      case FDT_END:
        return depth == 0 ? 0 : -FDT_ERR_BADSTRUCTURE;
      case FDT_BEGIN_NODE:
        if (++depth == 1 && b.st[off + 4] != '\0') return -FDT_ERR_BADSTRUCTURE;  // the root has no name
        break;
      case FDT_END_NODE:
        if (depth == 0) return -FDT_ERR_BADSTRUCTURE;
        if (--depth == 0) expect_end = true;
        break;
      case FDT_PROP: {
        const uint32_t nameoff = be32(b.st + off + 8);
        size_t len;
        if (nameoff >= b.strings_size || nameoff > INT32_MAX) return -FDT_ERR_BADOFFSET;
        if (prop_name(b, nameoff, &len) == nullptr) return -FDT_ERR_TRUNCATED;
        break;
      }
      default:  // FDT_NOP
        break;
    }
    off = static_cast<uint32_t>(t.next);
  }
}

int first_child(const void* fdt, int node) { return first_child_in(blocks_of(fdt), node); }

int next_sibling(const void* fdt, int child) { return next_sibling_in(blocks_of(fdt), child); }

int child_named(const void* fdt, int parent, const char* name, size_t len) {
  const Blocks b = blocks_of(fdt);
  const bool has_unit = memchr(name, '@', len) != nullptr;
  int c = first_child_in(b, parent);
  for (; c >= 0; c = next_sibling_in(b, c)) {
    const char* n = reinterpret_cast<const char*>(b.st + c + 4);  // NUL-terminated in the block (token())
    // strncmp stops at n's NUL: a match means n has at least len bytes.
    if (strncmp(n, name, len) == 0 && (n[len] == '\0' || (!has_unit && n[len] == '@'))) return c;
  }
  return c;
}

int path_offset(const void* fdt, const char* path, size_t len, int* parent) {
  const char* p = path;
  const char* end = path + len;
  int node = 0, up = -1;
  if (len == 0) return -FDT_ERR_BADPATH;
  if (*p != '/') {
    const char* q = static_cast<const char*>(memchr(p, '/', len));
    if (q == nullptr) q = end;
    const int aliases = child_named(fdt, 0, "aliases", 7);
    if (aliases < 0) return -FDT_ERR_BADPATH;
    int alen = 0;
    char name[64];
    if (static_cast<size_t>(q - p) >= sizeof name) return -FDT_ERR_BADPATH;
    memcpy(name, p, static_cast<size_t>(q - p));
    name[q - p] = '\0';
    const auto* target = static_cast<const char*>(getprop(fdt, aliases, name, &alen));
    // An alias is an absolute path (not another alias: no recursion).
    if (target == nullptr || alen < 2 || target[0] != '/' || target[alen - 1] != '\0') return -FDT_ERR_BADPATH;
    node = path_offset(fdt, target, static_cast<size_t>(alen - 1), &up);
    if (node < 0) return node;
    p = q;
  }
  while (p < end) {
    while (*p == '/') {
      if (++p == end) {
        if (parent) *parent = up;
        return node;
      }
    }
    const char* q = static_cast<const char*>(memchr(p, '/', static_cast<size_t>(end - p)));
    if (q == nullptr) q = end;
    const int child = child_named(fdt, node, p, static_cast<size_t>(q - p));
    if (child < 0) return child;
    up = node;
    node = child;
    p = q;
  }
  if (parent) *parent = up;
  return node;
}

const void* getprop(const void* fdt, int node, const char* name, int* len) {
  const Blocks b = blocks_of(fdt);
  int dummy;
  if (len == nullptr) len = &dummy;
  if (!is_node(b, node)) {
    *len = -FDT_ERR_BADOFFSET;
    return nullptr;
  }
  const size_t want = strlen(name);
  int64_t off = token(b, static_cast<uint32_t>(node)).next;
  while (off >= 0) {
    const Token t = token(b, static_cast<uint32_t>(off));
    if (t.next < 0) {
      *len = static_cast<int>(t.next);
      return nullptr;
    }
    if (t.tag == FDT_PROP) {
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
    } else if (t.tag != FDT_NOP) {
      break;  // properties come before children
    }
    off = t.next;
  }
  *len = -FDT_ERR_NOTFOUND;
  return nullptr;
}

}  // namespace mb::loader::dt_detail

// The structure walk: the structure check and moving between nodes.
#include <cstring>

#include "magicboot/loader/fdt/reader.h"
#include "magicboot/loader/fdt/tokens.h"

namespace mb::fdt {
namespace {

uint32_t clamp(uint32_t off, uint32_t size, uint32_t total) {
  if (off >= total) return 0;
  return size < total - off ? size : total - off;
}

// The next child at or after `off` (inside a node, past its properties):
// skips properties and NOPs; END_NODE ends the search.
int next_child_from(const Blocks& b, int64_t off) {
  for (;;) {
    if (off < 0) return static_cast<int>(off);
    const Token t = token(b, static_cast<uint32_t>(off));
    if (t.next < 0) return static_cast<int>(t.next);
    if (t.tag == kBeginNode) return static_cast<int>(off);
    if (t.tag == kEndNode || t.tag == kEnd) return -kNotFound;
    off = t.next;
  }
}

// The tag alone (the name is skipped only when the walk goes on).
bool is_node(const Blocks& b, int node) {
  const auto off = static_cast<uint32_t>(node);
  return node >= 0 && (off & 3) == 0 && off < b.st_size && b.st_size - off >= 4 && be32(b.st + off) == kBeginNode;
}

int first_child_in(const Blocks& b, int node) {
  if (!is_node(b, node)) return -kBadOffset;
  return next_child_from(b, next_token(b, static_cast<uint32_t>(node)).next);
}

int next_sibling_in(const Blocks& b, int child) {
  if (!is_node(b, child)) return -kBadOffset;
  return next_child_from(b, past_subtree(b, static_cast<uint32_t>(child)));
}

}  // namespace

Blocks blocks_of(const void* fdt) {
  const auto* b = static_cast<const uint8_t*>(fdt);
  const uint32_t total = total_size(fdt);
  const uint32_t st = header(fdt, kHdrOffStruct), str = header(fdt, kHdrOffStrings);
  const bool v17 = version(fdt) >= 17;
  return Blocks{b + st, clamp(st, v17 ? header(fdt, kHdrSizeStruct) : UINT32_MAX, total),
                reinterpret_cast<const char*>(b + str), clamp(str, v17 ? header(fdt, kHdrSizeStrings) : UINT32_MAX, total)};
}

Token next_token(const Blocks& b, uint32_t off) { return token(b, off); }

int64_t past_subtree(const Blocks& b, uint32_t off) {
  int depth = 0;
  for (;;) {
    const Token t = token(b, off);
    if (t.next < 0) return t.next;
    if (t.tag == kBeginNode) {
      ++depth;
    } else if (t.tag == kEndNode) {
      if (--depth == 0) return t.next;
      if (depth < 0) return -kBadStructure;
    } else if (t.tag == kEnd) {
      return -kBadStructure;
    }
    off = static_cast<uint32_t>(t.next);
  }
}

const char* string_at(const Blocks& b, uint32_t nameoff, size_t* len) {
  if (nameoff >= b.strings_size || nameoff > INT32_MAX) return nullptr;
  const auto* s = reinterpret_cast<const uint8_t*>(b.strings);
  const uint32_t nul = find_nul(s, nameoff, b.strings_size);
  if (nul == b.strings_size) return nullptr;
  *len = nul - nameoff;
  return b.strings + nameoff;
}

int check_structure(const void* fdt) {
  const Blocks b = blocks_of(fdt);
  uint32_t off = 0;
  unsigned depth = 0;
  bool expect_end = false;
  for (;;) {
    const Token t = token(b, off);
    if (t.next < 0) return static_cast<int>(t.next);
    if (expect_end && t.tag != kEnd) return -kBadStructure;  // a second root
    switch (t.tag) {
      case kEnd:
        return depth == 0 ? 0 : -kBadStructure;
      case kBeginNode:
        if (++depth == 1 && b.st[off + 4] != '\0') return -kBadStructure;  // the root has no name
        break;
      case kEndNode:
        if (depth == 0) return -kBadStructure;
        if (--depth == 0) expect_end = true;
        break;
      case kProp: {
        const uint32_t nameoff = be32(b.st + off + 8);
        size_t len;
        if (nameoff >= b.strings_size || nameoff > INT32_MAX) return -kBadOffset;
        if (string_at(b, nameoff, &len) == nullptr) return -kTruncated;
        break;
      }
      default:  // kNop
        break;
    }
    off = static_cast<uint32_t>(t.next);
  }
}

int first_child(const void* fdt, int node) { return first_child_in(blocks_of(fdt), node); }

int next_sibling(const void* fdt, int child) { return next_sibling_in(blocks_of(fdt), child); }

int next_node(const void* fdt, int node) {
  const Blocks b = blocks_of(fdt);
  int64_t off = 0;
  if (node >= 0) {
    if (!is_node(b, node)) return -kBadOffset;
    off = next_token(b, static_cast<uint32_t>(node)).next;
  }
  for (;;) {
    if (off < 0) return static_cast<int>(off);
    const Token t = next_token(b, static_cast<uint32_t>(off));
    if (t.tag == kBeginNode) return static_cast<int>(off);
    // The end of the block, or a block cut short, ends the walk (as
    // fdt_next_node without a depth); a bad token is an error.
    if (t.tag == kEnd || t.next == -kTruncated) return -kNotFound;
    off = t.next;
  }
}

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
  if (len == 0) return -kBadPath;
  if (*p != '/') {
    const char* q = static_cast<const char*>(memchr(p, '/', len));
    if (q == nullptr) q = end;
    const int aliases = child_named(fdt, 0, "aliases", 7);
    if (aliases < 0) return -kBadPath;
    int alen = 0;
    char name[64];
    if (static_cast<size_t>(q - p) >= sizeof name) return -kBadPath;
    memcpy(name, p, static_cast<size_t>(q - p));
    name[q - p] = '\0';
    const auto* target = static_cast<const char*>(getprop(fdt, aliases, name, &alen));
    // An alias is an absolute path (not another alias: no recursion).
    if (target == nullptr || alen < 2 || target[0] != '/' || target[alen - 1] != '\0') return -kBadPath;
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

int parent_of(const void* fdt, int node) {
  const Blocks b = blocks_of(fdt);
  if (!is_node(b, node)) return -kBadOffset;
  if (node == 0) return -kNotFound;
  // libfdt walks down from offset 0: behind a leading NOP it finds no root.
  if (!is_node(b, 0)) return -kBadStructure;
  // Down from the root: into the one child whose subtree holds `node`.
  int up = 0;
  for (int c = first_child_in(b, 0); c >= 0;) {
    if (c == node) return up;
    const int64_t end = past_subtree(b, static_cast<uint32_t>(c));
    if (end < 0) return static_cast<int>(end);
    if (node < end) {
      up = c;
      c = first_child_in(b, c);
    } else {
      c = next_child_from(b, end);
    }
  }
  return -kBadOffset;  // not a node of this tree's structure (inside a property?)
}

const char* node_name(const void* fdt, int node) {
  const Blocks b = blocks_of(fdt);
  if (!is_node(b, node) || next_token(b, static_cast<uint32_t>(node)).next < 0) return nullptr;
  return reinterpret_cast<const char*>(b.st + node + 4);
}

}  // namespace mb::fdt

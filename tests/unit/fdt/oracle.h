// Differential checks of our FDT reader against host libfdt (the oracle),
// shared by the unit tests and the fuzz targets: every answer for every
// node of a tree both accept must be the same.
#pragma once

#include <libfdt.h>

#include <cstring>
#include <string>

#include "magicboot/loader/fdt/reader.h"
#include "magicboot/loader/fdt/tokens.h"

namespace mb::fdt::oracle {

// Reports a disagreement; the caller decides how to fail.
using Fail = void (*)(const std::string& what);

// True when the walk stops at a property whose length wraps libfdt's int
// offset arithmetic: libfdt then reads on from a wrong offset and may answer
// anything; we say -kBadStructure (reader.h).
inline bool length_wraps_for_libfdt(const void* fdt) {
  const Blocks b = blocks_of(fdt);
  uint32_t off = 0;
  for (;;) {
    const Token t = token(b, off);
    if (t.next < 0)
      return t.next == -kBadStructure && b.st_size - off >= 8 && be32(b.st + off) == kProp &&
             uint64_t{off} + 12 + be32(b.st + off + 4) > INT32_MAX;
    if (t.tag == kEnd) return false;
    off = static_cast<uint32_t>(t.next);
  }
}

// The whole-tree verdicts: check_header, mem_rsv_count, check_tree. Their
// numbers agree except where reader.h says we are stricter.
inline void compare_checks(const void* fdt, size_t size, Fail fail) {
  if (size < kHeaderSize) return;
  if (fdt_version(fdt) < 16) return;  // libfdt 1.6.1 dereferences NULL below v16
  const int h = check_header(fdt), lh = fdt_check_header(fdt);
  if (h != lh) fail("check_header " + std::to_string(h) + " libfdt " + std::to_string(lh));
  if (h != 0) return;
  if (total_size(fdt) > size) return;
  const int n = mem_rsv_count(fdt), ln = fdt_num_mem_rsv(fdt);
  if (n != ln) fail("mem_rsv_count " + std::to_string(n) + " libfdt " + std::to_string(ln));
  for (int i = 0; i < n; ++i) {
    uint64_t a = 0, s = 0, la = 0, ls = 0;
    if (mem_rsv(fdt, i, &a, &s) != fdt_get_mem_rsv(fdt, i, &la, &ls) || a != la || s != ls)
      fail("mem_rsv " + std::to_string(i));
  }
  const int c = check_tree(fdt, size), lc = fdt_check_full(fdt, size);
  // Stricter in one case: a property length that wraps the offset.
  if (c != lc && !(c == -kBadStructure && length_wraps_for_libfdt(fdt))) fail("check_tree " + std::to_string(c) + " libfdt " + std::to_string(lc));
}

// Every walk and property read on every node of a tree check_tree() accepts.
inline void compare_nodes(const void* fdt, Fail fail) {
  static const char* const kCompatibles[] = {"arm,pl011", "arm,sbsa-uart", "xen,xen", "none"};
  for (int node = fdt_next_node(fdt, -1, nullptr), count = 0; node >= 0 && count < 4096;
       node = fdt_next_node(fdt, node, nullptr), ++count) {
    const std::string at = " at node " + std::to_string(node);
    if (next_node(fdt, node) != fdt_next_node(fdt, node, nullptr)) fail("next_node" + at);
    const char* name = node_name(fdt, node);
    const char* lname = fdt_get_name(fdt, node, nullptr);
    if (name != lname) {
      fail("node_name" + at);
      continue;
    }
    if (parent_of(fdt, node) != fdt_parent_offset(fdt, node)) fail("parent_of" + at);
    if (first_child(fdt, node) != fdt_first_subnode(fdt, node)) fail("first_child" + at);
    if (next_sibling(fdt, node) != fdt_next_subnode(fdt, node)) fail("next_sibling" + at);
    if (address_cells(fdt, node) != fdt_address_cells(fdt, node)) fail("address_cells" + at);
    if (size_cells(fdt, node) != fdt_size_cells(fdt, node)) fail("size_cells" + at);
    char path[512];
    if (fdt_get_path(fdt, node, path, sizeof path) == 0) {
      int up = -2;
      const int found = path_offset(fdt, path, strlen(path), &up);
      if (found != fdt_path_offset(fdt, path)) fail(std::string("path_offset ") + path);
      if (found >= 0 && up != fdt_parent_offset(fdt, found)) fail(std::string("path_offset parent ") + path);
    }
    // Children by name, with and without the unit address.
    for (int c = fdt_first_subnode(fdt, node); c >= 0; c = fdt_next_subnode(fdt, c)) {
      const char* cn = fdt_get_name(fdt, c, nullptr);
      if (cn == nullptr) break;
      const size_t base = strcspn(cn, "@");
      for (size_t len : {strlen(cn), base})
        if (child_named(fdt, node, cn, len) != fdt_subnode_offset_namelen(fdt, node, cn, static_cast<int>(len)))
          fail("child_named " + std::string(cn, len) + at);
    }
    int prop;
    fdt_for_each_property_offset(prop, fdt, node) {
      const char* pname = nullptr;
      int llen = 0;
      if (fdt_getprop_by_offset(fdt, prop, &pname, &llen) == nullptr || pname == nullptr) continue;
      int len = 0;
      if (getprop(fdt, node, pname, &len) != fdt_getprop(fdt, node, pname, &llen) || len != llen)
        fail(std::string("getprop ") + pname + at);
      if (stringlist_count(fdt, node, pname) != fdt_stringlist_count(fdt, node, pname))
        fail(std::string("stringlist_count ") + pname + at);
      for (int i = -1; i < 4; ++i) {
        int slen = 0, lslen = 0;
        if (stringlist_get(fdt, node, pname, i, &slen) != fdt_stringlist_get(fdt, node, pname, i, &lslen) ||
            slen != lslen)
          fail(std::string("stringlist_get ") + pname + " " + std::to_string(i) + at);
      }
    }
    int len = 0;
    if (getprop(fdt, node, "no such property", &len) != nullptr || len != -kNotFound) fail("getprop absent" + at);
    // libfdt compares one byte past a value without a final NUL: only
    // well-formed lists are compared.
    const char* compat = static_cast<const char*>(fdt_getprop(fdt, node, "compatible", &len));
    if (compat == nullptr || (len > 0 && compat[len - 1] == '\0'))
      for (const char* k : kCompatibles)
        if (check_compatible(fdt, node, k) != fdt_node_check_compatible(fdt, node, k))
          fail(std::string("check_compatible ") + k + at);
  }
}

// node_by_compatible from the root and from every match on.
inline void compare_by_compatible(const void* fdt, const char* compat, Fail fail) {
  for (int node = fdt_next_node(fdt, -1, nullptr); node >= 0; node = fdt_next_node(fdt, node, nullptr)) {
    int len = 0;
    const char* c = static_cast<const char*>(fdt_getprop(fdt, node, "compatible", &len));
    if (c != nullptr && (len == 0 || c[len - 1] != '\0')) return;  // see compare_nodes
  }
  int ours = -1, theirs = -1;
  for (int guard = 0; guard < 4096; ++guard) {
    ours = node_by_compatible(fdt, ours, compat);
    theirs = fdt_node_offset_by_compatible(fdt, theirs, compat);
    if (ours != theirs) {
      fail(std::string("node_by_compatible ") + compat + ": " + std::to_string(ours) + " libfdt " +
           std::to_string(theirs));
      return;
    }
    if (ours < 0) return;
  }
}

}  // namespace mb::fdt::oracle

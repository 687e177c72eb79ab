// A fast reader of a flattened device tree's structure block, for the few
// walks discovery and fixup need: the structure check, children of a node,
// a node by path, a property of a node.
//
// Why not libfdt's own walk: libfdt 1.6.1 (Debian's) skips a node's name
// one bounds-checked fdt_offset_ptr() call per byte, and every lookup by
// path, every subnode step and every fdt_getprop() re-walks names that way.
// On QEMU virt's tree (48 children of the root, /chosen last) discovery and
// fixup cost ~1.5 M guest instructions that way, 2/3 of the whole boot. Here
// a name is skipped with one memchr() and a subtree in one pass of tokens.
//
// Offsets are libfdt's (from the start of the structure block), so results
// mix freely with libfdt calls. Every function bounds-checks what it reads;
// all but check_structure() expect a tree check_structure() accepted and
// answer -FDT_ERR_BADSTRUCTURE (or NOTFOUND) rather than read outside it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mb::loader::dt_detail {

// fdt_check_full's verdict on a tree whose header fdt_check_header
// accepted: 0, or -FDT_ERR_TRUNCATED (a token, name or property runs past
// the structure block), -FDT_ERR_BADSTRUCTURE (unknown token, unbalanced
// nodes, a named root, anything after the root), -FDT_ERR_BADOFFSET (a
// property name outside the strings block). Stricter than libfdt 1.6.1 in
// one case: a property length that wraps the 32-bit offset is truncation
// here (libfdt's int arithmetic lets it through).
int check_structure(const void* fdt);

// The first child node of `node`, or the sibling after `child`:
// -FDT_ERR_NOTFOUND when there is none (fdt_first_subnode/fdt_next_subnode).
int first_child(const void* fdt, int node);
int next_sibling(const void* fdt, int child);

// Like fdt_subnode_offset_namelen: a child named exactly `name`, or, when
// `name` has no '@', "name@unit".
int child_named(const void* fdt, int parent, const char* name, size_t len);

// Like fdt_path_offset_namelen: an absolute path ("/a/b") or one starting
// with an alias of /aliases (whose value must be an absolute path). *parent
// (when given) receives the found node's parent (-1 for the root).
int path_offset(const void* fdt, const char* path, size_t len, int* parent = nullptr);

// Like fdt_getprop: the value of `node`'s property `name` and its length,
// or nullptr with *len = -FDT_ERR_NOTFOUND (or another -FDT_ERR_*).
const void* getprop(const void* fdt, int node, const char* name, int* len);

}  // namespace mb::loader::dt_detail

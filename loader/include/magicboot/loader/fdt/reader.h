// Reading a flattened device tree in place: the header and memory
// reservation checks, the structure check, and the walks discovery, FIT
// parsing, the fixup and the early UART lookup need.
//
// Each function answers as the libfdt function named in its comment does
// (same offsets, same -kX numbers; host tests compare them with libfdt 1.6.1
// one for one), with three differences: we read trees of any alignment; a
// property length that wraps the 32-bit offset is -kBadStructure here
// (libfdt's int arithmetic lets it through); check_compatible() does not
// read the byte after a value that lacks its final NUL.
//
// Why not libfdt's walk: libfdt 1.6.1 skips a node's name one bounds-checked
// fdt_offset_ptr() call per byte, and every lookup by path, every subnode
// step and every fdt_getprop() re-walks names that way. On QEMU virt's tree
// that cost ~1.5 M guest instructions, 2/3 of the whole boot. Here a name is
// skipped a word at a time and a subtree in one pass of tokens.
//
// Every function bounds-checks what it reads; all but the checks expect a
// tree check_header() accepted, and answer -kBadStructure (or -kNotFound)
// on a malformed structure rather than read outside it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "magicboot/loader/fdt/format.h"

namespace mb::fdt {

// fdt_check_header: magic, versions, and every block inside totalsize.
int check_header(const void* fdt);

// fdt_num_mem_rsv: entries before the terminating one (size 0), or
// -kTruncated when there is no terminator inside totalsize.
int mem_rsv_count(const void* fdt);
// fdt_get_mem_rsv: entry `i` (not checked against the terminator), or
// -kBadOffset when it lies outside totalsize.
int mem_rsv(const void* fdt, int i, uint64_t* address, uint64_t* size);

// fdt_check_full's structure walk on a tree whose header check_header()
// accepted: 0, or -kTruncated (no END token inside the structure block, or a
// property name that runs past the strings block), -kBadStructure (a name or
// property value that runs past the block, an unknown token, unbalanced
// nodes, a named root, anything after the root), -kBadOffset (a property
// name outside the strings block).
int check_structure(const void* fdt);

// fdt_check_full: check_header, totalsize within `buffer_size`, the memory
// reservations and the structure.
int check_tree(const void* fdt, size_t buffer_size);

// fdt_first_subnode / fdt_next_subnode: a node's first child, the sibling
// after `child`; -kNotFound when there is none.
int first_child(const void* fdt, int node);
int next_sibling(const void* fdt, int child);

// fdt_next_node(fdt, node, nullptr) in document order: the node after `node`
// (-1: the root), at any depth; -kNotFound past the last.
int next_node(const void* fdt, int node);

// fdt_subnode_offset_namelen: a child named exactly `name`, or, when `name`
// has no '@', "name@unit".
int child_named(const void* fdt, int parent, const char* name, size_t len);

// fdt_path_offset_namelen: an absolute path ("/a/b") or one starting with an
// alias of /aliases (whose value must be an absolute path). *parent (when
// given) receives the found node's parent (-1 for the root).
int path_offset(const void* fdt, const char* path, size_t len, int* parent = nullptr);

// fdt_parent_offset: the node `node` is a child of (-kNotFound for the root).
int parent_of(const void* fdt, int node);

// fdt_get_name: the node's name ("" for the root), NUL-terminated inside the
// structure block; nullptr when `node` is not a node.
const char* node_name(const void* fdt, int node);

// fdt_getprop: the value of `node`'s property `name` and its length, or
// nullptr with *len = -kNotFound (or another -kX). The first of repeated
// properties.
const void* getprop(const void* fdt, int node, const char* name, int* len);

// fdt_address_cells / fdt_size_cells: `node`'s #address-cells (2 when
// absent, -kBadNCells when 0) and #size-cells (1 when absent); -kBadNCells
// for a value that is not one cell or over 4.
int address_cells(const void* fdt, int node);
int size_cells(const void* fdt, int node);

// fdt_stringlist_count / fdt_stringlist_get: the strings of a string-list
// property; -kBadValue when the value does not end with a NUL.
int stringlist_count(const void* fdt, int node, const char* prop);
const char* stringlist_get(const void* fdt, int node, const char* prop, int index, int* len);

// fdt_node_check_compatible: 0 when "compatible" lists `compatible`, 1 when
// it does not, -kX when the property is absent (or the node is not one).
int check_compatible(const void* fdt, int node, const char* compatible);

// fdt_node_offset_by_compatible: the first node after `from` (-1: from the
// root) that is compatible with `compatible`, or -kNotFound.
int node_by_compatible(const void* fdt, int from, const char* compatible);

}  // namespace mb::fdt

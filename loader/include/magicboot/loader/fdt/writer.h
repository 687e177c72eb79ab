// Writing a flattened device tree front to back into a fixed buffer: the
// memory reservations, then the structure (tokens copied from another tree
// or made here), then the strings block (another tree's, plus the few names
// it lacked). The layout is the packed one libfdt's fdt_pack leaves: header,
// reservations, structure, strings, no gaps; the header says v17.
//
// Past the end of the buffer the writer only counts: finish() then tells the
// size the whole tree needs, and fits() is false.
#pragma once

#include <cstddef>
#include <cstdint>

#include "magicboot/loader/fdt/tokens.h"

namespace mb::fdt {

class Writer {
 public:
  // Names come from `base` (the strings block copied into the new tree);
  // add_name() appends what it lacks.
  Writer(void* out, size_t cap, const char* base, uint32_t base_size);

  // Phase 1: the memory reservations (a zero size would end the list: the
  // caller leaves empty ranges out).
  void mem_rsv(uint64_t address, uint64_t size);
  // Phase 2: the structure. begin_structure() ends the reservations.
  void begin_structure();
  // Tokens as they stand in another structure block (whole, aligned tokens).
  void copy_tokens(const uint8_t* tokens, size_t n);
  void begin_node(const char* name);
  void end_node();
  void prop(uint32_t nameoff, const void* value, uint32_t len);
  void prop_u64(uint32_t nameoff, uint64_t value);

  // The strings-block offset of `name`: where the base block has it (any
  // NUL-terminated occurrence, a suffix of a longer name too), else where it
  // will be appended. -1 when more than kMaxNewNames are new.
  static constexpr int kMaxNewNames = 4;
  int64_t add_name(const char* name);

  // Phase 3: END, the strings block, the header. Returns the tree's size
  // (which exceeds the buffer when !fits()).
  size_t finish(uint32_t boot_cpuid);
  bool fits() const { return fits_; }

 private:
  void put(const void* p, size_t n);
  void pad4();

  uint8_t* out_;
  size_t cap_;
  size_t size_ = kHeaderSize;
  bool fits_;
  const char* base_;
  uint32_t base_size_;
  size_t off_struct_ = 0;
  const char* new_names_[kMaxNewNames] = {};
  int new_count_ = 0;
};

}  // namespace mb::fdt

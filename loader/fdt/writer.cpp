#include "magicboot/loader/fdt/writer.h"

#include <cstring>

namespace mb::fdt {

Writer::Writer(void* out, size_t cap, const char* base, uint32_t base_size)
    : out_(static_cast<uint8_t*>(out)), cap_(cap), fits_(cap >= kHeaderSize), base_(base), base_size_(base_size) {}

void Writer::put(const void* p, size_t n) {
  if (fits_ && n <= cap_ - size_) {
    memcpy(out_ + size_, p, n);
  } else {
    fits_ = false;
  }
  size_ += n;
}

void Writer::pad4() {
  static constexpr uint8_t kZero[4] = {};
  put(kZero, (4 - (size_ & 3)) & 3);
}

void Writer::mem_rsv(uint64_t address, uint64_t size) {
  uint8_t e[kMemRsvEntrySize];
  put_be64(e, address);
  put_be64(e + 8, size);
  put(e, sizeof e);
}

void Writer::begin_structure() {
  mem_rsv(0, 0);
  off_struct_ = size_;
}

void Writer::copy_tokens(const uint8_t* tokens, size_t n) { put(tokens, n); }

void Writer::begin_node(const char* name) {
  uint8_t tag[4];
  put_be32(tag, kBeginNode);
  put(tag, 4);
  put(name, strlen(name) + 1);
  pad4();
}

void Writer::end_node() {
  uint8_t tag[4];
  put_be32(tag, kEndNode);
  put(tag, 4);
}

void Writer::prop(uint32_t nameoff, const void* value, uint32_t len) {
  uint8_t head[12];
  put_be32(head, kProp);
  put_be32(head + 4, len);
  put_be32(head + 8, nameoff);
  put(head, sizeof head);
  put(value, len);
  pad4();
}

void Writer::prop_u64(uint32_t nameoff, uint64_t value) {
  uint8_t v[8];
  put_be64(v, value);
  prop(nameoff, v, sizeof v);
}

int64_t Writer::add_name(const char* name) {
  const size_t n = strlen(name) + 1;  // matched with its NUL
  for (uint32_t i = 0; n <= base_size_ && i <= base_size_ - n; ++i)
    if (base_[i] == name[0] && memcmp(base_ + i, name, n) == 0) return i;
  uint32_t off = base_size_;
  for (int k = 0; k < new_count_; ++k) {
    if (strcmp(new_names_[k], name) == 0) return off;
    off += static_cast<uint32_t>(strlen(new_names_[k]) + 1);
  }
  if (new_count_ == kMaxNewNames) return -1;
  new_names_[new_count_++] = name;
  return off;
}

size_t Writer::finish(uint32_t boot_cpuid) {
  uint8_t tag[4];
  put_be32(tag, kEnd);
  put(tag, 4);
  const size_t off_strings = size_;
  put(base_, base_size_);
  for (int k = 0; k < new_count_; ++k) put(new_names_[k], strlen(new_names_[k]) + 1);
  if (fits_) {
    // In header order (format.h's HeaderField offsets are 4 * index).
    const uint32_t fields[] = {kMagic,
                               static_cast<uint32_t>(size_),
                               static_cast<uint32_t>(off_struct_),
                               static_cast<uint32_t>(off_strings),
                               static_cast<uint32_t>(kHeaderSize),
                               kVersion,
                               kLastCompatibleVersion,
                               boot_cpuid,
                               static_cast<uint32_t>(size_ - off_strings),
                               static_cast<uint32_t>(off_strings - off_struct_)};
    static_assert(sizeof fields == kHeaderSize && kHdrSizeStruct == 4 * 9 && kHdrBootCpuid == 4 * 7);
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; ++i) put_be32(out_ + 4 * i, fields[i]);
  }
  return size_;
}

}  // namespace mb::fdt

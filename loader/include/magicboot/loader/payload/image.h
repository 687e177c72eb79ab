// The arm64 Linux Image header (Documentation/arch/arm64/booting.rst): where
// the kernel wants to sit (text_offset from a 2 MiB-aligned base) and how much
// memory it needs (image_size, which includes bss).
#pragma once

#include <cstddef>
#include <cstdint>

#include "magicboot/error.h"

namespace mb::loader {

// The 64-byte header at the start of an Image, little-endian on disk.
struct [[gnu::packed]] RawImageHeader {
  uint32_t code0;
  uint32_t code1;
  uint64_t text_offset;
  uint64_t image_size;
  uint64_t flags;
  uint64_t res2;
  uint64_t res3;
  uint64_t res4;
  uint32_t magic;
  uint32_t res5;
};
static_assert(sizeof(RawImageHeader) == 64);
static_assert(__builtin_offsetof(RawImageHeader, text_offset) == 0x08);
static_assert(__builtin_offsetof(RawImageHeader, image_size) == 0x10);
static_assert(__builtin_offsetof(RawImageHeader, flags) == 0x18);
static_assert(__builtin_offsetof(RawImageHeader, magic) == 0x38);

inline constexpr size_t kImageHeaderSize = sizeof(RawImageHeader);
inline constexpr uint32_t kImageMagic = 0x644d5241;  // "ARM\x64"
// Kernels before v3.17 leave image_size 0; they were linked at this offset.
inline constexpr uint64_t kLegacyTextOffset = 0x80000;

// Flag bits (booting.rst "flags").
inline constexpr uint64_t kImageFlagBigEndian = 1u << 0;
inline constexpr unsigned kImageFlagPageSizeShift = 1;  // bits 1-2
inline constexpr uint64_t kImageFlagPageSizeMask = 3u << kImageFlagPageSizeShift;
inline constexpr uint64_t kImageFlagAnywhere = 1u << 3;  // base may be anywhere in RAM

struct ImageHeader {
  uint64_t text_offset;  // 0x80000 for a legacy (image_size 0) kernel
  uint64_t image_size;   // bytes needed from base + text_offset, bss included; 0 = legacy, unknown
  uint64_t flags;        // raw flags field
  bool big_endian;       // always false in a parsed header: big-endian kernels are rejected
  unsigned page_size_kib;  // 0 unspecified, 4, 16 or 64
  bool anywhere;           // flag bit 3: the 2 MiB-aligned base may be anywhere in RAM
};

// Parses the first kImageHeaderSize bytes of data. Fails when len is short
// ("image-truncated"), the magic is wrong ("image-magic") or the kernel is
// big-endian ("image-endian", kUnsupported). Only the header is read, so
// data may be just the inflated prefix of a gzip'd kernel.
Res<ImageHeader> parse_image_header(const uint8_t* data, size_t len);

// image_size covers the file plus bss, so a (non-legacy) header that claims
// less than the file holds is lying ("image-size"). file_size is the length
// of the uncompressed Image.
Res<void> check_image_size(const ImageHeader& hdr, uint64_t file_size);

// Both at once, for a raw Image whose whole file is data[0, len).
Res<ImageHeader> parse_image(const uint8_t* data, size_t len);

}  // namespace mb::loader

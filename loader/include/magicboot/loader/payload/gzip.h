// gzip (RFC 1952) members, inflated by magicboot's own raw-deflate decoder
// (inflate.h, which says why not zlib or libdeflate), its tables in the
// caller's Arena (no heap in the firmware), released on return:
//  - in place, when the GuestMemory offers writable() (the firmware): the
//    destination is planned before the load and identity-mapped. Debian's
//    6.1 arm64 Image (27,303,872 B, gzip -9) costs 146 M guest instructions
//    from reset to the kernel under QEMU TCG (5.4 a byte, CRC32 included);
//    zlib's streaming inflate cost 14.4 a byte there, libdeflate 8.0;
//  - through a 64 KiB window buffer and GuestMemory::write() for a memory
//    without writable() (the model, which must see every write).
// Both verify the trailer's CRC32 and ISIZE and name the exact input offset
// of a corrupt or truncated stream.
#pragma once

#include <cstddef>
#include <cstdint>

#include "magicboot/addr.h"
#include "magicboot/arena.h"
#include "magicboot/error.h"
#include "magicboot/loader/payload/progress.h"
#include "magicboot/platform.h"

namespace mb::loader {

inline constexpr uint8_t kGzipMagic0 = 0x1f;
inline constexpr uint8_t kGzipMagic1 = 0x8b;
inline constexpr size_t kGzipTrailerSize = 8;  // CRC32, ISIZE (both little-endian)
// Zero bytes after the trailer that are padding, not trailing data: whoever
// put the payload in memory may round it up to a page (libxl does, for an xl
// guest's ramdisk). gzip(1) ignores trailing zeros too.
inline constexpr size_t kGzipPaddingMax = 4095;

// Bytes of arena gunzip_prefix / gunzip_to_guest need at most: the inflate
// tables (~35 KiB) plus, without writable(), the 64 KiB window buffer.
inline constexpr size_t kGunzipArenaBytes = 128 * 1024;
inline constexpr size_t kGunzipChunkBytes = 64 * 1024;
inline constexpr uint64_t kGunzipProgressEvery = 4u << 20;

bool has_gzip_magic(const uint8_t* data, size_t len);

// Offset of the deflate stream after a validated member header (magic,
// method 8, no reserved flag bits, optional fields inside data).
Res<size_t> gzip_header_size(const uint8_t* data, size_t len);

// The trailer's ISIZE: the uncompressed size modulo 2^32. Validates the
// header first.
Res<uint64_t> gzip_isize(const uint8_t* data, size_t len);

// Inflates only the first out_len bytes (fewer if the stream is shorter);
// returns how many were produced. For reading the Image header of a gzip'd
// kernel without inflating all of it. Checks no CRC (the stream is not read
// to its end).
Res<size_t> gunzip_prefix(const uint8_t* src, size_t len, uint8_t* out, size_t out_len,
                          Arena& arena);

// Inflates the whole member [src, src+len) to guest memory at dst: in one
// call into mem.writable() when offered, else in chunks through mem.write(). Never writes at or past dst + capacity: output larger
// than capacity fails ("gzip-capacity") before that chunk is written. Verifies
// the trailer's CRC32 and ISIZE; a corrupt or truncated stream fails naming
// the input offset. src must not overlap [dst, dst+capacity). progress may be
// nullptr. Returns the number of bytes written.
Res<uint64_t> gunzip_to_guest(GuestMemory& mem, const uint8_t* src, size_t len, GuestPhys dst,
                              uint64_t capacity, Arena& arena, Progress* progress);

}  // namespace mb::loader

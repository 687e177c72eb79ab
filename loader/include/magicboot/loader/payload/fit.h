// FIT images (U-Boot's "Flattened Image Tree", built by `mkimage -f x.its`):
// a device tree whose /images nodes carry the kernel, ramdisk and DTB, either
// embedded (`data`) or after the tree (`data-offset` from the 4-byte-aligned
// end of the tree, or `data-position` from its start, with `data-size`, as
// `mkimage -E` writes), and whose /configurations say which belong together.
#pragma once

#include <cstddef>
#include <cstdint>

#include "magicboot/addr.h"
#include "magicboot/error.h"
#include "magicboot/loader/payload/payload.h"

namespace mb::loader {

inline constexpr uint32_t kFdtMagic = 0xd00dfeed;  // big-endian at offset 0

bool has_fdt_magic(const uint8_t* data, size_t len);

// Selects configuration fit_config (nullptr: /configurations "default"),
// resolves its kernel (required), ramdisk and fdt (optional), and verifies
// every hash node of those images (crc32, sha1, sha256; a mismatch is
// kBadHash "fit-hash" naming the image and algorithm). Fails on a truncated
// or malformed tree, missing nodes, data outside the payload, a wrong image
// type or arch, and compression other than none/gzip ("fit-compression",
// kUnsupported). All strings in the result point into data.
Res<Payload> parse_fit(const uint8_t* data, size_t len, GuestPhys addr, const char* fit_config);

}  // namespace mb::loader

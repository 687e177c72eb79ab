// What the loader was handed: a FIT (mkimage), a bare arm64 Image or a gzip'd
// Image. identify_payload finds the kernel, ramdisk and DTB inside it without
// copying anything: every Blob points into the payload.
#pragma once

#include <cstddef>
#include <cstdint>

#include "magicboot/addr.h"
#include "magicboot/error.h"

namespace mb::loader {

enum class PayloadKind : uint8_t { kFit, kImage, kGzipImage };
enum class Compression : uint8_t { kNone, kGzip };

const char* to_string(PayloadKind kind);
const char* to_string(Compression c);

// A piece of the payload: its guest-physical address (payload address plus
// its offset in the payload) and the same bytes as seen by the loader.
struct Blob {
  GuestPhys addr;
  uint64_t size = 0;
  const uint8_t* data = nullptr;

  PhysRange range() const { return PhysRange{addr, size}; }
};

struct Payload {
  PayloadKind kind;
  Blob kernel;
  Compression kernel_compression;
  Blob ramdisk;                  // size 0 if none; passed on as stored (Linux unpacks gzip itself)
  Blob fdt;                      // size 0 if none
  const char* fit_config;        // FIT configuration used, or nullptr
  const char* kernel_name;       // FIT image node of the kernel, or nullptr
};

// data[0, len) is the payload, found at guest-physical addr. fit_config
// names a FIT configuration (nullptr: the FIT's default; ignored here for a
// bare or gzip'd Image, which has no configurations -- the boot's identify
// step refuses that combination as "fit-config-not-fit"). A bare Image's
// header is validated here; a gzip'd one only by its gzip header and trailer.
// Fails on anything that is none of the three ("payload-kind"), and as
// parse_fit() does for a FIT.
Res<Payload> identify_payload(const uint8_t* data, size_t len, GuestPhys addr,
                              const char* fit_config);

}  // namespace mb::loader

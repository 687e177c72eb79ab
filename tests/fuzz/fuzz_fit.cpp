// Payload identification: identify_payload (FIT via parse_fit, bare Image,
// gzip'd Image). Oracle: every Blob lies inside the payload at the address
// its offset says, every name points into the payload, the kernel passes the
// checks its kind promises, and the ledger agrees with plain range
// arithmetic on whether the blobs can all be claimed. And our FDT reader
// against host libfdt on the FIT's tree (oracle.h).
#include <libfdt.h>

#include <cstring>
#include <memory>

#include "fuzz_check.h"
#include "oracle.h"
#include "magicboot/loader/payload/fit.h"
#include "magicboot/loader/payload/gzip.h"
#include "magicboot/loader/payload/image.h"
#include "magicboot/loader/payload/payload.h"

namespace {

using namespace mb;
using namespace mb::loader;

constexpr GuestPhys kPayloadAddr{0x48000000};

void oracle_failed(const std::string& what) { FUZZ_CHECK(false, "reader and libfdt differ: %s", what.c_str()); }

void check_reader(const uint8_t* buf, size_t size) {
  fdt::oracle::compare_checks(buf, size, oracle_failed);
  if (size >= fdt::kHeaderSize && fdt_version(buf) >= 16 && fdt::check_tree(buf, size) == 0 &&
      fdt_check_full(buf, size) == 0)
    fdt::oracle::compare_nodes(buf, oracle_failed);
}

void check_blob(const char* what, const Blob& b, const uint8_t* buf, size_t len) {
  if (b.size == 0) return;
  FUZZ_CHECK(b.data >= buf && b.data <= buf + len && b.size <= size_t(buf + len - b.data),
             "%s [%p, +%#lx) outside the payload [%p, +%#zx)", what, static_cast<const void*>(b.data), b.size,
             static_cast<const void*>(buf), len);
  FUZZ_CHECK(b.addr == kPayloadAddr + uint64_t(b.data - buf), "%s at %#lx, its offset says %#lx", what,
             b.addr.value, (kPayloadAddr.value + uint64_t(b.data - buf)));
}

void check_name(const char* what, const char* s, const uint8_t* buf, size_t len) {
  if (s == nullptr) return;
  const auto* p = reinterpret_cast<const uint8_t*>(s);
  FUZZ_CHECK(p >= buf && p < buf + len, "%s name outside the payload", what);
  FUZZ_CHECK(std::memchr(p, 0, size_t(buf + len - p)) != nullptr, "%s name not terminated in the payload", what);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The last byte chooses the configuration (it stays part of the payload).
  static const char* const kConfigs[] = {nullptr, "conf-1", "conf-2", "nope"};
  const char* config = kConfigs[data[size - 1] % 4];
  // A heap copy of exactly `size` bytes: 8-byte aligned as libfdt needs,
  // with ASan's redzone right after the last byte.
  auto buf = std::make_unique<uint8_t[]>(size);
  std::memcpy(buf.get(), data, size);
  const uint8_t* p = buf.get();
  check_reader(p, size);

  auto res = identify_payload(p, size, kPayloadAddr, config);
  if (!res.ok()) {
    FUZZ_CHECK(res.error().check[0] != '\0', "error without a check name");
    return 0;
  }
  const Payload& pl = *res;
  FUZZ_CHECK(pl.kernel.size > 0, "no kernel");
  check_blob("kernel", pl.kernel, p, size);
  check_blob("ramdisk", pl.ramdisk, p, size);
  check_blob("fdt", pl.fdt, p, size);
  check_name("configuration", pl.fit_config, p, size);
  check_name("kernel image", pl.kernel_name, p, size);

  if (pl.kind == PayloadKind::kFit) {
    FUZZ_CHECK(has_fdt_magic(p, size), "a FIT without the FDT magic");
    // libfdt's name rule (as U-Boot uses it): a name without a unit address
    // also matches a node that has one, "conf-2" finds "conf-2@1".
    if (config != nullptr) {
      size_t n = std::strlen(config);
      bool same = std::strcmp(pl.fit_config, config) == 0 ||
                  (std::strchr(config, '@') == nullptr && std::strncmp(pl.fit_config, config, n) == 0 &&
                   pl.fit_config[n] == '@');
      FUZZ_CHECK(same, "asked %s, got %s", config, pl.fit_config);
    }
  } else {
    FUZZ_CHECK(pl.kernel.data == p && pl.kernel.size == size, "a bare payload's kernel is not the whole payload");
    FUZZ_CHECK(pl.ramdisk.size == 0 && pl.fdt.size == 0, "a bare payload with a ramdisk or fdt");
  }
  if (pl.kernel_compression == Compression::kNone) {
    FUZZ_CHECK(parse_image(pl.kernel.data, pl.kernel.size).ok(), "an uncompressed kernel with a bad Image header");
  } else {
    FUZZ_CHECK(gzip_header_size(pl.kernel.data, pl.kernel.size).ok(), "a gzip kernel with a bad gzip header");
  }
  if (pl.fdt.size != 0)
    FUZZ_CHECK(has_fdt_magic(pl.fdt.data, pl.fdt.size), "the fdt blob has no FDT magic");

  // The payload is one claimed range of RAM; the pieces carved out of it by
  // type must go in exactly when they do not overlap.
  MemoryLedger l;
  const PhysRange whole{kPayloadAddr, size};
  FUZZ_CHECK(l.add_ram(whole).ok(), "payload range refused as RAM");
  struct Piece {
    PhysRange r;
    RangeType t;
  } pieces[] = {{pl.kernel.range(), RangeType::kKernel},
                {pl.ramdisk.range(), RangeType::kInitrd},
                {pl.fdt.range(), RangeType::kOutgoingDt}};
  for (size_t i = 0; i < 3; ++i) {
    if (pieces[i].r.empty()) continue;
    bool clash = false;
    for (size_t j = 0; j < i; ++j) clash |= pieces[j].r.overlaps(pieces[i].r);
    const bool ok = l.claim(pieces[i].r, pieces[i].t).ok();
    FUZZ_CHECK(ok == !clash, "claim %s [%#lx, +%#lx): ok %d, overlaps an earlier piece %d", to_string(pieces[i].t),
               pieces[i].r.base.value, pieces[i].r.size, ok, clash);
    if (!ok) pieces[i].r = PhysRange{};  // not in the ledger
    mb::fuzz::check_ledger(l, std::span<const PhysRange>(&whole, 1));
  }
  return 0;
}

// The DT walk: discover() on arbitrary bytes; on a tree it accepts, the real
// step 2 (steps::build_ledger) and then build_kernel_dt(). Bytes after the
// tree's totalsize (discover reads a buffer larger than the tree) choose the
// loader layout and the fixup parameters, so seeds are plain dtc output.
//
// Oracle: what discover() returns keeps its documented promises (banks
// sorted, disjoint, not on GUEST_MAGIC or the grant table; strings inside the
// blob); a ledger built from it keeps the ledger's invariants and owns every
// range it was told about; the kernel's DT is discovered again with the same
// RAM and /hypervisor, the new initrd and command line, and no reservation
// left over the old payload. And differential, against host libfdt: every
// verdict and walk of our FDT reader on the raw bytes (oracle.h), and
// fdt_check_full on the kernel's DT our writer made.
#include <fuzzer/FuzzedDataProvider.h>
#include <libfdt.h>

#include <cstring>
#include <memory>
#include <vector>

#include "boards/xen_arm64/board.h"
#include "fuzz_check.h"
#include "oracle.h"
#include "magicboot/loader/dt.h"
#include "magicboot/loader/dt_fixup.h"
#include "steps.h"

namespace {

using namespace mb;
using namespace mb::loader;

void check_string(const char* what, const char* s, const uint8_t* buf, size_t len) {
  if (s == nullptr) return;
  const auto* p = reinterpret_cast<const uint8_t*>(s);
  FUZZ_CHECK(p >= buf && p < buf + len, "%s outside the blob", what);
  FUZZ_CHECK(std::memchr(p, 0, size_t(buf + len - p)) != nullptr, "%s not terminated in the blob", what);
}

void check_discovered(const DiscoveredDt& dt, const uint8_t* buf, size_t len) {
  FUZZ_CHECK(dt.bank_count >= 1 && dt.bank_count <= DiscoveredDt::kMaxBanks, "%zu banks", dt.bank_count);
  FUZZ_CHECK(dt.reserved_count <= DiscoveredDt::kMaxReserved, "%zu reservations", dt.reserved_count);
  for (size_t i = 0; i < dt.bank_count; ++i) {
    const PhysRange& b = dt.banks[i];
    FUZZ_CHECK(b.size != 0 && b.base.value + b.size > b.base.value, "bank %zu [%#lx, +%#lx) empty or wraps", i,
               b.base.value, b.size);
    if (i > 0) FUZZ_CHECK(dt.banks[i - 1].end() <= b.base, "banks %zu and %zu unsorted or overlapping", i - 1, i);
    if (dt.xen.present) {
      FUZZ_CHECK(!b.overlaps(boards::xen_arm64::kMagic), "bank %zu on GUEST_MAGIC", i);
      FUZZ_CHECK(!b.overlaps(dt.xen.grant_table), "bank %zu on the grant table", i);
    }
  }
  for (const DtReservation& r : dt.reservations()) {
    FUZZ_CHECK(r.range.size != 0 && r.range.base.value + r.range.size > r.range.base.value,
               "reservation [%#lx, +%#lx) empty or wraps", r.range.base.value, r.range.size);
    if (r.name != nullptr && std::strcmp(r.name, "/") != 0 && std::strcmp(r.name, "?") != 0)
      check_string("reservation name", r.name, buf, len);
  }
  FUZZ_CHECK(dt.payload.base.value + dt.payload.size >= dt.payload.base.value, "payload wraps");
  check_string("bootargs", dt.bootargs, buf, len);
  check_string("stdout-path", dt.stdout_path.path, buf, len);
  if (dt.stdout_path.path != nullptr) {
    FUZZ_CHECK(dt.stdout_path.path_len <= std::strlen(dt.stdout_path.path), "stdout path_len past the string");
    check_string("stdout options", dt.stdout_path.options, buf, len);
  }
  FUZZ_CHECK(dt.total_size <= len, "totalsize %zu in a %zu-byte buffer", dt.total_size, len);
  if (dt.xen.has_evtchn)
    FUZZ_CHECK(dt.xen.evtchn_intid >= 16 && dt.xen.evtchn_intid < 1020, "event channel INTID %u", dt.xen.evtchn_intid);
}

// A range inside bank `bank` at `off` pages, `pages` long (clipped to it).
PhysRange in_bank(const DiscoveredDt& dt, FuzzedDataProvider& in) {
  const PhysRange& b = dt.banks[in.ConsumeIntegralInRange<size_t>(0, dt.bank_count - 1)];
  const uint64_t off = uint64_t{in.ConsumeIntegral<uint16_t>()} << 12;
  const uint64_t size = uint64_t{in.ConsumeIntegralInRange<uint16_t>(1, 0x400)} << 12;
  if (off >= b.size) return PhysRange{b.base, size < b.size ? size : b.size};
  return PhysRange{b.base + off, size < b.size - off ? size : b.size - off};
}

void check_step2(DiscoveredDt dt, FuzzedDataProvider& in) {
  auto ledger = std::make_unique<MemoryLedger>();
  const LoaderLayout layout{in_bank(dt, in), in_bank(dt, in), in_bank(dt, in)};
  dt.blob = in_bank(dt, in);
  auto res = steps::build_ledger(layout, dt, *ledger);
  const MemoryLedger& l = *ledger;
  if (!res.ok()) {
    FUZZ_CHECK(res.error().code != ErrorCode::kInvariant, "build_ledger: %s", res.error().detail);
    FUZZ_CHECK(res.error().check[0] != '\0', "error without a check name");
    return;
  }
  mb::fuzz::check_ledger(l, dt.ram());
  auto owned_by = [&](PhysRange r, RangeType t) {
    if (r.empty()) return true;
    const LedgerRange* a = l.find(r.base);
    return a != nullptr && a->type == t && a->range.contains(r);
  };
  FUZZ_CHECK(owned_by(dt.payload, RangeType::kPayload), "payload not claimed");
  FUZZ_CHECK(owned_by(dt.blob, RangeType::kIncomingDt), "incoming DT not claimed");
  FUZZ_CHECK(owned_by(layout.image, RangeType::kLoaderImage), "loader image not claimed");
  FUZZ_CHECK(owned_by(layout.stack, RangeType::kLoaderStack), "loader stack not claimed");
  FUZZ_CHECK(owned_by(layout.heap, RangeType::kLoaderHeap), "loader heap not claimed");
  for (const DtReservation& r : dt.reservations())
    FUZZ_CHECK(owned_by(r.range, RangeType::kReserved), "reservation [%#lx, %#lx) not claimed",
               r.range.base.value, r.range.end().value);
  if (dt.xen.present) {
    FUZZ_CHECK(owned_by(boards::xen_arm64::kMagic, RangeType::kMagic), "GUEST_MAGIC not in the ledger");
    FUZZ_CHECK(l.total(RangeType::kGrantTable) != 0, "no grant table in the ledger");
  }
}

void check_fixup(const uint8_t* fdt, const DiscoveredDt& dt, FuzzedDataProvider& in) {
  static const char* const kBootargs[] = {nullptr, "", "console=hvc0 root=/dev/ram0",
                                          "a rather longer command line that grows /chosen by more than its "
                                          "old bootargs held, to move the strings block"};
  FixupParams params;
  params.bootargs = kBootargs[in.ConsumeIntegralInRange<int>(0, 3)];
  if (in.ConsumeBool()) params.initrd = in_bank(dt, in);
  PhysRange extra{GuestPhys{in.ConsumeIntegral<uint32_t>() & ~0xfffull}, 0x1000};
  if (in.ConsumeBool()) params.reserve = std::span<const PhysRange>(&extra, 1);

  const size_t cap = dt.total_size + kFixupSlack;
  auto out = std::make_unique<uint8_t[]>(cap);
  auto res = build_kernel_dt(fdt, out.get(), cap, params);
  if (!res.ok()) {
    // A tree discover() accepted is always editable; only room can run out.
    FUZZ_CHECK(res.error().code == ErrorCode::kNoMemory, "build_kernel_dt: %s: %s", res.error().check,
               res.error().detail);
    return;
  }
  FUZZ_CHECK(*res <= cap && fdt_totalsize(out.get()) == *res, "kernel DT of %zu bytes in %zu", *res, cap);
  const int full = fdt_check_full(out.get(), *res);
  FUZZ_CHECK(full == 0, "libfdt refuses the kernel DT: %s", fdt_strerror(full));
  auto again = discover(out.get(), *res);
  if (!again.ok() && again.error().code == ErrorCode::kUnsupported &&
      std::strcmp(again.error().check, "dt-reserved") == 0 && !params.reserve.empty())
    return;  // our one added reservation was one too many
  FUZZ_CHECK(again.ok(), "the kernel DT does not discover: %s: %s", again.error().check, again.error().detail);
  const DiscoveredDt& k = *again;
  FUZZ_CHECK(k.bank_count == dt.bank_count && std::equal(dt.banks, dt.banks + dt.bank_count, k.banks),
             "RAM changed in the kernel DT");
  FUZZ_CHECK(k.xen.present == dt.xen.present && k.xen.major == dt.xen.major && k.xen.minor == dt.xen.minor &&
                 k.xen.grant_table == dt.xen.grant_table && k.xen.has_evtchn == dt.xen.has_evtchn &&
                 k.xen.evtchn_intid == dt.xen.evtchn_intid,
             "/hypervisor changed in the kernel DT");
  FUZZ_CHECK(k.payload == params.initrd, "kernel DT initrd [%#lx, +%#lx), wanted [%#lx, +%#lx)",
             k.payload.base.value, k.payload.size, params.initrd.base.value, params.initrd.size);
  if (params.bootargs != nullptr) {
    FUZZ_CHECK(k.bootargs != nullptr && std::strcmp(k.bootargs, params.bootargs) == 0, "bootargs not set");
  } else {
    FUZZ_CHECK((k.bootargs == nullptr) == (dt.bootargs == nullptr) &&
                   (k.bootargs == nullptr || std::strcmp(k.bootargs, dt.bootargs) == 0),
               "bootargs changed though none were given");
  }
  for (const DtReservation& r : k.reservations()) {
    const bool ours = r.source == DtReservation::Source::kMemreserve && !params.reserve.empty() && r.range == extra;
    FUZZ_CHECK(ours || !r.range.overlaps(dt.payload), "reservation [%#lx, %#lx) left over the old payload",
               r.range.base.value, r.range.end().value);
  }
}

void oracle_failed(const std::string& what) { FUZZ_CHECK(false, "reader and libfdt differ: %s", what.c_str()); }

// Our reader against libfdt on whatever the bytes are.
void check_reader(const uint8_t* buf, size_t size) {
  fdt::oracle::compare_checks(buf, size, oracle_failed);
  if (size < fdt::kHeaderSize || fdt_version(buf) < 16 || fdt::check_tree(buf, size) != 0 ||
      fdt_check_full(buf, size) != 0)
    return;
  fdt::oracle::compare_nodes(buf, oracle_failed);
  for (const char* c : {"arm,pl011", "arm,sbsa-uart", "xen,xen"}) fdt::oracle::compare_by_compatible(buf, c, oracle_failed);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Exactly `size` bytes on the heap, 8-byte aligned: a read past the end
  // hits ASan's redzone.
  auto buf = std::make_unique<uint8_t[]>(size);
  if (size != 0) std::memcpy(buf.get(), data, size);
  check_reader(buf.get(), size);
  auto res = discover(buf.get(), size);
  if (!res.ok()) {
    FUZZ_CHECK(res.error().check[0] != '\0', "error without a check name");
    return 0;
  }
  const DiscoveredDt& dt = *res;
  check_discovered(dt, buf.get(), size);
  FuzzedDataProvider tail(buf.get() + dt.total_size, size - dt.total_size);
  check_step2(dt, tail);
  check_fixup(buf.get(), dt, tail);
  return 0;
}

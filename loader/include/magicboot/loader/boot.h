// One boot, step by step (ARCHITECTURE.md "Data flow"). prepare() runs steps
// 1-8 and fills a BootReport; boot() adds the report and the jump. Each step
// is a function of its inputs; the report is the only state they share.
// A failed boot never jumps: shared_info is removed again and the error,
// naming the failed check and its addresses, is returned.
#pragma once

#include <cstdint>

#include "magicboot/arena.h"
#include "magicboot/error.h"
#include "magicboot/loader/dt.h"
#include "magicboot/loader/ledger.h"
#include "magicboot/loader/payload/image.h"
#include "magicboot/loader/payload/payload.h"
#include "magicboot/loader/payload/progress.h"
#include "magicboot/magic_pages/magic_pfns.h"
#include "magicboot/magic_pages/shared_info.h"
#include "magicboot/platform.h"

namespace mb::loader {

enum class SharedInfoStrategy : uint8_t {
  kMagic,      // in GUEST_MAGIC, removed before the jump
  kRamLegacy,  // U-Boot's way: on a RAM page, left mapped. Tests only.
};
const char* to_string(SharedInfoStrategy s);

struct BootOptions {
  // Wins over /chosen bootargs. Either way, a line Linux would cut (over
  // kLinuxCommandLineSize - 1 bytes) fails the boot: "bootargs-length".
  const char* bootargs = nullptr;
  // nullptr: the FIT's default configuration. Given with a payload that is
  // not a FIT, the boot fails: "fit-config-not-fit".
  const char* fit_config = nullptr;
  SharedInfoStrategy strategy = SharedInfoStrategy::kMagic;
  unsigned shared_info_fallback_offset = 4095;  // pages into GUEST_MAGIC
  Progress* progress = nullptr;                 // long work (inflate)
  // The whole handover report, the step lines and the JSON line; otherwise
  // two summary lines, unless the boot is not clean (then always whole).
  // Under Xen every character on the vpl011 is a trap: the whole report
  // costs Xen ~3.8 M instructions, the summary ~0.4 M. The firmware sets
  // it from "magicboot.report=full" on the command line (kFullReportWord).
  bool full_report = true;
  // The incoming DT already discovered (the firmware's bring-up read it):
  // step 1 takes it instead of parsing the blob again. It must be
  // discover()'s result for the blob at `dtb`. nullptr: step 1 parses.
  const DiscoveredDt* discovered = nullptr;
};

inline constexpr const char* kFullReportWord = "magicboot.report=full";

enum class Stage : uint8_t { kDiscover, kLedger, kXen, kPayload, kPlan, kLoad, kFixup, kQuiesce, kCount };
inline constexpr unsigned kStageCount = static_cast<unsigned>(Stage::kCount);
const char* to_string(Stage s);

struct XenSession {
  bool present = false;
  unsigned major = 0, minor = 0;  // from /hypervisor
  uint32_t version = 0;           // XENVER_version, 0 if refused
  bool slot_found = false;
  magic::Slot slot{};
  bool mapped = false;
  bool removed = false;
  bool wallclock_ok = false;
  magic::Wallclock wallclock{};
  magic::MagicPfns pfns{};
  Error map_error{};  // why shared_info could not be mapped (boot goes on)
  bool map_failed = false;
};

// The loader's own handover check (step 8), from the ledger and the session.
struct SelfFinding {
  const char* check;
  char detail[160];
};

struct BootReport {
  DiscoveredDt dt;
  MemoryLedger ledger;
  XenSession xen;
  SharedInfoStrategy strategy = SharedInfoStrategy::kMagic;
  PhysRange incoming_dt;
  PhysRange payload;
  PayloadKind payload_kind = PayloadKind::kImage;
  Compression kernel_compression = Compression::kNone;
  const char* fit_config = nullptr;
  ImageHeader image{};
  uint64_t kernel_file_size = 0;  // uncompressed bytes loaded
  PhysRange kernel;               // [entry, entry + image_size)
  bool kernel_zero_copy = false;
  PhysRange initrd;
  bool initrd_zero_copy = false;
  PhysRange dtb;                  // the kernel's DT, packed size
  const char* bootargs = nullptr; // what the kernel was given (nullptr: none)
  uint64_t stage_ticks[kStageCount] = {};
  SelfFinding findings[4];
  unsigned finding_count = 0;
  bool self_check_skipped = false;  // kRamLegacy does not check (it would fail)

  bool clean() const { return finding_count == 0 && !self_check_skipped; }
  const char* verdict() const;
};

// Steps 1-8. `dtb` is where Xen put the device tree. On failure, whatever
// Xen mapping the loader made is undone before returning.
Res<void> prepare(Platform& p, GuestPhys dtb, Arena& arena, const BootOptions& opts,
                  BootReport& report);

// prepare(), then the report on the console, then the jump (which returns
// only in the model). A self-check finding stops the boot before the jump.
Res<void> boot(Platform& p, GuestPhys dtb, Arena& arena, const BootOptions& opts,
               BootReport& report);

}  // namespace mb::loader

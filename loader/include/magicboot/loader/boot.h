// One boot, step by step (docs/architecture.md "Data flow"). The caller
// discovers the incoming DT once (discover_at, step 1); prepare() runs steps
// 2-8 over it; boot() adds the report and the jump. Each step takes its
// inputs and returns its result (loader/core/steps.h); two things are shared
// on purpose, both living in the report so the firmware's fault classifier
// can read them mid-boot: the memory ledger, and the XenSession -- what the
// loader opened with Xen, which quiesce closes. The rest of the report is
// written once, from the steps' results.
// A failed boot never jumps: what was opened with Xen is closed again and
// the error, naming the failed check and its addresses, is returned.
#pragma once

#include <cstdint>
#include <span>

#include "magicboot/arena.h"
#include "magicboot/cmdline.h"
#include "magicboot/error.h"
#include "magicboot/loader/disk_boot.h"
#include "magicboot/loader/dt.h"
#include "magicboot/loader/ledger.h"
#include "magicboot/loader/payload/image.h"
#include "magicboot/loader/payload/payload.h"
#include "magicboot/loader/payload/progress.h"
#include "magicboot/loader/pv_devices.h"
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
  // The PV devices (CONFIG_PV_BLOCK; nullptr: none, nothing PV is opened),
  // and whether to read the whole PV disk and report its SHA-256.
  PvDevices* pv = nullptr;
  bool hash_disk = false;
  // Booting from the PV disk when Xen gave no payload module (with pv;
  // nullptr: a DT without a module is refused, "no-payload").
  DiskBoot* disk = nullptr;
};

inline constexpr const char* kFullReportWord = "magicboot.report=full";

enum class Stage : uint8_t { kDiscover, kLedger, kXen, kPayload, kPlan, kLoad, kFixup, kQuiesce, kCount };
inline constexpr unsigned kStageCount = static_cast<unsigned>(Stage::kCount);
const char* to_string(Stage s);

// What the loader opened with Xen: the one record of it. quiesce closes
// what is open here (shared_info today; the PV devices will add theirs), the
// report and the fault classifier read it.
struct XenSession {
  bool present = false;
  unsigned major = 0, minor = 0;  // from /hypervisor
  uint32_t version = 0;           // XENVER_version, 0 if refused
  magic::MagicPfns pfns{};
  magic::SharedInfo shared_info;  // its slot, and whether mapped and removed
  Error map_error{};  // why shared_info could not be mapped (boot goes on)
  bool map_failed = false;
  bool wallclock_ok = false;
  magic::Wallclock wallclock{};

  bool slot_found() const { return shared_info.has_slot(); }
  const magic::Slot& slot() const { return shared_info.slot(); }
  bool mapped() const { return shared_info.mapped(); }
  bool removed() const { return shared_info.removed(); }
};

// The loader's own handover check (step 8), from the ledger and the session.
struct SelfFinding {
  const char* check;
  char detail[160];
};

struct BootReport {
  // Shared by the steps while they run (see the top of this file).
  MemoryLedger ledger;
  XenSession xen;
  const PvDevices* pv_devices = nullptr;  // BootOptions::pv, with its record
  const DiskBoot* disk_boot = nullptr;    // BootOptions::disk, when the boot came from the disk

  // Written once, from the inputs and the steps' results. The report owns
  // its strings: it outlives the guest memory they were read from.
  SharedInfoStrategy strategy = SharedInfoStrategy::kMagic;
  PhysRange incoming_dt;
  PhysRange ram_banks[DiscoveredDt::kMaxBanks];
  size_t bank_count = 0;
  DtXen hypervisor;  // /hypervisor as the DT gave it: grant table, extended regions
  PhysRange payload;
  PayloadKind payload_kind = PayloadKind::kImage;
  Compression kernel_compression = Compression::kNone;
  char fit_config[64] = {};       // the FIT configuration booted (cut to 63 bytes); "" if none
  ImageHeader image{};
  uint64_t kernel_file_size = 0;  // uncompressed bytes loaded
  PhysRange kernel;               // [entry, entry + image_size)
  bool kernel_zero_copy = false;
  PhysRange initrd;
  bool initrd_zero_copy = false;
  PhysRange dtb;                  // the kernel's DT, packed size
  bool has_bootargs = false;      // the kernel was given a command line
  char bootargs[kLinuxCommandLineSize] = {};  // that line (bootargs-length keeps it whole)
  uint64_t stage_ticks[kStageCount] = {};
  // The step running when the boot stopped (an error names it); kQuiesce
  // once every step has run.
  Stage step = Stage::kDiscover;
  SelfFinding findings[4];
  unsigned finding_count = 0;
  bool self_check_skipped = false;  // kRamLegacy does not check (it would fail)

  std::span<const PhysRange> ram() const { return {ram_banks, bank_count}; }
  uint64_t ram_total() const;
  bool clean() const { return finding_count == 0 && !self_check_skipped; }
  const char* verdict() const;
};

// Steps 2-8 over `dt` (discover_at's result; its strings point into the
// blob, which stays claimed until step 7 has read it). On failure, whatever
// the loader opened with Xen is closed before returning.
Res<void> prepare(Platform& p, const DiscoveredDt& dt, Arena& arena, const BootOptions& opts,
                  BootReport& report);

// prepare(), then the report on the console, then the jump (which returns
// only in the model). A self-check finding stops the boot before the jump.
Res<void> boot(Platform& p, const DiscoveredDt& dt, Arena& arena, const BootOptions& opts,
               BootReport& report);

}  // namespace mb::loader

// The steps of prepare() (internal). Each takes what it reads as arguments
// and returns what it decides; the ledger and the XenSession are passed in
// where a step changes them. prepare() (boot.cpp) threads the results from
// one step to the next and writes the report from them.
#pragma once

#include "magicboot/loader/boot.h"

namespace mb::loader::steps {

// The command line the kernel will get: the loader's (BootOptions::
// bootargs), else /chosen's. nullptr: none.
const char* kernel_bootargs(const BootOptions& opts, const DiscoveredDt& dt);

// Whether this boot reads its payload from the PV disk: Xen gave no module
// and the firmware has a disk boot.
inline bool boots_from_disk(const BootOptions& opts, const DiscoveredDt& dt) {
#if defined(MB_WITHOUT_DISK_BOOT)
  (void)opts;
  (void)dt;
  return false;
#else
  return dt.payload.empty() && opts.disk != nullptr && opts.pv != nullptr;
#endif
}

// 2. RAM, Xen's regions, reservations, the loader itself, the incoming DT
// (dt.blob) and the payload, into an empty ledger. Refuses a DT without a
// payload ("no-payload") unless the payload is to come from the disk, and
// a payload outside one RAM bank.
Res<void> build_ledger(const LoaderLayout& layout, const DiscoveredDt& dt, MemoryLedger& ledger,
                       bool from_disk = false);

// 3. Detect Xen, find and map shared_info, read the magic PFNs and the
// wallclock, all into `x`. Only a refused slot (e.g. a param pointing into
// RAM) fails; a failed map is recorded and the boot goes on without
// shared_info. kRamLegacy takes its page from the ledger.
Res<void> open_xen(Platform& p, const BootOptions& opts, const DiscoveredDt& dt, MemoryLedger& ledger,
                   XenSession& x);

// 3b. The PV devices (opts.pv), when the boot asks for the disk
// (opts.hash_disk, or boots_from_disk); a failure fails the boot (prepare
// then closes what was opened).
Res<void> open_pv(Platform& p, const BootOptions& opts, const DiscoveredDt& dt, MemoryLedger& ledger,
                  const XenSession& x);

// The payload as the boot found it: Xen's module (file == whole), or the
// kernel file and initrd the disk boot staged (3c).
struct PayloadSource {
  PhysRange whole;   // held as kPayload in the ledger
  PhysRange file;    // what identify_payload reads
  PhysRange initrd;  // an initrd beside the file (disk boot); empty: none
};
inline PayloadSource module_payload(const DiscoveredDt& dt) { return {dt.payload, dt.payload, {}}; }

// 3c. From the disk (opts.disk over opts.pv's device): the entry chosen,
// its kernel file and initrd read into RAM claimed as the payload; `o`'s
// bootargs become the entry's command line when it has one.
Res<PayloadSource> stage_disk(Platform& p, Arena& arena, const DiscoveredDt& dt, MemoryLedger& ledger,
                              BootOptions& o);

// 4. What the payload is, and the kernel's Image header. Before anything is
// placed or loaded, what the boot was asked that it cannot do is refused:
// a kernel command line Linux would cut (longer than kLinuxCommandLineSize - 1
// bytes: "bootargs-length"), a FIT configuration for a payload that is not a
// FIT ("fit-config-not-fit").
struct Identified {
  PhysRange range;  // the whole payload
  Payload payload;
  ImageHeader image;
  // The kernel's bytes before image_size's bss: the file's size, or what a
  // gzip trailer claims (only a claim until the inflate checks it).
  uint64_t kernel_size = 0;
};
Res<Identified> identify(GuestMemory& mem, Arena& arena, const BootOptions& opts, const DiscoveredDt& dt,
                         const PayloadSource& src);

// 5. Where the kernel, initrd and DTB go; each claimed in the ledger (the
// kernel's source too, until step 6 has read it).
struct Plan {
  PhysRange kernel;  // [entry, entry + image_size)
  bool kernel_in_place = false;
  PhysRange initrd;  // where it already lies (the ramdisk is never moved)
  PhysRange dtb;     // its base and the capacity reserved for it
};
Res<Plan> plan(const Identified& id, std::span<const PhysRange> ram, size_t dt_capacity, MemoryLedger& ledger);

// 6. Copy or inflate the kernel into place; release its source. Returns the
// bytes loaded (for a gzip'd kernel, the size the inflate verified).
Res<uint64_t> load(GuestMemory& mem, Arena& arena, const Identified& id, const Plan& plan, Progress* progress,
                   MemoryLedger& ledger);

// 7. The kernel's DT, built from the incoming one at plan.dtb.base; the
// incoming DT's memory is released. Returns the DT's packed size.
Res<size_t> fixup(GuestMemory& mem, Arena& arena, const DiscoveredDt& dt, const char* bootargs_override,
                  const Plan& plan, MemoryLedger& ledger);

// 8. Close what the loader opened with Xen (kMagic; kRamLegacy leaves
// shared_info mapped, as U-Boot does). A refused removal fails the boot.
Res<void> close_xen(Hypercalls& h, XenSession& x);
// Before it, the PV devices: everything open_pv opened, undone.
Res<void> close_pv(const BootOptions& opts, MemoryLedger& ledger);
// Then the loader's own check of the handover, from the finished report:
// findings go into it (nothing for kRamLegacy, which is marked unchecked).
void check_handover(BootReport& r);

// Room the kernel's DT may need: the incoming tree, the fixup slack, the command line.
size_t kernel_dt_capacity(const DiscoveredDt& dt, const BootOptions& opts);

}  // namespace mb::loader::steps

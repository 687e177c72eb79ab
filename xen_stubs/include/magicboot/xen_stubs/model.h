// The hypervisor model: one Arm64 domU as Xen 4.17 sees it. Host only.
// The loader runs against it through the Platform seam (hypercalls(),
// memory()); tests and the validator inspect it through the const API.
//
// Faithful to ../shared/REFERENCE.md: add_to_physmap(shared_info) replaces
// what a GFN held (a RAM page there is lost, not freed); a second mapping
// while one exists is -EBUSY; remove_from_physmap leaves a hole (-ENOENT on
// an empty GFN, -EILSEQ if it holds another page than expected);
// populate_physmap is bounded by max_pages; only five HVM params are
// readable on Arm; register_vcpu_info pins a page for ever. Never crashes on
// any argument: bad input gets Xen's error code.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "magicboot/addr.h"
#include "magicboot/boards/region.h"
#include "magicboot/platform.h"

namespace mb::model {

// A backing page of the host machine ("machine frame").
struct Mfn {
  uint64_t value = 0;
  friend constexpr auto operator<=>(Mfn, Mfn) = default;
};

enum class PageType : uint8_t {
  kRamRw,      // ordinary guest RAM
  kRamRo,      // read-only backing (a zero page, a ROM): writes trap
  kMmio,       // device memory (vpl011, GIC): not RAM
  kMagic,      // a toolstack magic page (console, xenstore, ...)
  kXenShared,  // a Xen-owned page mapped into the guest: shared_info, grant frames
  kForeign,    // another domain's page
};
enum class Owner : uint8_t { kGuest, kXen };

const char* to_string(PageType t);
const char* to_string(Owner o);

struct P2mEntry {
  Mfn mfn;
  PageType type;
  Owner owner;
};

enum class DomainKind : uint8_t {
  kDom0less,  // Xen builds the domain: no magic pages, every param reads 0,
              // max_pages == RAM pages exactly (no refill headroom)
  kXl,        // the toolstack: console and xenstore magic pages populated,
              // params point at them, max_pages has slack
};

struct DomainConfig {
  DomainKind kind = DomainKind::kDom0less;
  uint64_t ram_bytes = uint64_t{1} << 30;
  // Our proposed HVM_PARAM_SHARED_INFO_PFN. Off: -EINVAL, like Xen 4.17.
  bool shared_info_param = false;
  // The GUEST_MAGIC page offset Xen reserves for shared_info when the param is on.
  unsigned shared_info_magic_offset = 8;
  unsigned vcpus = 1;
  uint32_t xen_version = 0x40011;  // 4.17
  uint32_t grant_frames = 1;       // initial; max is 64
};

// Why a guest access failed.
enum class FaultKind : uint8_t {
  kHole,      // GFN was mapped once and removed: nothing behind it
  kUnmapped,  // GFN never mapped (outside RAM/MMIO/magic)
  kReadOnly,  // write to a kRamRo page
  kBusy,      // another accessor holds the range
};
const char* to_string(FaultKind k);

struct Fault {
  FaultKind kind;
  Gfn gfn;
  std::string accessor;
  bool write;
};

class Model {
 public:
  explicit Model(const DomainConfig& config);
  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  const DomainConfig& config() const;

  // --- the loader's seam -------------------------------------------------
  // The raw hypercall entry, dispatching into this model. Pointer arguments
  // are host pointers (the loader's own address space); a null or otherwise
  // invalid one gets -EFAULT.
  Hypercalls& hypercalls();
  // Guest memory as seen by a named accessor ("loader", "linux", ...). Each
  // access takes an exclusive reservation of its range for its duration; a
  // range held (hold()) by another accessor gives kBusy. A multi-page write
  // that faults part-way leaves every page as it was.
  GuestMemory& memory(const std::string& accessor = "loader");

  // Long-lived reservation of a range by an accessor (e.g. a DMA in flight).
  // Fails (false) if another accessor holds any part of it.
  bool hold(const std::string& accessor, PhysRange range);
  void release(const std::string& accessor, PhysRange range);
  struct Hold {
    std::string accessor;
    PhysRange range;
  };
  std::vector<Hold> holds() const;

  // --- what Xen does on its own ------------------------------------------
  // Time passes: Xen writes to every page it owns that is mapped or
  // registered (shared_info wc_* and evtchn_pending, vcpu_info, grant frames).
  void tick();

  // --- introspection (validator, tests) -----------------------------------
  boards::RamBanks ram() const;                 // the RAM Xen gave the domain
  std::optional<P2mEntry> lookup(Gfn gfn) const;  // nullopt: unmapped or hole
  bool is_hole(Gfn gfn) const;                  // was RAM (or mapped), now empty
  // Every GFN whose entry is Xen-owned (shared_info, grant frames) or that
  // backs a registered vcpu_info: what the next stage must never be given.
  std::vector<Gfn> xen_written_gfns() const;
  std::optional<Gfn> shared_info_gfn() const;    // where shared_info is mapped now
  std::optional<Gfn> vcpu_info_gfn(unsigned vcpu) const;
  Mfn shared_info_mfn() const;
  uint64_t max_pages() const;
  uint64_t tot_pages() const;                    // RAM pages the domain owns now
  uint64_t leaked_pages() const;                 // RAM pages replaced by a mapping, lost
  std::vector<Fault> faults() const;             // every access that faulted
  size_t touched_pages() const;                  // host pages materialised so far
  unsigned bound_evtchns() const;                // ports still bound
  // Read a machine page directly, bypassing the P2M (for the validator and
  // the next stage's corruption check): what the page really holds.
  void read_mfn(Mfn mfn, uint64_t offset, void* dst, size_t len) const;
  // Who owns a machine page, and what kind it is.
  P2mEntry mfn_info(Mfn mfn) const;

  // Magic-page GFNs for a toolstack offset (console 0, xenstore 1, ...).
  static Gfn magic_gfn(unsigned offset);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mb::model

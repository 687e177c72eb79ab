// The hypervisor model: one Arm64 domU as Xen 4.17 sees it. Host only.
// The loader runs against it through the Platform seam (hypercalls(),
// memory()); tests and the validator inspect it through the const API.
//
// Faithful to ../shared/REFERENCE.md and to Xen 4.17's Arm source:
// add_to_physmap(shared_info or a grant frame) replaces what a GFN held (a RAM
// page there is lost, not freed); mapping a Xen page that is already mapped
// anywhere, even at the same GFN, is -EBUSY; remove_from_physmap leaves a hole
// (-ENOENT on an empty GFN) and the RAM page stays allocated but unreachable;
// populate_physmap is bounded by max_pages and, like Xen, answers the number
// of extents done (0 when there is no headroom); only five HVM params are
// readable on Arm; register_vcpu_info pins a page for ever (a second call is
// -EINVAL, as map_vcpu_info answers). Never crashes on any argument: bad input
// gets Xen's error code, bad host pointers get -EFAULT.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "magicboot/addr.h"
#include "boards/xen_arm64/board.h"
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

// Our HVM_PARAM_SHARED_INFO_PFN, as a Xen may answer it.
enum class SharedInfoParam : uint8_t {
  kAbsent,   // stock Xen 4.17: the param is not guest-readable, -EINVAL
  kOffered,  // the patched Xen: the GFN of the slot it reserved
  kZero,     // a Xen that has the param but offers no slot: 0
};
const char* to_string(SharedInfoParam p);

// A disk the toolstack gave an xl domain (disk = [..., access=ro]): dom0's
// blkback serves it read-only (xen_stubs/model/blkback_twin.h).
struct DiskConfig {
  std::vector<uint8_t> image;    // the disk's bytes (whole sectors)
  uint32_t sector_size = 512;
  uint32_t vdev = 51712;         // xvda
  bool backend_connects = true;  // false: blkback stays InitWait for ever (a dead dom0 backend)
  // Offered in the backend directory when not 0 (Linux's blkback offers
  // 256 and 0, the latter as "max-ring-page-order" = 0).
  unsigned max_indirect_segments = 0;
  unsigned max_ring_page_order = 0;  // at most 4 (XENBUS_MAX_RING_GRANT_ORDER)
  // Requests blkback answers in one dom0 turn, 0: all it finds. Real
  // blkback answers as its I/O completes, turns later: a frontend must
  // then wait (and may sleep) for the rest.
  unsigned answers_per_turn = 0;
};

// One response blkback puts on the ring (a test may change it on the way).
struct BlkbackResponse {
  uint64_t id;
  uint8_t operation;
  int16_t status;
};

// One message xenstored puts on the store ring: a reply or a watch event
// (a test may change any of it on the way, the type included).
struct XenstoreMessage {
  uint32_t type;    // the request's XS_ type, XS_ERROR or XS_WATCH_EVENT
  uint32_t req_id;  // the request's (0 for a watch event)
  uint32_t tx_id;
  std::string payload;
  std::optional<uint32_t> len;  // the header's len when it should lie (nullopt: payload's size)
};

struct GrantInfo {
  uint32_t ref;
  uint16_t flags;
  uint16_t domid;
  uint32_t frame;  // the GFN granted
};

struct DomainConfig {
  DomainKind kind = DomainKind::kDom0less;
  uint64_t ram_bytes = uint64_t{1} << 30;
  SharedInfoParam shared_info_param = SharedInfoParam::kAbsent;
  // The GUEST_MAGIC page offset Xen reserves for shared_info when offered:
  // the patch (xen/patches/) reserves the last page, GFN 0x39fff.
  unsigned shared_info_magic_offset = boards::xen_arm64::kMagicPages - 1;
  // The patch also writes the offer into the guest DT (/hypervisor
  // xen,shared-info-gfn): Xen does for dom0less domains; for xl domains a
  // stock libxl builds the DT and does not. Off: the param alone.
  bool shared_info_dt_property = true;
  // The extended regions in /hypervisor reg (Xen >= 4.17 dom0less, >= 4.16
  // xl): the guest DT a test builds from this model carries them. Off: a
  // Xen that gives none.
  bool extended_regions = true;
  unsigned ipa_bits = 40;  // the P2M's reach, which bounds the last region
  unsigned vcpus = 1;
  uint32_t xen_version = 0x40011;  // 4.17
  uint32_t grant_frames = 1;       // initial; max is 64
  // xl: dom0's xenconsoled, which drains the PV console ring each time the
  // guest signals its event channel. Off: nobody reads the ring.
  bool console_backend = true;
  // xl: the vbd, served by a blkback twin in dom0 (none: no disk = [...]).
  std::optional<DiskConfig> disk;
  // xl: false models a xenstored that never answers.
  bool xenstore_answers = true;
};

// xl-like domains, as measured under Debian's Xen 4.17 toolstack (see
// xen_stubs/README.md): max_pages is the memory size plus libxl's
// LIBXL_MAXMEM_CONSTANT (1 MiB), so a refill can succeed; the toolstack
// populates the four magic pages (console, xenstore, memaccess, vuart) and
// binds one interdomain port to dom0 for xenstore, then one for the console.
inline constexpr uint64_t kXlSlackPages = 256;
inline constexpr unsigned kXlMagicPagesPopulated = boards::xen_arm64::kToolstackMagicPages;
inline constexpr uint32_t kXlStorePort = 1;
inline constexpr uint32_t kXlConsolePort = 2;
inline constexpr uint32_t kMaxGrantFrames = 64;
// Where the model's machine frames start: far from any GFN, so a GFN used as
// an MFN (or the reverse) never looks right by accident.
inline constexpr uint64_t kFirstMfn = 0x8000000;

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

  // --- fixtures: what a (possibly buggy) toolstack or test sets up directly -
  // A fresh zero-filled machine page of the given kind.
  Mfn allocate_page(PageType type, Owner owner);
  // Raw P2M write, bypassing every hypercall check: `gfn` now maps `entry`.
  // What it replaced is accounted as add_to_physmap would (leaked RAM,
  // shared_info/grant frame no longer mapped).
  void map_page(Gfn gfn, const P2mEntry& entry);
  // The one shared read-only zero page (kRamRo, owned by Xen, unmapped at
  // start): map it with map_page to model a zero page or ROM.
  Mfn zero_page() const;

  // --- what Xen does on its own ------------------------------------------
  // Time passes: Xen writes to every page it owns that is mapped or
  // registered (shared_info wc_* and evtchn_pending, vcpu_info, the grant
  // entries dom0 holds mapped).
  void tick();

  // --- introspection (validator, tests) -----------------------------------
  boards::RamBanks ram() const;                 // the RAM Xen gave the domain
  // The extended regions Xen advertises (empty when config says none): per
  // RAM window, from the end of the domain's RAM rounded up to 2 MiB to the
  // window's end (or the P2M's reach), when that is at least 64 MiB -- Xen
  // 4.17's find_domU_holes and libxl's finalise_ext_region alike.
  std::vector<PhysRange> extended_regions() const;
  // What the guest DT's /hypervisor xen,shared-info-gfn says (nullopt: no
  // such property): the param's GFN when offered and the DT carries it.
  std::optional<Gfn> shared_info_dt_offer() const;
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
  // Guest pages (RAM, populated, magic) that are still allocated to the
  // domain but that no GFN maps any more: replaced by a mapping or removed.
  uint64_t leaked_pages() const;
  std::vector<Fault> faults() const;             // every access that faulted
  // Host 4 KiB pages materialised so far. A page never written, or written
  // only by whole-page fills of one byte, costs none.
  size_t touched_pages() const;
  unsigned bound_evtchns() const;                // ports still bound
  // Read a machine page directly, bypassing the P2M (for the validator and
  // the next stage's corruption check): what the page really holds.
  void read_mfn(Mfn mfn, uint64_t offset, void* dst, size_t len) const;
  // Who owns a machine page, and what kind it is. An MFN the model never
  // allocated answers kForeign / kXen.
  P2mEntry mfn_info(Mfn mfn) const;
  // Ports not free (including the xl toolstack's console/xenstore ports).
  std::vector<uint32_t> bound_ports() const;
  // Everything written with console_io(CONSOLEIO_write), in order.
  const std::string& console_output() const;
  // What xl's console backend has read from the PV console ring so far.
  const std::string& pv_console_output() const;
  // Breaches of the PV console ring protocol seen from the backend's side
  // (out_prod published over text not yet fenced by a barrier, indices
  // that claim more than the ring holds), one line each.
  const std::vector<std::string>& ring_protocol_errors() const;
  // Event channel notifications the guest sent, per port.
  uint64_t notifies(uint32_t port) const;
  // SCHEDOP_poll as the guest used it: the calls, those answered at once
  // because a port was already pending, and how often Xen set a guest
  // port's pending bit (each lets one poll answer at once; more at-once
  // answers than that mean a pending bit left set: a poll that spins).
  struct PollCounts {
    uint64_t calls = 0, at_once = 0, raised = 0;
  };
  PollCounts polls() const;
  // The SCHEDOP_shutdown reason, once the guest asked.
  std::optional<unsigned> shutdown_reason() const;
  // Xen's tick count so far.
  uint64_t ticks() const;
  // GFNs in `range` whose page is not entirely `byte` (or cannot be read:
  // hole, unmapped), at most `limit` of them, ascending. Runs in time
  // proportional to the touched pages, not to the range: the next stage's
  // pattern check over a 4 GiB guest. No fault is recorded.
  std::vector<Gfn> pages_not_filled_with(PhysRange range, uint8_t byte,
                                         size_t limit = 64) const;
  // Host memory the guest's contents cost: materialised pages, fill runs and
  // P2M extents, in bytes (an estimate of the model's own heap use).
  size_t host_bytes() const;

  // --- dom0's backends (xl): xenstored and blkback --------------------------
  // They run when the guest gives dom0 the CPU: EVTCHNOP_send on an
  // interdomain port, SCHEDOP_yield or SCHEDOP_block (see xen_stubs/README.md).
  // Grant entries from GNTTAB_NR_RESERVED_ENTRIES on (the toolstack's console
  // and xenstore grants below are not the guest's) with any of
  // GTF_permit_access, GTF_reading, GTF_writing set.
  std::vector<GrantInfo> active_grants() const;
  std::vector<Gfn> grant_frame_gfns() const;  // where grant frames are mapped now
  int backend_state() const;                  // the vbd backend's XenbusState; -1 without a disk
  bool backend_connected() const;             // blkback has the ring mapped
  std::optional<Gfn> backend_ring_gfn() const;  // the ring's (first) page while connected
  // Pages dom0's blkback can write now: the ring while connected, the
  // pages it holds mapped, and every page granted to dom0 writable.
  std::vector<Gfn> backend_writable_gfns() const;
  // Guest ports blkback is bound to (interdomain, its end open).
  std::vector<uint32_t> backend_bound_ports() const;
  // dom0's view of the store (absolute paths, or relative to the guest's
  // home /local/domain/1): nullopt when the node does not exist.
  std::optional<std::string> xenstore_read(const std::string& path) const;
  std::vector<std::string> xenstore_directory(const std::string& path) const;
  // dom0 (the toolstack) writes a node: watches fire, blkback may react.
  void xenstore_write(const std::string& path, const std::string& value);
  uint64_t backend_requests() const;        // requests blkback took off the ring
  unsigned backend_max_in_flight() const;   // most requests waiting when it looked
  // Ports other than the toolstack's console and xenstore ports.
  std::vector<uint32_t> loader_bound_ports() const;
  // Fault hooks, nullptr for none: each xenstore reply's payload (by its
  // type); then every message xenstored sends, replies and watch events,
  // whole (type, ids, payload, a lying len); each blkback response. Applied
  // before the bytes go on the ring.
  void set_xenstore_reply_filter(std::function<void(uint32_t type, std::string& payload)> f);
  void set_xenstore_message_filter(std::function<void(XenstoreMessage&)> f);
  void set_blkback_response_filter(std::function<void(BlkbackResponse&)> f);

  // Magic-page GFNs for a toolstack offset (console 0, xenstore 1, ...).
  static Gfn magic_gfn(unsigned offset);

  struct Impl;  // opaque: defined in xen_stubs/model/

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace mb::model

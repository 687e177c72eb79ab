// The model's state, shared by the files that implement it: the domain
// (frames, P2M, counters), Xen's own pages, the hypercall dispatcher and the
// per-accessor guest memory.
#pragma once

#include <array>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "magicboot/hypercall/xen_abi.h"
#include "magicboot/xen_stubs/model.h"
#include "p2m.h"
#include "page_store.h"

namespace mb::model {

// Machine frames by range: what each is and who owns it.
class FrameTable {
 public:
  uint64_t allocate(uint64_t count, PageType type, Owner owner);
  std::optional<P2mEntry> info(uint64_t mfn) const;

 private:
  struct Range {
    uint64_t count;
    PageType type;
    Owner owner;
  };
  std::map<uint64_t, Range> ranges_;  // only ever added to
  uint64_t next_ = kFirstMfn;
  // The range info() found last (validators ask page by page).
  mutable uint64_t cached_first_ = 0;
  mutable const Range* cached_ = nullptr;
};

class ModelHypercalls final : public Hypercalls {
 public:
  explicit ModelHypercalls(Model::Impl& m) : m_(m) {}
  long call(unsigned op, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4) override;

 private:
  Model::Impl& m_;
};

class AccessorMemory final : public GuestMemory {
 public:
  AccessorMemory(Model::Impl& m, std::string name) : m_(m), name_(std::move(name)) {}
  Res<void> read(GuestPhys src, void* dst, size_t len) override;
  Res<void> write(GuestPhys dst, const void* src, size_t len) override;
  Res<void> copy(GuestPhys dst, GuestPhys src, size_t len) override;
  Res<void> fill(GuestPhys dst, uint8_t byte, size_t len) override;
  Res<const uint8_t*> view(GuestPhys base, size_t len) override;
  void barrier() override;

 private:
  // Whole-range check before any byte moves: a fault anywhere means nothing
  // changes (this is how a multi-page access rolls back completely).
  Res<void> check(GuestPhys base, size_t len, bool write);
  Model::Impl& m_;
  std::string name_;
  std::deque<std::vector<uint8_t>> views_;  // each valid while we live
};

enum class PortState : uint8_t { kFree, kReserved, kUnbound, kInterdomain };
struct Port {
  PortState state = PortState::kFree;
  domid_t remote = 0;
};

struct VcpuState {
  std::optional<uint64_t> info_gfn;  // as registered
  uint64_t info_mfn = 0;             // pinned for ever
  uint32_t info_offset = 0;
};

struct Model::Impl {
  explicit Impl(const DomainConfig& c);
  ~Impl();

  // --- the domain -----------------------------------------------------------
  DomainConfig config;
  boards::RamBanks ram;
  FrameTable frames;
  PageStore store;
  P2m p2m;
  uint64_t tot_pages = 0;
  uint64_t max_pages = 0;
  uint64_t leaked = 0;

  // --- Xen's pages ----------------------------------------------------------
  uint64_t shared_info_mfn = 0;
  std::optional<uint64_t> shared_info_gfn;
  uint64_t grant_mfn = 0;  // kMaxGrantFrames frames from here
  uint32_t grant_nr_frames = 1;
  std::array<std::optional<uint64_t>, kMaxGrantFrames> grant_gfn{};
  uint64_t zero_mfn = 0;
  std::vector<VcpuState> vcpus;

  // --- the rest of Xen's per-domain state -----------------------------------
  std::array<uint64_t, HVM_NR_PARAMS + 1> params{};
  std::vector<Port> ports;  // valid ports: grows by 64 like Xen's buckets
  std::string console;
  // --- xl's PV console: the ring page and its backend ------------------------
  uint64_t console_mfn = 0;  // 0: the domain has no PV console
  std::string pv_console;
  std::vector<std::string> ring_errors;
  // The guest's barriers as the ring checks see them: GuestMemory::barrier()
  // (guest_memory.cpp) assigns false, which orders every write made before.
  // `console`: PV console text written since the last barrier; `barriers`
  // counts them, so a twin that notes a write's epoch knows later whether a
  // barrier came between it and the index that publishes it.
  struct Fence {
    bool console = false;
    uint64_t barriers = 0;
    Fence& operator=(bool unfenced) {
      if (unfenced) {
        console = true;
      } else {
        console = false;
        ++barriers;
      }
      return *this;
    }
  };
  Fence ring_unfenced;
  std::map<uint32_t, uint64_t> notifies;
  // The guest wrote [offset, +len) of machine page `mfn`.
  void note_write(uint64_t mfn, uint64_t offset, uint64_t len);
  // xenconsoled's turn: take what the ring holds, advance out_cons.
  void drain_console();
  std::optional<unsigned> shutdown;
  uint64_t ticks = 0;
  uint64_t now_ns = 0;
  uint64_t wallclock_base_sec = 0;  // wc_sec when the domain was built

  // --- dom0: xenstored, blkback, and Xen's grant table as they use it ---------
  // (xenstore_twin.h, blkback_twin.h, grant_twin.h). xl only, blkback only
  // with a disk; the grant twin always.
  std::unique_ptr<class GrantTwin> grants;
  std::unique_ptr<class XenstoreTwin> xenstore;
  std::unique_ptr<class BlkbackTwin> blkback;
  // dom0 gets the CPU (the guest yielded or notified it): blkback reacts to
  // the watch events of earlier turns and serves its ring, then xenstored
  // answers what is on the store ring.
  void dom0_turn();
  // Xen's evtchn_set_pending (2-level ABI) for a guest port: the pending
  // bit in shared_info and, unless masked, the selector bit and
  // evtchn_upcall_pending in vCPU 0's vcpu_info wherever it lives.
  void raise_event(uint32_t port);
  bool is_pending(uint32_t port) const;  // its bit in shared_info's evtchn_pending
  Model::PollCounts polls;

  // --- accesses -------------------------------------------------------------
  std::vector<Fault> faults;
  std::vector<Model::Hold> holds;
  std::map<std::string, std::unique_ptr<AccessorMemory>> memories;
  ModelHypercalls hypercalls{*this};

  // Put `entry` at `gfn`, accounting for what it replaces. Replacing or
  // removing a guest page leaks it; a Xen page loses its GFN.
  void map(uint64_t gfn, uint64_t mfn, PageType type, Owner owner);
  void remove(uint64_t gfn);  // leaves a hole
  void forget(uint64_t gfn);  // bookkeeping for what leaves `gfn`

  bool is_xen_written(uint64_t mfn) const;
  static constexpr uint64_t kMaxGfn = uint64_t{1} << 28;  // 40-bit IPA
  static constexpr domid_t kDomid = 1;
  bool is_self(domid_t d) const { return d == DOMID_SELF || d == kDomid; }
  // The domains there are: this one, and dom0 when a toolstack built it (the
  // dom0less tests run Xen without a dom0).
  bool domain_exists(domid_t d) const { return is_self(d) || (d == 0 && config.kind == DomainKind::kXl); }
};

}  // namespace mb::model

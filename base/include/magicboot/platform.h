// The seam between the loader core and the world. The loader never touches
// hardware or guest memory directly: the firmware supplies real backends,
// the host supplies the hypervisor model (xen_stubs/). Because every
// guest-physical access goes through GuestMemory, the model sees every write.
#pragma once

#include <cstddef>
#include <cstdint>

#include "magicboot/addr.h"
#include "magicboot/error.h"

namespace mb {

// The one raw trap: Xen on Arm's hypercall, x16 = op, x0..x4 = arguments.
// Returns what Xen returns: >= 0 on success, a negative Xen errno on failure.
// Pointer arguments are addresses in the caller's own address space (the
// firmware runs identity-mapped, so they are guest-physical addresses).
class Hypercalls {
 public:
  virtual long call(unsigned op, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
                    uint64_t a4) = 0;

 protected:
  ~Hypercalls() = default;
};

// Copy in / copy out by guest-physical address. Every method fails (never
// crashes) on a hole, an unmapped GFN, a read-only page written, or a range
// another accessor holds; the error names the GFN and why.
class GuestMemory {
 public:
  virtual Res<void> read(GuestPhys src, void* dst, size_t len) = 0;
  virtual Res<void> write(GuestPhys dst, const void* src, size_t len) = 0;
  // memmove semantics: safe when [src, src+len) and [dst, dst+len) overlap.
  virtual Res<void> copy(GuestPhys dst, GuestPhys src, size_t len) = 0;
  virtual Res<void> fill(GuestPhys dst, uint8_t byte, size_t len) = 0;
  // A read-only view of [base, base+len), valid while this object lives.
  // Firmware: the memory itself. Model: a snapshot taken now. What a view
  // shows after a later write to the same range is unspecified.
  virtual Res<const uint8_t*> view(GuestPhys base, size_t len) = 0;
  // Optional: [base, base+len) as plain writable memory, for producers that
  // need their whole output at once (a one-shot inflater). Only a memory in
  // which guest-physical addresses ARE host memory offers it (the firmware's
  // identity map); by default, and in the model, it is refused, so every
  // write the model must see still goes through write(). Callers fall back
  // to write() on any error.
  virtual Res<uint8_t*> writable(GuestPhys base, size_t len) {
    return MB_ERR(ErrorCode::kUnsupported, "writable", "no direct access to [%#lx, +%#zx)",
                  base.value, len);
  }

  // Memory shared with another agent (a ring page a backend in another
  // domain reads while we write): single-copy atomic 32-bit accesses of
  // an index (`at` 4-byte aligned), and a full barrier that orders this
  // object's earlier accesses before its later ones as the other agent
  // sees them. By default, for memories no other agent sees, plain copies
  // and no barrier; the firmware uses 32-bit loads/stores and `dmb ish`,
  // the model records the barriers to check a ring protocol's order.
  virtual Res<uint32_t> load32(GuestPhys at) {
    uint32_t v = 0;
    MB_CHECK(read(at, &v, sizeof v));
    return v;
  }
  virtual Res<void> store32(GuestPhys at, uint32_t v) { return write(at, &v, sizeof v); }
  // Atomically: if the word at `at` is `expected`, make it `desired`.
  // Returns the word found (== expected: it was swapped). A grant entry's
  // flags are ended this way so a backend that sets GTF_reading between
  // our look and our write is not overwritten. By default (no other agent
  // runs in between) a load and a store.
  virtual Res<uint32_t> compare_exchange32(GuestPhys at, uint32_t expected, uint32_t desired) {
    const uint32_t found = MB_TRY(load32(at));
    if (found == expected) MB_CHECK(store32(at, desired));
    return found;
  }
  virtual void barrier() {}

 protected:
  ~GuestMemory() = default;
};

class Console {
 public:
  virtual void write(const char* s, size_t len) = 0;

 protected:
  ~Console() = default;
};

// What the next stage receives (arm64 booting.rst: x0 = DTB, x1..x3 = 0).
struct Handover {
  GuestPhys entry;
  GuestPhys dtb;
  uint64_t x1 = 0, x2 = 0, x3 = 0;
};

class Cpu {
 public:
  // A monotonic count for stage timing (firmware: CNTVCT_EL0).
  virtual uint64_t counter() = 0;
  // counter()'s ticks per second (firmware: CNTFRQ_EL0), for bounded waits.
  virtual uint64_t counter_hz() const = 0;
  // Clean the range to the point of coherency before the jump.
  virtual void clean_to_poc(PhysRange range) = 0;
  // Firmware: caches and MMU off, then branch; never returns.
  // Model: records the final state and returns.
  virtual void jump(const Handover& h) = 0;
  // Wake this vCPU when counter() reaches `at` if it is asleep in Xen then
  // (SCHEDOP_poll): the firmware arms its EL1 virtual timer, whose
  // interrupt stays masked in PSTATE yet makes Xen unblock the vCPU. false:
  // there is no such timer, and nobody may sleep. cancel_wake() disarms it
  // (every wake_at is cancelled before the jump).
  virtual bool wake_at(uint64_t /*at*/) { return false; }
  virtual void cancel_wake() {}

 protected:
  ~Cpu() = default;
};

// Where the loader itself lives: claimed in the ledger, never handed out as
// free RAM. Firmware: from linker symbols. Model: a layout the test chooses.
struct LoaderLayout {
  PhysRange image;
  PhysRange stack;
  PhysRange heap;
};

struct Platform {
  Hypercalls& hyp;
  GuestMemory& mem;
  Console& console;
  Cpu& cpu;
  LoaderLayout layout;
};

}  // namespace mb

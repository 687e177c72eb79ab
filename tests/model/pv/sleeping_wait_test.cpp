// Waiting for blkback asleep (pv::Deadline): blkfront asks to be told of
// the last answer of each round, polls its port (SCHEDOP_poll) with the
// vCPU's timer armed at the deadline, and clears the port's pending bit in
// shared_info after each wake -- so a poll returns at once only for an event
// Xen raised, never for one already seen. The model counts both: more polls
// answered at once than events raised is a pending bit left set, a wait
// that spins while it looks asleep.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "magicboot/hypercall/xen.h"
#include "magicboot/pv/deadline.h"
#include "pv_rig.h"

namespace mb::pv {
namespace {

using namespace test;

// shared_info where magicboot maps it when Xen has no param: the last page
// of GUEST_MAGIC.
GuestPhys map_shared_info(Model& m) {
  const Gfn gfn = GuestPhys{board::kMagic.end().value - kPageSize}.gfn();
  EXPECT_TRUE(xen::add_to_physmap(m.hypercalls(), XENMAPSPACE_shared_info, 0, gfn).ok());
  return gfn.addr();
}

// A memory whose compare-and-swap on shared_info reports success and writes
// nothing: the broken frontend that never clears its pending bit.
class CasDropped final : public GuestMemory {
 public:
  CasDropped(GuestMemory& m, GuestPhys shared_info) : m_(m), page_(shared_info.gfn()) {}
  Res<void> read(GuestPhys s, void* d, size_t n) override { return m_.read(s, d, n); }
  Res<void> write(GuestPhys d, const void* s, size_t n) override { return m_.write(d, s, n); }
  Res<void> copy(GuestPhys d, GuestPhys s, size_t n) override { return m_.copy(d, s, n); }
  Res<void> fill(GuestPhys d, uint8_t b, size_t n) override { return m_.fill(d, b, n); }
  Res<const uint8_t*> view(GuestPhys b, size_t n) override { return m_.view(b, n); }
  Res<uint32_t> load32(GuestPhys at) override { return m_.load32(at); }
  Res<void> store32(GuestPhys at, uint32_t v) override { return m_.store32(at, v); }
  Res<uint32_t> compare_exchange32(GuestPhys at, uint32_t expected, uint32_t desired) override {
    if (at.gfn().value == page_.value) return expected;
    return m_.compare_exchange32(at, expected, desired);
  }
  void barrier() override { m_.barrier(); }

 private:
  GuestMemory& m_;
  Gfn page_;
};

// Xen without SCHEDOP_poll (or refusing it): -ENOSYS for the poll alone.
class NoPoll final : public Hypercalls {
 public:
  explicit NoPoll(Hypercalls& h) : h_(h) {}
  long call(unsigned op, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4) override {
    if (op == __HYPERVISOR_sched_op && a0 == SCHEDOP_poll) return -38;  // ENOSYS
    return h_.call(op, a0, a1, a2, a3, a4);
  }

 private:
  Hypercalls& h_;
};

struct Read {
  bool ok = false;
  BlkfrontStats stats;
  model::Model::PollCounts polls;
};

// The whole disk through a frontend over `mem` and `h`, then disconnected.
Read read_all(Rig& rig, GuestMemory& mem, Hypercalls& h, GuestPhys shared_info, const std::vector<uint8_t>& image) {
  Read r;
  EXPECT_TRUE(rig.open_grants().ok());
  Blkfront blk(h, mem, rig.cpu, *rig.xs, *rig.gnt, shared_info);
  auto connected = blk.connect(rig.pages());
  EXPECT_TRUE(connected.ok()) << detail(connected);
  if (!connected.ok()) return r;
  std::vector<uint8_t> got(image.size());
  auto read = blk.read(0, blk.sector_count(), got.data());
  EXPECT_TRUE(read.ok()) << detail(read);
  EXPECT_TRUE(got == image);
  EXPECT_FALSE(rig.cpu.armed) << "no wake left armed after a wait";
  r.stats = blk.stats();
  r.polls = rig.m.polls();
  EXPECT_TRUE(blk.disconnect().ok());
  EXPECT_TRUE(rig.m.active_grants().empty());
  EXPECT_TRUE(rig.m.ring_protocol_errors().empty());
  r.ok = read.ok() && got == image;
  return r;
}

// A blkback that answers two requests a turn: the frontend waits.
DomainConfig slow_backend() {
  DomainConfig c = xl_with_disk();
  c.disk->answers_per_turn = 2;
  return c;
}

TEST(SleepingWait, BlkfrontSleepsOnItsPortAndEveryEarlyWakeHasItsEvent) {
  DomainConfig c = slow_backend();
  Rig rig(c);
  const GuestPhys si = map_shared_info(rig.m);
  const Read r = read_all(rig, rig.mem, rig.m.hypercalls(), si, c.disk->image);
  ASSERT_TRUE(r.ok);
  EXPECT_GT(r.stats.sleeps, 0u);
  EXPECT_EQ(r.stats.sleeps, r.stats.waits) << "every pause slept";
  EXPECT_GE(r.polls.calls, r.stats.sleeps);
  EXPECT_LE(r.polls.at_once, r.polls.raised) << "a poll answered at once by a pending bit already seen";
}

TEST(SleepingWait, APendingBitNeverClearedIsCaught) {
  DomainConfig c = slow_backend();
  Rig rig(c);
  const GuestPhys si = map_shared_info(rig.m);
  CasDropped broken(rig.mem, si);
  const Read r = read_all(rig, broken, rig.m.hypercalls(), si, c.disk->image);
  ASSERT_TRUE(r.ok) << "the data still arrives: only the sleeping is broken";
  EXPECT_GT(r.polls.at_once, r.polls.raised) << "the check above must catch a bit left pending";
}

TEST(SleepingWait, WithoutSharedInfoTheWaitYields) {
  DomainConfig c = slow_backend();
  Rig rig(c);
  const Read r = read_all(rig, rig.mem, rig.m.hypercalls(), GuestPhys{}, c.disk->image);
  ASSERT_TRUE(r.ok);
  EXPECT_GT(r.stats.waits, 0u);
  EXPECT_EQ(r.stats.sleeps, 0u);
  EXPECT_EQ(r.polls.calls, 0u) << "no pending bit to clear: no poll";
}

TEST(SleepingWait, APollXenRefusesFallsBackToYielding) {
  DomainConfig c = slow_backend();
  Rig rig(c);
  const GuestPhys si = map_shared_info(rig.m);
  NoPoll h(rig.m.hypercalls());
  const Read r = read_all(rig, rig.mem, h, si, c.disk->image);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.stats.sleeps, 0u);
  EXPECT_GT(r.stats.waits, 0u);
}

TEST(SleepingWait, TheDeadlineStillEndsASleepingWait) {
  DomainConfig c = xl_with_disk();
  Rig rig(c);
  const GuestPhys si = map_shared_info(rig.m);
  ASSERT_TRUE(xen::evtchn_status(rig.m.hypercalls(), model::kXlStorePort).ok());
  // Nobody will raise the store port now: every pause sleeps until Xen's
  // turn passes, and the wait ends at its deadline all the same.
  Deadline wait(rig.m.hypercalls(), rig.cpu, 50, WakePort{&rig.mem, si, model::kXlStorePort});
  uint64_t pauses = 0;
  while (wait.pause()) ++pauses;
  EXPECT_GT(pauses, 0u);
  EXPECT_GT(wait.sleeps(), 0u);
  EXPECT_LT(wait.sleeps(), pauses) << "the last stretch, shorter than the margin, yields";
  EXPECT_FALSE(rig.cpu.armed);
}

TEST(SleepingWait, XenRefusesAPollOnAPortNotInUse) {
  Rig rig(xl_with_disk());
  EXPECT_EQ(xen::sched_poll(rig.m.hypercalls(), 4095).error(), xen::Errno::kEINVAL);
  auto port = xen::evtchn_alloc_unbound(rig.m.hypercalls(), 0);
  ASSERT_TRUE(port.ok());
  ASSERT_TRUE(xen::evtchn_close(rig.m.hypercalls(), *port).ok());
  EXPECT_EQ(xen::sched_poll(rig.m.hypercalls(), *port).error(), xen::Errno::kEINVAL);
}

}  // namespace
}  // namespace mb::pv

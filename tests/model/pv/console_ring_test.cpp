// The PV console ring against xl's console backend in the model: what the
// backend reads is exactly what was written, a line per event, the ring
// stays consistent for the next writer, and a ring nobody drains costs a
// bounded wait, never a hang.
#include "magicboot/pv/console_ring.h"

#include <gtest/gtest.h>

#include <string>

#include "boards/xen_arm64/board.h"
#include "magicboot/hypercall/xen.h"
#include "magicboot/xen_stubs/model.h"

namespace mb::pv {
namespace {

namespace board = boards::xen_arm64;
using model::DomainConfig;
using model::DomainKind;
using model::Model;

DomainConfig xl(bool backend = true) {
  DomainConfig c;
  c.kind = DomainKind::kXl;
  c.ram_bytes = uint64_t{256} << 20;
  c.console_backend = backend;
  return c;
}

ConsoleRingPlace place_of(Model& m) {
  auto banks = m.ram();
  auto p = find_console_ring(m.hypercalls(), board::kMagic, {banks.bank, banks.count});
  EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error().detail);
  return p.ok() ? *p : ConsoleRingPlace{};
}


uint32_t index_of(Model& m, ConsoleRingPlace p, size_t off) {
  uint32_t v = 0;
  EXPECT_TRUE(m.memory("test").read(ring_field(p, off), &v, sizeof v).ok());
  return v;
}

TEST(ConsoleRingFind, XlGivesTheToolstacksPageAndPort) {
  Model m(xl());
  ConsoleRingPlace p = place_of(m);
  EXPECT_EQ(p.gfn, Model::magic_gfn(board::kMagicConsole));
  EXPECT_EQ(p.port, model::kXlConsolePort);
}

TEST(ConsoleRingFind, Dom0lessHasNone) {
  DomainConfig c = xl();
  c.kind = DomainKind::kDom0less;
  Model m(c);
  auto banks = m.ram();
  auto p = find_console_ring(m.hypercalls(), board::kMagic, {banks.bank, banks.count});
  ASSERT_FALSE(p.ok());
  EXPECT_STREQ(p.error().check, "console-ring-none");
}

// A toolstack that names a console page we must not write.
class ParamsAnswering final : public Hypercalls {
 public:
  ParamsAnswering(uint64_t pfn, uint64_t port) : pfn_(pfn), port_(port) {}
  long call(unsigned op, uint64_t a0, uint64_t a1, uint64_t, uint64_t, uint64_t) override {
    if (op != __HYPERVISOR_hvm_op || a0 != HVMOP_get_param) return -38;
    auto* p = reinterpret_cast<xen_hvm_param_t*>(static_cast<uintptr_t>(a1));
    p->value = p->index == HVM_PARAM_CONSOLE_PFN ? pfn_ : p->index == HVM_PARAM_CONSOLE_EVTCHN ? port_ : 0;
    return 0;
  }

 private:
  uint64_t pfn_, port_;
};

TEST(ConsoleRingFind, RefusesAPageInRamOrOutsideGuestMagic) {
  const PhysRange ram[] = {board::kRam0};
  struct Case {
    uint64_t pfn;
    const char* why;
  } cases[] = {
      {board::kRam0.base.gfn().value + 5, "in RAM"},
      {board::kMagic.end().gfn().value, "outside GUEST_MAGIC"},
      {board::kMagic.base.gfn().value - 1, "outside GUEST_MAGIC"},
  };
  for (const Case& c : cases) {
    ParamsAnswering h(c.pfn, 2);
    auto p = find_console_ring(h, board::kMagic, ram);
    ASSERT_FALSE(p.ok()) << std::hex << c.pfn;
    EXPECT_STREQ(p.error().check, "console-ring-placement");
    EXPECT_NE(std::string(p.error().detail).find(c.why), std::string::npos) << p.error().detail;
  }
  ParamsAnswering no_port(board::kMagic.base.gfn().value, 0);
  auto p = find_console_ring(no_port, board::kMagic, ram);
  ASSERT_FALSE(p.ok());
  EXPECT_STREQ(p.error().check, "console-ring-none");
}

TEST(ConsoleRing, PublishesALinePerEventAndKeepsTheRestUntilFlushed) {
  Model m(xl());
  ConsoleRing ring(m.hypercalls(), m.memory(), place_of(m));
  ring.write("magic", 5);
  ring.write("boot\nsecond line\nno newline yet", 31);
  EXPECT_EQ(m.pv_console_output(), "magicboot\nsecond line\n");
  EXPECT_EQ(m.notifies(model::kXlConsolePort), 2u);
  ring.flush();
  EXPECT_EQ(m.pv_console_output(), "magicboot\nsecond line\nno newline yet");
  EXPECT_EQ(m.notifies(model::kXlConsolePort), 3u);
  EXPECT_EQ(ring.notifies(), 3u);
  EXPECT_TRUE(m.ring_protocol_errors().empty());
  // Nothing goes out through console_io: that is a different console.
  EXPECT_EQ(m.console_output(), "");
}

TEST(ConsoleRing, WrapsAroundAndLeavesConsistentIndicesForTheNextWriter) {
  Model m(xl());
  ConsoleRingPlace p = place_of(m);
  ConsoleRing ring(m.hypercalls(), m.memory(), p);
  std::string sent;
  for (int i = 0; i < 90; ++i) {
    std::string line = "line " + std::to_string(i) + ": " + std::string(static_cast<size_t>(i % 70), 'x') + "\n";
    ring.write(line.data(), line.size());
    sent += line;
  }
  // A line longer than the 256-byte buffer goes out in pieces, in order.
  std::string longline = std::string(700, 'L') + "\n";
  ring.write(longline.data(), longline.size());
  sent += longline;
  ASSERT_GT(sent.size(), 2u * sizeof(xencons_interface::out));
  EXPECT_EQ(m.pv_console_output(), sent);
  EXPECT_EQ(ring.bytes_published(), sent.size());
  EXPECT_EQ(ring.bytes_dropped(), 0u);
  // Linux's hvc_xen continues from out_prod: both indices say "all read".
  EXPECT_EQ(index_of(m, p, offsetof(xencons_interface, out_prod)), sent.size());
  EXPECT_EQ(index_of(m, p, offsetof(xencons_interface, out_cons)), sent.size());
  EXPECT_TRUE(m.ring_protocol_errors().empty());
}

TEST(ConsoleRing, NobodyReadingCostsABoundedWaitThenDropsAndCounts) {
  Model m(xl(/*backend=*/false));
  ConsoleRingPlace p = place_of(m);
  ConsoleRing ring(m.hypercalls(), m.memory(), p, /*max_yields=*/50);
  const std::string line(99, 'a');
  for (int i = 0; i < 40; ++i) {
    ring.write(line.data(), line.size());
    ring.write("\n", 1);
  }
  const uint64_t total = 40 * 100;
  constexpr uint64_t kRing = sizeof(xencons_interface::out);
  EXPECT_TRUE(ring.stalled());
  EXPECT_EQ(ring.bytes_published(), kRing);
  EXPECT_EQ(ring.bytes_dropped(), total - kRing);
  EXPECT_EQ(index_of(m, p, offsetof(xencons_interface, out_prod)), kRing);
  EXPECT_EQ(m.pv_console_output(), "");

  // A backend that wakes up later drains the ring; the console works again.
  uint32_t cons = static_cast<uint32_t>(kRing);
  ASSERT_TRUE(m.memory("xenconsoled").write(ring_field(p, offsetof(xencons_interface, out_cons)), &cons, 4).ok());
  ring.write("back\n", 5);
  EXPECT_FALSE(ring.stalled());
  EXPECT_EQ(ring.bytes_published(), kRing + 5);
  EXPECT_TRUE(m.ring_protocol_errors().empty());
}

// drained(): true only once the backend has read everything, and a stalled
// ring that drained takes output again (the conformance probe waits on it).
TEST(ConsoleRing, DrainedSaysWhenTheBackendHasReadEverything) {
  Model m(xl(/*backend=*/false));
  ConsoleRingPlace p = place_of(m);
  ConsoleRing ring(m.hypercalls(), m.memory(), p, /*max_yields=*/5);
  EXPECT_TRUE(ring.drained());
  const std::string line(3000, 'b');  // more than the 2 KiB ring
  ring.write(line.data(), line.size());
  ring.write("\n", 1);
  ASSERT_TRUE(ring.stalled()) << ring.bytes_published() << " published, " << ring.bytes_dropped() << " dropped";
  EXPECT_FALSE(ring.drained());
  uint32_t half = 1024;
  ASSERT_TRUE(m.memory("xenconsoled").write(ring_field(p, offsetof(xencons_interface, out_cons)), &half, 4).ok());
  EXPECT_FALSE(ring.drained());
  EXPECT_TRUE(ring.stalled());
  uint32_t all = index_of(m, p, offsetof(xencons_interface, out_prod));
  ASSERT_TRUE(m.memory("xenconsoled").write(ring_field(p, offsetof(xencons_interface, out_cons)), &all, 4).ok());
  EXPECT_TRUE(ring.drained());
  EXPECT_FALSE(ring.stalled());
}

TEST(ConsoleRing, IndicesThatClaimMoreThanTheRingStopIt) {
  Model m(xl());
  ConsoleRingPlace p = place_of(m);
  uint32_t bogus = 100000;  // out_prod - out_cons would exceed the ring
  ASSERT_TRUE(m.memory("xenconsoled").write(ring_field(p, offsetof(xencons_interface, out_cons)), &bogus, 4).ok());
  ConsoleRing ring(m.hypercalls(), m.memory(), p);
  ring.write("never\n", 6);
  EXPECT_TRUE(ring.broken());
  EXPECT_EQ(ring.bytes_published(), 0u);
  EXPECT_EQ(ring.bytes_dropped(), 6u);
  EXPECT_EQ(index_of(m, p, offsetof(xencons_interface, out_prod)), 0u);
}

// The model's ordering check proves itself: a writer that publishes
// out_prod without a barrier after the text is caught.
TEST(ConsoleRingModel, CatchesAnIndexPublishedWithoutABarrier) {
  Model m(xl());
  ConsoleRingPlace p = place_of(m);
  GuestMemory& mem = m.memory();
  ASSERT_TRUE(mem.write(ring_field(p, offsetof(xencons_interface, out)), "hi\n", 3).ok());
  ASSERT_TRUE(mem.store32(ring_field(p, offsetof(xencons_interface, out_prod)), 3).ok());
  ASSERT_EQ(m.ring_protocol_errors().size(), 1u);
  EXPECT_NE(m.ring_protocol_errors()[0].find("barrier"), std::string::npos);
  // With the barrier the same two writes are fine.
  Model ok(xl());
  GuestMemory& mem2 = ok.memory();
  ASSERT_TRUE(mem2.write(ring_field(p, offsetof(xencons_interface, out)), "hi\n", 3).ok());
  mem2.barrier();
  ASSERT_TRUE(mem2.store32(ring_field(p, offsetof(xencons_interface, out_prod)), 3).ok());
  EXPECT_TRUE(ok.ring_protocol_errors().empty());
}

TEST(EventChannelSend, AsXenAnswers) {
  Model m(xl());
  auto& h = m.hypercalls();
  EXPECT_TRUE(xen::evtchn_send(h, model::kXlStorePort).ok());
  EXPECT_EQ(m.notifies(model::kXlStorePort), 1u);
  EXPECT_FALSE(xen::evtchn_send(h, 0).ok());    // reserved
  EXPECT_FALSE(xen::evtchn_send(h, 9).ok());    // free
  EXPECT_FALSE(xen::evtchn_send(h, 1u << 20).ok());  // beyond the table
  auto unbound = xen::evtchn_alloc_unbound(h, 0);
  ASSERT_TRUE(unbound.ok());
  EXPECT_TRUE(xen::evtchn_send(h, *unbound).ok());  // no other end: swallowed
}

}  // namespace
}  // namespace mb::pv

// Any argument value, from any caller: Xen's error code, never a crash.
#include <random>

#include "fixtures.h"

namespace mb::model::testing {
namespace {

constexpr unsigned kOps[] = {__HYPERVISOR_memory_op,   __HYPERVISOR_hvm_op,        __HYPERVISOR_console_io,
                             __HYPERVISOR_sched_op,    __HYPERVISOR_xen_version,   __HYPERVISOR_event_channel_op,
                             __HYPERVISOR_grant_table_op, __HYPERVISOR_vcpu_op};

class Fuzzer {
 public:
  explicit Fuzzer(uint32_t seed) : rng_(seed) {
    for (auto& b : buffers_)
      for (auto& w : b) w = rng_();
  }

  uint64_t value() {
    switch (rng_() % 6) {
      case 0: return 0;
      case 1: return rng_() % 16;
      case 2: return rng_();  // any 64 bits: not a valid host pointer
      case 3: return DOMID_SELF;
      case 4: return ram_gfn(rng_() % 300000).value;
      default: return pointer();
    }
  }
  // A real host buffer of random words, whose words may themselves point at
  // another buffer (guest handles inside structs).
  uint64_t pointer() {
    auto& b = buffers_[rng_() % buffers_.size()];
    for (size_t i = 0; i < b.size(); ++i) {
      switch (rng_() % 4) {
        case 0: b[i] = reinterpret_cast<uintptr_t>(buffers_[rng_() % buffers_.size()].data()); break;
        case 1: b[i] = rng_() % 8; break;
        case 2: b[i] = ram_gfn(rng_() % 300000).value; break;
        default: b[i] = rng_(); break;
      }
    }
    return reinterpret_cast<uintptr_t>(b.data());
  }
  std::mt19937_64& rng() { return rng_; }

 private:
  std::mt19937_64 rng_;
  std::array<std::array<uint64_t, 32>, 4> buffers_{};
};

TEST(Robustness, ThousandsOfRandomHypercallsNeverCrash) {
  for (DomainKind kind : {DomainKind::kDom0less, DomainKind::kXl}) {
    DomainConfig c = kind == DomainKind::kXl ? xl() : dom0less();
    c.shared_info_param = kind == DomainKind::kXl ? SharedInfoParam::kOffered : SharedInfoParam::kAbsent;
    Model m(c);
    Fuzzer f(kind == DomainKind::kXl ? 2 : 1);
    unsigned ok = 0, errors = 0;
    for (int i = 0; i < 20000; ++i) {
      unsigned op = (f.rng()() % 10 == 0) ? static_cast<unsigned>(f.rng()()) : kOps[f.rng()() % std::size(kOps)];
      uint64_t a0 = (f.rng()() % 4 == 0) ? f.rng()() : f.rng()() % 16;
      long rc = m.hypercalls().call(op, a0, f.value(), f.value(), f.value(), f.value());
      (rc < 0 ? errors : ok)++;
      if (rc < 0) {
        EXPECT_GE(rc, -4095) << "op " << op << " cmd " << a0;
      }
      if (i % 500 == 0) m.tick();
    }
    EXPECT_GT(ok, 100u);
    EXPECT_GT(errors, 100u);
    EXPECT_LE(m.tot_pages(), m.max_pages());
    EXPECT_EQ(*xen::xen_version(m.hypercalls()), c.xen_version);  // still answering
  }
}

TEST(Robustness, RandomGuestMemoryAccessesFaultCleanly) {
  Model m(dom0less(uint64_t{64} << 20));
  Fuzzer f(3);
  std::vector<uint8_t> buf(64 << 10);
  auto addr = [&]() -> GuestPhys {
    switch (f.rng()() % 3) {
      case 0: return GuestPhys{f.rng()()};
      case 1: return board::kRam0.base + f.rng()() % (uint64_t{80} << 20);
      default: return board::kMagic.base + f.rng()() % board::kMagic.size;
    }
  };
  for (int i = 0; i < 5000; ++i) {
    auto& mem = m.memory(i % 7 == 0 ? "linux" : "loader");
    size_t len = f.rng()() % buf.size();
    switch (f.rng()() % 6) {
      case 0: (void)mem.read(addr(), buf.data(), len); break;
      case 1: (void)mem.write(addr(), buf.data(), len); break;
      case 2: (void)mem.fill(addr(), static_cast<uint8_t>(i), f.rng()() % 2 ? len : f.rng()()); break;
      case 3: (void)mem.copy(addr(), addr(), len); break;
      case 4: (void)mem.view(addr(), len % 4096); break;
      default:
        if (f.rng()() % 2)
          (void)xen::remove_from_physmap(m.hypercalls(), addr().gfn());
        else
          m.hold("dma", PhysRange{addr(), len});
        break;
    }
  }
  EXPECT_FALSE(m.faults().empty());
}

}  // namespace
}  // namespace mb::model::testing

// The host side of the Platform seam for magicboot-sim (Console and Cpu; the
// model supplies Hypercalls and GuestMemory).
#pragma once

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "magicboot/loader/disk_boot.h"
#include "magicboot/loader/payload/progress.h"
#include "magicboot/platform.h"
#include "magicboot/xen_stubs/wall_clock_cpu.h"
#include "magicboot/sim/sim.h"

namespace mb::sim {

// What the loader printed, kept whole; and, in an xl domain, also written to
// the PV console ring as the firmware does, for the model's backend to read.
class CapturedConsole final : public Console {
 public:
  void write(const char* s, size_t len) override {
    text.append(s, len);
    if (ring) ring->write(s, len);
  }
  std::string text;
  Console* ring = nullptr;
};

// The guest's hypercalls: recorded, and answered by the model unless an
// injected fault answers first.
class RecordingHypercalls final : public Hypercalls {
 public:
  RecordingHypercalls(Hypercalls& model, const InjectedFault& fault) : model_(model), fault_(fault) {}
  long call(unsigned op, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4) override {
    const size_t index = calls.size();
    bool inject = index == fault_.call;
    if (!inject && fault_.persistent && fault_.call < index) {
      const HypercallRecord& first = calls[fault_.call];
      inject = first.op == op && first.cmd == a0;
    }
    const long result = inject ? fault_.result : model_.call(op, a0, a1, a2, a3, a4);
    calls.push_back(HypercallRecord{op, a0, result, inject});
    return result;
  }
  std::vector<HypercallRecord> calls;

 private:
  Hypercalls& model_;
  InjectedFault fault_;
};

// Keys typed on the console while a menu waits: one per poll, then none.
class SimKeys final : public loader::KeyInput {
 public:
  explicit SimKeys(std::string keys) : keys_(std::move(keys)) {}
  int poll_key() override { return at_ < keys_.size() ? static_cast<unsigned char>(keys_[at_++]) : -1; }

 private:
  std::string keys_;
  size_t at_ = 0;
};

// The host's clock and the model's wake (model::WallClockCpu), with what the
// caches and the jump were asked to do recorded.
class RecordingCpu final : public model::WallClockCpu {
 public:
  void clean_to_poc(PhysRange range) override { cleaned.push_back(range); }
  void jump(const Handover& h) override {
    handover = h;
    jumped = true;
    wake_armed_at_jump = armed;
  }
  std::vector<PhysRange> cleaned;
  Handover handover{};
  bool jumped = false;
  bool wake_armed_at_jump = false;
};

// Progress lines on stderr, so --json output on stdout stays clean.
class StderrProgress final : public loader::Progress {
 public:
  void update(uint64_t done, uint64_t total) override {
    std::fprintf(stderr, "magicboot-sim: inflating: %lu / %lu MiB\n", (done >> 20),
                 (total >> 20));
  }
};

}  // namespace mb::sim

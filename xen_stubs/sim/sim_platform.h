// The host side of the Platform seam for magicboot-sim (Console and Cpu; the
// model supplies Hypercalls and GuestMemory).
#pragma once

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "magicboot/loader/payload/progress.h"
#include "magicboot/platform.h"

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

class RecordingCpu final : public Cpu {
 public:
  uint64_t counter() override {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     std::chrono::steady_clock::now().time_since_epoch())
                                     .count());
  }
  void clean_to_poc(PhysRange range) override { cleaned.push_back(range); }
  void jump(const Handover& h) override {
    handover = h;
    jumped = true;
  }
  std::vector<PhysRange> cleaned;
  Handover handover{};
  bool jumped = false;
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

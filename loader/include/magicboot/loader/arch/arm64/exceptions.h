// Fault diagnostics. A synchronous exception (or any other vector) prints
// ESR/FAR/ELR, what the fault was, and -- through a classifier the loader
// core supplies -- which range FAR lies in; then the CPU stops. Never jumps.
//
// The hardware calls the vectors without context, so the reporter's address
// is kept in TPIDR_EL1 (a register, not a global): install() puts it there,
// and the jump clears it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "magicboot/platform.h"

namespace mb::arm64 {

// Saved by vectors.S; the layout is fixed by the assembly (FRAME_SIZE 288).
struct ExceptionFrame {
  uint64_t x[31];
  uint64_t elr;
  uint64_t spsr;
  uint64_t esr;
  uint64_t far;
  uint64_t pad;
};
static_assert(sizeof(ExceptionFrame) == 288);
static_assert(offsetof(ExceptionFrame, elr) == 248);
static_assert(offsetof(ExceptionFrame, esr) == 264);

// Writes one line (no newline) saying what `far` is, e.g. "magic page
// shared_info (removed before handover)". Returns false if it has no idea.
using FaultClassifier = bool (*)(void* ctx, GuestPhys far, char* out, size_t out_len);

class FaultReporter {
 public:
  explicit FaultReporter(Console& console) : console_(&console) {}
  FaultReporter(const FaultReporter&) = delete;
  FaultReporter& operator=(const FaultReporter&) = delete;

  // Makes this object the one the vectors report through.
  void install();
  void set_classifier(FaultClassifier fn, void* ctx) {
    classify_ = fn;
    classify_ctx_ = ctx;
  }
  // The object install() registered; nullptr before.
  static FaultReporter* current();
  static void uninstall();

  [[noreturn]] void report(unsigned kind, const ExceptionFrame& f);
  [[noreturn]] void fatal(const char* why);

 private:
  void line(const char* fmt, ...) __attribute__((format(printf, 2, 3)));

  Console* console_;
  FaultClassifier classify_ = nullptr;
  void* classify_ctx_ = nullptr;
  bool reporting_ = false;  // a fault inside the report: stop quietly
};

// Stops with a message through the installed reporter (if any).
[[noreturn]] void fatal(const char* why);

// "data abort", "instruction abort", ... for ESR_ELx.EC.
const char* exception_class_name(uint64_t esr);

}  // namespace mb::arm64

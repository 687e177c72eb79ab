// The loader's error value: which check failed, and a detail line that names
// the addresses involved. Fixed size, no heap: usable in the firmware.
#pragma once

#include <cstdarg>
#include <cstdint>

#include "magicboot/result.h"

namespace mb {

enum class ErrorCode : uint8_t {
  kBadInput,       // malformed input: DT, payload, arguments
  kBadHash,        // a FIT hash did not match
  kUnsupported,    // well-formed but not something we can boot
  kNoMemory,       // nothing fits: free RAM or the loader's arena
  kOverlap,        // two ranges that must be disjoint are not
  kHypercall,      // Xen answered an error where the boot needs success
  kMemoryFault,    // a guest-physical access faulted (hole, unmapped, read-only)
  kBusy,           // a range is held by another accessor
  kInvariant,      // a handover invariant does not hold
};

const char* to_string(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kBadInput;
  const char* check = "";  // static string naming the failed check, e.g. "fit-hash"
  char detail[192] = {};   // one line, with the addresses involved

  // printf-style detail.
  [[gnu::format(printf, 3, 4)]] static Error make(ErrorCode code, const char* check, const char* fmt, ...);
  static Error makev(ErrorCode code, const char* check, const char* fmt, va_list ap);
};

template <class T>
using Res = Result<T, Error>;

// Shorthand: return MB_ERR(ErrorCode::kOverlap, "ledger-claim", "...%lx", a);
// Error::make's result is built in place inside the Unexpected (a prvalue
// member), so the error is copied once, into the returned Result.
#define MB_ERR(code, check, ...) ::mb::Unexpected<::mb::Error>{::mb::Error::make((code), (check), __VA_ARGS__)}

// What MB_ERR makes: the return type of a helper that composes an error for
// its callers to return as it is (result.h, "One way each").
using Failure = Unexpected<Error>;

// A teardown's outcome: every undo step runs even after one fails, and the
// first failure is what the teardown returns.
class FirstFailure {
 public:
  template <class T>
  void keep(const Res<T>& r) {
    if (!r.ok()) note(r.error());
  }
  void keep(const Failure& f) { note(f.error); }
  Res<void> result() const {
    if (failed_) return Failure{error_};
    return {};
  }

 private:
  void note(const Error& e) {
    if (!failed_) error_ = e;
    failed_ = true;
  }
  bool failed_ = false;
  Error error_{};
};

}  // namespace mb

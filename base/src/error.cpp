#include "magicboot/error.h"

#include "magicboot/format.h"

namespace mb {

const char* to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::kBadInput: return "bad input";
    case ErrorCode::kBadHash: return "hash mismatch";
    case ErrorCode::kUnsupported: return "unsupported";
    case ErrorCode::kNoMemory: return "no memory";
    case ErrorCode::kOverlap: return "overlap";
    case ErrorCode::kHypercall: return "hypercall failed";
    case ErrorCode::kMemoryFault: return "memory fault";
    case ErrorCode::kBusy: return "busy";
    case ErrorCode::kInvariant: return "invariant violated";
  }
  return "unknown error";
}

Error Error::makev(ErrorCode code, const char* check, const char* fmt, va_list ap) {
  Error e;
  e.code = code;
  e.check = check;
  vformat_to(e.detail, sizeof e.detail, fmt, ap);
  return e;
}

Error Error::make(ErrorCode code, const char* check, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  Error e = makev(code, check, fmt, ap);
  va_end(ap);
  return e;
}

}  // namespace mb

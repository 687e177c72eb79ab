// Xen's negative errno returns as a named value.
#pragma once

#include "magicboot/result.h"

namespace mb::xen {

// Values are Xen's own (xen/errno.h), which match Linux's.
enum class Errno : int {
  kEPERM = 1,
  kENOENT = 2,
  kESRCH = 3,
  kE2BIG = 7,
  kEAGAIN = 11,
  kENOMEM = 12,
  kEFAULT = 14,
  kEBUSY = 16,
  kEEXIST = 17,
  kEINVAL = 22,
  kENOSPC = 28,
  kENOSYS = 38,
  kEILSEQ = 84,
  kEOPNOTSUPP = 95,
};

// "EBUSY", ...; "E?" for a value Xen may return that we do not name.
const char* to_string(Errno e);

// Turns Xen's raw return into a named error: rc must be negative.
constexpr Errno errno_from_rc(long rc) { return static_cast<Errno>(-rc); }
constexpr long rc_from_errno(Errno e) { return -static_cast<long>(e); }

template <class T>
using XenResult = Result<T, Errno>;

}  // namespace mb::xen

// The host's answer to a Result asked for the wrong alternative: say what,
// then abort (a test sees it as a death; a tool as a crash with a reason).
// The firmware has its own, in loader/arch/arm64/runtime.cpp.
#include <cstdio>
#include <cstdlib>

#include "magicboot/result.h"

namespace mb {

void result_value_misuse() {
  std::fputs("magicboot: Result misuse: value of a Result that holds an error\n", stderr);
  std::abort();
}

void result_error_misuse() {
  std::fputs("magicboot: Result misuse: error() of a Result that holds a value\n", stderr);
  std::abort();
}

}  // namespace mb

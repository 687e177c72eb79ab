// What picolibc and the compiler expect from a freestanding program.
#include <cstddef>
#include <cstdint>

#include "magicboot/loader/arch/arm64/exceptions.h"
#include "magicboot/result.h"

// A Result asked for the alternative it does not hold: a bug, stopped here.
[[noreturn]] void mb::result_value_misuse() { mb::arm64::fatal("Result misuse: value of an error"); }
[[noreturn]] void mb::result_error_misuse() { mb::arm64::fatal("Result misuse: error() of a value"); }

extern "C" {

// -fstack-protector-strong canary. A fixed value: there is no entropy this
// early, and it still catches the overruns that matter (ours).
uintptr_t __stack_chk_guard = 0x595e9fbd94fda766;

[[noreturn]] void __stack_chk_fail(void) { mb::arm64::fatal("stack protector: stack smashed"); }

// No heap, no files, no exit. malloc/free are defined (failing) so that
// nothing linked can pull in picolibc's allocator: the arena is the only heap.
void* sbrk(ptrdiff_t) { return reinterpret_cast<void*>(-1); }
void* malloc(size_t) { return nullptr; }
void free(void*) {}
[[noreturn]] void _exit(int) { mb::arm64::fatal("_exit called"); }
[[noreturn]] void abort(void) { mb::arm64::fatal("abort called"); }

// Pure virtual call, C++ runtime's last resort.
[[noreturn]] void __cxa_pure_virtual(void) { mb::arm64::fatal("pure virtual call"); }

}  // extern "C"

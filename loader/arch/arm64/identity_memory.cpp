#include "magicboot/loader/arch/arm64/identity_memory.h"

#include <cstring>

namespace mb::arm64 {
namespace {

void* ptr(GuestPhys a) { return reinterpret_cast<void*>(static_cast<uintptr_t>(a.value)); }

}  // namespace

Res<void> IdentityMemory::read(GuestPhys src, void* dst, size_t len) {
  if (len != 0) std::memcpy(dst, ptr(src), len);
  return {};
}

Res<void> IdentityMemory::write(GuestPhys dst, const void* src, size_t len) {
  if (len != 0) std::memcpy(ptr(dst), src, len);
  return {};
}

Res<void> IdentityMemory::copy(GuestPhys dst, GuestPhys src, size_t len) {
  if (len != 0) std::memmove(ptr(dst), ptr(src), len);
  return {};
}

Res<void> IdentityMemory::fill(GuestPhys dst, uint8_t byte, size_t len) {
  if (len != 0) std::memset(ptr(dst), byte, len);
  return {};
}

Res<const uint8_t*> IdentityMemory::view(GuestPhys base, size_t len) {
  if (len != 0 && base.value + len < base.value)
    return MB_ERR(ErrorCode::kBadInput, "view-range", "[%#lx, +%#zx) wraps around",
                  base.value, len);
  return static_cast<const uint8_t*>(ptr(base));
}

Res<uint8_t*> IdentityMemory::writable(GuestPhys base, size_t len) {
  if (len != 0 && base.value + len < base.value)
    return MB_ERR(ErrorCode::kBadInput, "writable-range", "[%#lx, +%#zx) wraps around",
                  base.value, len);
  return static_cast<uint8_t*>(ptr(base));
}

Res<uint32_t> IdentityMemory::load32(GuestPhys at) {
  uint32_t v = *static_cast<const volatile uint32_t*>(ptr(at));
  return v;
}

Res<void> IdentityMemory::store32(GuestPhys at, uint32_t v) {
  *static_cast<volatile uint32_t*>(ptr(at)) = v;
  return {};
}

// An exclusive load/store pair, not LSE's CAS: Armv8.0 cores have no CAS,
// and the compiler's outline-atomics helper needs the C runtime's HWCAP
// probe, which a firmware does not have.
Res<uint32_t> IdentityMemory::compare_exchange32(GuestPhys at, uint32_t expected, uint32_t desired) {
  auto* p = static_cast<volatile uint32_t*>(ptr(at));
  uint32_t found;
  uint32_t failed;
  asm volatile(
      "1: ldaxr %w0, [%2]\n"
      "   cmp %w0, %w3\n"
      "   b.ne 2f\n"
      "   stlxr %w1, %w4, [%2]\n"
      "   cbnz %w1, 1b\n"
      "   b 3f\n"
      "2: clrex\n"
      "3:\n"
      : "=&r"(found), "=&r"(failed)
      : "r"(p), "r"(expected), "r"(desired)
      : "cc", "memory");
  return found;
}

// Inner shareable: Xen and the other domains' vCPUs are in the same inner
// shareable domain as ours, and the shared pages are mapped Normal WB there
// as here, so no cache maintenance is needed -- only order.
void IdentityMemory::barrier() { asm volatile("dmb ish" ::: "memory"); }

}  // namespace mb::arm64

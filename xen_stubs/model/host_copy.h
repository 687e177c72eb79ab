// Xen's copy_from_guest / copy_to_guest for the model: hypercall pointer
// arguments are host pointers, and a bad one must give -EFAULT, not a host
// crash. The kernel checks them for us (process_vm_readv/writev on our own
// pid fail with EFAULT instead of faulting).
#pragma once

#include <cstddef>
#include <cstdint>

namespace mb::model {

// false: null, unmapped or (for writes) read-only host memory.
bool copy_from_host(void* dst, uint64_t src, size_t len);
bool copy_to_host(uint64_t dst, const void* src, size_t len);

}  // namespace mb::model

#include "host_copy.h"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace mb::model {
namespace {

// Pages below this are never a valid host object (the null page and its
// neighbours); answering -EFAULT early spares a syscall.
constexpr uint64_t kLowestValid = 0x10000;
constexpr size_t kPipeChunk = 16 << 10;  // below the default pipe capacity

bool plausible(uint64_t addr, size_t len) { return addr >= kLowestValid && len <= UINT64_MAX - addr; }

void* as_ptr(uint64_t a) { return reinterpret_cast<void*>(static_cast<uintptr_t>(a)); }

// Where process_vm_readv is not allowed (seccomp, e.g. Docker's default
// profile), a pipe does the same check: the kernel copies through it and
// answers EFAULT for memory we may not read (write) instead of faulting.
bool copy_via_pipe(void* dst, const void* src, size_t len) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return false;
  bool ok = true;
  for (size_t done = 0; ok && done < len;) {
    size_t n = std::min(len - done, kPipeChunk);
    ok = write(fds[1], static_cast<const char*>(src) + done, n) == static_cast<ssize_t>(n) &&
         read(fds[0], static_cast<char*>(dst) + done, n) == static_cast<ssize_t>(n);
    done += n;
  }
  close(fds[0]);
  close(fds[1]);
  return ok;
}

}  // namespace

bool copy_from_host(void* dst, uint64_t src, size_t len) {
  if (len == 0) return true;
  if (!plausible(src, len)) return false;
  iovec local{dst, len};
  iovec remote{as_ptr(src), len};
  ssize_t n = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
  if (n < 0 && (errno == ENOSYS || errno == EPERM)) return copy_via_pipe(dst, as_ptr(src), len);
  return n == static_cast<ssize_t>(len);
}

bool copy_to_host(uint64_t dst, const void* src, size_t len) {
  if (len == 0) return true;
  if (!plausible(dst, len)) return false;
  iovec local{const_cast<void*>(src), len};
  iovec remote{as_ptr(dst), len};
  ssize_t n = process_vm_writev(getpid(), &local, 1, &remote, 1, 0);
  if (n < 0 && (errno == ENOSYS || errno == EPERM)) return copy_via_pipe(as_ptr(dst), src, len);
  return n == static_cast<ssize_t>(len);
}

}  // namespace mb::model

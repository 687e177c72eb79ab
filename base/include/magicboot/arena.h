// The loader's only heap: a bump allocator over a buffer the caller owns
// (the firmware's heap region, or a host array in tests). Frees nothing
// individually; an ArenaScope (or reset()) gives memory back. Allocation
// failure is a value.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mb {

class Arena {
 public:
  Arena(void* base, size_t size) : base_(static_cast<uint8_t*>(base)), size_(size) {}

  // nullptr when it does not fit: callers turn that into ErrorCode::kNoMemory.
  void* allocate(size_t bytes, size_t align = 16) {
    uintptr_t start = (reinterpret_cast<uintptr_t>(base_) + used_ + align - 1) & ~(uintptr_t{align} - 1);
    size_t offset = start - reinterpret_cast<uintptr_t>(base_);
    if (offset > size_ || bytes > size_ - offset) return nullptr;
    used_ = offset + bytes;
    if (used_ > peak_) peak_ = used_;
    return base_ + offset;
  }
  template <class T>
  T* allocate_array(size_t count) {
    if (count > SIZE_MAX / sizeof(T)) return nullptr;
    return static_cast<T*>(allocate(count * sizeof(T), alignof(T)));
  }

  struct Mark {
    size_t used;
  };
  Mark mark() const { return {used_}; }
  void rewind(Mark m) { used_ = m.used; }
  void reset() { used_ = 0; }

  size_t used() const { return used_; }
  size_t peak() const { return peak_; }
  size_t capacity() const { return size_; }

 private:
  uint8_t* base_;
  size_t size_;
  size_t used_ = 0;
  size_t peak_ = 0;
};

// Scratch memory for one piece of work: everything allocated from the arena
// while the scope lives is given back when it ends, on every return path.
class ArenaScope {
 public:
  explicit ArenaScope(Arena& arena) : arena_(arena), mark_(arena.mark()) {}
  ~ArenaScope() { arena_.rewind(mark_); }
  ArenaScope(const ArenaScope&) = delete;
  ArenaScope& operator=(const ArenaScope&) = delete;

 private:
  Arena& arena_;
  Arena::Mark mark_;
};

}  // namespace mb

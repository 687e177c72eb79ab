// The contents of the model's machine pages, sparse. A page is in one of
// three states: never written (reads zero, costs nothing), uniform (every
// byte the same: part of a fill run, costs nothing per page), or
// materialised (4 KiB of host memory). A 4 GiB guest whose RAM is filled with
// one byte therefore costs a few map nodes, not 4 GiB.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <vector>

namespace mb::model {

class PageStore {
 public:
  // Byte access inside one page: off + len <= 4096.
  void read(uint64_t mfn, size_t off, void* dst, size_t len) const;
  void write(uint64_t mfn, size_t off, const void* src, size_t len);
  void fill(uint64_t mfn, size_t off, uint8_t byte, size_t len);
  // Every byte of pages [mfn, mfn + count) becomes `byte`, compactly.
  void fill_pages(uint64_t mfn, uint64_t count, uint8_t byte);

  // Pages in [mfn, mfn + count) not entirely `byte`, ascending, at most
  // `limit` (appended to out). Time proportional to runs and materialised
  // pages in the range, not to count.
  void pages_not_filled_with(uint64_t mfn, uint64_t count, uint8_t byte, size_t limit,
                             std::vector<uint64_t>& out) const;

  size_t materialised() const { return pages_.size(); }
  size_t runs() const { return runs_.size(); }

 private:
  struct Run {
    uint64_t count;
    uint8_t byte;  // never 0: zero is what no run means
  };
  uint8_t run_byte(uint64_t mfn) const;
  uint8_t* materialise(uint64_t mfn);
  void split_run_at(uint64_t mfn);
  void set_run(uint64_t mfn, uint64_t count, uint8_t byte);
  // A materialised page that turned uniform goes back to a run.
  void compact(uint64_t mfn);

  std::map<uint64_t, Run> runs_;                             // first mfn -> run
  std::map<uint64_t, std::unique_ptr<uint8_t[]>> pages_;    // materialised
};

}  // namespace mb::model

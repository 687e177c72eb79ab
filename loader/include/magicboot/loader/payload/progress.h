// Long work (inflating a 30 MB kernel under emulation) reports how far it got,
// so a user watching the console knows the boot is not stuck.
#pragma once

#include <cstdint>

namespace mb::loader {

class Progress {
 public:
  // done of total bytes; total is 0 when unknown. Called every few MiB and
  // once at the end.
  virtual void update(uint64_t done, uint64_t total) = 0;

 protected:
  ~Progress() = default;
};

}  // namespace mb::loader

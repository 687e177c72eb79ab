// The disk boot a distribution's disk expects (DiskBoot): the menu
// find_boot_source reads, shown on the console; a key within its timeout
// picks an entry, else the default boots; the entry's kernel file and
// initrd are read from the volume into one range of RAM, high in the first
// bank, which the ledger holds as the payload.
#pragma once

#include "magicboot/cmdline.h"
#include "magicboot/loader/disk_boot.h"

namespace mb::loader {

class DistroBoot final : public DiskBoot {
 public:
  // `keys`: where the menu reads keys (nullptr: it does not wait).
  explicit DistroBoot(KeyInput* keys = nullptr) : keys_(keys) {}
  Res<StagedDisk> stage(Platform& p, Arena& arena, BlockDevice& disk, std::span<const PhysRange> ram,
                        MemoryLedger& ledger) override;
  const DiskBootRecord& record() const override { return r_; }
  void print_report(Console& c) const override;
  void print_json(Console& c) const override;

 private:
  size_t choose(Platform& p, const BootMenu& menu);

  KeyInput* keys_;
  DiskBootRecord r_;
  char options_[kLinuxCommandLineSize] = {};
};

}  // namespace mb::loader

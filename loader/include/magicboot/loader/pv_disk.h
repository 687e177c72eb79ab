// The PV disk as a boot flow part (PvDevices): xenstore, the grant table
// and blkfront from pv/, opened in step 3 and closed in step 8 from the
// record in XenSession. Lives in its own library so a firmware built
// without CONFIG_PV_BLOCK carries none of it.
#pragma once

#include <optional>

#include "magicboot/loader/pv_devices.h"
#include "magicboot/pv/blkfront.h"
#include "magicboot/pv/grant_table.h"
#include "magicboot/pv/xenstore.h"

namespace mb::loader {

// The blkfront options the kernel command line asks for (kDiskRingOrderKey,
// kDiskIndirectKey, kDiskInFlightKey, kDiskWindowKey; absent or malformed:
// the defaults).
pv::BlkfrontOptions disk_options(const char* bootargs);

class PvDisk final : public PvDevices {
 public:
  // Bounded waits, for tests that want a dead backend found quickly.
  explicit PvDisk(uint32_t timeout_ms = pv::Blkfront::kDefaultTimeoutMs) : timeout_ms_(timeout_ms) {}
  Res<void> open(Platform& p, const DiscoveredDt& dt, MemoryLedger& ledger, bool hash_disk,
                 GuestPhys shared_info) override;
  Res<void> close(MemoryLedger& ledger) override;
  const PvRecord& record() const override { return r_; }
  BlockDevice* block_device() override { return disk(); }
  void print_report(Console& c) const override;
  void print_json(Console& c) const override;
  bool still_open(char* detail, size_t cap) const override;
  // The connected disk (after open), for the steps that read from it.
  pv::Blkfront* disk() { return blk_ && blk_->connected() ? &*blk_ : nullptr; }

 private:
  Res<void> connect(Platform& p, const DiscoveredDt& dt, MemoryLedger& ledger, GuestPhys shared_info, PvRecord& r);
  Res<void> hash(Platform& p, PvRecord& r);
  void tally(PvRecord& r) const;

  uint32_t timeout_ms_;
  PvRecord r_;
  std::optional<pv::XenStore> xs_;
  std::optional<pv::GrantTable> gnt_;
  std::optional<pv::Blkfront> blk_;
  PhysRange pages_{};
};

}  // namespace mb::loader

#include "steps.h"

namespace mb::loader::steps {

Res<PayloadSource> stage_disk(Platform& p, Arena& arena, const DiscoveredDt& dt, MemoryLedger& ledger,
                              BootOptions& o) {
  BlockDevice* disk = o.pv->block_device();
  if (disk == nullptr)
    return MB_ERR(ErrorCode::kUnsupported, "vbd-none", "no payload module and no PV disk connected to boot from");
  const StagedDisk s = MB_TRY(o.disk->stage(p, arena, *disk, dt.ram(), ledger));
  // The loader's own command line still wins (tests, the CLI); else the entry's.
  if (o.bootargs == nullptr) o.bootargs = s.options;
  return PayloadSource{s.whole, s.kernel_file, s.initrd};
}

}  // namespace mb::loader::steps

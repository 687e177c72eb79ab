// The disk boot's search on an arbitrary disk (512-byte sectors): the
// partition table, each partition's filesystem (ext4 or FAT), directory
// listings (BLS entries, /boot/vmlinuz-*), the configuration parsers -- then
// what the boot reads of the entry found: its paths resolved, the volume
// mounted again, the kernel and initrd opened and read. Never a fault, a
// hang or an out-of-bounds access; every error named; the arena left as
// found; a menu's default is one of its entries; a read never returns more
// than the file holds.
#include <cstring>

#include "fuzz_check.h"
#include "magicboot/loader/disk/boot_source.h"

namespace {

using namespace mb;
using namespace mb::loader;

void read_file(Volume& v, const BootSource& s, const char* path) {
  char abs[BootEntry::kMaxPath + 32];
  auto r = resolve_boot_path(s, path, abs, sizeof abs);
  if (!r.ok()) {
    FUZZ_CHECK(r.error().check[0] != '\0', "%s: resolve error without a name", path);
    return;
  }
  auto f = v.open(abs);
  if (!f.ok()) {
    FUZZ_CHECK(f.error().check[0] != '\0' && f.error().detail[0] != '\0', "%s: open error without a name", abs);
    return;
  }
  static uint8_t buf[65536];
  auto got = v.read(*f, 0, buf, sizeof buf);
  if (got.ok()) FUZZ_CHECK(*got <= sizeof buf && *got <= f->size, "%s: read %zu of a %lu-byte file", abs, *got, f->size);
  else FUZZ_CHECK(got.error().check[0] != '\0', "%s: read error without a name", abs);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  MemoryBlockDevice dev({data, size}, 512);
  static uint8_t arena_mem[512 << 10];
  Arena arena(arena_mem, sizeof arena_mem);
  static BootMenu menu;
  static Volume volume;
  auto s = find_boot_source(dev, arena, menu);
  FUZZ_CHECK(arena.used() == 0, "the search left %zu bytes in the arena", arena.used());
  if (!s.ok()) {
    FUZZ_CHECK(s.error().check[0] != '\0' && s.error().detail[0] != '\0', "search error without a name");
    return 0;
  }
  FUZZ_CHECK(menu.count >= 1 && menu.count <= BootMenu::kMaxEntries && menu.default_index < menu.count,
             "a menu of %zu entries with default %zu", menu.count, menu.default_index);
  FUZZ_CHECK(s->partition >= 1 && s->sectors != 0 && s->first_lba + s->sectors <= dev.sector_count(),
             "partition %u [%lu, +%lu) on a %lu-sector disk", s->partition, s->first_lba, s->sectors,
             dev.sector_count());
  PartitionDevice part(dev, s->first_lba, s->sectors);
  FUZZ_CHECK(volume.mount(part).ok(), "the volume the search read does not mount again");
  for (size_t i = 0; i < menu.count; ++i) {
    const BootEntry& e = menu.entries[i];
    if (e.has_linux) read_file(volume, *s, e.linux_path);
    if (e.has_initrd) read_file(volume, *s, e.initrd);
  }
  return 0;
}

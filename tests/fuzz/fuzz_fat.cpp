// FAT read from an arbitrary image (512-byte sectors): mount, the lookups a
// boot makes, reads of what they name. Never a fault, a hang or an
// out-of-bounds access; an error is named; a read returns at most the
// file's size. (The seeds are FAT12: FAT16 and FAT32 need more clusters
// than an input holds, so their paths are reached only by mutated BPBs.)
#include "fuzz_check.h"
#include "magicboot/loader/disk/fat.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mb::loader;
  MemoryBlockDevice dev({data, size}, 512);
  auto fs = Fat::mount(dev);
  if (!fs.ok()) {
    FUZZ_CHECK(fs.error().check[0] != '\0', "mount error without a name");
    return 0;
  }
  static uint8_t buf[65536];
  for (const char* path : {"/boot/a long name.txt", "/KERNEL.IMG", "/loader/entries/x.conf", "/EFI/BOOT/BOOTAA64.EFI",
                           "/boot/../boot/./KERNEL.IMG"}) {
    auto f = fs->lookup(path);
    if (!f.ok()) {
      FUZZ_CHECK(f.error().check[0] != '\0' && f.error().detail[0] != '\0', "%s: error without a name", path);
      continue;
    }
    if (f->dir) continue;
    auto got = fs->read(*f, 0, buf, sizeof buf);
    if (got.ok()) FUZZ_CHECK(*got <= sizeof buf && *got <= f->size, "%s: read %zu of a %u-byte file", path, *got, f->size);
  }
  return 0;
}

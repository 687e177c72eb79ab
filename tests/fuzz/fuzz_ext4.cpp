// ext4 read from an arbitrary filesystem image (512-byte sectors): mount,
// look up the paths a boot looks up, read what they name. Never a fault,
// a hang or an out-of-bounds access; an error is named; a read returns at
// most what the file holds.
#include <cstring>

#include "fuzz_check.h"
#include "magicboot/loader/disk/ext4.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mb::loader;
  MemoryBlockDevice dev({data, size}, 512);
  auto fs = Ext4::mount(dev);
  if (!fs.ok()) {
    FUZZ_CHECK(fs.error().check[0] != '\0', "mount error without a name");
    return 0;
  }
  static uint8_t buf[65536];
  for (const char* path : {"/boot/vmlinuz", "/vmlinuz", "/extlinux/extlinux.conf", "/boot/extlinux/extlinux.conf",
                           "/loader/entries", "/a/b/c", "/"}) {
    auto n = fs->lookup(path);
    if (!n.ok()) {
      FUZZ_CHECK(n.error().check[0] != '\0' && n.error().detail[0] != '\0', "%s: error without a name", path);
      continue;
    }
    auto got = fs->read(*n, 0, buf, sizeof buf);
    if (got.ok()) FUZZ_CHECK(*got <= sizeof buf && *got <= n->size, "%s: read %zu of a %lu-byte file", path, *got, n->size);
  }
  return 0;
}

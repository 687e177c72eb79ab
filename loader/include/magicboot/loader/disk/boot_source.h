// Where on a disk the boot comes from, found the way distributions lay a
// disk out and U-Boot's distro boot looks: partitions in table order, on
// each extlinux.conf (/boot/extlinux/, then /extlinux/), else Boot Loader
// Specification type #1 entries (/loader/entries/, then
// /boot/loader/entries/). Only when no partition has either: /boot/Image,
// else the newest /boot/vmlinuz-* (UAPI.10 version order) with the
// initrd.img-* of the same version.
#pragma once

#include <cstddef>
#include <cstdint>

#include "magicboot/arena.h"
#include "magicboot/error.h"
#include "magicboot/loader/disk/boot_config.h"
#include "magicboot/loader/disk/partitions.h"
#include "magicboot/loader/disk/volume.h"

namespace mb::loader {

enum class ConfigKind : uint8_t { kExtlinux, kBls, kFallback };
const char* to_string(ConfigKind k);

struct BootSource {
  TableKind table = TableKind::kGpt;
  bool gpt_backup_used = false;
  unsigned partition = 0;  // 1-based, as Linux numbers it
  uint64_t first_lba = 0, sectors = 0;
  FsKind fs = FsKind::kExt4;
  ConfigKind kind = ConfigKind::kExtlinux;
  char config[32] = {};  // the file or directory the menu came from
  // Where relative paths of the entries start: extlinux's are relative to
  // its directory (as U-Boot's sysboot reads them); BLS paths to $BOOT, the
  // directory holding loader/.
  char base[24] = {};
};

// Fills `menu` (large: callers keep it in the arena) from the first
// partition that has a configuration; `arena` holds the files' text while
// they are parsed. Errors: the partition table's; the configuration's own
// (extlinux-*, bls-*, read errors); "boot-config-size" (a file over 64
// KiB); "disk-no-boot" when nothing bootable is found, naming what each
// partition held.
Res<BootSource> find_boot_source(BlockDevice& disk, Arena& arena, BootMenu& menu);

// An entry's path as an absolute path on the source's volume; "boot-path"
// when it does not fit `cap`.
Res<void> resolve_boot_path(const BootSource& s, const char* path, char* out, size_t cap);

}  // namespace mb::loader

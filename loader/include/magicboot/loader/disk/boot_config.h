// What a disk says to boot: extlinux.conf as Debian's u-boot-menu and
// syslinux write it, and Boot Loader Specification type #1 entries
// (/loader/entries/*.conf), sorted as the specification says. Pure text
// parsing: the caller reads the files (ext4, FAT) and resolves the paths.
// The DT always comes from Xen: fdt/fdtdir/devicetree lines are noted and
// not used.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "magicboot/cmdline.h"
#include "magicboot/error.h"

namespace mb::loader {

struct BootEntry {
  static constexpr size_t kMaxPath = 256;
  char id[64] = {};         // extlinux label / BLS file name without ".conf" and boot counters
  char title[128] = {};     // menu label / title (the id when there is none)
  char version[64] = {};    // BLS
  char sort_key[64] = {};   // BLS
  char machine_id[33] = {}; // BLS
  char linux_path[kMaxPath] = {};
  char initrd[kMaxPath] = {};
  char options[kLinuxCommandLineSize] = {};  // append / options (all "options" lines, joined)
  bool has_linux = false;
  bool has_initrd = false;
  bool has_fdt = false;     // named a DT: ignored, Xen's is used
  bool bad = false;         // BLS boot counting: no tries left
};

struct BootMenu {
  static constexpr size_t kMaxEntries = 16;
  BootEntry entries[kMaxEntries];
  size_t count = 0;
  size_t dropped = 0;          // entries past kMaxEntries
  size_t default_index = 0;
  uint32_t timeout_ds = 0;     // tenths of a second (extlinux's unit); 0: boot the default at once
  char title[128] = {};
  size_t ignored_lines = 0;    // keywords this loader does not act on
  std::span<const BootEntry> list() const { return {entries, count}; }
  // Empty again, in place: the menu is too big for a temporary on the
  // firmware's stack.
  void reset() {
    count = dropped = default_index = ignored_lines = 0;
    timeout_ds = 0;
    title[0] = '\0';
  }
};

// UAPI.10 version order: <0, 0, >0 as a is lower, equal, higher.
int version_compare(const char* a, const char* b);

// extlinux.conf. Errors (kBadInput, naming the line): "extlinux-line" (a
// line longer than the command line Linux keeps), "extlinux-no-label"
// (nothing to boot), "extlinux-default" (default names no label),
// "extlinux-no-kernel" (the default label has no linux/kernel line).
Res<void> parse_extlinux(const char* text, size_t len, BootMenu& menu);

// One BLS type #1 entry file, added to `menu` (unsorted). `file_name` is
// the entry's name ("debian-6.1.0-13-arm64+3-1.conf"). An entry that is
// for another architecture or an EFI binary is skipped (false returned).
// Errors: "bls-line", "bls-no-linux".
Res<bool> add_bls_entry(const char* file_name, const char* text, size_t len, BootMenu& menu);
// Sorts the menu as the specification says (good before bad; sort-key,
// machine-id, version descending; then file names, version descending)
// and makes the first entry the default.
void sort_bls(BootMenu& menu);

}  // namespace mb::loader

// Booting from a disk, seen from the boot flow: an optional part the
// firmware plugs in (CONFIG_PV_BLOCK) when Xen gave no payload module. It
// finds what the disk says to boot (loader/disk/boot_source.h), lets the
// user pick an entry, and reads the kernel file and initrd into RAM it
// claims as the payload; from there the boot is the module boot's, step
// for step. A firmware without it carries none of this code.
#pragma once

#include <cstdint>
#include <span>

#include "magicboot/addr.h"
#include "magicboot/arena.h"
#include "magicboot/error.h"
#include "magicboot/loader/disk/block_device.h"
#include "magicboot/loader/disk/boot_source.h"
#include "magicboot/loader/ledger.h"
#include "magicboot/platform.h"

namespace mb::loader {

// Keys typed on the console while the menu waits; -1: none yet.
class KeyInput {
 public:
  virtual int poll_key() = 0;

 protected:
  ~KeyInput() = default;
};

// What the boot staged: the kernel file at `kernel_file.base`, the initrd
// (if any) after it, both inside `whole`, which the ledger holds as the
// payload. `options`: the entry's command line (nullptr: none given).
struct StagedDisk {
  PhysRange whole;
  PhysRange kernel_file;
  PhysRange initrd;
  const char* options = nullptr;
};

// Where the payload came from, for the report and the JSON.
struct DiskBootRecord {
  bool used = false;
  BootSource source{};
  unsigned entries = 0, chosen = 0;  // the menu's size and the entry booted (0-based)
  bool by_key = false;               // a key picked it (else the default)
  char label[64] = {};
  char kernel_path[128] = {};
  char initrd_path[128] = {};
  uint64_t kernel_bytes = 0, initrd_bytes = 0;
  uint64_t read_us = 0;  // reading both files
};

class DiskBoot {
 public:
  // Errors: find_boot_source's; "boot-entry" (the entry chosen names no
  // kernel); the volume's errors, naming the entry and the file;
  // "disk-file-size" (an empty kernel, files larger than the first RAM
  // bank); the ledger's when no RAM in the first bank is free for them.
  virtual Res<StagedDisk> stage(Platform& p, Arena& arena, BlockDevice& disk, std::span<const PhysRange> ram,
                                MemoryLedger& ledger) = 0;
  virtual const DiskBootRecord& record() const = 0;
  // The record's line in the handover report, and its "disk" JSON member
  // (with a trailing comma).
  virtual void print_report(Console& c) const = 0;
  virtual void print_json(Console& c) const = 0;

 protected:
  ~DiskBoot() = default;
};

}  // namespace mb::loader

"""Code the Python tools share; the executables in tools/ are thin entry points.

An entry point puts tools/ on sys.path and imports what it needs:

    sys.path.insert(0, <the tools/ directory>)
    from magicboot_tools import cli, qemu

Modules
  paths     the source tree, the cache ($MAGICBOOT_CACHE, default
            ~/.cache/magicboot) and what tools/setup puts there
  cli       one-line usage errors (exit 2), argument checks, running a tool
  cpio      the "newc" archive writer (initramfs, dom0's image, xl's guest)
  fdt       the one flattened-device-tree reader (and a FIT's kernel)
  handover  MAGICBOOT-HANDOVER / MAGICBOOT-XL JSON out of a serial log
  qemu      the harness: a boot's QEMU set-up (bare, xen, xl), the serial
            pump, markers, ending QEMU
  measure   guest instructions under a TCG plugin (bench-boot, profile-boot,
            compare-peers)
  debsrc    building from a Debian source package: named steps, a private
            apt configuration, a cache by input hash (build-xen, build-peers)
  rootfs    the disk boot's initrd and root filesystem (tools/make-disk)
  results   dataclasses for what a plugin run and a benchmark produce

Python 3.11, standard library only. Nothing here installs anything:
tools/setup does.
"""

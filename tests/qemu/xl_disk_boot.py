#!/usr/bin/env python3
"""Disk boots under xl (issue 14): the xl firmware is the guest's kernel, the
guest has no ramdisk, only a disk from tools/make-disk's boot layouts, and
magicboot must boot what the disk says -- then Linux mounts /dev/xvda2 from
the same disk and that root filesystem's /sbin/init prints MAGICBOOT-ROOTFS
with the label booted (check_xl.py --rootfs-label). A bad disk must be
refused by name (MAGICBOOT-ERROR, check_xl.py --disk-error), no jump.

  xl_disk_boot.py FIRMWARE DISKDIR CASE [tools/qemu/run options...]

  DISKDIR  what tests/tools/make_disks.py built (manifest.json)
  CASE     extlinux      the default label l0 (menu times out: 2 s)
           menu          extlinux, '2' typed at the menu: the rescue label l0r
           two-labels    default l0r (not the first label)
           fit-ext4      the label's kernel is a FIT carrying the initrd
           bls-fat       MBR + FAT32, BLS entries: the newest version
           fallback      no configuration: the newest /boot/vmlinuz-*, its
                         initrd, and xl's extra= as the command line
           bad:LAYOUT:CHECK
                         LAYOUT (a bad disk) refused with MAGICBOOT-ERROR CHECK
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.realpath(__file__))
CHECK_XL = os.path.join(HERE, "check_xl.py")
GUEST = "[[]guest[]] "
FAULT = "MAGICBOOT-FAULT (?!boot failed: not jumping)"


def good(firmware, m, case):
    v = m["kernel_version"]
    layouts = m["layouts"]
    # magicboot.report=full: the handover JSON, which --handover judges.
    label, initrd, disk, extra = "l0", f"initrd.img-{v}", case, ["--bootargs", "magicboot.report=full"]
    if case == "menu":
        disk, label = "extlinux", "l0r"
        extra += ["--console-keys", "MAGICBOOT-MENU:2", "--expect", GUEST + "magicboot: disk: key '2'"]
    elif case == "two-labels":
        label = "l0r"
    elif case == "bls-fat":
        label = f"magicboot-{v}"
    elif case == "fallback":
        label = "fallback"
        extra = ["--bootargs", "root=/dev/xvda2 ro console=hvc0 magicboot.label=fallback magicboot.report=full"]
    elif case not in ("extlinux", "fit-ext4"):
        return None
    checks = ["--rootfs-label", label, "--no-backend-errors", "--handover", "guest", "--boots", "1"]
    if case != "fit-ext4":  # the FIT's ramdisk is the same initrd, but unnamed inside it
        checks += ["--rootfs-initrd", initrd]
    return checks + ["--", "xl", "--kernel", firmware, "--disk", layouts[disk]["file"],
                     "--expect", GUEST + "MAGICBOOT-ROOTFS ", "--fail", "MAGICBOOT-INITRD-ERROR"] + extra


def bad(firmware, diskdir, case):
    _, layout, check = case.split(":")
    disk = os.path.join(diskdir, f"{layout}.img")
    if not os.path.isfile(disk):
        return None
    return ["--disk-error", check, "--boots", "1", "--", "xl", "--kernel", firmware, "--disk", disk,
            # A refusal ends in "MAGICBOOT-FAULT boot failed: not jumping" right
            # after MAGICBOOT-ERROR; any other fault fails the test.
            "--no-default-fail", "--fail", "Booting Linux", "--fail", FAULT,
            "--expect", GUEST + "MAGICBOOT-ERROR"]


def main(argv):
    if len(argv) < 3 or argv[0] in ("-h", "--help"):
        print(__doc__, file=sys.stderr)
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    firmware, diskdir, case = argv[:3]
    if case.startswith("bad:"):
        cmd = bad(firmware, diskdir, case)
    else:
        with open(os.path.join(diskdir, "manifest.json")) as f:
            cmd = good(firmware, json.load(f), case)
    if cmd is None:
        print(f"xl_disk_boot: unknown case or missing disk '{case}' in {diskdir}", file=sys.stderr)
        return 2
    cmd = [sys.executable, CHECK_XL] + cmd + argv[3:]
    print("xl_disk_boot: " + " ".join(cmd), flush=True)
    return subprocess.run(cmd).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

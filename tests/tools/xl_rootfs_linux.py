#!/usr/bin/env python3
"""The disk boot's Linux side without magicboot (issue 14): Debian's kernel
is the xl guest's kernel, the disk's own initrd (read out of the extlinux
image with debugfs) its ramdisk, the extlinux image its xvda, and the
command line what the disk's label l0 appends. The initrd must load
xen-blkfront, mount /dev/xvda2 read-only and switch_root to it; that root
filesystem's /sbin/init must print MAGICBOOT-ROOTFS (check_xl.py
--rootfs-label l0); on the way, magicboot.rootfs-ask makes it read a line
that dom0 types into the guest's console (tools/qemu/run --console-keys),
which must come within the menu timeout of the disks' extlinux.conf (2 s).

  xl_rootfs_linux.py DIR [tools/qemu/run options...]
  DIR: what make_disks.py --real DIR built
"""
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.realpath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
ROOT_LBA = 69632
MENU_TIMEOUT_S = 5.0


def main(argv):
    if not argv or not os.path.isfile(os.path.join(argv[0], "manifest.json")):
        print(__doc__, file=sys.stderr)
        return 2
    with open(os.path.join(argv[0], "manifest.json")) as f:
        m = json.load(f)
    disk, v = m["layouts"]["extlinux"]["file"], m["kernel_version"]
    with tempfile.TemporaryDirectory(prefix="xl-rootfs-") as tmp:
        initrd = os.path.join(tmp, "initrd.img")
        subprocess.run(["/sbin/debugfs", "-R", f"dump /boot/initrd.img-{v} {initrd}",
                        f"{disk}?offset={ROOT_LBA * 512}"], check=True, stderr=subprocess.DEVNULL)
        if not os.path.getsize(initrd):
            print(f"xl_rootfs_linux: no /boot/initrd.img-{v} in {disk}", file=sys.stderr)
            return 1
        log = os.path.join(tmp, "serial.log")
        run = [sys.executable, os.path.join(ROOT, "tools", "qemu", "run"),
               "xl", "--kernel", m["kernel"], "--ramdisk", initrd, "--disk", disk,
               "--bootargs", "root=/dev/xvda2 ro console=hvc0 magicboot.label=l0 magicboot.rootfs-ask",
               "--console-keys", r"MAGICBOOT-ROOTFS-ASK:typed by dom0\r",
               "--expect", r'\[guest\] MAGICBOOT-ROOTFS \{.*"typed":"typed by dom0"',
               "--fail", "MAGICBOOT-INITRD-ERROR"] + argv[1:] + ["--log", log]
        print("xl_rootfs_linux: " + " ".join(run), flush=True)
        rc = subprocess.run(run).returncode
        if rc != 0:
            return rc
        check = [sys.executable, os.path.join(ROOT, "tests", "qemu", "check_xl.py"), "--rootfs-label", "l0",
                 "--rootfs-initrd", f"initrd.img-{v}", "--no-backend-errors", "--boots", "1", "--log-only", log]
        if subprocess.run(check).returncode != 0:
            return 1
        # The keys must follow the marker within the disks' menu timeout
        # (extlinux.conf's "timeout 50": 5 s), as they must for a menu.
        with open(log, errors="replace") as f:
            m = re.search(r'MAGICBOOT-ROOTFS \{.*"waited_s":([0-9.]+)', f.read())
        if not m or float(m.group(1)) >= MENU_TIMEOUT_S:
            print(f"xl_rootfs_linux: FAIL: the guest waited {m.group(1) if m else '?'} s for the keys "
                  f"(the menu's timeout is {MENU_TIMEOUT_S} s)", file=sys.stderr)
            return 1
        print(f"xl_rootfs_linux: PASS: the keys came {m.group(1)} s after the guest asked")
        return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

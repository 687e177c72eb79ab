"""The disk boot's Linux side (tools/make-disk): an initrd that mounts the
root filesystem from the PV disk and switches to it, and that root
filesystem, whose /sbin/init prints one marker line and powers off.

  initrd   busybox-static + the modules Linux needs for its root (xen-blkfront,
           and ext4 with what it depends on when Debian's kernel has them as
           modules; modules.module_closure), cpio newc gzip'd, the same
           bytes every run. Its /init loads them, waits for root= (20 s),
           mounts it read-only and switch_roots to it; a failure prints
             MAGICBOOT-INITRD-ERROR <why>
           and powers off.
  rootfs   /bin/busybox, /sbin/init, /etc/magicboot-rootfs (ROOTFS_MARKER,
           found nowhere else: not in the initrd, not in any script). /sbin/init
           prints
             MAGICBOOT-ROOTFS {"root":"/dev/xvda2","fstype":"ext4","mode":"ro",
               "label":"l0","initrd":"initrd.img-V","marker":"..."}
           root/fstype/mode from /proc/mounts (what is mounted on /), label
           from magicboot.label= on /proc/cmdline, initrd from the initrd
           that started it, marker from /etc/magicboot-rootfs; then powers
           off (mb.end=sleep: sleeps instead). With magicboot.rootfs-ask it
           first prints MAGICBOOT-ROOTFS-ASK and reads one line from the
           console, given back as "typed", with "waited_s" the seconds it
           waited for it (tests the harness's --console-keys without the
           firmware's menu, and how soon the keys follow the marker).
"""
import gzip

from .cpio import Newc

# What /etc/magicboot-rootfs holds: a marker that only the root filesystem
# carries, so a MAGICBOOT-ROOTFS line with it proves Linux ran that disk's
# /sbin/init. check_xl.py --rootfs-label compares it.
ROOTFS_MARKER = "rootfs-5a1e0b00-on-xvda2"

INITRD_INIT = r"""#!/bin/busybox sh
# magicboot disk-boot initrd: load the modules for the root, mount root=
# read-only, switch_root to it. Nothing here knows the root's marker.
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
fail() {
  echo "MAGICBOOT-INITRD-ERROR $*"
  poweroff -f
  while :; do sleep 3600; done
}
root=
for w in $(cat /proc/cmdline); do
  case "$w" in root=*) root=${w#root=} ;; esac
done
[ -n "$root" ] || fail "no root= on the command line"
while read -r m; do
  [ -n "$m" ] || continue
  insmod "/lib/modules/$m.ko" || fail "insmod $m"
done < /lib/modules/load-order
i=0
while [ ! -b "$root" ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
[ -b "$root" ] || fail "no $root after 20 s ($(ls /dev | grep -c xvd) xvd* devices)"
mkdir -p /newroot
mount -t ext4 -o ro "$root" /newroot || fail "mount -o ro $root"
[ -x /newroot/sbin/init ] || fail "no /sbin/init on $root"
mount --move /dev /newroot/dev || fail "mount --move /dev"
umount /sys /proc
export MAGICBOOT_INITRD="$(cat /etc/magicboot-initrd)"
exec switch_root /newroot /sbin/init
"""

ROOTFS_INIT = r"""#!/bin/busybox sh
# magicboot disk-boot root filesystem: say which root, label and initrd this
# is, then power off. Read-only: nothing is written.
bb=/bin/busybox
$bb mount -t proc proc /proc
$bb mount -t sysfs sysfs /sys
set -- $($bb awk '$2 == "/" { d = $1; t = $3; o = $4 } END { print d, t, o }' /proc/mounts)
root=$1 fstype=$2 mode=ro
case ",$3," in *,rw,*) mode=rw ;; esac
label=
for w in $($bb cat /proc/cmdline); do
  case "$w" in magicboot.label=*) label=${w#magicboot.label=} ;; esac
done
typed=
case " $($bb cat /proc/cmdline) " in
  *" magicboot.rootfs-ask "*)
    t0=$($bb cut -d' ' -f1 /proc/uptime)
    echo "MAGICBOOT-ROOTFS-ASK type a line"
    read -r typed < /dev/console
    t1=$($bb cut -d' ' -f1 /proc/uptime)
    typed=$(echo "$typed" | $bb tr -cd 'A-Za-z0-9 ._-')
    typed=",\"typed\":\"$typed\",\"waited_s\":$(echo "$t0 $t1" | $bb awk '{ printf "%.2f", $2 - $1 }')" ;;
esac
marker=$($bb cat /etc/magicboot-rootfs)
echo "MAGICBOOT-ROOTFS {\"root\":\"$root\",\"fstype\":\"$fstype\",\"mode\":\"$mode\",\"label\":\"$label\",\"initrd\":\"$MAGICBOOT_INITRD\",\"marker\":\"$marker\"$typed}"
case " $($bb cat /proc/cmdline) " in
  *" mb.end=sleep "*) while :; do $bb sleep 3600; done ;;
esac
$bb poweroff -f
while :; do $bb sleep 3600; done
"""

# Modules Linux's root on the PV disk needs, when not built in.
ROOT_MODULES = ["xen-blkfront", "ext4"]


def builtin_modules(mod_root: str) -> set[str]:
    """Names (dashes) the kernel has built in (modules.builtin)."""
    names = set()
    try:
        with open(f"{mod_root}/modules.builtin") as f:
            for line in f:
                base = line.strip().rsplit("/", 1)[-1]
                if base.endswith(".ko"):
                    names.add(base[:-3].replace("_", "-"))
    except FileNotFoundError:
        pass
    return names


def root_modules(mod_root: str) -> list[str]:
    """ROOT_MODULES less the built-in ones (Debian's cloud kernel has ext4 built in)."""
    built_in = builtin_modules(mod_root)
    return [m for m in ROOT_MODULES if m.replace("_", "-") not in built_in]


def initrd(busybox: bytes, mods: list[tuple[str, bytes]], name: str) -> bytes:
    """The initrd (gzip'd cpio newc), mods in load order; `name` is what it
    calls itself in MAGICBOOT-ROOTFS ("initrd")."""
    a = Newc()
    for d in [".", "bin", "sbin", "usr", "usr/bin", "usr/sbin", "dev", "proc", "sys", "tmp", "etc", "newroot"]:
        a.dirs(d)
    a.chardev("dev/console", 5, 1)
    a.file("bin/busybox", busybox, 0o755)
    a.file("init", INITRD_INIT.encode(), 0o755)
    a.file("etc/magicboot-initrd", name.encode() + b"\n")
    a.dirs("lib/modules")
    for mod, data in mods:
        a.file(f"lib/modules/{mod}.ko", data)
    a.file("lib/modules/load-order", "".join(f"{m}\n" for m, _ in mods).encode())
    return gzip.compress(a.finish(), 9, mtime=0)


def rootfs_tree(busybox: bytes) -> dict:
    """path -> entry for tools/make-disk's trees: ("file", bytes, mode),
    ("dir",), ("link", target)."""
    return {
        "bin/busybox": ("file", busybox, 0o755),
        "bin/sh": ("link", "busybox"),
        "sbin/init": ("file", ROOTFS_INIT.encode(), 0o755),
        "etc/magicboot-rootfs": ("file", ROOTFS_MARKER.encode() + b"\n", 0o644),
        "etc/os-release": ("file", b'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\n'
                           b'VERSION_ID="12"\nID=debian\n', 0o644),
        "dev": ("dir",), "proc": ("dir",), "sys": ("dir",), "tmp": ("dir",), "run": ("dir",),
    }

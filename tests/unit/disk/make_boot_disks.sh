#!/bin/sh
# make_boot_disks.sh SFDISK MKFS_EXT4 MKFS_VFAT MCOPY MMD OUTDIR: small disks
# laid out the ways find_boot_source must read (sfdisk, mke2fs -d and
# mkfs.vfat + mtools are the oracles; no root, no loop devices):
#   extlinux.img  GPT: p1 FAT with a README only, p2 ext4 with
#                 /boot/extlinux/extlinux.conf (one relative, one absolute
#                 path), a swap-like p3 of zeros
#   bls.img       MBR: p1 FAT with /loader/entries (two versions, an EFI
#                 entry, another architecture's)
#   bootbls.img   GPT: p1 ext4 with /boot/loader/entries (Fedora-style $BOOT = /boot)
#   fallback.img  GPT: p1 ext4, /boot/vmlinuz-6.1.0-9 and -10 (10 is newer), one initrd
#   image.img     GPT: p1 ext4 with /boot/Image and /boot/vmlinuz-9
#   none.img      GPT: p1 ext4 with no kernel, p2 zeros
set -eu
sfdisk=$1 mkfs=$2 vfat=$3 mcopy=$4 mmd=$5 out=$6
export MTOOLS_SKIP_CHECK=1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"
ext4() { "$mkfs" -q -F -t ext4 -b 1024 -d "$1" "$2" 4M >/dev/null; }
fat() { rm -f "$1"; "$vfat" -C "$1" 4096 >/dev/null; }
# gpt OUT FS1 [FS2]: 4 KiB-aligned partitions of 4 MiB at 1 MiB and 5 MiB, a third of 1 MiB.
gpt() {
  truncate -s 12M "$1"
  printf 'label: gpt\nstart=2048, size=8192, name="one"\nstart=10240, size=8192, name="two"\nstart=18432, size=2048, name="three"\n' |
    "$sfdisk" --quiet --no-reread --no-tell-kernel "$1" >/dev/null
  dd if="$2" of="$1" bs=512 seek=2048 conv=notrunc status=none
  if [ $# -ge 3 ]; then dd if="$3" of="$1" bs=512 seek=10240 conv=notrunc status=none; fi
}

# extlinux.img
fat "$tmp/esp.img"
printf 'nothing to boot here\n' > "$tmp/README"
"$mcopy" -i "$tmp/esp.img" "$tmp/README" ::/README
r=$tmp/ext; mkdir -p "$r/boot/extlinux"
printf 'kernel one\n' > "$r/boot/vmlinuz-6.1.0-test"
printf 'initrd one\n' > "$r/boot/initrd.img-6.1.0-test"
cat > "$r/boot/extlinux/extlinux.conf" <<'CONF'
## /boot/extlinux/extlinux.conf
default l0r
menu title U-Boot menu
timeout 20

label l0
	menu label Debian GNU/Linux 6.1.0-test
	linux /boot/vmlinuz-6.1.0-test
	initrd /boot/initrd.img-6.1.0-test
	append root=/dev/xvda2 ro

label l0r
	menu label Debian GNU/Linux 6.1.0-test (rescue target)
	linux ../vmlinuz-6.1.0-test
	append root=/dev/xvda2 ro single
CONF
ext4 "$r" "$tmp/ext.img"
gpt "$out/extlinux.img" "$tmp/esp.img" "$tmp/ext.img"

# bls.img: MBR, FAT
fat "$tmp/bls.img"
"$mmd" -i "$tmp/bls.img" ::/loader ::/loader/entries
printf 'kernel ten\n' > "$tmp/vmlinuz-10"
printf 'kernel nine\n' > "$tmp/vmlinuz-9"
printf 'title Debian 10\nversion 6.1.0-10-arm64\nlinux /vmlinuz-10\ninitrd /initrd-10\noptions root=/dev/xvda2\noptions ro\n' > "$tmp/debian-10.conf"
printf 'title Debian 9\nversion 6.1.0-9-arm64\nlinux /vmlinuz-9\noptions root=/dev/xvda2\n' > "$tmp/debian-9.conf"
printf 'title UKI\nefi /EFI/Linux/uki.efi\n' > "$tmp/uki.conf"
printf 'title x86\narchitecture x64\nlinux /vmlinuz-x86\n' > "$tmp/x86.conf"
for f in vmlinuz-10 vmlinuz-9; do "$mcopy" -i "$tmp/bls.img" "$tmp/$f" "::/$f"; done
for f in debian-10.conf debian-9.conf uki.conf x86.conf; do "$mcopy" -i "$tmp/bls.img" "$tmp/$f" "::/loader/entries/$f"; done
truncate -s 8M "$out/bls.img"
printf 'label: dos\nstart=2048, size=8192, type=c\n' | "$sfdisk" --quiet --no-reread --no-tell-kernel "$out/bls.img" >/dev/null
dd if="$tmp/bls.img" of="$out/bls.img" bs=512 seek=2048 conv=notrunc status=none

# bootbls.img: ext4, $BOOT = /boot
r=$tmp/bootbls; mkdir -p "$r/boot/loader/entries"
printf 'kernel fedora\n' > "$r/boot/vmlinuz-6.5.0"
printf 'title Fedora\nversion 6.5.0\nlinux /vmlinuz-6.5.0\noptions root=/dev/xvda1\n' > "$r/boot/loader/entries/fedora-6.5.0.conf"
ext4 "$r" "$tmp/bootbls.img"
gpt "$out/bootbls.img" "$tmp/bootbls.img"

# fallback.img
r=$tmp/fb; mkdir -p "$r/boot"
printf 'kernel nine\n' > "$r/boot/vmlinuz-6.1.0-9-arm64"
printf 'kernel ten\n' > "$r/boot/vmlinuz-6.1.0-10-arm64"
printf 'initrd ten\n' > "$r/boot/initrd.img-6.1.0-10-arm64"
printf 'not a kernel\n' > "$r/boot/config-6.1.0-10-arm64"
ext4 "$r" "$tmp/fb.img"
gpt "$out/fallback.img" "$tmp/fb.img"

# image.img
r=$tmp/im; mkdir -p "$r/boot"
printf 'image\n' > "$r/boot/Image"
printf 'kernel nine\n' > "$r/boot/vmlinuz-9"
ext4 "$r" "$tmp/im.img"
gpt "$out/image.img" "$tmp/im.img"

# none.img
r=$tmp/none; mkdir -p "$r/etc"
printf 'hello\n' > "$r/etc/motd"
ext4 "$r" "$tmp/none.img"
gpt "$out/none.img" "$tmp/none.img"

#!/bin/sh
# make_fat.sh MKFS_VFAT MCOPY MMD BITS OUT: a FAT12/16/32 filesystem image
# (mkfs.vfat, files put in by mtools, no root or loop devices needed) with
# long and 8.3 names, nested directories, a directory of many entries, an
# empty file; "path sha256" lines of each file go to OUT.sums.
set -eu
mkfs=$1 mcopy=$2 mmd=$3 bits=$4 out=$5
case $bits in 12) size=2048 ;; 16) size=32768 ;; 32) size=70000 ;; esac  # KiB
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rm -f "$out"
"$mkfs" -C -F "$bits" -n MBTEST "$out" $size >/dev/null
head -c 100000 /dev/urandom > "$tmp/grubaa64.efi"
head -c 300001 /dev/urandom > "$tmp/vmlinuz-6.1.0-test"
head -c 3000 /dev/urandom > "$tmp/KERNEL.IMG"
printf 'title Debian\nversion 6.1.0-test\nlinux /vmlinuz-6.1.0-test\noptions root=/dev/xvda2\n' > "$tmp/debian-6.1.0-test.conf"
: > "$tmp/empty"
export MTOOLS_SKIP_CHECK=1
"$mmd" -i "$out" ::/EFI ::/EFI/debian ::/loader ::/loader/entries ::/many
"$mcopy" -i "$out" "$tmp/grubaa64.efi" ::/EFI/debian/grubaa64.efi
"$mcopy" -i "$out" "$tmp/vmlinuz-6.1.0-test" ::/vmlinuz-6.1.0-test
"$mcopy" -i "$out" "$tmp/KERNEL.IMG" ::/KERNEL.IMG
"$mcopy" -i "$out" "$tmp/debian-6.1.0-test.conf" ::/loader/entries/debian-6.1.0-test.conf
"$mcopy" -i "$out" "$tmp/empty" ::/empty
i=0
while [ $i -lt 100 ]; do printf '%s' "$i" > "$tmp/n"; "$mcopy" -i "$out" "$tmp/n" "::/many/a long name number $i.txt"; i=$((i + 1)); done
{
  for f in EFI/debian/grubaa64.efi vmlinuz-6.1.0-test KERNEL.IMG loader/entries/debian-6.1.0-test.conf empty; do
    printf '/%s %s\n' "$f" "$(sha256sum < "$tmp/$(basename "$f")" | cut -d' ' -f1)"
  done
  printf '/many/a long name number 99.txt %s\n' "$(printf 99 | sha256sum | cut -d' ' -f1)"
} > "$out.sums"

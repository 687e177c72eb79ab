#!/bin/sh
# make_ext4_disk.sh MKFS SFDISK OUT: a 24 MiB GPT disk whose partition 1
# (LBA 2048, 16 MiB) holds an ext4 filesystem made by mke2fs -d from a tree
# with what a distribution's /boot has (a kernel, an initrd, symlinks to
# them, extlinux.conf) and what stresses a reader (a sparse file with many
# extents, a directory big enough for an htree, a symlink loop, a symlink
# too long to live in the inode). Files are printed as "path sha256" lines
# to OUT.sums for the test to compare with what it reads.
set -eu
mkfs=$1 sfdisk=$2 out=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
mkdir -p "$root/boot/extlinux" "$root/many"
head -c 307200 /dev/urandom > "$root/boot/vmlinuz-6.1.0-test"
head -c 51234 /dev/urandom > "$root/boot/initrd.img-6.1.0-test"
printf 'default linux\nlabel linux\n  linux /boot/vmlinuz-6.1.0-test\n  append root=/dev/xvda2\n' > "$root/boot/extlinux/extlinux.conf"
ln -s boot/vmlinuz-6.1.0-test "$root/vmlinuz"
ln -s /boot/initrd.img-6.1.0-test "$root/initrd.img"
ln -s /boot/./././././././././././././././././././././././././vmlinuz-6.1.0-test "$root/slow"
ln -s loop2 "$root/loop1"
ln -s loop1 "$root/loop2"
i=0
while [ $i -lt 300 ]; do : > "$root/many/file-$i"; i=$((i + 1)); done
echo last > "$root/many/file-299"
# Twelve 4 KiB pieces 256 KiB apart: more extents than the inode holds.
python3 - "$root/sparse" <<'PY'
import os, sys
with open(sys.argv[1], "wb") as f:
    for k in range(12):
        f.seek(k * 262144)
        f.write(bytes([k + 1]) * 4096)
    f.truncate(12 * 262144)
PY
"$mkfs" -q -F -t ext4 -b 4096 -d "$root" "$tmp/fs.img" 16M
truncate -s 24M "$out"
printf 'label: gpt\nstart=2048, size=32768, type=0FC63DAF-8483-4772-8E79-3DB47DE4B984, name="root"\n' |
  "$sfdisk" --quiet --no-reread --no-tell-kernel "$out" >/dev/null
dd if="$tmp/fs.img" of="$out" bs=512 seek=2048 conv=notrunc status=none
(cd "$root" && for f in boot/vmlinuz-6.1.0-test boot/initrd.img-6.1.0-test boot/extlinux/extlinux.conf sparse many/file-299; do
  printf '/%s %s\n' "$f" "$(sha256sum < "$f" | cut -d' ' -f1)"; done) > "$out.sums"

#!/bin/sh
# Builds the sim suite's payloads from the cached Debian kernel, once per
# build tree: the raw Image, the same gzip'd, a ramdisk, a board DTB and two
# FITs (mkimage -f), one per kernel, each with the ramdisk and the DTB, every
# image hashed with crc32, sha1 and sha256. Nothing here is checked in.
#   make_payloads.sh KERNEL|auto OUTDIR MKIMAGE DTC
# (auto: the vmlinuz-* cached by tools/setup in ~/.cache/magicboot/arm64/boot)
# Idempotent and safe to run concurrently (flock); a stamp names the kernel.
set -eu
kernel=$1 out=$2 mkimage=$3 dtc=$4
if [ "$kernel" = auto ]; then
  kernel=$(ls "$HOME"/.cache/magicboot/arm64/boot/vmlinuz-* 2>/dev/null | head -n1 || true)
fi
[ -f "$kernel" ] || { echo "make_payloads: no kernel '$kernel' (run tools/setup)" >&2; exit 1; }
mkdir -p "$out"
exec 9>"$out/.lock"
flock 9
stamp="$(stat -c '%n %s %Y' "$kernel") v2"
if [ -f "$out/stamp" ] && [ "$(cat "$out/stamp")" = "$stamp" ]; then exit 0; fi
rm -f "$out/stamp"
cd "$out"
cp "$kernel" kernel.img
gzip -9 -n -c kernel.img > kernel.img.gz
# A ramdisk of an odd size with content that no page of the kernel repeats.
python3 -c 'import random,sys; random.seed(20240601); sys.stdout.buffer.write(random.randbytes(300007))' > ramdisk.bin
cat > board.dts <<'DTS'
/dts-v1/;
/ { compatible = "magicboot,sim-test"; #address-cells = <2>; #size-cells = <2>;
    memory@40000000 { device_type = "memory"; reg = <0 0x40000000 0 0x4000000>; };
};
DTS
"$dtc" -q -I dts -O dtb -o board.dtb board.dts
hashes='hash-1 { algo = "crc32"; }; hash-2 { algo = "sha1"; }; hash-3 { algo = "sha256"; };'
# fit FILE KERNEL-NODE-BODY CONFIGS: one FIT with a kernel, the ramdisk and
# the DTB (two FITs rather than one with both kernels, so a FIT and the
# kernel copied out of it still fit in 64 MiB).
fit() {
  cat > "$1.its" <<ITS
/dts-v1/;
/ {
  description = "magicboot sim: Debian kernel, ramdisk, fdt";
  #address-cells = <1>;
  images {
    $2
    ramdisk-1 { data = /incbin/("ramdisk.bin"); type = "ramdisk"; arch = "arm64"; os = "linux";
                compression = "none"; $hashes };
    fdt-1 { data = /incbin/("board.dtb"); type = "flat_dt"; arch = "arm64"; compression = "none"; $hashes };
  };
  configurations {
    $3
  };
};
ITS
  "$mkimage" -f "$1.its" "$1.tmp" > "$1.log" 2>&1 || { cat "$1.log" >&2; exit 1; }
  mv "$1.tmp" "$1"
}
# Default configuration: raw kernel + ramdisk + fdt.
fit kernel-raw.fit \
  "kernel-raw { data = /incbin/(\"kernel.img\"); type = \"kernel\"; arch = \"arm64\"; os = \"linux\";
     compression = \"none\"; load = <0x40000000>; entry = <0x40000000>; $hashes };" \
  'default = "conf-raw";
    conf-raw { kernel = "kernel-raw"; ramdisk = "ramdisk-1"; fdt = "fdt-1"; };'
# A named, non-default configuration: gzip kernel + ramdisk.
fit kernel-gz.fit \
  "kernel-gz { data = /incbin/(\"kernel.img.gz\"); type = \"kernel\"; arch = \"arm64\"; os = \"linux\";
     compression = \"gzip\"; load = <0x40000000>; entry = <0x40000000>; $hashes };" \
  'default = "conf-gz-fdt";
    conf-gz-fdt { kernel = "kernel-gz"; ramdisk = "ramdisk-1"; fdt = "fdt-1"; };
    conf-gz { kernel = "kernel-gz"; ramdisk = "ramdisk-1"; };'
echo "$stamp" > stamp

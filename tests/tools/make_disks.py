#!/usr/bin/env python3
"""Builds tools/make-disk's images of every layout into OUTDIR, for the host
tests (synthetic kernel) or the xl boots (--real: Debian's kernel).

  make_disks.py OUTDIR            every layout, tiny synthetic payloads:
      OUTDIR/kernel.img     an arm64 Image header + SHA-256 counter bytes,
                            196,615 bytes (not a multiple of any block size)
      OUTDIR/kernel.img.gz  the same, gzip -9 -n (what bls-fat holds)
      OUTDIR/initrd.img     100,003 bytes of counter bytes
      OUTDIR/<layout>.img   tools/make-disk --layout <layout> --kernel
                            OUTDIR/kernel.img --initrd OUTDIR/initrd.img
                            --kernel-version 6.1.0-57-test (48 MiB each but
                            pv-hash and empty, 8 MiB)
      OUTDIR/manifest.json  {"kernel_version": V, "older_version": A,
                            "layouts": {layout: {"file", "bytes", "sha256"}}}
  make_disks.py --real OUTDIR     the boot layouts (extlinux, two-labels,
                            fit-ext4, fallback, bls-fat) with Debian's kernel
                            and the built initrd, for the xl disk boots;
                            manifest.json has "kernel" (its path) and
                            "kernel_version"

Each image comes from make-disk's cache when its inputs did not change.
Exit 0 when all are there, 1 when a build fails.
"""
import gzip
import hashlib
import json
import os
import struct
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
MAKE_DISK = os.path.join(ROOT, "tools", "make-disk")
VERSION = "6.1.0-57-test"
OLDER = "6.1.0-9-test"
REAL = ["extlinux", "two-labels", "fit-ext4", "fallback", "bls-fat"]


def counter(n, tag):
    out = bytearray()
    i = 0
    while len(out) < n:
        out += hashlib.sha256(f"{tag}{i}".encode()).digest()
        i += 1
    return bytes(out[:n])


def synthetic_kernel(n=192 * 1024 + 7):
    """An arm64 Image (Documentation/arch/arm64/booting.rst): code0 a branch,
    text_offset 0, image_size rounded up to 4 KiB, flags LE | 4K | anywhere,
    magic ARM\\x64; the rest counter bytes."""
    body = bytearray(counter(n, "synthetic-kernel"))
    body[:64] = struct.pack("<IIQQQQQQ4sI", 0x14000010, 0, 0, (n + 0xFFF) & ~0xFFF, 0xA, 0, 0, 0, b"ARM\x64", 0)
    return bytes(body)


def write(path, data):
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def layouts():
    return subprocess.run([sys.executable, MAKE_DISK, "--list"], check=True, stdout=subprocess.PIPE,
                          text=True).stdout.split()


def main(argv):
    real = "--real" in argv
    args = [a for a in argv if a != "--real"]
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    out = args[0]
    os.makedirs(out, exist_ok=True)
    manifest = {"layouts": {}}
    if real:
        names, extra = REAL, []
        sys.path.insert(0, os.path.join(ROOT, "tools"))
        from magicboot_tools import paths
        kernels = paths.cached_kernels()
        if not kernels:
            print(f"make_disks: no Debian kernel in {paths.ARM64}/boot (run tools/setup)", file=sys.stderr)
            return 1
        manifest.update(kernel=kernels[-1], kernel_version=os.path.basename(kernels[-1])[len("vmlinuz-"):])
    else:
        names = layouts()
        kernel = synthetic_kernel()
        write(os.path.join(out, "kernel.img"), kernel)
        write(os.path.join(out, "kernel.img.gz"), gzip.compress(kernel, 9, mtime=0))
        write(os.path.join(out, "initrd.img"), counter(100003, "synthetic-initrd"))
        extra = ["--kernel", os.path.join(out, "kernel.img"), "--initrd", os.path.join(out, "initrd.img"),
                 "--kernel-version", VERSION]
        manifest.update(kernel_version=VERSION, older_version=OLDER)
    for name in names:
        img = os.path.join(out, f"{name}.img")
        t0 = time.monotonic()
        cmd = [sys.executable, MAKE_DISK, "--layout", name, "--out", img, "--quiet"]
        if name not in ("pv-hash", "empty"):
            cmd += extra
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0:
            print(f"make_disks: {name}: {r.stdout.strip()}", file=sys.stderr)
            return 1
        print(f"{r.stdout.strip()} [{time.monotonic() - t0:.1f} s]", flush=True)
        manifest["layouts"][name] = {"file": img, "bytes": os.path.getsize(img), "sha256": sha256(img)}
    write(os.path.join(out, "manifest.json"), json.dumps(manifest, indent=1).encode())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

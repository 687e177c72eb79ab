#!/usr/bin/env python3
"""Builds the seed corpora for the fuzz targets into OUTDIR/<target>/, from
the text sources in seeds/ with dtc, mkimage and gzip. Nothing binary is
checked in: the seeds are made here, at build time.

usage: make_seeds.py SEEDS_SRC_DIR OUTDIR DTC MKIMAGE GZIP
"""
import os
import shutil
import struct
import subprocess
import sys


def image(text_offset=0, image_size=0x10000, flags=0b1010, body=b"", legacy=False):
    """A small arm64 Image: the 64-byte header (booting.rst) and a body."""
    code0 = 0x91005a4d  # "MZ" + add, as an EFI-stub kernel starts
    code1 = 0x14000000
    if legacy:
        text_offset, image_size, flags = 0, 0, 0
    hdr = struct.pack("<IIQQQQQQII", code0, code1, text_offset, image_size, flags,
                      0, 0, 0, 0x644D5241, 0x40)
    return hdr + body


def main():
    src, out = (os.path.abspath(p) for p in sys.argv[1:3])
    dtc, mkimage, gzip = sys.argv[3:6]
    work = os.path.join(out, "work")
    shutil.rmtree(out, ignore_errors=True)
    for d in ("dt", "fit", "image", "gzip", "ledger", "work"):
        os.makedirs(os.path.join(out, d))

    def write(path, data):
        with open(path, "wb") as f:
            f.write(data)

    def run(*cmd):
        subprocess.run(cmd, check=True, cwd=work, stdout=subprocess.DEVNULL)

    # Device trees, as is, and with bytes after totalsize that fuzz_dt reads
    # as its layout and fixup choices.
    dtbs = []
    for name in sorted(os.listdir(src)):
        if name.endswith(".dts"):
            dtb = os.path.join(work, name[:-4] + ".dtb")
            run(dtc, "-q", "-I", "dts", "-O", "dtb", "-o", dtb, os.path.join(src, name))
            dtbs.append(dtb)
            blob = open(dtb, "rb").read()
            write(os.path.join(out, "dt", name[:-4]), blob)
            write(os.path.join(out, "dt", name[:-4] + "-tail"), blob + bytes(range(1, 33)))
            # Regression: version 3, last_comp_version 0 made libfdt 1.6.1's
            # fdt_check_full dereference NULL inside discover() and parse_fit().
            old = blob[:20] + struct.pack(">II", 3, 0) + blob[28:]
            write(os.path.join(out, "dt", name[:-4] + "-v3"), old)
            write(os.path.join(out, "fit", name[:-4] + "-v3"), old + b"\x00")

    # Images: ordinary, legacy, 4K/64K pages, with a body of text so gzip
    # has something to say.
    body = b"".join(b"magicboot fuzz seed line %04d\n" % i for i in range(40))
    images = {
        "Image": image(body=body),
        "legacy": image(legacy=True, body=body[:64]),
        "page64k": image(text_offset=0x1000, flags=0b0110, body=body[:128]),
        "small": image(image_size=0x40),
    }
    for name, data in images.items():
        write(os.path.join(out, "image", name), data)
        write(os.path.join(work, name), data)
    # gzip'd Images: plain, with a stored name (FNAME), best compression.
    for name, args in (("Image.gz", ["-n", "-9"]), ("named.gz", ["-N", "-1"]), ("legacy.gz", ["-n"])):
        base = name[:-3] if name != "named.gz" else "Image"
        gz = subprocess.run([gzip, "-c"] + args + [os.path.join(work, base)], check=True,
                            stdout=subprocess.PIPE).stdout
        write(os.path.join(work, name), gz)
        write(os.path.join(out, "gzip", name), gz)
        write(os.path.join(out, "fit", "payload-" + name), gz)
    write(os.path.join(work, "ramdisk"), b"070701" + bytes(200))
    write(os.path.join(out, "fit", "payload-Image"), images["Image"])

    # FITs: embedded data, external data (-E), external at a position (-p).
    shutil.copy(os.path.join(src, "fit.its"), work)
    for name, flags in (("embedded", []), ("external", ["-E"]), ("position", ["-E", "-p", "0x800"])):
        fit = os.path.join(work, name + ".fit")
        run(mkimage, *flags, "-f", "fit.its", fit)
        data = open(fit, "rb").read()
        # fuzz_fit reads the last byte as the configuration: 0 default, 2 conf-2.
        write(os.path.join(out, "fit", name), data + b"\x00")
        write(os.path.join(out, "fit", name + "-conf2"), data + b"\x02")

    # The ledger program: a few bytes are enough to start from.
    write(os.path.join(out, "ledger", "ops"), bytes(range(0, 256, 3)))
    shutil.rmtree(work)


if __name__ == "__main__":
    main()

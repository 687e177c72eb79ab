#!/usr/bin/env python3
"""Builds the seed corpora for the fuzz targets into OUTDIR/<target>/, from
the text sources in seeds/ with dtc, mkimage and gzip. Nothing binary is
checked in: the seeds are made here, at build time.

usage: make_seeds.py SEEDS_SRC_DIR OUTDIR DTC MKIMAGE GZIP MKFS_EXT4 MKFS_VFAT MCOPY
"""
import os
import shutil
import struct
import subprocess
import sys
import zlib


def image(text_offset=0, image_size=0x10000, flags=0b1010, body=b"", legacy=False):
    """A small arm64 Image: the 64-byte header (booting.rst) and a body."""
    code0 = 0x91005a4d  # "MZ" + add, as an EFI-stub kernel starts
    code1 = 0x14000000
    if legacy:
        text_offset, image_size, flags = 0, 0, 0
    hdr = struct.pack("<IIQQQQQQII", code0, code1, text_offset, image_size, flags,
                      0, 0, 0, 0x644D5241, 0x40)
    return hdr + body


SECTOR = 512


def gpt_disk(sectors):
    """A disk of `sectors` 512-byte sectors: protective MBR, primary header
    and 32 sectors of 128 entries, two partitions, the backup copy at the end
    (UEFI 2.x, chapter 5)."""
    disk = bytearray(sectors * SECTOR)
    mbr = struct.pack("<B3sB3sII", 0, b"", 0xEE, b"", 1, min(sectors - 1, 0xFFFFFFFF))
    disk[446:446 + 16] = mbr
    disk[510:512] = b"\x55\xaa"
    entries = bytearray(128 * 128)
    linux = bytes.fromhex("af3dc60f83847247 8e793db47de4b984".replace(" ", ""))
    first_usable, last_usable = 34, sectors - 34
    for i, (first, last, name) in enumerate(((first_usable, first_usable + 3, "boot"),
                                             (first_usable + 4, last_usable, "root"))):
        entries[i * 128:(i + 1) * 128] = (linux + bytes([i + 1] * 16) + struct.pack("<QQQ", first, last, 0)
                                          + name.encode("utf-16-le").ljust(72, b"\0"))
    entries_crc = zlib.crc32(entries)

    def header(my, alternate, entries_lba):
        h = bytearray(struct.pack("<8sIIIIQQQQ16sQIII", b"EFI PART", 0x10000, 92, 0, 0, my, alternate,
                                  first_usable, last_usable, bytes(range(16)), entries_lba, 128, 128, entries_crc))
        h[16:20] = struct.pack("<I", zlib.crc32(h))
        return bytes(h)

    last = sectors - 1
    disk[SECTOR:SECTOR + 92] = header(1, last, 2)
    disk[2 * SECTOR:2 * SECTOR + len(entries)] = entries
    disk[(last - 32) * SECTOR:(last - 32) * SECTOR + len(entries)] = entries
    disk[last * SECTOR:last * SECTOR + 92] = header(last, 1, last - 32)
    return bytes(disk)


def mbr_disk(sectors):
    """An MBR disk: one primary, an extended partition holding two logical
    ones (each behind its EBR)."""
    disk = bytearray(sectors * SECTOR)

    def entry(boot, ptype, start, count):
        return struct.pack("<B3sB3sII", boot, b"", ptype, b"", start, count)

    def sign(lba):
        disk[lba * SECTOR + 510:lba * SECTOR + 512] = b"\x55\xaa"

    disk[446:446 + 32] = entry(0x80, 0x0C, 2, 8) + entry(0, 0x05, 16, 40)
    sign(0)
    disk[16 * SECTOR + 446:16 * SECTOR + 478] = entry(0, 0x83, 2, 8) + entry(0, 0x05, 16, 12)
    sign(16)
    disk[32 * SECTOR + 446:32 * SECTOR + 462] = entry(0, 0x83, 2, 8)
    sign(32)
    return bytes(disk)


def main():
    src, out = (os.path.abspath(p) for p in sys.argv[1:3])
    dtc, mkimage, gzip, mkfs_ext4, mkfs_vfat, mcopy = sys.argv[3:9]
    work = os.path.join(out, "work")
    shutil.rmtree(out, ignore_errors=True)
    for d in ("dt", "fit", "image", "gzip", "ledger", "partitions", "ext4", "fat", "boot_config", "xenstore", "blkif",
              "boot_source",
              "work"):
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

    # Small disks: a GPT (both copies), an MBR with two logical partitions.
    write(os.path.join(out, "partitions", "gpt"), gpt_disk(96))
    write(os.path.join(out, "partitions", "mbr"), mbr_disk(64))

    # Tiny ext4s (1 KiB and 4 KiB blocks, no journal) with what a boot looks
    # up: a kernel, a relative and an absolute symlink, extlinux.conf.
    tree = os.path.join(work, "ext4-root")
    os.makedirs(os.path.join(tree, "boot", "extlinux"))
    write(os.path.join(tree, "boot", "vmlinuz-1"), images["Image"] * 4)
    write(os.path.join(tree, "boot", "extlinux", "extlinux.conf"),
          b"default l\nlabel l\n  linux /boot/vmlinuz\n  append root=/dev/xvda2\n")
    os.symlink("vmlinuz-1", os.path.join(tree, "boot", "vmlinuz"))
    os.symlink("/boot/vmlinuz-1", os.path.join(tree, "vmlinuz"))
    for name, block, size in (("1k", "1024", "128k"), ("4k", "4096", "256k")):
        img = os.path.join(work, "ext4-" + name)
        subprocess.run([mkfs_ext4, "-q", "-F", "-t", "ext4", "-b", block, "-N", "32", "-O", "^has_journal,^resize_inode",
                        "-d", tree, img, size], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        write(os.path.join(out, "ext4", name), open(img, "rb").read())

    # A FAT12 of 128 KiB: a long name in a directory, an 8.3 name, a kernel.
    fat = os.path.join(work, "fat12")
    subprocess.run([mkfs_vfat, "-C", "-F", "12", fat, "128"], check=True, stdout=subprocess.DEVNULL)
    env = dict(os.environ, MTOOLS_SKIP_CHECK="1")
    subprocess.run([mcopy, "-i", fat, "-s", os.path.join(tree, "boot"), "::/boot"], check=True, env=env)
    write(os.path.join(work, "KERNEL.IMG"), images["Image"])
    subprocess.run([mcopy, "-i", fat, os.path.join(work, "KERNEL.IMG"), "::/KERNEL.IMG"], check=True, env=env)
    write(os.path.join(work, "long"), b"a file with a long name\n")
    subprocess.run([mcopy, "-i", fat, os.path.join(work, "long"), "::/boot/a long name.txt"], check=True, env=env)
    write(os.path.join(out, "fat", "fat12"), open(fat, "rb").read())

    # Disks to boot from: an MBR whose one partition (at LBA 1) holds the
    # 1 KiB-block ext4 (extlinux.conf), or the FAT12 with BLS entries added.
    def one_partition_disk(fs, ptype):
        disk = bytearray(SECTOR) + bytearray(fs) + bytearray(-len(fs) % SECTOR)
        disk[446:462] = struct.pack("<B3sB3sII", 0x80, b"", ptype, b"", 1, len(disk) // SECTOR - 1)
        disk[510:512] = b"\x55\xaa"
        return bytes(disk)

    write(os.path.join(out, "boot_source", "mbr-ext4"),
          one_partition_disk(open(os.path.join(work, "ext4-1k"), "rb").read(), 0x83))
    os.makedirs(os.path.join(work, "loader", "entries"))
    write(os.path.join(work, "loader", "entries", "a-1.conf"), b"title A\nversion 1\nlinux /KERNEL.IMG\n")
    write(os.path.join(work, "loader", "entries", "b-2.conf"),
          b"title B\nversion 2\nlinux /boot/vmlinuz-1\ninitrd /boot/a long name.txt\noptions root=/dev/xvda2\n")
    subprocess.run([mcopy, "-i", fat, "-s", os.path.join(work, "loader"), "::/loader"], check=True, env=env)
    write(os.path.join(out, "boot_source", "mbr-fat"), one_partition_disk(open(fat, "rb").read(), 0x0C))

    # Boot configurations: the first byte picks extlinux (even) or BLS (odd).
    write(os.path.join(out, "boot_config", "extlinux"),
          b"\0default l0\nmenu title U-Boot menu\ntimeout 50\nlabel l0\n\tmenu label Debian\n"
          b"\tlinux /boot/vmlinuz-6.1.0-13-arm64\n\tinitrd /boot/initrd.img\n\tfdtdir /usr/lib/x/\n"
          b"\tappend root=/dev/xvda2 ro quiet\nlabel l0r\n\tlinux /boot/v\n\tmenu default\n")
    write(os.path.join(out, "boot_config", "bls"),
          b"\1title A\nversion 6.1.0-13\nsort-key debian\nmachine-id 0123\nlinux /v\ninitrd /i\noptions a\noptions b\n"
          b"\0title B\nversion 6.1.0-12~rc1\nlinux /w\narchitecture aa64\n\0efi /x.efi\n")
    # PV answers: no change at all (the clean run), and a few bent ones.
    write(os.path.join(out, "xenstore", "clean"), b"")
    write(os.path.join(out, "xenstore", "late-error"), b"\0" * 20 + b"\5\3")
    write(os.path.join(out, "blkif", "clean"), b"")
    write(os.path.join(out, "blkif", "bad-status"), b"\0\0\3\xff")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Post-link check of the firmware image (fails the build).

Reads magicboot.elf (symbols and the .mb_layout_facts section, which holds
the board's regions as compiled) and magicboot.bin, and checks that
  - the arm64 Image header is valid: branch in code0, text_offset matching
    the link address modulo 2 MiB, image_size == the whole footprint
    (image + bss + stack + heap), flags LE/4K/not-relocatable, magic;
  - the footprint [image start, heap end) lies inside the RAM window the
    board allows (RAM base up to where Xen puts the DTB and initrd) and
    overlaps neither the grant table nor GUEST_MAGIC;
  - image, stack and heap are disjoint and in that order;
  - magicboot.bin fits the 80 KiB budget (README, Performance).
--self-test proves the checker catches each broken case.
"""
import argparse
import struct
import sys

FACTS_MAGIC = b"MBFACTS1"
HEADER_MAGIC = 0x644D5241  # "ARM\x64"
# The image budget (issue 5: U-Boot's xenguest build is 318,584 B). A build
# that outgrows it fails here rather than in a benchmark nobody reads.
MAX_BIN_BYTES = 80 * 1024
SYMBOLS = ["_head", "__image_start", "__image_end", "__stack_region_start", "__stack_region_end",
           "__heap_start", "__heap_end", "__footprint_end", "__image_size"]


def read_elf(path):
    data = open(path, "rb").read()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise SystemExit(f"check_layout: {path} is not a little-endian ELF64 file")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    sections = []
    for i in range(shnum):
        name, typ, flags, addr, off, size, link, info, align, entsize = struct.unpack_from(
            "<IIQQQQIIQQ", data, shoff + i * shentsize)
        sections.append(dict(name=name, type=typ, addr=addr, off=off, size=size, link=link, entsize=entsize))
    shstr = sections[shstrndx]

    def cstr(off):
        return data[off:data.index(b"\0", off)].decode()

    for s in sections:
        s["name"] = cstr(shstr["off"] + s["name"])
    by_name = {s["name"]: s for s in sections}
    symtab = next(s for s in sections if s["type"] == 2)
    strtab = sections[symtab["link"]]
    syms = {}
    for i in range(symtab["size"] // symtab["entsize"]):
        name, info, other, shndx, value, size = struct.unpack_from("<IBBHQQ", data, symtab["off"] + i * 24)
        if name:
            syms[cstr(strtab["off"] + name)] = value
    facts_sec = by_name.get(".mb_layout_facts")
    if facts_sec is None:
        raise SystemExit("check_layout: no .mb_layout_facts section (layout_facts.cpp not linked?)")
    raw = data[facts_sec["off"]:facts_sec["off"] + facts_sec["size"]]
    if raw[:8] != FACTS_MAGIC or len(raw) < 56:
        raise SystemExit("check_layout: .mb_layout_facts is malformed")
    v = struct.unpack_from("<7Q", raw, 0)
    facts = dict(ram_base=v[1], ram_limit=v[2], gnttab=(v[3], v[4]), magic=(v[5], v[6]))
    missing = [s for s in SYMBOLS if s not in syms]
    if missing:
        raise SystemExit(f"check_layout: symbols missing from the ELF: {missing}")
    return syms, facts


def check(syms, facts, header):
    """Returns a list of error strings (empty when the layout is good)."""
    errs = []
    h = lambda v: f"{v:#x}"
    start, fp_end = syms["__image_start"], syms["__footprint_end"]
    code0, code1, text_offset, image_size, flags = struct.unpack_from("<IIQQQ", header, 0)
    magic, = struct.unpack_from("<I", header, 0x38)
    if magic != HEADER_MAGIC:
        errs.append(f"header: magic at 0x38 is {magic:#x}, want {HEADER_MAGIC:#x}")
    if code0 & 0xFC000000 != 0x14000000:
        errs.append(f"header: code0 {code0:#x} is not a branch")
    # Xen loads at RAM bank 0 + text_offset, QEMU/U-Boot at a 2 MiB-aligned
    # RAM base + text_offset: both must give the link address.
    if start - text_offset != facts["ram_base"] or (start - text_offset) % (2 << 20):
        errs.append(f"header: text_offset {h(text_offset)} but linked at {h(start)}, RAM at {h(facts['ram_base'])}")
    if image_size != fp_end - start or image_size != syms["__image_size"]:
        errs.append(f"header: image_size {h(image_size)} but footprint is [{h(start)}, {h(fp_end)})")
    if flags != 0x2:
        errs.append(f"header: flags {h(flags)}, want 0x2 (LE, 4 KiB, fixed placement)")
    order = ["__image_start", "__image_end", "__stack_region_start", "__stack_region_end",
             "__heap_start", "__heap_end", "__footprint_end"]
    for a, b in zip(order, order[1:]):
        if syms[a] > syms[b]:
            errs.append(f"order: {a} {h(syms[a])} > {b} {h(syms[b])}")
    if syms["__image_end"] > syms["__stack_region_start"] or syms["__stack_region_end"] > syms["__heap_start"]:
        errs.append("order: image, stack and heap overlap")
    if start < facts["ram_base"] or fp_end > facts["ram_limit"]:
        errs.append(f"ram: footprint [{h(start)}, {h(fp_end)}) outside [{h(facts['ram_base'])}, "
                    f"{h(facts['ram_limit'])}) (RAM base up to Xen's DTB/initrd placement)")
    for name in ("gnttab", "magic"):
        base, size = facts[name]
        if start < base + size and base < fp_end:
            errs.append(f"{name}: footprint [{h(start)}, {h(fp_end)}) overlaps {name} [{h(base)}, {h(base + size)})")
    return errs


def check_size(bin_bytes, image_size, budget=MAX_BIN_BYTES):
    errs = []
    if bin_bytes > image_size:
        errs.append(f"bin: {bin_bytes} bytes but image_size is {image_size}")
    if bin_bytes > budget:
        errs.append(f"bin: {bin_bytes} bytes, over the {budget}-byte budget by {bin_bytes - budget} "
                    f"(the map file and tools/bench-boot's sizes by section show where)")
    return errs


def self_test(syms, facts, header):
    def expect_fail(what, s, f, hd):
        if not check(s, f, hd):
            raise SystemExit(f"check_layout self-test: the broken case '{what}' was NOT caught")

    if check(syms, facts, header):
        raise SystemExit("check_layout self-test: the real image must pass first")
    start, end = syms["__image_start"], syms["__footprint_end"]
    expect_fail("footprint overlaps magic", syms, dict(facts, magic=(end - 0x1000, 0x1000000)), header)
    expect_fail("footprint overlaps gnttab", syms, dict(facts, gnttab=(start - 0x1000, 0x2000)), header)
    expect_fail("footprint beyond the RAM window", syms, dict(facts, ram_limit=end - 0x1000), header)
    expect_fail("footprint below RAM", syms, dict(facts, ram_base=start + 0x1000), header)
    bad = bytearray(header)
    struct.pack_into("<Q", bad, 16, syms["__image_end"] - start)  # image_size without stack/heap
    expect_fail("image_size misses stack and heap", syms, facts, bytes(bad))
    bad = bytearray(header)
    struct.pack_into("<Q", bad, 24, 0xA)  # bit 3: relocatable, which we are not
    expect_fail("flags claim position independence", syms, facts, bytes(bad))
    bad = bytearray(header)
    bad[0x38] ^= 1
    expect_fail("bad magic", syms, facts, bytes(bad))
    bad = bytearray(header)
    struct.pack_into("<Q", bad, 8, 0)  # text_offset 0: Xen would load at the RAM base
    expect_fail("text_offset disagrees with the link address", syms, facts, bytes(bad))
    expect_fail("stack overlaps heap", dict(syms, __heap_start=syms["__stack_region_end"] - 16), facts, header)
    if not check_size(MAX_BIN_BYTES + 1, syms["__image_size"]) or check_size(MAX_BIN_BYTES, syms["__image_size"]):
        raise SystemExit("check_layout self-test: the size budget is not enforced exactly")
    print("check_layout self-test: 9 broken layouts and an image over budget caught")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--elf", required=True)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--self-test", action="store_true", help="prove the checker catches broken layouts")
    ap.add_argument("--budget", type=int, default=MAX_BIN_BYTES,
                    help=f"bytes magicboot.bin may take (default {MAX_BIN_BYTES}, the shipped image's budget; "
                         "a test image with the platform probe gets more)")
    args = ap.parse_args()
    syms, facts = read_elf(args.elf)
    binary = open(args.bin, "rb").read()
    if len(binary) < 64:
        raise SystemExit(f"check_layout: {args.bin} is only {len(binary)} bytes")
    header = binary[:64]
    if args.self_test:
        self_test(syms, facts, header)
        return 0
    errs = check(syms, facts, header) + check_size(len(binary), syms["__image_size"], args.budget)
    if errs:
        for e in errs:
            print(f"check_layout: {args.elf}: {e}", file=sys.stderr)
        return 1
    start = syms["__image_start"]
    print(f"check_layout: ok: footprint [{start:#x}, {syms['__footprint_end']:#x}) "
          f"image_size {syms['__image_size']:#x}, bin {len(binary)} of {args.budget} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())

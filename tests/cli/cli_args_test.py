#!/usr/bin/env python3
"""Every user-facing command answers a bad argument the same way (issue 16):
exit 2 (the usage code each one documents), one line on stderr that names the
argument, nothing on stdout, no traceback, abort or shell error -- and at
once, before any setup, build or QEMU run. --help exits 0, says "usage" and
documents every option this table passes.

The table runs each command with each kind of bad argument that applies to
it: an unknown option or stray word, a missing value, a path that does not
exist, a directory, an empty file, an unreadable file, a file of the wrong
kind, an output path that cannot be written, a number that is not one or is
out of range, a choice that is not offered. Two more rows are the loader's
own refusals as magicboot-sim shows them (bootargs-length,
fit-config-not-fit).

Heavy work cannot start by accident: every command runs with a PATH whose
first directory holds stand-ins for the programs that do heavy work (QEMU,
cmake, ctest, compilers, mkimage, dtc, apt-get, dpkg, ...). A stand-in only
prints HEAVY_MARK and exits 97, so a command that does not validate its
arguments first fails its row instead of building or booting anything.
$MAGICBOOT_CACHE is an empty directory. tools/test and tools/demo call
tools/setup (and make-payload, qemu/run) by path, so they run as copies in a
sandbox tree whose tools/ holds stand-ins for those.

A row may be marked `known`: a failure waiting for its fix, which the mark
names. None is today. A known row that passes fails the test: remove its mark.
As root, chmod 000 does not stop a read: the unreadable file is then a
write-only sysfs attribute (open fails even for root); without one that row
is skipped with the reason printed.

usage: cli_args_test.py --source DIR --sim FILE --model-demo FILE --conformance FILE [-k SUBSTRING] [-v]
"""
import argparse
import dataclasses
import glob
import os
import re
import shlex
import shutil
import stat
import struct
import subprocess
import sys
import tempfile
import time

HEAVY_MARK = "CLI-TEST-HEAVY-WORK"
HEAVY_PROGRAMS = [
    "qemu-system-aarch64", "cmake", "ctest", "make", "ninja", "gcc", "cc", "g++", "c++",
    "aarch64-linux-gnu-gcc", "aarch64-linux-gnu-g++", "aarch64-linux-gnu-nm", "aarch64-linux-gnu-addr2line",
    "mkimage", "mkenvimage", "dtc", "fdtget", "apt-get", "apt-cache", "dpkg", "dpkg-query", "dpkg-deb",
    "sudo", "readelf",
]
CRASHES = [
    (re.compile(r"Traceback \(most recent call last\)"), "a Python traceback"),
    (re.compile(r"terminate called"), "an uncaught C++ exception"),
    (re.compile(r"\b(Aborted|Segmentation fault|core dumped)\b"), "a crash"),
    (re.compile(r"line \d+: .*(unbound variable|parameter null or not set|command not found)"), "a shell error"),
]
SLOW = 5.0      # seconds: a row slower than this did not fail fast
TIMEOUT = 20.0  # seconds: killed


@dataclasses.dataclass
class Command:
    name: str           # as a user types it
    argv: list          # how this test runs it
    usage_code: int = 2
    why_absent: str = ""  # set when the command does not exist here


@dataclasses.dataclass
class Row:
    cmd: str
    args: list          # {placeholders} filled from the fixtures
    names: str          # what the message must name (e.g. "--kernel")
    kind: str           # the kind of mistake, for the listing
    known: str = ""     # a failure waiting for its fix: the fix
    loader: bool = False  # the loader's refusal: the check may be on stdout, more lines allowed


def rows():
    """The table. {missing} does not exist, {dir} is a directory, {empty} an
    empty file, {unreadable} cannot be read, {text} is a small text file (no
    kernel, no DT, no JSON), {rodir} a directory that cannot be written,
    {out} a fresh output path, {image} a small arm64 Image, {fw} the built
    firmware, {long} 5,000 characters."""
    R = Row
    t = []
    # --- magicboot-sim ------------------------------------------------------
    s = "magicboot-sim"
    t += [
        R(s, ["--frobnicate"], "--frobnicate", "unknown option"),
        R(s, ["payload.fit"], "payload.fit", "stray word"),
        R(s, [], "--payload", "required option missing"),
        R(s, ["--payload"], "--payload", "missing value"),
        R(s, ["--payload", "{image}", "--ram-mib"], "--ram-mib", "missing value"),
        R(s, ["--payload", ""], "--payload", "empty value"),
        R(s, ["--payload", "{missing}"], "--payload", "path does not exist"),
        R(s, ["--payload", "{dir}"], "--payload", "directory"),
        R(s, ["--payload", "{empty}"], "--payload", "empty file"),
        R(s, ["--payload", "{unreadable}"], "--payload", "unreadable file"),
        R(s, ["--payload", "{image}", "--ram-mib", "lots"], "--ram-mib", "not a number"),
        R(s, ["--payload", "{image}", "--ram-mib", "8"], "--ram-mib", "number out of range"),
        R(s, ["--payload", "{image}", "--ram-mib", "99999999999999999999"], "--ram-mib", "number out of range"),
        R(s, ["--payload", "{image}", "--ram-mib", "-1024"], "--ram-mib", "negative number"),
        R(s, ["--payload", "{image}", "--payload-align", "3000"], "--payload-align", "number out of range"),
        R(s, ["--payload", "{image}", "--payload-align", "0"], "--payload-align", "number out of range"),
        R(s, ["--payload", "{image}", "--domain", "hvm"], "--domain", "choice not offered"),
        R(s, ["--payload", "{image}", "--strategy", "uboot"], "--strategy", "choice not offered"),
        R(s, ["--payload", "{image}", "--shared-info-param", "maybe"], "--shared-info-param", "choice not offered"),
        R(s, ["--payload", "{image}", "--bootargs", "{long}"], "bootargs-length", "command line over 2047 bytes",
          loader=True),
        R(s, ["--payload", "{image}", "--fit-config", "conf-1"], "fit-config-not-fit", "--fit-config, no FIT",
          loader=True),
    ]
    # --- magicboot-conformance ----------------------------------------------
    c = "magicboot-conformance"
    ok = ["--domain", "xl", "--ram-mib", "512", "--magic", "39ffe,39ffd,39ffc", "--ram", "5ffff,5fffe"]
    t += [
        R(c, ["--frobnicate"], "--frobnicate", "unknown option"),
        R(c, ok + ["xl"], "xl", "stray word"),
        R(c, ["--domain"], "--domain", "missing value"),
        R(c, ok + ["--domain", "hvm"], "--domain", "choice not offered"),
        R(c, ok + ["--ram-mib", "lots"], "--ram-mib", "not a number"),
        R(c, ok + ["--ram-mib", "8"], "--ram-mib", "number out of range"),
        R(c, ok + ["--magic", "39ffe"], "--magic", "too few values"),
        R(c, ok + ["--ram", "5ffff,zz"], "--ram", "not a number"),
        R(c, ok + ["--shared-info-param", "maybe"], "--shared-info-param", "choice not offered"),
    ]
    # --- magicboot-model-demo -----------------------------------------------
    d = "magicboot-model-demo"
    t += [
        R(d, ["--frobnicate"], "--frobnicate", "unknown option"),
        R(d, ["1024"], "1024", "stray word"),
        R(d, ["--ram-mib"], "--ram-mib", "missing value"),
        R(d, ["--ram-mib", "lots"], "--ram-mib", "not a number"),
        R(d, ["--ram-mib", ""], "--ram-mib", "empty value"),
        R(d, ["--ram-mib", "8"], "--ram-mib", "number out of range"),
        R(d, ["--ram-mib", "99999999999999999999"], "--ram-mib", "number out of range"),
        R(d, ["--ram-mib", "-1024"], "--ram-mib", "negative number"),
    ]
    # --- tools/demo -----------------------------------------------------------
    m = "tools/demo"
    t += [
        R(m, ["--frobnicate"], "--frobnicate", "unknown option"),
        R(m, ["fit"], "fit", "stray word"),
        R(m, ["--payload"], "--payload", "missing value"),
        R(m, ["--ram-mib"], "--ram-mib", "missing value"),
        R(m, ["--strategy"], "--strategy", "missing value"),
        R(m, ["--timeout"], "--timeout", "missing value"),
        R(m, ["--payload", "zip"], "--payload", "choice not offered"),
        R(m, ["--strategy", "uboot"], "--strategy", "choice not offered"),
        R(m, ["--xen"], "--xen", "missing value"),
        R(m, ["--xen", "4.18"], "--xen", "choice not offered"),
        R(m, ["--ram-mib", "lots"], "--ram-mib", "not a number"),
        R(m, ["--ram-mib", "0"], "--ram-mib", "number out of range"),
        R(m, ["--ram-mib", "99999999"], "--ram-mib", "number out of range"),
        R(m, ["--timeout", "soon"], "--timeout", "not a number"),
        R(m, ["--timeout", "0"], "--timeout", "number out of range"),
    ]
    # --- tools/test -----------------------------------------------------------
    c = "tools/test"
    t += [
        R(c, ["--frobnicate"], "--frobnicate", "unknown option"),
        R(c, ["unit"], "unit", "stray word"),
        R(c, ["-L"], "-L", "missing value"),
        R(c, ["-L", "nosuch"], "-L", "choice not offered"),
        R(c, ["-L", ""], "-L", "empty value"),
    ]
    # --- tools/setup --------------------------------------------------------
    u = "tools/setup"
    t += [
        R(u, ["--frobnicate"], "--frobnicate", "unknown option"),
        R(u, ["extra"], "extra", "stray word"),
        R(u, ["--help", "extra"], "extra", "stray word after --help"),
        R(u, ["", "extra"], "extra", "empty word then a stray one"),
    ]
    # --- tools/make-payload -------------------------------------------------
    p = "tools/make-payload"
    t += [
        R(p, ["fit", "--out", "{out}", "--frobnicate"], "--frobnicate", "unknown option"),
        R(p, ["--out", "{out}"], "kind", "required argument missing"),
        R(p, ["zip", "--out", "{out}"], "kind", "choice not offered"),
        R(p, ["fit"], "--out", "required option missing"),
        R(p, ["fit", "--out"], "--out", "missing value"),
        R(p, ["raw", "--out", ""], "--out", "empty value"),
        R(p, ["raw", "--out", "{dir}"], "--out", "directory"),
        R(p, ["raw", "--out", "{rodir}/payload"], "--out", "unwritable directory"),
        R(p, ["raw", "--out", "{text}/payload"], "--out", "parent is a file"),
        R(p, ["fit", "--out", "{out}", "--compression", "xz"], "--compression", "choice not offered"),
        R(p, ["raw", "--out", "{out}", "--kernel", "{missing}"], "--kernel", "path does not exist"),
        R(p, ["raw", "--out", "{out}", "--kernel", "{dir}"], "--kernel", "directory"),
        R(p, ["raw", "--out", "{out}", "--kernel", "{empty}"], "--kernel", "empty file"),
        R(p, ["raw", "--out", "{out}", "--kernel", "{unreadable}"], "--kernel", "unreadable file"),
        R(p, ["raw", "--out", "{out}", "--kernel", "{text}"], "--kernel", "not an arm64 Image"),
        R(p, ["gzip", "--out", "{out}", "--kernel", "{text}"], "--kernel", "not an arm64 Image"),
        R(p, ["initramfs", "--out", "{out}", "--busybox", "{missing}"], "--busybox", "path does not exist"),
        R(p, ["initramfs", "--out", "{out}", "--busybox", "{dir}"], "--busybox", "directory"),
        R(p, ["initramfs", "--out", "{out}", "--busybox", "{empty}"], "--busybox", "empty file"),
        R(p, ["initramfs", "--out", "{out}", "--busybox", "{unreadable}"], "--busybox", "unreadable file"),
        R(p, ["fit", "--out", "{out}", "--kernel", "{image}", "--busybox", "{dir}"], "--busybox", "directory"),
        R(p, ["raw", "--out", "{out}", "--kernel", "{image}", "--cache-dir", "{text}"], "--cache-dir",
          "a file, not a directory"),
        R(p, ["raw", "--out", "{out}", "--kernel", "{image}", "--cache-dir", "{rodir}/cache"], "--cache-dir",
          "unwritable directory"),
    ]
    # --- tools/bench-boot ---------------------------------------------------
    b = "tools/bench-boot"
    t += [
        R(b, ["--frobnicate"], "--frobnicate", "unknown option"),
        R(b, ["raw"], "raw", "stray word"),
        R(b, ["--firmware"], "--firmware", "missing value"),
        R(b, ["--payloads", "zip"], "--payloads", "choice not offered"),
        R(b, ["--payloads", ""], "--payloads", "empty value"),
        R(b, ["--firmware", "{missing}"], "--firmware", "path does not exist"),
        R(b, ["--firmware", "{dir}"], "--firmware", "directory"),
        R(b, ["--firmware", "{empty}"], "--firmware", "empty file"),
        R(b, ["--firmware", "{unreadable}"], "--firmware", "unreadable file"),
        R(b, ["--u-boot", "{missing}", "--no-xen"], "--u-boot", "path does not exist"),
        R(b, ["--u-boot", "{dir}", "--no-xen"], "--u-boot", "directory"),
        R(b, ["--u-boot", "{empty}", "--no-xen"], "--u-boot", "empty file"),
        R(b, ["--xen", "{missing}", "--no-u-boot"], "--xen", "path does not exist"),
        R(b, ["--xen", "{dir}", "--no-u-boot"], "--xen", "directory"),
        R(b, ["--xen", "{empty}", "--no-u-boot"], "--xen", "empty file"),
        R(b, ["--kernel", "{missing}", "--no-xen", "--no-u-boot"], "--kernel", "path does not exist"),
        R(b, ["--kernel", "{dir}", "--no-xen", "--no-u-boot"], "--kernel", "directory"),
        R(b, ["--kernel", "{empty}", "--no-xen", "--no-u-boot"], "--kernel", "empty file"),
        R(b, ["--kernel", "{unreadable}", "--no-xen", "--no-u-boot"], "--kernel", "unreadable file"),
        R(b, ["--kernel", "{text}", "--no-xen", "--no-u-boot"], "--kernel", "not an arm64 Image"),
        R(b, ["--domu-mem", "lots", "--no-u-boot"], "--domu-mem", "not a number"),
        R(b, ["--domu-mem", "0", "--no-u-boot"], "--domu-mem", "number out of range"),
        R(b, ["--domu-mem", "100000", "--no-u-boot"], "--domu-mem", "number out of range"),
        R(b, ["--jobs", "0", "--no-xen", "--no-u-boot"], "--jobs", "number out of range"),
        R(b, ["--jobs", "-2", "--no-xen", "--no-u-boot"], "--jobs", "negative number"),
        R(b, ["--jobs", "two", "--no-xen", "--no-u-boot"], "--jobs", "not a number"),
        R(b, ["--keep", "{text}", "--no-xen", "--no-u-boot"], "--keep", "a file, not a directory"),
        R(b, ["--keep", "{rodir}/keep", "--no-xen", "--no-u-boot"], "--keep", "unwritable directory"),
    ]
    # --- tools/profile-boot -------------------------------------------------
    f = "tools/profile-boot"
    t += [
        R(f, ["--frobnicate"], "--frobnicate", "unknown option"),
        R(f, ["raw"], "raw", "stray word"),
        R(f, ["--top"], "--top", "missing value"),
        R(f, ["--firmware", "{missing}"], "--firmware", "path does not exist"),
        R(f, ["--firmware", "{dir}"], "--firmware", "directory"),
        R(f, ["--firmware", "{empty}"], "--firmware", "empty file"),
        R(f, ["--firmware", "{unreadable}"], "--firmware", "unreadable file"),
        R(f, ["--elf", "{missing}"], "--elf", "path does not exist"),
        R(f, ["--elf", "{dir}"], "--elf", "directory"),
        R(f, ["--elf", "{empty}"], "--elf", "empty file"),
        R(f, ["--elf", "{text}"], "--elf", "not an ELF file"),
        R(f, ["--payload", "zip"], "--payload", "choice not offered"),
        R(f, ["--kernel", "{missing}"], "--kernel", "path does not exist"),
        R(f, ["--kernel", "{dir}"], "--kernel", "directory"),
        R(f, ["--kernel", "{empty}"], "--kernel", "empty file"),
        R(f, ["--kernel", "{text}"], "--kernel", "not an arm64 Image"),
        R(f, ["--top", "0"], "--top", "number out of range"),
        R(f, ["--top", "many"], "--top", "not a number"),
        R(f, ["--lines", "-3"], "--lines", "negative number"),
        R(f, ["--phase", "bogus"], "--phase", "choice not offered"),
        R(f, ["--from-hist", "{missing}"], "--from-hist", "path does not exist"),
        R(f, ["--from-hist", "{dir}"], "--from-hist", "directory"),
        R(f, ["--from-hist", "{empty}"], "--from-hist", "empty file"),
        R(f, ["--from-hist", "{unreadable}"], "--from-hist", "unreadable file"),
        R(f, ["--from-hist", "{text}"], "--from-hist", "not a histogram (JSON)"),
        R(f, ["--hist", "{dir}"], "--hist", "directory"),
        R(f, ["--hist", "{rodir}/hist.json"], "--hist", "unwritable directory"),
        R(f, ["--keep", "{text}"], "--keep", "a file, not a directory"),
    ]
    # --- tools/qemu/run -------------------------------------------------------
    q = "tools/qemu/run"
    def qr(kind, extra, names, mode="bare"):
        # bare needs no Xen; the xen rows name an existing (fake) Xen image so
        # that the cache's missing one is not what stops them.
        xen = ["--xen", "{image}"] if mode == "xen" else []
        return R(q, [mode, "--kernel", "{fw}", "--expect", "x"] + xen + extra, names, kind)
    t += [
        qr("unknown option", ["--frobnicate"], "--frobnicate"),
        R(q, ["--kernel", "{fw}", "--expect", "x"], "mode", "required argument missing"),
        R(q, ["hvm", "--kernel", "{fw}", "--expect", "x"], "mode", "choice not offered"),
        R(q, ["xen", "--expect", "x"], "--kernel", "required option missing"),
        R(q, ["xen", "--kernel"], "--kernel", "missing value"),
        R(q, ["xen", "--kernel", "{missing}", "--expect", "x"], "--kernel", "path does not exist"),
        R(q, ["xen", "--kernel", "{dir}", "--expect", "x"], "--kernel", "directory"),
        R(q, ["bare", "--kernel", "{empty}", "--expect", "x"], "--kernel", "empty file"),
        R(q, ["bare", "--kernel", "{unreadable}", "--expect", "x"], "--kernel", "unreadable file"),
        qr("path does not exist", ["--ramdisk", "{missing}"], "--ramdisk"),
        qr("directory", ["--ramdisk", "{dir}"], "--ramdisk"),
        qr("empty file", ["--ramdisk", "{empty}"], "--ramdisk"),
        R(q, ["xen", "--kernel", "{fw}", "--expect", "x", "--xen", "{missing}"], "--xen", "path does not exist"),
        R(q, ["xen", "--kernel", "{fw}", "--expect", "x", "--xen", "{dir}"], "--xen", "directory"),
        R(q, ["xen", "--kernel", "{fw}", "--expect", "x", "--xen", "{empty}"], "--xen", "empty file"),
        qr("not a number", ["--timeout", "soon"], "--timeout"),
        qr("number out of range", ["--timeout", "0"], "--timeout"),
        qr("negative number", ["--timeout", "-5"], "--timeout"),
        qr("negative number", ["--linger", "-1"], "--linger"),
        qr("not a number", ["--host-mem", "lots"], "--host-mem"),
        qr("number out of range", ["--host-mem", "0"], "--host-mem"),
        qr("number out of range", ["--domu-mem", "0"], "--domu-mem", mode="xen"),
        qr("number out of range", ["--smp", "0"], "--smp"),
        qr("number out of range", ["--domu-cpus", "0"], "--domu-cpus", mode="xen"),
        qr("not a number", ["--ramdisk-addr", "lots"], "--ramdisk-addr"),
        qr("bad regex", ["--expect", "("], "--expect"),
        qr("parent does not exist", ["--log", "{missing}/serial.log"], "--log"),
        qr("directory", ["--log", "{dir}"], "--log"),
        qr("a file, not a directory", ["--workdir", "{text}"], "--workdir"),
        qr("directory", ["--handover", "{dir}"], "--handover"),
        qr("option of another mode", ["--vuart"], "--vuart"),
        R(q, ["xl", "--kernel", "{fw}", "--expect", "x", "--xen", "{image}", "--dom0-kernel", "{missing}"],
          "--dom0-kernel", "path does not exist"),
        R(q, ["xl", "--kernel", "{fw}", "--expect", "x", "--xen", "{image}", "--dom0-kernel", "{image}",
              "--dom0-initramfs", "{missing}"], "--dom0-initramfs", "path does not exist"),
        R(q, ["xl", "--kernel", "{fw}", "--expect", "x", "--xen", "{image}", "--dom0-kernel", "{image}",
              "--dom0-initramfs", "{image}", "--xl-values", "{dir}"], "--xl-values", "directory"),
    ]
    # --- tools/build-dom0 (new; may not be edited here) ---------------------
    o = "tools/build-dom0"
    t += [
        R(o, ["--frobnicate"], "--frobnicate", "unknown option"),
        R(o, ["xen"], "xen", "stray word"),
        R(o, ["--out"], "--out", "missing value"),
        R(o, ["--out", "{dir}"], "--out", "directory"),
        R(o, ["--out", "{rodir}/dom0.cpio.gz"], "--out", "unwritable directory"),
        R(o, ["--cache-dir", "{text}"], "--cache-dir", "a file, not a directory"),
        R(o, ["--cache-dir", "{missing}"], "--cache-dir", "path does not exist"),
    ]
    # --- tools/build-xen ----------------------------------------------------
    x = "tools/build-xen"
    t += [
        R(x, ["--frobnicate"], "--frobnicate", "unknown option"),
        R(x, ["xen"], "xen", "stray word"),
        R(x, ["--variant"], "--variant", "missing value"),
        R(x, ["--variant", "patched"], "--variant", "choice not offered"),
        R(x, ["--jobs", "many"], "--jobs", "not a number"),
        R(x, ["--jobs", "0"], "--jobs", "number out of range"),
    ]
    # --- tools/build-peers --------------------------------------------------
    u = "tools/build-peers"
    t += [
        R(u, ["--frobnicate"], "--frobnicate", "unknown option"),
        R(u, ["xl"], "xl", "stray word"),
        R(u, ["--build"], "--build", "missing value"),
        R(u, ["--build", "xen"], "--build", "choice not offered"),
        R(u, ["--jobs", "many"], "--jobs", "not a number"),
        R(u, ["--jobs", "0"], "--jobs", "number out of range"),
    ]
    # --- tools/compare-peers ------------------------------------------------
    c = "tools/compare-peers"
    t += [
        R(c, ["--frobnicate"], "--frobnicate", "unknown option"),
        R(c, ["raw"], "raw", "stray word"),
        R(c, ["--firmware"], "--firmware", "missing value"),
        R(c, ["--firmware", "{missing}"], "--firmware", "path does not exist"),
        R(c, ["--firmware", "{dir}"], "--firmware", "directory"),
        R(c, ["--firmware", "{empty}"], "--firmware", "empty file"),
        R(c, ["--firmware", "{text}"], "--firmware", "not an arm64 Image"),
        R(c, ["--firmware", "{image}", "--payloads", "zip"], "--payloads", "choice not offered"),
        R(c, ["--firmware", "{image}", "--modes", "dom0"], "--modes", "choice not offered"),
        R(c, ["--firmware", "{image}", "--firmware-xl", "{missing}", "--disk"], "--firmware-xl",
          "path does not exist"),
        R(c, ["--firmware", "{image}", "--modes", "xen", "--disk"], "--disk", "an xl row without xl"),
        R(c, ["--firmware", "{image}", "--uboot-xl", "{empty}"], "--uboot-xl", "empty file"),
        R(c, ["--firmware", "{image}", "--uboot-xl-disk", "{dir}"], "--uboot-xl-disk", "directory"),
        R(c, ["--firmware", "{image}", "--json", "{rodir}/out.json"], "--json", "unwritable directory"),
        R(c, ["--self-test", "--quick"], "--self-test", "combined with another option"),
    ]
    return t


# ---------------------------------------------------------------- fixtures

def arm64_image(path, file_size=64 * 1024, image_size=1 << 20):
    """A minimal arm64 Image (booting.rst header), as tests/sim's synthetic_image."""
    b = bytearray(file_size)
    struct.pack_into("<IIQQQ", b, 0, 0x91005A4D, 0, 0, image_size, 0xA)
    struct.pack_into("<I", b, 0x38, 0x644D5241)
    with open(path, "wb") as f:
        f.write(b)


def find_unreadable(tmp):
    """(path, None) of a regular, non-empty file this process cannot read, or (None, why)."""
    p = os.path.join(tmp, "unreadable")
    with open(p, "wb") as f:
        f.write(b"secret\n" * 100)
    os.chmod(p, 0)
    try:
        with open(p, "rb") as f:
            f.read(1)
    except OSError:
        return p, None
    # Root reads a mode-000 file: a write-only sysfs attribute refuses even root.
    for cand in sorted(glob.glob("/sys/bus/*/drivers_probe") + glob.glob("/sys/bus/*/uevent")):
        try:
            st = os.stat(cand)
            if not stat.S_ISREG(st.st_mode) or st.st_size == 0:
                continue
            with open(cand, "rb") as f:
                f.read(1)
        except OSError:
            return cand, None
    return None, "running as root (chmod 000 does not stop reads) and no write-only sysfs file to use"


def find_unwritable_dir(tmp):
    p = os.path.join(tmp, "read-only-dir")
    os.mkdir(p)
    os.chmod(p, 0o555)
    for cand in (p, "/sys", "/proc"):
        try:
            probe = os.path.join(cand, "cli-test-probe")
            open(probe, "wb").close()
            os.unlink(probe)
        except OSError:
            return cand, None
    return None, "every candidate directory is writable here"


def heavy_stubs(tmp):
    d = os.path.join(tmp, "heavy-bin")
    os.mkdir(d)
    for name in HEAVY_PROGRAMS:
        stub(os.path.join(d, name), name)
    return d


def stub(path, name):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(f'#!/bin/sh\necho "{HEAVY_MARK}: {name} $*" >&2\nexit 97\n')
    os.chmod(path, 0o755)


def sandbox(tmp, source):
    """A tree for tools/test and tools/demo: the scripts as they are, the
    tools they run by path as stand-ins."""
    root = os.path.join(tmp, "sandbox")
    os.makedirs(os.path.join(root, "tools", "qemu"))
    for s in ("test", "demo"):
        shutil.copy2(os.path.join(source, "tools", s), os.path.join(root, "tools", s))
    for s in ("setup", "make-payload", "bench-boot", "build-dom0", "build-xen", "qemu/run"):
        stub(os.path.join(root, "tools", s), f"tools/{s}")
    return root


# ---------------------------------------------------------------- running

def commands(a, sb):
    py = sys.executable
    tool = lambda rel: os.path.join(a.source, "tools", rel)
    cmds = {
        "magicboot-sim": Command("magicboot-sim", [a.sim]),
        "magicboot-model-demo": Command("magicboot-model-demo", [a.model_demo]),
        "magicboot-conformance": Command("magicboot-conformance", [a.conformance]),
        "tools/demo": Command("tools/demo", ["bash", os.path.join(sb, "tools", "demo")]),
        "tools/test": Command("tools/test", ["bash", os.path.join(sb, "tools", "test")]),
        "tools/setup": Command("tools/setup", ["bash", tool("setup")]),
        "tools/make-payload": Command("tools/make-payload", [py, tool("make-payload")]),
        "tools/bench-boot": Command("tools/bench-boot", [py, tool("bench-boot")]),
        "tools/profile-boot": Command("tools/profile-boot", [py, tool("profile-boot")]),
        "tools/qemu/run": Command("tools/qemu/run", [py, tool("qemu/run")]),
        "tools/build-dom0": Command("tools/build-dom0", [py, tool("build-dom0")]),
        "tools/build-xen": Command("tools/build-xen", [py, tool("build-xen")]),
        "tools/build-peers": Command("tools/build-peers", [py, tool("build-peers")]),
        "tools/compare-peers": Command("tools/compare-peers", [py, tool("compare-peers")]),
    }
    for c in cmds.values():
        exe = c.argv[-1]
        if not os.path.isfile(exe):
            c.why_absent = f"{exe} does not exist"
    return cmds


def run(cmd, args, env, cwd):
    t0 = time.monotonic()
    try:
        r = subprocess.run(cmd.argv + args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=env, cwd=cwd, timeout=TIMEOUT,
                           errors="replace")
        return r.returncode, r.stdout, r.stderr, time.monotonic() - t0
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        err = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
        return None, out, err, time.monotonic() - t0


def judge_error(row, cmd, rc, out, err, secs):
    """What is wrong with this answer to a bad argument (empty: nothing)."""
    bad = []
    both = out + err
    if rc is None:
        bad.append(f"still running after {TIMEOUT:.0f} s (killed)")
    elif rc != cmd.usage_code:
        bad.append(f"exit {rc}, want {cmd.usage_code}")
    if HEAVY_MARK in both:
        bad.append("started heavy work before checking its arguments: " +
                   next(l for l in both.splitlines() if HEAVY_MARK in l).split(": ", 1)[1][:60])
    for pattern, what in CRASHES:
        if pattern.search(both):
            bad.append(f"ends in {what}")
    where = both if row.loader else err
    if row.names not in where:
        bad.append(f"{'output' if row.loader else 'stderr'} does not name {row.names!r}")
    if not row.loader:
        lines = [l for l in err.splitlines() if l.strip()]
        if len(lines) != 1:
            bad.append(f"{len(lines)} lines on stderr, want 1")
        if out.strip():
            bad.append("prints on stdout")
    if secs > SLOW:
        bad.append(f"took {secs:.1f} s")
    return bad


def judge_help(cmd, documented, rc, out, err, secs):
    bad = []
    if rc != 0:
        bad.append(f"exit {rc}, want 0")
    if "usage" not in out.lower():
        bad.append("stdout has no usage text")
    if HEAVY_MARK in out + err:
        bad.append("started heavy work")
    for pattern, what in CRASHES:
        if pattern.search(out + err):
            bad.append(f"ends in {what}")
    missing = sorted(o for o in documented if not re.search(r"(^|[\s,\[(|])" + re.escape(o) + r"($|[\s,=\])|])",
                                                           out, re.M))
    if missing:
        bad.append("undocumented: " + " ".join(missing))
    if secs > SLOW:
        bad.append(f"took {secs:.1f} s")
    return bad


def show(args):
    return " ".join(shlex.quote(a) if len(a) < 60 else shlex.quote(a[:20] + "...") for a in args)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", required=True, help="the source tree")
    ap.add_argument("--sim", required=True, help="build/host/magicboot-sim")
    ap.add_argument("--model-demo", required=True, help="build/host/magicboot-model-demo")
    ap.add_argument("--conformance", required=True, help="build/host/magicboot-conformance")
    ap.add_argument("-k", default="", help="only rows whose command line contains this")
    ap.add_argument("-v", action="store_true", help="print what each command said")
    a = ap.parse_args()
    a.source, a.sim, a.model_demo, a.conformance = (os.path.abspath(x) for x in (a.source, a.sim, a.model_demo,
                                                                                  a.conformance))
    t_start = time.monotonic()

    with tempfile.TemporaryDirectory(prefix="cli-args-") as tmp:
        fx = {"missing": os.path.join(tmp, "no-such-file"), "dir": os.path.join(tmp, "a-directory"),
              "empty": os.path.join(tmp, "empty-file"), "text": os.path.join(tmp, "notes.txt"),
              "out": os.path.join(tmp, "out", "payload"), "image": os.path.join(tmp, "Image"),
              "fw": os.path.join(tmp, "firmware.bin"), "long": "console=hvc0 " + "x" * 4987}
        os.mkdir(fx["dir"])
        open(fx["empty"], "wb").close()
        with open(fx["text"], "w") as f:
            f.write("not a kernel, a device tree or JSON\n" * 20)
        arm64_image(fx["image"])
        arm64_image(fx["fw"], 4096, 4096)
        unreadable, why_unreadable = find_unreadable(tmp)
        rodir, why_rodir = find_unwritable_dir(tmp)
        cache = os.path.join(tmp, "empty-cache")
        os.mkdir(cache)
        env = dict(os.environ, PATH=heavy_stubs(tmp) + os.pathsep + os.environ.get("PATH", ""),
                   MAGICBOOT_CACHE=cache, LC_ALL="C.UTF-8", PYTHONDONTWRITEBYTECODE="1")
        env.pop("PYTHONWARNINGS", None)
        cmds = commands(a, sandbox(tmp, a.source))
        cwd = os.path.join(tmp, "cwd")
        os.mkdir(cwd)

        counts = {"pass": 0, "fail": 0, "known": 0, "xpass": 0, "skip": 0}
        failures = []
        table = [r for r in rows() if a.k in f"{r.cmd} {show(r.args)}"]
        for row in table:
            cmd = cmds[row.cmd]
            label = f"{row.cmd} {show(row.args)}  [{row.kind}]"
            if cmd.why_absent:
                counts["skip"] += 1
                print(f"SKIP  {label}: {cmd.why_absent}")
                continue
            need = set(re.findall(r"\{(\w+)\}", " ".join(row.args)))
            why = {"unreadable": why_unreadable if not unreadable else "",
                   "rodir": why_rodir if not rodir else ""}
            skip = next((why[n] for n in need if why.get(n)), "")
            if skip:
                counts["skip"] += 1
                print(f"SKIP  {label}: {skip}")
                continue
            filled = dict(fx, unreadable=unreadable or "", rodir=rodir or "")
            args = [x.format(**filled) for x in row.args]
            rc, out, err, secs = run(cmd, args, env, cwd)
            bad = judge_error(row, cmd, rc, out, err, secs)
            said = (err.strip().splitlines() or out.strip().splitlines() or ["(nothing)"])[-1][:150]
            if row.known:
                if bad:
                    counts["known"] += 1
                    print(f"KNOWN {label}: {'; '.join(bad)}\n        fix: {row.known}")
                else:
                    counts["xpass"] += 1
                    failures.append(f"{label}: passes now: remove its `known` mark")
                    print(f"XPASS {label}: passes now, remove its `known` mark")
            elif bad:
                counts["fail"] += 1
                failures.append(f"{label}: {'; '.join(bad)}")
                print(f"FAIL  {label}: {'; '.join(bad)}\n        said: {said}")
            else:
                counts["pass"] += 1
                print(f"ok    {label} ({secs:.2f} s): {said}")
            if a.v:
                print(f"        rc={rc} stdout={out[-300:]!r}\n        stderr={err[-600:]!r}")

        # --help: exit 0, a usage text, every option the table uses documented.
        for name, cmd in cmds.items():
            if a.k and a.k not in name:
                continue
            if cmd.why_absent:
                counts["skip"] += 1
                print(f"SKIP  {name} --help: {cmd.why_absent}")
                continue
            documented = {x for r in rows() if r.cmd == name for x in r.args
                          if x.startswith("-") and x not in ("--frobnicate",) and not re.match(r"-\d", x)}
            for h in ("--help", "-h"):
                rc, out, err, secs = run(cmd, [h], env, cwd)
                bad = judge_help(cmd, documented, rc, out, err, secs)
                if bad:
                    counts["fail"] += 1
                    failures.append(f"{name} {h}: {'; '.join(bad)}")
                    print(f"FAIL  {name} {h}: {'; '.join(bad)}")
                else:
                    counts["pass"] += 1
                    print(f"ok    {name} {h} ({secs:.2f} s)")

    print(f"\ncli_args_test: {counts['pass']} ok, {counts['fail']} failed, {counts['known']} known "
          f"(failing in files to be fixed by their owners; fixes listed above), {counts['xpass']} known but "
          f"passing, {counts['skip']} skipped; {time.monotonic() - t_start:.1f} s")
    for f in failures:
        print(f"  FAILED: {f}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

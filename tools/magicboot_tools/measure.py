"""Counting a boot's guest instructions with a TCG plugin, as bench-boot and
profile-boot do: the bare QEMU machine both boot loaders get, the payloads,
the plugin (built into the cache), one counted run, and finding magicboot's
stages among the plugin's CNTVCT reads. bench-boot's --help has the method."""
import gzip
import hashlib
import json
import os
import signal
import struct
import subprocess
import time
from dataclasses import dataclass

from . import fdt, paths, qemu
from .cli import Failure, run_tool
from .results import PluginResult

QEMU = qemu.QEMU
ICOUNT_PLUGIN = paths.tool("qemu/icount-plugin.c")
PROFILE_PLUGIN = paths.tool("qemu/profile-plugin.c")
PLUGIN_COMMON = paths.tool("qemu/plugin-common.h")
PLUGIN_CACHE = os.path.join(paths.CACHE, "bench-boot")
DEFAULT_FW = os.path.join(paths.ROOT, "build", "firmware", "magicboot.bin")

# Identical for magicboot and U-Boot on bare QEMU (the baseline set-up).
BARE_MACHINE = ["-machine", "virt", "-cpu", "cortex-a57", "-smp", "1", "-m", "1024", "-net", "none"]
ICOUNT = ["-icount", "shift=0,sleep=off"]
COMMON = ["-display", "none", "-monitor", "none", "-no-reboot"]
PAYLOAD_ADDR = 0x50000000   # both loaders find the payload here
MB_ENTRY = 0x40200000        # magicboot's first instruction (RAM + text_offset), bare and domU
TICK = 16                    # instructions per CNTVCT tick under -icount shift=0 on virt
STAGES = ["discover", "ledger", "xen", "payload", "plan", "load", "fixup", "quiesce"]
PAYLOADS = ["raw", "gzip", "fit"]
TIMEOUT = 150  # seconds per boot; the slowest here takes ~10 s alone


@dataclass(frozen=True)
class ImageHead:
    """What the plugin stops on: the Linux Image's first two words; and its size."""
    word0: int
    word1: int
    size: int


def build_plugin(src: str = ICOUNT_PLUGIN) -> str:
    """src built once into the cache; the key covers plugin-common.h too."""
    digest = hashlib.sha256()
    for part in (src, PLUGIN_COMMON):
        with open(part, "rb") as f:
            digest.update(f.read())
    key = digest.hexdigest()[:16]
    name = os.path.splitext(os.path.basename(src))[0]
    so = os.path.join(PLUGIN_CACHE, f"{name}-{key}.so")
    if not os.path.isfile(so):
        os.makedirs(PLUGIN_CACHE, exist_ok=True)
        tmp = f"{so}.tmp{os.getpid()}"
        run_tool(["gcc", "-shared", "-fPIC", "-O2", "-Wall", "-Wextra", "-Werror", "-o", tmp, src],
                 f"building {name}")
        os.replace(tmp, so)
    return so


def make_payloads(kinds: list[str], workdir: str, kernel: str | None) -> dict[str, str]:
    """{kind: WORKDIR/payload-KIND}, from tools/make-payload (which caches them)."""
    out = {}
    for k in kinds:
        path = os.path.join(workdir, f"payload-{k}")
        cmd = [paths.tool("make-payload"), k, "--out", path]
        if kernel:
            cmd += ["--kernel", kernel]
        run_tool(cmd, f"make-payload {k}")
        out[k] = path
    return out


def image_head(kind: str, path: str) -> ImageHead:
    """The Linux Image's stop signature and size, from the payload itself."""
    if kind == "gzip":
        with gzip.open(path, "rb") as f:
            head = f.read(64)
        with open(path, "rb") as f:
            f.seek(-4, 2)
            size = struct.unpack("<I", f.read(4))[0]  # ISIZE (Image < 4 GiB)
    elif kind == "raw":
        with open(path, "rb") as f:
            head = f.read(64)
        size = os.path.getsize(path)
    else:  # fit: the default configuration's kernel
        with open(path, "rb") as f:
            try:
                data = fdt.fit_kernel_data(f.read())
            except fdt.FdtError as e:
                raise Failure(f"{path}: {e}")
        head, size = data[:64], len(data)
    if head[0x38:0x3c] != b"ARM\x64":
        raise Failure(f"{path}: the kernel is not an arm64 Image (no ARM\\x64 magic)")
    w0, w1 = struct.unpack("<II", head[:8])
    return ImageHead(w0, w1, size)


def first_word(path: str) -> int:
    """A binary's first instruction (magicboot.bin's: the plugin's start_word)."""
    with open(path, "rb") as f:
        return struct.unpack("<I", f.read(4))[0]


def dt_for_magicboot(workdir: str, size: int, bootargs: str) -> str:
    """QEMU's own virt tree (the bare machine) + /chosen: bootargs and the
    payload of `size` bytes at PAYLOAD_ADDR."""
    chosen = (f"\n/ {{\n  chosen {{\n    bootargs = {qemu.dts_string(bootargs)};\n"
              f"    linux,initrd-start = /bits/ 64 <{PAYLOAD_ADDR:#x}>;\n"
              f"    linux,initrd-end = /bits/ 64 <{PAYLOAD_ADDR + size:#x}>;\n  }};\n}};\n")
    return qemu.dtb_with(QEMU, BARE_MACHINE, workdir, chosen)[0]


def plugin_arg(so: str, out: str, head: ImageHead, start: int | None = None, start_word: int | None = None,
               rng: tuple[int, int] | None = None) -> list[str]:
    """-plugin: stop at the Image's first instruction; count from `start`
    (whose first word is start_word) and inside rng."""
    a = f"{so},out={out},stop_word={head.word0:x},stop_word2={head.word1:x},stop_align=1000"
    if start is not None:
        a += f",start={start:x},start_word={start_word:x}"
    if rng:
        a += f",range={rng[0]:x}-{rng[1]:x}"
    return ["-plugin", a]


def bare_magicboot_cmd(firmware: str, dtb: str, payload: str, plugin: list[str]) -> list[str]:
    """magicboot on the bare machine under icount, the payload loaded at
    PAYLOAD_ADDR; @LOG@ and @RES@ as run_counted fills them in."""
    return [QEMU] + BARE_MACHINE + ICOUNT + COMMON + [
        "-serial", "file:@LOG@", "-kernel", firmware, "-dtb", dtb,
        "-device", f"loader,file={payload},addr={PAYLOAD_ADDR:#x},force-raw=on"] + plugin


def run_counted(cmd: list[str], workdir: str, name: str,
                timeout: float = TIMEOUT) -> tuple[PluginResult, str, float]:
    """Runs QEMU until the plugin ends it (@LOG@: the serial log, @RES@: the
    plugin's result, both in workdir); returns (result, serial log, seconds).
    RuntimeError naming `name` when the kernel was never reached."""
    log = os.path.join(workdir, "serial.log")
    res = os.path.join(workdir, "plugin.json")
    cmd = [c.replace("@LOG@", log).replace("@RES@", res) for c in cmd]
    with open(os.path.join(workdir, "cmd"), "w") as f:
        f.write(" ".join(cmd) + "\n")
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         start_new_session=True)
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)  # our own QEMU, by its PID (it leads its session)
        p.wait()
        out = b""
    text = open(log, errors="replace").read() if os.path.exists(log) else ""
    if not os.path.exists(res):
        tail = "\n".join(text.rstrip().split("\n")[-15:])
        raise RuntimeError(f"{name}: the kernel's first instruction was never reached (QEMU exit "
                           f"{p.returncode}, {time.monotonic() - t0:.0f} s); {out.decode(errors='replace')[-500:]}"
                           f"\n--- serial log tail ({log}) ---\n{tail}")
    with open(res) as f:
        return PluginResult.from_json(json.load(f)), text, time.monotonic() - t0


StageWindow = tuple[int, list[tuple[str, int, int]]]


def stage_window(reads: list[int], stages: dict[str, int]) -> StageWindow | None:
    """The 9 consecutive counter reads that time magicboot's 8 stages (each
    stage's ticks x 16 matching the plugin's count between its reads within
    one tick): (index of the first read, [(stage, ticks, plugin
    instructions)]), or None."""
    ticks = [stages[s] for s in STAGES]
    for k in range(len(reads) - len(ticks)):
        diffs = [reads[k + i + 1] - reads[k + i] for i in range(len(ticks))]
        if all(abs(d - TICK * t) < TICK for d, t in zip(diffs, ticks)):
            return k, list(zip(STAGES, ticks, diffs))
    return None


def xen_stage_window(reads: list[int], stages: dict[str, int]) -> StageWindow | None:
    """Under Xen the plugin also counts trapped instructions that QEMU's
    icount does not: the 8 stages matched to consecutive reads by the
    smallest total difference instead."""
    ticks = [stages[s] for s in STAGES]
    best = None
    for k in range(len(reads) - len(ticks)):
        diffs = [reads[k + i + 1] - reads[k + i] for i in range(len(ticks))]
        err = sum(abs(d - TICK * t) for d, t in zip(diffs, ticks))
        if best is None or err < best[0]:
            best = (err, k, list(zip(STAGES, ticks, diffs)))
    return None if best is None else best[1:]


def image_entry(path: str, ram_base: int = qemu.RAM_BASE) -> tuple[int, int]:
    """(entry, first word) of a firmware that Xen or the toolstack loads as a
    domU kernel: an arm64 Image (magicboot.bin, U-Boot's u-boot.bin with its
    Linux Image header) placed at the RAM base + its text_offset."""
    with open(path, "rb") as f:
        head = f.read(64)
    if head[0x38:0x3c] != b"ARM\x64":
        raise Failure(f"{path}: not an arm64 Image (no ARM\\x64 magic)")
    text_offset = struct.unpack("<Q", head[8:16])[0]
    return ram_base + text_offset, struct.unpack("<I", head[:4])[0]


def count_domu(boot: "qemu.Boot", workdir: str, plugin: str, head: ImageHead, name: str,
               icount: bool = True, timeout: float = TIMEOUT) -> tuple[PluginResult, str, float]:
    """One of tools/qemu/run's Xen set-ups (xen or xl) with the plugin
    counting from the domU kernel's first instruction (boot.kernel's entry,
    image_entry) to the next stage's (head); in_range = instructions in the
    domU's RAM, the rest of the window is Xen's (and, under xl, dom0's).
    RuntimeError naming `name` when the entry or the kernel never ran."""
    entry, word = image_entry(boot.kernel)
    cmd, _ = qemu.setup(boot, workdir)
    cmd = ["file:@LOG@" if c == "stdio" and cmd[i - 1] == "-serial" else c for i, c in enumerate(cmd)]
    domu_ram = (qemu.RAM_BASE, qemu.RAM_BASE + (boot.domu_mem << 20))
    # No -icount under xl: with two CPUs it stalls Xen's bring-up (QEMU 7.2).
    cmd += ["-net", "none"] + (ICOUNT if icount else []) + plugin_arg(plugin, "@RES@", head, entry, word, domu_ram)
    res, log, secs = run_counted(cmd, workdir, name, timeout)
    if not res.started:
        raise RuntimeError(f"{name}: its entry {entry:#x} never ran")
    return res, log, secs

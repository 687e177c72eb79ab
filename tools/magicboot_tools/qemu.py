"""The QEMU harness behind tools/qemu/run (and bench-boot's Xen rows): a
boot's set-up (bare, xen dom0less, xl with a dom0), the serial pump that
waits for markers, and ending QEMU cleanly. tools/qemu/run's --help
describes the modes; REFERENCE.md the addresses."""
import codecs
import dataclasses
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

from . import paths
from .cli import Failure, run_tool
from .cpio import Newc

DEFAULT_XEN = paths.DEFAULT_XEN
QEMU = "qemu-system-aarch64"
RAM_BASE = 0x40000000
MIB = 1 << 20
# QEMU puts its boot stub at RAM base, Xen at +2 MiB and the DTB at +128 MiB
# (REFERENCE.md), so modules start at +256 MiB.
KERNEL_MODULE_ADDR = 0x50000000
DEFAULT_RAMDISK_ADDR = 0x58000000
DEFAULT_FAIL = [r"Panic on CPU", r"Kernel panic", r"MAGICBOOT-FAULT", r"MAGICBOOT-ERROR"]
BUILD_DOM0 = paths.tool("build-dom0")
# Xen's command line: xen (dom0less) and xl (REFERENCE.md, "dom0 and xl").
XEN_ARGS = "console=dtuart dtuart=/pl011@9000000 bootscrub=0"
XL_XEN_ARGS = "console=dtuart dtuart=/pl011@9000000 bootscrub=0 dom0_mem=512M dom0_max_vcpus=1"
XL_DOM0_ARGS = "console=hvc0 earlycon=xen rdinit=/init quiet"
XL_FAIL = [r"dom0: FAIL"]
XL_GUEST_NAME = "guest"
XL_DISK = "/guest/disk.img"  # where dom0 keeps the guest's disk image
# dom0's progress lines, for the timeline of an xl run.
XL_STAGES = [("dom0 shell", r"dom0: shell up"), ("toolstack up", r"dom0: toolstack up"),
             ("xl create done", r"dom0: xl create done"), ("guest boot 2", r"dom0: guest boot 2"),
             ("xl reboot ignored, sysrq b", r"dom0: the guest ignored xl reboot"),
             ("guest rebuilt", r"dom0: (xl reboot done|xl sysrq b done|guest was gone)"),
             ("console keys written", r"dom0: console keys \d+:"),
             ("dom0 powering off", r"dom0: powering off")]


@dataclass
class Boot:
    """What to boot and on which machine; tools/qemu/run's options by the same names."""
    mode: str                       # bare | xen | xl
    kernel: str                     # the domU's kernel (xen, xl) or -kernel (bare)
    ramdisk: str | None = None      # the payload
    bootargs: str = ""
    host_mem: int = 2048            # QEMU -m, MiB
    smp: int | None = None          # default: 2 for xl, else 1
    cpu: str = "cortex-a57"
    qemu: str = QEMU
    virtualization: bool = False    # bare: enter at EL2
    ramdisk_addr: int = KERNEL_MODULE_ADDR  # bare: where the payload is loaded
    xen: str = DEFAULT_XEN
    xen_args: str | None = None     # default: XEN_ARGS, or XL_XEN_ARGS for xl
    domu_mem: int = 512             # MiB
    domu_cpus: int = 1
    dom0_kernel: str | None = None  # xl: default the cached Debian vmlinuz-*
    dom0_initramfs: str | None = None  # xl: default tools/build-dom0's
    dom0_bootargs: str = XL_DOM0_ARGS
    vuart: bool = False             # xl: vuart = "sbsa_uart"
    xl_config_extra: list[str] = field(default_factory=list)
    disk: str | None = None         # xl: a raw image dom0 serves as the guest's xvda (read-only)
    disk_dd: bool = False           # xl: dom0 times its own read of the disk first (MAGICBOOT-DOM0-DD)
    # xl: (marker, keys): dom0 writes keys to the guest's PV console once a
    # console line contains marker (in order; tools/qemu/dom0/init send_keys)
    console_keys: list[tuple[str, bytes]] = field(default_factory=list)
    dry_run: bool = False           # xl: do not build dom0's initramfs

    def __post_init__(self) -> None:
        if self.smp is None:
            self.smp = 2 if self.mode == "xl" else 1
        if self.xen_args is None:
            self.xen_args = XL_XEN_ARGS if self.mode == "xl" else XEN_ARGS

    @classmethod
    def from_args(cls, args) -> "Boot":
        """From an argparse namespace that has (some of) these names."""
        return cls(**{f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if hasattr(args, f.name)})


def parse_console_keys(text: str) -> tuple[str, bytes]:
    """--console-keys MARKER:KEYS -> (MARKER, the keys' bytes): MARKER up to
    the first ':', a plain string (not a regex, no ':'); KEYS with the
    escapes \\r \\n \\t \\xHH \\\\ undone (\\r is Enter on a console, \\x1b
    Escape). ValueError naming what is wrong."""
    marker, sep, keys = text.partition(":")
    if not sep:
        raise ValueError(f"'{text}' has no ':' (MARKER:KEYS)")
    if not marker:
        raise ValueError(f"'{text}': empty MARKER")
    try:
        data = codecs.escape_decode(keys.encode())[0]
    except ValueError as e:
        raise ValueError(f"'{text}': bad escape in KEYS ({e})") from None
    if not data:
        raise ValueError(f"'{text}': no KEYS")
    if len(data) > 256:
        raise ValueError(f"'{text}': more than 256 bytes of KEYS")
    return marker, data


def setup(boot: Boot, workdir: str) -> tuple[list[str], str]:
    """(QEMU command with -serial stdio, what was added to QEMU's DT) for the
    boot; Failure when something it needs is missing."""
    return {"xen": xen_setup, "bare": bare_setup, "xl": xl_setup}[boot.mode](boot, workdir)


def align_up(v: int, a: int) -> int:
    return (v + a - 1) & ~(a - 1)


def machine_args(boot: Boot) -> list[str]:
    virt = "on" if boot.mode in ("xen", "xl") or boot.virtualization else "off"
    return ["-machine", f"virt,virtualization={virt},gic-version=3", "-cpu", boot.cpu,
            "-smp", str(boot.smp), "-m", str(boot.host_mem)]


def dts_string(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def layout_modules(boot: Boot, kernel_size: int, ramdisk_size: int | None) -> tuple[int, int | None]:
    """Addresses of the kernel and ramdisk modules; the ramdisk goes after the
    kernel (2 MiB aligned, at least at 0x58000000) and must fit in host RAM."""
    kernel_addr = KERNEL_MODULE_ADDR
    ramdisk_addr = None
    end = kernel_addr + kernel_size
    if ramdisk_size is not None:
        ramdisk_addr = max(DEFAULT_RAMDISK_ADDR, align_up(end, 2 * MIB))
        end = ramdisk_addr + ramdisk_size
    ram_end = RAM_BASE + boot.host_mem * MIB
    if end > ram_end:
        raise Failure(f"modules end at {end:#x} but host RAM ends at {ram_end:#x}: raise --host-mem")
    if end > 1 << 32:
        raise Failure(f"modules end at {end:#x}: /chosen uses 32-bit cells, keep them below 4 GiB")
    return kernel_addr, ramdisk_addr


def dtb_with(qemu_bin: str, machine: list[str], workdir: str, extra_dts: str) -> tuple[str, str]:
    """QEMU's own tree for `machine` (-machine dumpdtb) with extra_dts
    added: (WORKDIR/boot.dtb, WORKDIR/boot.dts)."""
    virt_dtb = os.path.join(workdir, "virt.dtb")
    run_tool([qemu_bin] + machine + ["-machine", f"dumpdtb={virt_dtb}", "-display", "none"], "QEMU dumpdtb")
    dts = run_tool(["dtc", "-q", "-I", "dtb", "-O", "dts", virt_dtb], "dtc decompile")
    dts_path = os.path.join(workdir, "boot.dts")
    with open(dts_path, "w") as f:
        f.write(dts + "\n" + extra_dts)
    dtb_path = os.path.join(workdir, "boot.dtb")
    run_tool(["dtc", "-q", "-I", "dts", "-O", "dtb", "-o", dtb_path, dts_path], "dtc compile")
    return dtb_path, dts_path


def build_dtb(boot: Boot, workdir: str, extra_dts: str) -> tuple[str, str]:
    return dtb_with(boot.qemu, machine_args(boot), workdir, extra_dts)


def xen_setup(boot: Boot, workdir: str) -> tuple[list[str], str]:
    if not os.path.isfile(boot.xen):
        raise Failure(f"Xen not found at {boot.xen} (run tools/setup or pass --xen)")
    ksize = os.path.getsize(boot.kernel)
    rsize = os.path.getsize(boot.ramdisk) if boot.ramdisk else None
    kaddr, raddr = layout_modules(boot, ksize, rsize)
    ramdisk_node = ""
    if boot.ramdisk:
        ramdisk_node = f"""
      module@{raddr:x} {{
        compatible = "multiboot,ramdisk", "multiboot,module";
        reg = <{raddr:#x} {rsize:#x}>;
      }};"""
    extra = f"""
/ {{
  chosen {{
    #address-cells = <1>;
    #size-cells = <1>;
    xen,xen-bootargs = {dts_string(boot.xen_args)};
    domU1 {{
      compatible = "xen,domain";
      #address-cells = <1>;
      #size-cells = <1>;
      memory = <0 {boot.domu_mem * 1024}>;
      cpus = <{boot.domu_cpus}>;
      vpl011;
      xen,enhanced = "no-xenstore";
      module@{kaddr:x} {{
        compatible = "multiboot,kernel", "multiboot,module";
        reg = <{kaddr:#x} {ksize:#x}>;
        bootargs = {dts_string(boot.bootargs)};
      }};{ramdisk_node}
    }};
  }};
}};
"""
    dtb, _ = build_dtb(boot, workdir, extra)
    cmd = [boot.qemu] + machine_args(boot) + [
        "-display", "none", "-monitor", "none", "-serial", "stdio", "-no-reboot",
        "-kernel", boot.xen, "-dtb", dtb,
        "-device", f"loader,file={boot.kernel},addr={kaddr:#x},force-raw=on"]
    if boot.ramdisk:
        cmd += ["-device", f"loader,file={boot.ramdisk},addr={raddr:#x},force-raw=on"]
    return cmd, extra


def xl_guest_cfg(boot: Boot, kernel: str, ramdisk: str | None) -> str:
    def q(v):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    lines = [f"name = {q(XL_GUEST_NAME)}", f"kernel = {q(kernel)}"]
    if ramdisk:
        lines.append(f"ramdisk = {q(ramdisk)}")
    lines += [f"extra = {q(boot.bootargs)}", f"memory = {boot.domu_mem}", f"vcpus = {boot.domu_cpus}"]
    if boot.vuart:
        lines.append('vuart = "sbsa_uart"')
    if boot.disk:
        # Through blkback from a loop device that our hotplug script sets up
        # (tools/qemu/dom0/magicboot-block); target= must come last.
        lines.append(f"disk = [ 'format=raw, vdev=xvda, access=ro, script=/etc/xen/scripts/magicboot-block, "
                     f"target={XL_DISK}' ]")
    lines += boot.xl_config_extra
    return "\n".join(lines) + "\n"


def xl_setup(boot: Boot, workdir: str) -> tuple[list[str], str]:
    """Xen + dom0 (Debian's kernel, tools/build-dom0's initramfs with this
    run's guest appended) as the two modules under /chosen."""
    if not os.path.isfile(boot.xen):
        raise Failure(f"Xen not found at {boot.xen} (run tools/setup or pass --xen)")
    dom0_kernel = boot.dom0_kernel
    if dom0_kernel is None:
        found = paths.cached_kernels()
        if not found:
            raise Failure(f"no Debian kernel in {paths.ARM64}/boot (run tools/setup, or pass --dom0-kernel)")
        dom0_kernel = found[-1]
    elif not os.path.isfile(dom0_kernel):
        raise Failure(f"--dom0-kernel {dom0_kernel}: no such file")
    dom0_rd = boot.dom0_initramfs
    if dom0_rd is None:
        if boot.dry_run:
            dom0_rd = "DOM0-INITRAMFS"
        else:
            r = subprocess.run([sys.executable, BUILD_DOM0, "--quiet"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
            if r.returncode != 0 or not r.stdout.strip():
                raise Failure(f"tools/build-dom0 failed:\n{r.stderr.strip()}")
            dom0_rd = r.stdout.strip().split("\n")[-1]
    elif not os.path.isfile(dom0_rd):
        raise Failure(f"--dom0-initramfs {dom0_rd}: no such file")

    # The guest: its files and config, one small cpio after dom0's (the
    # kernel unpacks concatenated archives; compressed and plain may mix, a
    # plain one starting 4-byte aligned after zero padding).
    guest = Newc()
    guest.dirs("guest")
    with open(boot.kernel, "rb") as f:
        guest.file("guest/magicboot.bin", f.read())
    ramdisk = None
    if boot.ramdisk:
        with open(boot.ramdisk, "rb") as f:
            guest.file("guest/payload", f.read())
        ramdisk = "/guest/payload"
    if boot.disk:
        with open(boot.disk, "rb") as f:
            guest.file(XL_DISK.lstrip("/"), f.read())
        if boot.disk_dd:
            guest.file("guest/disk-dd", b"")
    for n, (marker, keys) in enumerate(boot.console_keys, 1):
        guest.file(f"guest/keys/{n}.marker", marker.encode())
        guest.file(f"guest/keys/{n}.keys", keys)
    cfg = xl_guest_cfg(boot, "/guest/magicboot.bin", ramdisk)
    guest.file("guest/guest.cfg", cfg.encode())
    with open(os.path.join(workdir, "guest.cfg"), "w") as f:
        f.write(cfg)
    rd_path = os.path.join(workdir, "dom0-initramfs")
    if not boot.dry_run:
        with open(rd_path, "wb") as out:
            with open(dom0_rd, "rb") as f:
                shutil.copyfileobj(f, out)
            out.write(b"\0" * (-out.tell() % 4))
            out.write(guest.finish())
        rsize = os.path.getsize(rd_path)
    else:
        rsize = 1 << 20
    ksize = os.path.getsize(dom0_kernel)
    kaddr, raddr = layout_modules(boot, ksize, rsize)
    extra = f"""
/ {{
  chosen {{
    #address-cells = <1>;
    #size-cells = <1>;
    xen,xen-bootargs = {dts_string(boot.xen_args)};
    xen,dom0-bootargs = {dts_string(boot.dom0_bootargs)};
    module@{kaddr:x} {{
      compatible = "multiboot,kernel", "multiboot,module";
      reg = <{kaddr:#x} {ksize:#x}>;
    }};
    module@{raddr:x} {{
      compatible = "multiboot,ramdisk", "multiboot,module";
      reg = <{raddr:#x} {rsize:#x}>;
    }};
  }};
}};
"""
    dtb, _ = build_dtb(boot, workdir, extra)
    cmd = [boot.qemu] + machine_args(boot) + [
        "-display", "none", "-monitor", "none", "-serial", "stdio", "-no-reboot",
        "-kernel", boot.xen, "-dtb", dtb,
        "-device", f"loader,file={dom0_kernel},addr={kaddr:#x},force-raw=on",
        "-device", f"loader,file={rd_path},addr={raddr:#x},force-raw=on"]
    return cmd, extra + "\n# guest.cfg (in dom0 at /guest/guest.cfg):\n" + cfg


def bare_setup(boot: Boot, workdir: str) -> tuple[list[str], str]:
    chosen = [f"bootargs = {dts_string(boot.bootargs)};"]
    load = []
    if boot.ramdisk:
        rsize = os.path.getsize(boot.ramdisk)
        raddr = boot.ramdisk_addr
        if raddr + rsize > RAM_BASE + boot.host_mem * MIB:
            raise Failure(f"ramdisk [{raddr:#x}, {raddr + rsize:#x}) beyond host RAM: raise --host-mem")
        chosen += [f"linux,initrd-start = /bits/ 64 <{raddr:#x}>;",
                   f"linux,initrd-end = /bits/ 64 <{raddr + rsize:#x}>;"]
        load = ["-device", f"loader,file={boot.ramdisk},addr={raddr:#x},force-raw=on"]
    extra = "/ {\n  chosen {\n    " + "\n    ".join(chosen) + "\n  };\n};\n"
    dtb, _ = build_dtb(boot, workdir, extra)
    cmd = [boot.qemu] + machine_args(boot) + [
        "-display", "none", "-monitor", "none", "-serial", "stdio", "-no-reboot",
        "-kernel", boot.kernel, "-dtb", dtb] + load
    return cmd, extra


class Serial:
    """The QEMU process and its serial log, read without blocking."""

    def __init__(self, cmd, log_path, echo):
        self.start = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.log = open(log_path, "wb")
        self.text = ""
        self.echo = echo
        self.partial = b""
        self.arrivals = []  # (position in text, elapsed s) per read
        self.exit_time = None

    def time_at(self, pos):
        """When the text at `pos` arrived (s since start)."""
        t = None
        for p, at in self.arrivals:
            if p > pos:
                break
            t = at
        return t if t is not None else 0.0

    def elapsed(self):
        return time.monotonic() - self.start

    def pump(self, wait):
        """Reads what QEMU printed within `wait` seconds; False once it exited."""
        ready, _, _ = select.select([self.proc.stdout], [], [], wait)
        if not ready:
            return self.proc.poll() is None
        data = os.read(self.proc.stdout.fileno(), 65536)
        if not data:
            self.proc.wait()
            if self.exit_time is None:
                self.exit_time = self.elapsed()
            return False
        self.log.write(data)
        self.log.flush()
        if self.echo:
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
        self.arrivals.append((len(self.text), self.elapsed()))
        self.text += data.decode("utf-8", "replace").replace("\r", "")
        return True

    def send(self, data):
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass

    def kill(self):
        """Ends only our own QEMU: its PID (and its session, which it leads)."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()


def end_qemu(serial, mode):
    """Clean exit; returns a word for the summary."""
    if serial.proc.poll() is not None:
        return f"exited by itself ({serial.proc.returncode})"
    if mode == "xl":
        # dom0's /init powers off on this line; Xen then halts the machine.
        serial.send(b"\nmb-poweroff\n")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if not serial.pump(0.2):
                break
        if serial.proc.poll() is not None:
            return f"exited cleanly after dom0 powered off ({serial.proc.returncode})"
        mode = "xen"  # dom0 did not answer: Xen's console, as below
    if mode == "xen":
        # Xen eats CTRL-a in groups of three, each group moving its serial
        # input one step: DOM0 -> DOM1 -> ... -> Xen. Send groups until Xen
        # says it has the input; then 'R' reboots, and -no-reboot turns that
        # into QEMU exiting.
        switched = re.compile(r"Serial input to (\w+) \(")  # a whole line, not a partial read
        mark = len(serial.text)
        for _ in range(4):
            serial.send(b"\x01\x01\x01")
            deadline = time.monotonic() + 2
            m = None
            while m is None and time.monotonic() < deadline:
                if not serial.pump(0.1):
                    break
                m = switched.search(serial.text, mark)
            if m is None or m.group(1) == "Xen":
                break
            mark = m.end()
        serial.send(b"R")
    else:
        serial.proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if not serial.pump(0.2):
            break
    if serial.proc.poll() is None:
        serial.kill()
        return "killed (did not exit within 10 s)"
    return f"exited cleanly ({serial.proc.returncode})"


def wait_markers(serial, expect, fail, deadline, since=0):
    """Pumps the log until every expect regex matched at or after `since`, a
    fail regex matched anywhere, QEMU exited or the deadline passed. Returns
    (seen {pattern: (elapsed, position)}, failure text or None, alive)."""
    seen, failed, alive = {}, None, True
    while alive and time.monotonic() < deadline and len(seen) < len(expect) and not failed:
        alive = serial.pump(0.1)
        for e in expect:
            if e.pattern not in seen:
                m = e.search(serial.text, since)
                if m:
                    seen[e.pattern] = (serial.elapsed(), m.start())
        for f in fail:
            m = f.search(serial.text)
            if m:
                failed = f"fail pattern '{f.pattern}' seen: {m.group(0)}"
    return seen, failed, alive


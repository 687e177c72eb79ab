#!/usr/bin/env python3
"""The pure parts of tools/magicboot_tools (the Python tools' shared
package): the FDT reader against trees dtc compiles and against damaged
blobs, the cpio writer, the result dataclasses' JSON, the argument checks,
the harness's set-up values and the stage matcher. No QEMU, no cache.

usage: package_test.py [unittest options]
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
from magicboot_tools import cli, cpio, fdt, measure, qemu, results, rootfs  # noqa: E402

DTS = """/dts-v1/;
/ {
  #address-cells = <2>;
  compatible = "magicboot,test";
  chosen { bootargs = "console=hvc0"; };
  images {
    kernel-1 { data = [41 52 4d 64 00 01]; type = "kernel"; };
    ramdisk-1 { data = [00]; };
  };
  configurations {
    default = "conf-1";
    conf-1 { kernel = "kernel-1"; ramdisk = "ramdisk-1"; };
  };
  empty-node { };
};
"""


def dtc(source):
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "t.dts")
        with open(src, "w") as f:
            f.write(source)
        return subprocess.run(["dtc", "-q", "-I", "dts", "-O", "dtb", src], check=True,
                              stdout=subprocess.PIPE).stdout


@unittest.skipUnless(shutil.which("dtc"), "needs dtc (tools/setup installs device-tree-compiler)")
class FdtTest(unittest.TestCase):
    def setUp(self):
        self.blob = dtc(DTS)

    def test_properties_in_order_with_paths(self):
        props = list(fdt.properties(self.blob))
        self.assertEqual(props[0], ("/", "#address-cells", struct.pack(">I", 2)))
        self.assertIn(("/chosen", "bootargs", b"console=hvc0\0"), props)
        self.assertEqual([n for p, n, _ in props if p == "/images/kernel-1"], ["data", "type"])
        self.assertNotIn("/empty-node", {p for p, _, _ in props})

    def test_fit_lookups(self):
        self.assertEqual(fdt.fit_default_config(self.blob), "conf-1")
        self.assertEqual(fdt.fit_kernel_data(self.blob), b"ARMd\x00\x01")
        m = fdt.property_map(self.blob)
        self.assertEqual(fdt.string(m[("/", "compatible")]), "magicboot,test")

    def test_fit_without_default(self):
        blob = dtc("/dts-v1/;\n/ { configurations { conf-1 { }; }; };\n")
        with self.assertRaisesRegex(fdt.FdtError, "no default configuration"):
            fdt.fit_default_config(blob)
        with self.assertRaisesRegex(fdt.FdtError, "no embedded data"):
            fdt.fit_kernel_data(blob)

    def test_bad_magic(self):
        bad = b"\x1f\x8b" + self.blob[2:]
        with self.assertRaisesRegex(fdt.FdtError, "not a device tree"):
            list(fdt.properties(bad))

    def test_short_and_truncated(self):
        with self.assertRaisesRegex(fdt.FdtError, "too short"):
            list(fdt.properties(b""))
        with self.assertRaisesRegex(fdt.FdtError, "the blob has"):
            list(fdt.properties(self.blob[:len(self.blob) // 2]))

    def test_damaged_structure(self):
        off_struct = struct.unpack_from(">I", self.blob, 8)[0]
        bad = bytearray(self.blob)
        struct.pack_into(">I", bad, off_struct, 7)  # the root's FDT_BEGIN_NODE -> an unknown tag
        with self.assertRaisesRegex(fdt.FdtError, "unknown tag 0x7"):
            list(fdt.properties(bytes(bad)))


def read_newc(data):
    """[(name, mode, nlink, data)] of a newc archive, up to the trailer."""
    out, pos = [], 0
    while True:
        assert data[pos:pos + 6] == b"070701", pos
        f = [int(data[pos + 6 + 8 * i:pos + 14 + 8 * i], 16) for i in range(13)]
        name_len, size = f[11], f[6]
        name = data[pos + 110:pos + 110 + name_len - 1].decode()
        pos = (pos + 110 + name_len + 3) & ~3
        body = data[pos:pos + size]
        pos = (pos + size + 3) & ~3
        if name == "TRAILER!!!":
            return out
        out.append((name, f[1], f[4], body))


class CpioTest(unittest.TestCase):
    def test_parents_first_and_no_duplicates(self):
        a = cpio.Newc()
        a.file("usr/lib/x.so", b"elf")
        a.symlink("bin/sh", "busybox")
        a.dirs("usr/lib")
        a.file("usr/lib/x.so", b"again")
        a.chardev("dev-console", 5, 1)
        got = [(n, m, k, d) for n, m, k, d in read_newc(a.finish())]
        self.assertEqual([g[0] for g in got], ["usr", "usr/lib", "usr/lib/x.so", "bin", "bin/sh", "dev-console"])
        self.assertEqual(got[2], ("usr/lib/x.so", 0o100644, 1, b"elf"))
        self.assertEqual(got[0][1:3], (0o040755, 2))
        self.assertEqual(got[4][1:], (0o120777, 1, b"busybox"))

    def test_reproducible_and_aligned(self):
        def build():
            a = cpio.Newc()
            a.file("init", b"#!/bin/sh\n", 0o755)
            return a.finish()
        self.assertEqual(build(), build())
        self.assertEqual(len(build()) % 4, 0)


class ResultsTest(unittest.TestCase):
    def test_boot_count_json_omits_unset_fields_in_order(self):
        r = results.BootCount(where="bare", payload="raw", seconds=1.5, kernel_entry=0x40400000,
                              from_reset=100, bootcmd="booti")
        self.assertEqual(list(r.as_json()), ["where", "payload", "seconds", "kernel_entry", "from_reset", "bootcmd"])
        r = results.BootCount(where="xen", payload="fit", seconds=2, kernel_entry=1, from_reset=10,
                              before_entry=4, from_entry=6, full_report=True, domu=5, xen_share=1,
                              zero_copy=False,
                              cross_check=results.CrossCheck(agree=False, why="no match"))
        j = r.as_json()
        self.assertIs(j["zero_copy"], False)  # False is a value, not "unset"
        self.assertEqual(j["cross_check"], {"agree": False, "why": "no match"})
        self.assertEqual(r.headline, 5)

    def test_payload_row_keeps_runs_beside_sizes(self):
        row = results.PayloadRow(payload_bytes=10, image_bytes=20)
        row.runs["u_boot"] = results.BootCount("bare", "raw", 1.0, 2, 3)
        self.assertEqual(list(row.as_json()), ["payload_bytes", "image_bytes", "u_boot"])
        self.assertIsNone(row.get("magicboot"))

    def test_plugin_result_round_trip(self):
        icount = {"stop_pc": 4, "total": 9, "started": True, "at_start": 1, "in_range": 3, "cntvct": [5, 7]}
        self.assertEqual(results.PluginResult.from_json(icount).as_json(), icount)
        profile = {"stop_pc": 4, "total": 9, "started": False, "at_start": 0, "cntvct": [], "hist": [[1, 2, 3]]}
        self.assertEqual(results.PluginResult.from_json(profile).as_json(), profile)


class Died(Exception):
    pass


def die(msg, code=2):
    raise Died(msg)


class CliTest(unittest.TestCase):
    def test_input_file(self):
        with tempfile.TemporaryDirectory() as tmp:
            text = os.path.join(tmp, "text")
            with open(text, "w") as f:
                f.write("hello\n")
            empty = os.path.join(tmp, "empty")
            open(empty, "w").close()
            for path, kind, want in ((os.path.join(tmp, "nope"), None, "--x .*nope: no such file, really"),
                                     (tmp, None, "is a directory"), (empty, None, "empty file"),
                                     (text, "image", "no arm64 Image"), (text, "elf", "not an ELF file"),
                                     ("", None, "--x: empty path")):
                with self.assertRaisesRegex(Died, want):
                    cli.input_file("--x", path, die, kind, hint=", really")
            self.assertEqual(cli.input_file("--x", text, die), text)

    def test_run_tool_failure_names_the_step(self):
        with self.assertRaisesRegex(cli.Failure, "^listing failed .*false"):
            cli.run_tool(["false"], "listing")


class QemuTest(unittest.TestCase):
    def test_boot_defaults_by_mode(self):
        self.assertEqual((qemu.Boot("xl", "k").smp, qemu.Boot("xl", "k").xen_args), (2, qemu.XL_XEN_ARGS))
        self.assertEqual((qemu.Boot("xen", "k").smp, qemu.Boot("xen", "k").xen_args), (1, qemu.XEN_ARGS))
        self.assertIn("virtualization=on", " ".join(qemu.machine_args(qemu.Boot("xen", "k"))))

    def test_modules_must_fit(self):
        boot = qemu.Boot("xen", "k", host_mem=512)  # RAM ends at 0x60000000
        self.assertEqual(qemu.layout_modules(boot, 1 << 20, 1 << 20), (0x50000000, 0x58000000))
        with self.assertRaisesRegex(cli.Failure, "raise --host-mem"):
            qemu.layout_modules(boot, 1 << 20, 200 << 20)

    def test_xl_guest_cfg(self):
        boot = qemu.Boot("xl", "k", bootargs='say "hi"', vuart=True, xl_config_extra=["on_crash = 'destroy'"])
        cfg = qemu.xl_guest_cfg(boot, "/guest/k", None)
        self.assertIn('extra = "say \\"hi\\""', cfg)
        self.assertIn('vuart = "sbsa_uart"\non_crash', cfg)
        self.assertNotIn("ramdisk", cfg)

    def test_xl_console_keys_reach_dom0(self):
        """--console-keys: /guest/keys/N.marker and N.keys in the cpio after
        dom0's, in order (tools/qemu/dom0/init send_keys reads them)."""
        with tempfile.TemporaryDirectory() as d:
            k, rd = os.path.join(d, "k"), os.path.join(d, "rd")
            for p in (k, rd):
                with open(p, "wb") as f:
                    f.write(b"x")
            boot = qemu.Boot("xl", k, dom0_kernel=k, dom0_initramfs=rd,
                             console_keys=[("MAGICBOOT-MENU", b"2"), ("MAGICBOOT-MENU", b"\r")])
            try:
                qemu.xl_setup(boot, d)
            except cli.Failure:
                self.skipTest("needs qemu-system-aarch64 and dtc")
            with open(os.path.join(d, "dom0-initramfs"), "rb") as f:
                data = f.read()
            files = {n: body for n, _, _, body in read_newc(data[4:])}
            self.assertEqual([files.get(f"guest/keys/{n}") for n in ("1.marker", "1.keys", "2.marker", "2.keys")],
                             [b"MAGICBOOT-MENU", b"2", b"MAGICBOOT-MENU", b"\r"])
            with open(os.path.join(d, "guest.cfg")) as f:
                self.assertNotIn("ramdisk", f.read(), "no --ramdisk: no ramdisk line (a disk boot)")


class ConsoleKeysTest(unittest.TestCase):
    def test_marker_and_escaped_keys(self):
        self.assertEqual(qemu.parse_console_keys("MAGICBOOT-MENU:2"), ("MAGICBOOT-MENU", b"2"))
        self.assertEqual(qemu.parse_console_keys(r"MAGICBOOT-MENU:\x1b[B\r"), ("MAGICBOOT-MENU", b"\x1b[B\r"))
        self.assertEqual(qemu.parse_console_keys(r"A:b:c\\"), ("A", b"b:c\\"))

    def test_bad(self):
        for text, why in (("MENU", "no ':'"), (":2", "empty MARKER"), ("MENU:", "no KEYS"),
                          (r"MENU:\x4", "bad escape"), ("M:" + "k" * 257, "more than 256")):
            with self.subTest(text=text[:20]), self.assertRaisesRegex(ValueError, why):
                qemu.parse_console_keys(text)


class RootfsTest(unittest.TestCase):
    MODS = [("xen-blkfront", b"\x7fELF blkfront"), ("dep", b"\x7fELF dep")]

    def test_initrd_reproducible_and_whole(self):
        import gzip
        one = rootfs.initrd(b"\x7fELF busybox", self.MODS, "initrd.img-6.1.0-9-x")
        self.assertEqual(one, rootfs.initrd(b"\x7fELF busybox", self.MODS, "initrd.img-6.1.0-9-x"))
        files = {n: (m, d) for n, m, _, d in read_newc(gzip.decompress(one))}
        self.assertEqual(files["init"], (0o100755, rootfs.INITRD_INIT.encode()))
        self.assertEqual(files["etc/magicboot-initrd"][1], b"initrd.img-6.1.0-9-x\n")
        self.assertEqual(files["lib/modules/load-order"][1], b"xen-blkfront\ndep\n")
        self.assertEqual(files["lib/modules/dep.ko"][1], b"\x7fELF dep")
        self.assertEqual(files["dev/console"][0], 0o020600)
        self.assertNotIn(rootfs.ROOTFS_MARKER.encode(), gzip.decompress(one), "the marker is the root's only")

    def test_rootfs_tree(self):
        tree = rootfs.rootfs_tree(b"\x7fELF busybox")
        self.assertEqual(tree["etc/magicboot-rootfs"][1], rootfs.ROOTFS_MARKER.encode() + b"\n")
        self.assertEqual(tree["sbin/init"][2], 0o755)
        self.assertIn("MAGICBOOT-ROOTFS {", rootfs.ROOTFS_INIT)
        self.assertNotIn(rootfs.ROOTFS_MARKER, rootfs.ROOTFS_INIT + rootfs.INITRD_INIT)

    def test_root_modules_skip_built_in(self):
        with tempfile.TemporaryDirectory() as d:
            self.assertEqual(rootfs.root_modules(d), ["xen-blkfront", "ext4"])
            with open(os.path.join(d, "modules.builtin"), "w") as f:
                f.write("kernel/fs/ext4/ext4.ko\nkernel/fs/jbd2/jbd2.ko\n")
            self.assertEqual(rootfs.root_modules(d), ["xen-blkfront"])


class MeasureTest(unittest.TestCase):
    def test_stage_window(self):
        ticks = {s: i + 1 for i, s in enumerate(measure.STAGES)}
        reads = [7, 1000]
        for s in measure.STAGES:
            reads.append(reads[-1] + measure.TICK * ticks[s] + 3)
        k, per = measure.stage_window(reads, ticks)
        self.assertEqual(k, 1)
        self.assertEqual(per[0], ("discover", 1, measure.TICK + 3))
        reads[4] += measure.TICK  # one stage a tick long, the next a tick short
        self.assertIsNone(measure.stage_window(reads, ticks))
        self.assertEqual(measure.xen_stage_window(reads, ticks)[0], 1)


if __name__ == "__main__":
    unittest.main()

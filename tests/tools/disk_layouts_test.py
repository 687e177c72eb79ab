#!/usr/bin/env python3
"""tools/make-disk's layouts hold what its --help promises, read back by
other tools than the ones that wrote them: sfdisk -J (partition tables), a
GPT CRC check of our own (zlib), mtools (mdir, mtype) for FAT, debugfs and
e2fsck for ext4, dumpimage for the FIT, dpkg --compare-versions for the
version order. And the same bytes every run: every layout built twice
with --no-cache (another umask, another TZ, another second).

usage: disk_layouts_test.py DIR [unittest options]
  DIR: what make_disks.py DIR built (synthetic kernel; manifest.json)
"""
import gzip
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import zlib

HERE = os.path.dirname(os.path.realpath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MAKE_DISK = os.path.join(ROOT, "tools", "make-disk")
sys.path.insert(0, os.path.join(ROOT, "tools"))
from magicboot_tools import rootfs  # noqa: E402

DIR = None
SECTOR = 512
MIB = 1 << 20
ESP_LBA, ROOT_LBA = 2048, 69632
EFI = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
LINUX_FS = "0FC63DAF-8483-4772-8E79-3DB47DE4B984"
GPT_LAYOUTS = ["extlinux", "two-labels", "fit-ext4", "fallback", "bad-gpt-primary", "bad-gpt-both",
               "bad-extent", "missing-kernel", "missing-initrd", "symlink-loop"]
MTOOLS_ENV = dict(os.environ, MTOOLS_SKIP_CHECK="1")


def sbin(tool):
    for d in ("/usr/sbin/", "/sbin/", "/usr/bin/"):
        if os.access(d + tool, os.X_OK):
            return d + tool
    return shutil.which(tool) or tool


def img(layout):
    return os.path.join(DIR, f"{layout}.img")


def read(path):
    with open(path, "rb") as f:
        return f.read()


def sfdisk_json(path):
    r = subprocess.run([sbin("sfdisk"), "-J", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return json.loads(r.stdout)["partitiontable"] if r.returncode == 0 and r.stdout else None


def debugfs(path, lba, cmd):
    r = subprocess.run([sbin("debugfs"), "-R", cmd, f"{path}?offset={lba * SECTOR}"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    return r.stdout, r.stderr.decode()


def ext4_file(path, lba, name):
    out, err = debugfs(path, lba, f"cat {name}")
    if "not found" in err or "File not found" in err:
        return None
    return out


def ext4_stat(path, lba, name):
    out, err = debugfs(path, lba, f"stat {name}")
    return None if "not found" in err else out.decode()


def ext4_ls(path, lba, d):
    out, _ = debugfs(path, lba, f"ls -p {d}")
    return sorted(f.split("/")[5] for f in out.decode().splitlines() if f.count("/") >= 6
                  and f.split("/")[5] not in (".", ".."))


def link_target(path, lba, name):
    st = ext4_stat(path, lba, name)
    m = re.search(r'Fast link dest: "([^"]*)"', st or "")
    return m.group(1) if m else None


def fat(path, lba, *cmd):
    r = subprocess.run([cmd[0], "-i", f"{path}@@{lba * SECTOR}"] + list(cmd[1:]), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=MTOOLS_ENV)
    return r.returncode, r.stdout


def fat_listing(path, lba):
    rc, out = fat(path, lba, "mdir", "-/", "-b", "::/")
    return sorted(line[3:] for line in out.decode().splitlines() if line.startswith("::/")) if rc == 0 else None


def fat_clusters(path, lba):
    """The cluster count from the BPB: FAT32 when >= 65525 (Microsoft's rule,
    loader/disk/fat.cpp's)."""
    with open(path, "rb") as f:
        f.seek(lba * SECTOR)
        b = f.read(512)
    bps, spc, res, nfats, rootent, tot16 = struct.unpack_from("<HBHBHH", b, 11)
    fat16, = struct.unpack_from("<H", b, 22)
    tot32, fat32 = struct.unpack_from("<II", b, 32)
    data = (tot16 or tot32) - res - nfats * (fat16 or fat32) - (rootent * 32 + bps - 1) // bps
    return data // spc, b[510:512] == b"\x55\xaa"


def gpt_header(path, lba):
    """(header CRC matches, entries CRC matches, my_lba, alternate_lba)."""
    with open(path, "rb") as f:
        f.seek(lba * SECTOR)
        h = bytearray(f.read(SECTOR))
        if h[:8] != b"EFI PART":
            return None
        size, = struct.unpack_from("<I", h, 12)
        crc, = struct.unpack_from("<I", h, 16)
        my, alt, = struct.unpack_from("<QQ", h, 24)
        entries_lba, = struct.unpack_from("<Q", h, 72)
        n, esize, ecrc = struct.unpack_from("<III", h, 80)
        h[16:20] = b"\0\0\0\0"
        f.seek(entries_lba * SECTOR)
        entries = f.read(n * esize)
    return zlib.crc32(bytes(h[:size])) == crc, zlib.crc32(entries) == ecrc, my, alt


class Fixture(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(os.path.join(DIR, "manifest.json")) as f:
            cls.manifest = json.load(f)
        cls.v = cls.manifest["kernel_version"]
        cls.a = cls.manifest["older_version"]
        cls.kernel = read(os.path.join(DIR, "kernel.img"))
        cls.initrd = read(os.path.join(DIR, "initrd.img"))


class GptLayouts(Fixture):
    def test_partition_table(self):
        for layout in GPT_LAYOUTS:
            with self.subTest(layout=layout):
                t = sfdisk_json(img(layout))
                self.assertIsNotNone(t, "sfdisk -J cannot read it")
                if layout == "bad-gpt-both":
                    # No GPT header left: sfdisk sees the protective MBR alone.
                    self.assertEqual((t["label"], [p["type"] for p in t["partitions"]]), ("dos", ["ee"]))
                    continue
                self.assertEqual(t["label"], "gpt")
                self.assertEqual(t["id"], "5A1E0B00-7E57-4D15-8000-000000000010")
                p1, p2 = t["partitions"]
                self.assertEqual((p1["start"], p1["size"], p1["type"], p1["name"]),
                                 (ESP_LBA, 33 * MIB // SECTOR, EFI, "esp"))
                self.assertEqual((p2["start"], p2["type"], p2["name"]), (ROOT_LBA, LINUX_FS, "root"))
                size = os.path.getsize(img(layout))
                self.assertEqual(p2["start"] + p2["size"], size // SECTOR - 2048, "1 MiB left at the end")

    def test_gpt_headers(self):
        for layout in GPT_LAYOUTS:
            with self.subTest(layout=layout):
                last = os.path.getsize(img(layout)) // SECTOR - 1
                primary, backup = gpt_header(img(layout), 1), gpt_header(img(layout), last)
                self.assertEqual(primary[1:], (True, 1, last))
                self.assertEqual(backup[1:], (True, last, 1))
                self.assertEqual(primary[0], layout not in ("bad-gpt-primary", "bad-gpt-both"),
                                 "the primary header's CRC")
                self.assertEqual(backup[0], layout != "bad-gpt-both", "the backup header's CRC")

    def test_bad_gpt_differs_from_extlinux_in_one_byte_each(self):
        good = read(img("extlinux"))
        for layout, n in (("bad-gpt-primary", 1), ("bad-gpt-both", 2)):
            bad = read(img(layout))
            diff = None
            if len(good) == len(bad):
                diff = [i + j for i in range(0, len(good), 4096) if good[i:i + 4096] != bad[i:i + 4096]
                        for j in range(4096) if good[i + j] != bad[i + j]]
            self.assertEqual(diff, [SECTOR + 56, len(good) - SECTOR + 56][:n], layout)

    def test_esp_is_fat32_with_only_a_readme(self):
        for layout in GPT_LAYOUTS:
            with self.subTest(layout=layout):
                clusters, signed = fat_clusters(img(layout), ESP_LBA)
                self.assertGreaterEqual(clusters, 65525, "FAT32 by its cluster count")
                self.assertTrue(signed)
                self.assertEqual(fat_listing(img(layout), ESP_LBA), ["README"])

    def test_root_filesystem(self):
        for layout in GPT_LAYOUTS:
            with self.subTest(layout=layout):
                self.assertEqual(ext4_file(img(layout), ROOT_LBA, "/etc/magicboot-rootfs"),
                                 rootfs.ROOTFS_MARKER.encode() + b"\n")
                init = ext4_stat(img(layout), ROOT_LBA, "/sbin/init")
                self.assertIn("Mode:  0755", init)
                self.assertIn("MAGICBOOT-ROOTFS", ext4_file(img(layout), ROOT_LBA, "/sbin/init").decode())
                bb = ext4_file(img(layout), ROOT_LBA, "/bin/busybox")
                self.assertEqual(bb[:4], b"\x7fELF")
                self.assertEqual(bb[0x12:0x14], b"\xb7\x00", "arm64")
                self.assertEqual(link_target(img(layout), ROOT_LBA, "/bin/sh"), "busybox")
                for d in ("dev", "proc", "sys", "tmp", "run"):
                    self.assertIn("Type: directory", ext4_stat(img(layout), ROOT_LBA, f"/{d}"))
                self.assertIn("User:     0   Group:     0", init)
                self.assertIn("mtime: 0x00000000", init)

    def test_e2fsck_clean_but_bad_extent(self):
        for layout in GPT_LAYOUTS:
            with self.subTest(layout=layout):
                with tempfile.NamedTemporaryFile() as part:
                    with open(img(layout), "rb") as f:
                        f.seek(ROOT_LBA * SECTOR)
                        shutil.copyfileobj(f, part)
                    part.flush()
                    r = subprocess.run([sbin("e2fsck"), "-fn", part.name], stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, text=True)
                if layout == "bad-extent":
                    self.assertNotEqual(r.returncode, 0)
                    self.assertIn("invalid extent", r.stdout)
                else:
                    self.assertEqual(r.returncode, 0, r.stdout)


def conf_labels(text):
    """{label: {key: value}} and the global keys of an extlinux.conf."""
    glob, labels, cur = {}, {}, None
    for line in text.splitlines():
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        key, _, value = s.partition(" ")
        if key == "label":
            cur = labels.setdefault(value, {})
        elif key == "menu" and value.startswith("title") and cur is None:
            glob["menu title"] = value[6:]
        elif key == "menu" and value.startswith("label"):
            cur["menu label"] = value[6:]
        else:
            (cur if cur is not None else glob)[key] = value
    return glob, labels


class Extlinux(Fixture):
    def conf(self, layout):
        return ext4_file(img(layout), ROOT_LBA, "/boot/extlinux/extlinux.conf").decode()

    def test_as_u_boot_update_writes_it(self):
        text = self.conf("extlinux")
        self.assertTrue(text.startswith("## /boot/extlinux/extlinux.conf\n##\n## IMPORTANT WARNING\n"))
        self.assertIn("## Do not edit this file manually, use: u-boot-update\n", text)
        g, labels = conf_labels(text)
        self.assertEqual(g, {"default": "l0", "menu title": "U-Boot menu", "prompt": "0", "timeout": "50"})
        self.assertEqual(list(labels), ["l0", "l0r"])
        v = self.v
        for name, label in labels.items():
            rescue = name == "l0r"
            self.assertEqual(label, {
                "menu label": f"Debian GNU/Linux 12 (bookworm) {v}" + (" (rescue target)" if rescue else ""),
                "linux": f"/boot/vmlinuz-{v}", "initrd": f"/boot/initrd.img-{v}",
                "fdtdir": f"/usr/lib/linux-image-{v}/",
                "append": f"root=/dev/xvda2 ro console=hvc0 magicboot.label={name}" + (" single" if rescue else "")})
        self.assertIn("\tappend", text, "tab-indented as u-boot-update")

    def test_files_and_debian_symlinks(self):
        v = self.v
        self.assertEqual(ext4_file(img("extlinux"), ROOT_LBA, f"/boot/vmlinuz-{v}"), self.kernel)
        self.assertEqual(ext4_file(img("extlinux"), ROOT_LBA, f"/boot/initrd.img-{v}"), self.initrd)
        self.assertEqual(link_target(img("extlinux"), ROOT_LBA, "/vmlinuz"), f"boot/vmlinuz-{v}")
        self.assertEqual(link_target(img("extlinux"), ROOT_LBA, "/initrd.img"), f"boot/initrd.img-{v}")
        self.assertIn("Type: directory", ext4_stat(img("extlinux"), ROOT_LBA, f"/usr/lib/linux-image-{v}"))
        self.assertEqual(ext4_ls(img("extlinux"), ROOT_LBA, "/boot"),
                         sorted(["extlinux", f"vmlinuz-{v}", f"initrd.img-{v}"]))

    def test_two_labels_default_is_the_second(self):
        g, labels = conf_labels(self.conf("two-labels"))
        self.assertEqual(g["default"], "l0r")
        self.assertEqual(list(labels), ["l0", "l0r"])
        self.assertEqual(self.conf("two-labels"), self.conf("extlinux").replace("default l0\n", "default l0r\n"))

    def test_missing_paths(self):
        v = self.v
        for layout, key, path in (("missing-kernel", "linux", "/boot/vmlinuz-missing"),
                                  ("missing-initrd", "initrd", "/boot/initrd.img-missing")):
            _, labels = conf_labels(self.conf(layout))
            self.assertEqual({n: lab[key] for n, lab in labels.items()}, {"l0": path, "l0r": path})
            self.assertIsNone(ext4_stat(img(layout), ROOT_LBA, path), f"{path} must not exist")
            self.assertEqual(ext4_file(img(layout), ROOT_LBA, f"/boot/vmlinuz-{v}"), self.kernel)

    def test_symlink_loop(self):
        _, labels = conf_labels(self.conf("symlink-loop"))
        self.assertEqual({lab["linux"] for lab in labels.values()}, {"/boot/vmlinuz"})
        seen, name = [], "vmlinuz"
        while name not in seen:
            seen.append(name)
            name = link_target(img("symlink-loop"), ROOT_LBA, f"/boot/{name}")
            self.assertIsNotNone(name, f"/boot/{seen[-1]} is not a symlink")
        self.assertEqual(seen, ["vmlinuz", "vmlinuz-loop-a", "vmlinuz-loop-b"])
        self.assertEqual(name, "vmlinuz", "the chain comes back to its start")

    def test_bad_extent(self):
        st = ext4_stat(img("bad-extent"), ROOT_LBA, f"/boot/vmlinuz-{self.v}")
        self.assertRegex(st, r"\(0-\d+\):4294963200-")
        self.assertNotEqual(ext4_file(img("bad-extent"), ROOT_LBA, f"/boot/vmlinuz-{self.v}"), self.kernel)

    def test_fit(self):
        g, labels = conf_labels(self.conf("fit-ext4"))
        self.assertEqual(g["default"], "l0")
        for lab in labels.values():
            self.assertEqual(lab["linux"], "/boot/linux.itb")
            self.assertNotIn("initrd", lab)
        self.assertEqual(ext4_ls(img("fit-ext4"), ROOT_LBA, "/boot"), ["extlinux", "linux.itb"])
        itb = ext4_file(img("fit-ext4"), ROOT_LBA, "/boot/linux.itb")
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "linux.itb")
            with open(path, "wb") as f:
                f.write(itb)
            listing = subprocess.run(["dumpimage", "-l", path], stdout=subprocess.PIPE, text=True).stdout
            self.assertIn("Default Configuration: 'conf-1'", listing)
            for n, want in ((0, self.kernel), (1, self.initrd)):
                out = os.path.join(tmp, f"image{n}")
                subprocess.run(["dumpimage", "-T", "flat_dt", "-p", str(n), "-o", out, path], check=True,
                               stdout=subprocess.DEVNULL)
                self.assertEqual(read(out), want, f"FIT image {n}")
            self.assertRegex(listing, r"Image 1 \(ramdisk-1\)\s+Description:\s+initrd\s+Created:[^\n]*\s+Type:\s+"
                                      r"RAMDisk Image")


class Fallback(Fixture):
    def test_no_config_newest_by_debian_order(self):
        v, a = self.v, self.a
        self.assertEqual(ext4_ls(img("fallback"), ROOT_LBA, "/boot"),
                         sorted([f"vmlinuz-{a}", f"initrd.img-{a}", f"vmlinuz-{v}", f"initrd.img-{v}"]))
        self.assertIsNone(ext4_stat(img("fallback"), ROOT_LBA, "/boot/Image"))
        self.assertIsNone(ext4_stat(img("fallback"), ROOT_LBA, "/boot/extlinux"))
        self.assertEqual(ext4_file(img("fallback"), ROOT_LBA, f"/boot/vmlinuz-{v}"), self.kernel)
        self.assertEqual(gzip.decompress(ext4_file(img("fallback"), ROOT_LBA, f"/boot/vmlinuz-{a}")), self.kernel)
        self.assertGreater(a, v, "as strings the older one sorts last")
        r = subprocess.run(["dpkg", "--compare-versions", a, "lt", v])
        self.assertEqual(r.returncode, 0, f"dpkg orders {a} before {v}")


class BlsFat(Fixture):
    def test_mbr(self):
        t = sfdisk_json(img("bls-fat"))
        self.assertEqual((t["label"], t["id"]), ("dos", "0x5a1e0b20"))
        p1, p2 = t["partitions"]
        self.assertEqual((p1["start"], p1["type"], p1.get("bootable")), (2048, "c", True))
        self.assertEqual((p2["start"], p2["type"]), (p1["start"] + p1["size"], "83"))
        clusters, signed = fat_clusters(img("bls-fat"), 2048)
        self.assertGreaterEqual(clusters, 65525, "FAT32 by its cluster count")
        self.assertEqual(ext4_file(img("bls-fat"), p2["start"], "/etc/magicboot-rootfs"),
                         rootfs.ROOTFS_MARKER.encode() + b"\n")

    def test_entries(self):
        v, a = self.v, self.a
        self.assertEqual(fat_listing(img("bls-fat"), 2048), sorted([
            "README", "loader/", "loader/entries/", f"loader/entries/magicboot-{a}.conf",
            f"loader/entries/magicboot-{v}.conf", "magicboot/", f"magicboot/{a}/", f"magicboot/{v}/",
            f"magicboot/{a}/linux", f"magicboot/{a}/initrd", f"magicboot/{v}/linux", f"magicboot/{v}/initrd"]))
        for version in (a, v):
            rc, text = fat(img("bls-fat"), 2048, "mtype", f"::/loader/entries/magicboot-{version}.conf")
            self.assertEqual(rc, 0)
            keys = dict(line.split(None, 1) for line in text.decode().splitlines())
            self.assertEqual(keys, {"title": "Debian GNU/Linux 12 (bookworm)", "version": version,
                                    "machine-id": "5a1e0b007e574d158000000000000020", "sort-key": "debian",
                                    "linux": f"/magicboot/{version}/linux", "initrd": f"/magicboot/{version}/initrd",
                                    "options": f"root=/dev/xvda2 ro console=hvc0 magicboot.label=magicboot-{version}"})
            rc, k = fat(img("bls-fat"), 2048, "mtype", f"::/magicboot/{version}/linux")
            self.assertEqual(k[:2], b"\x1f\x8b", "a gzip Image")
            self.assertEqual(gzip.decompress(k), self.kernel)
            rc, rd = fat(img("bls-fat"), 2048, "mtype", f"::/magicboot/{version}/initrd")
            self.assertEqual(rd, self.initrd)


class Others(Fixture):
    def test_empty_is_zeros(self):
        data = read(img("empty"))
        self.assertEqual(len(data), 8 * MIB)
        self.assertEqual(data.count(0), len(data))

    def test_pv_hash_as_before(self):
        t = sfdisk_json(img("pv-hash"))
        self.assertEqual([(p["start"], p["name"]) for p in t["partitions"]], [(2048, "root")])
        self.assertEqual(ext4_file(img("pv-hash"), 2048, "/boot/extlinux/extlinux.conf"),
                         b"default test\nlabel test\n  linux /boot/vmlinuz-test\n"
                         b"  initrd /boot/initrd.img-test\n  append console=hvc0\n")

    def test_help_documents_every_layout(self):
        help_text = subprocess.run([sys.executable, MAKE_DISK, "--help"], stdout=subprocess.PIPE, text=True).stdout
        names = subprocess.run([sys.executable, MAKE_DISK, "--list"], stdout=subprocess.PIPE, text=True).stdout.split()
        self.assertEqual(sorted(names), sorted(self.manifest["layouts"]))
        for name in names:
            self.assertRegex(help_text, rf"(?m)^\s*(Layout )?{re.escape(name)}\s", f"--help describes {name}")

    def test_bad_arguments(self):
        for args, msg in ((["--layout", "nope"], "invalid choice"),
                          (["--layout", "pv-hash", "--kernel", "/etc/hostname"], "holds no kernel"),
                          (["--layout", "extlinux", "--kernel", "/nonexistent"], "no such file"),
                          (["--layout", "extlinux", "--size", "16"], "needs"),
                          (["--layout", "extlinux", "--kernel-version", "a b"], "not a version")):
            with self.subTest(args=args):
                with tempfile.TemporaryDirectory() as tmp:
                    extra = [] if "--kernel" in args else ["--kernel", os.path.join(DIR, "kernel.img"),
                                                            "--initrd", os.path.join(DIR, "initrd.img")]
                    if args[1] == "pv-hash" or args[1] == "nope":
                        extra = []
                    r = subprocess.run([sys.executable, MAKE_DISK, "--out", os.path.join(tmp, "x.img"), "--no-cache"]
                                       + args + extra, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                    self.assertEqual(r.returncode, 2, r.stderr)
                    self.assertIn(msg, r.stderr)
                    self.assertFalse(os.path.exists(os.path.join(tmp, "x.img")))


class Determinism(Fixture):
    def test_same_bytes_every_run(self):
        """Every layout built with --no-cache twice, the second round a
        second later under another umask and TZ: the same SHA-256 each, and
        the same as the fixture's (cached) build."""
        layouts = sorted(self.manifest["layouts"])
        with tempfile.TemporaryDirectory() as tmp:
            digests = {}
            for n, (umask, tz) in enumerate(((0o022, "UTC"), (0o077, "America/New_York"))):
                if n:
                    time.sleep(1.1)
                for layout in layouts:
                    extra = [] if layout in ("pv-hash", "empty") else [
                        "--kernel", os.path.join(DIR, "kernel.img"), "--initrd", os.path.join(DIR, "initrd.img"),
                        "--kernel-version", self.v]
                    out = os.path.join(tmp, f"{layout}.img")
                    r = subprocess.run([sys.executable, MAKE_DISK, "--layout", layout, "--out", out, "--no-cache",
                                        "--quiet"] + extra, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                       text=True, env=dict(os.environ, TZ=tz),
                                       preexec_fn=lambda u=umask: os.umask(u))
                    self.assertEqual(r.returncode, 0, r.stdout)
                    digests.setdefault(layout, []).append(re.search(r"sha256 ([0-9a-f]{64})", r.stdout).group(1))
            for layout in layouts:
                with self.subTest(layout=layout):
                    self.assertEqual(digests[layout][0], digests[layout][1])
                    self.assertEqual(digests[layout][0], self.manifest["layouts"][layout]["sha256"])


if __name__ == "__main__":
    if len(sys.argv) < 2 or not os.path.isfile(os.path.join(sys.argv[1], "manifest.json")):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    DIR = sys.argv.pop(1)
    unittest.main()

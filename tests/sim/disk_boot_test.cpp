// Booting from the PV disk (issue 14) in the model: an xl domain with no
// payload module and a vbd whose image sfdisk, mke2fs -d and mkfs.vfat +
// mtools built from Debian's kernel and the sim ramdisk. The loader finds
// the configuration, reads the entry's files through blkfront and boots
// them as a module boot would -- kernel, initrd and command line checked
// byte for byte in the kernel's memory and DT -- and closes the disk; bad
// disks are refused by name with nothing left open.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "sim_fixtures.h"

namespace mb::sim::test {
namespace {

// A disk image: files staged in a directory, then laid out as a GPT disk
// (p1 a FAT "ESP" with only a README, p2 ext4 with the files) or an MBR
// disk with one FAT partition holding them.
enum class Layout { kGptExt4, kMbrFat };

struct DiskFiles {
  std::map<std::string, Bytes> files;               // path (no leading slash) -> bytes
  std::map<std::string, std::string> symlinks;      // path -> target (ext4 only)
  void text(const std::string& path, const std::string& s) { files[path] = Bytes(s.begin(), s.end()); }
};

Bytes make_disk(const DiskFiles& d, Layout layout) {
  TempDir t;
  const fs::path root = t / "root";
  fs::create_directories(root);
  for (const auto& [path, bytes] : d.files) {
    fs::create_directories((root / path).parent_path());
    write_file(root / path, bytes);
  }
  for (const auto& [path, target] : d.symlinks) {
    fs::create_directories((root / path).parent_path());
    fs::create_symlink(target, root / path);
  }
  const std::string dir = quote(t.path().string());
  std::string cmd = "set -e; cd " + dir + "; export MTOOLS_SKIP_CHECK=1; ";
  uint64_t bytes = 0;
  for (const auto& [p, b] : d.files) bytes += b.size();
  const uint64_t fs_mib = 8 + bytes / kMiB * 5 / 4;
  const std::string fs_size = std::to_string(fs_mib);
  if (layout == Layout::kGptExt4) {
    cmd += "mkfs.vfat -C esp.img 2048 >/dev/null; echo none > README; mcopy -i esp.img README ::/README; ";
    cmd += "mkfs.ext4 -q -F -t ext4 -d root fs.img " + fs_size + "M >/dev/null; ";
    cmd += "truncate -s " + std::to_string(fs_mib + 4) + "M disk.img; ";
    cmd += "printf 'label: gpt\\nstart=2048, size=4096, name=esp\\nstart=6144, size=" + std::to_string(fs_mib * 2048) +
           ", name=root\\n' | sfdisk --quiet --no-reread --no-tell-kernel disk.img >/dev/null; ";
    cmd += "dd if=esp.img of=disk.img bs=512 seek=2048 conv=notrunc status=none; ";
    cmd += "dd if=fs.img of=disk.img bs=512 seek=6144 conv=notrunc status=none";
  } else {
    cmd += "mkfs.vfat -C -F 32 fs.img " + std::to_string(fs_mib * 1024 + 34 * 1024) + " >/dev/null; ";
    cmd += "(cd root && find . -mindepth 1 -type d | sed 's|^\\./|::/|' | sort | xargs -r mmd -i ../fs.img) && ";
    cmd += "(cd root && find . -type f | sed 's|^\\./||' | while read f; do mcopy -i ../fs.img \"$f\" \"::/$f\"; done); ";
    cmd += "truncate -s " + std::to_string(fs_mib + 36) + "M disk.img; ";
    cmd += "printf 'label: dos\\nstart=2048, type=c\\n' | sfdisk --quiet --no-reread --no-tell-kernel disk.img >/dev/null; ";
    cmd += "dd if=fs.img of=disk.img bs=512 seek=2048 conv=notrunc status=none";
  }
  Command c = run("PATH=$PATH:/usr/sbin:/sbin; " + cmd, true);
  EXPECT_EQ(c.status, 0) << c.out;
  return read_file(t / "disk.img");
}

const char* kExtlinux =
    "## /boot/extlinux/extlinux.conf\n"
    "default l0\n"
    "menu title U-Boot menu\n"
    "timeout 3\n"
    "\n"
    "label l0\n"
    "\tmenu label Debian GNU/Linux\n"
    "\tlinux /boot/vmlinuz-test\n"
    "\tinitrd /boot/initrd.img-test\n"
    "\tfdtdir /usr/lib/linux-image-test/\n"
    "\tappend root=/dev/xvda2 ro magicboot.label=l0\n"
    "\n"
    "label l0r\n"
    "\tmenu label Debian GNU/Linux (rescue target)\n"
    "\tlinux /boot/vmlinuz-test\n"
    "\tinitrd /boot/initrd.img-test\n"
    "\tappend root=/dev/xvda2 ro single magicboot.label=l0r\n";

DiskFiles extlinux_disk(const Bytes& kernel) {
  DiskFiles d;
  d.files["boot/vmlinuz-test"] = kernel;
  d.files["boot/initrd.img-test"] = real().ramdisk();
  d.text("boot/extlinux/extlinux.conf", kExtlinux);
  d.symlinks["vmlinuz"] = "boot/vmlinuz-test";
  return d;
}

SimOptions disk_options(Bytes image) {
  SimOptions o;
  o.ram_mib = 512;
  o.domain = model::DomainKind::kXl;
  model::DiskConfig d;
  d.image = std::move(image);
  o.disk = std::move(d);
  o.disk_boot = true;
  o.pv_timeout_ms = 500;
  return o;
}

// What stayed open with Xen or dom0 once the loader was done.
struct Left {
  size_t grants = 0;
  bool backend_connected = false;
  size_t ports = 0;
  Bytes kernel, initrd;
  std::string bootargs;
};

SimResult boot(const SimOptions& o, Left& left) {
  return run_sim(o, [&](model::Model& m, const SimResult& r) {
    left.grants = m.active_grants().size();
    left.backend_connected = m.backend_connected();
    left.ports = m.loader_bound_ports().size();
    if (!r.report.kernel.empty()) left.kernel = read_guest(m, r.report.kernel.base, r.report.kernel_file_size);
    if (!r.report.initrd.empty()) left.initrd = read_guest(m, r.report.initrd.base, r.report.initrd.size);
    left.bootargs = r.report.bootargs;
  });
}

void expect_nothing_left(const Left& l) {
  EXPECT_EQ(l.grants, 0u);
  EXPECT_FALSE(l.backend_connected);
  EXPECT_EQ(l.ports, 0u);
}

TEST(DiskBoot, ExtlinuxOnExt4BootsTheRawImageInPlaceWithItsInitrd) {
  ASSERT_TRUE(real().ok());
  Left left;
  const SimResult r = boot(disk_options(make_disk(extlinux_disk(real().image()), Layout::kGptExt4)), left);
  ASSERT_EQ(r.outcome, SimResult::Outcome::kClean) << describe(r);
  EXPECT_TRUE(r.jumped);
  EXPECT_EQ(fnv1a(left.kernel.data(), left.kernel.size()), fnv1a(real().image().data(), real().image().size()));
  EXPECT_EQ(left.initrd, real().ramdisk());
  EXPECT_EQ(left.bootargs, "root=/dev/xvda2 ro magicboot.label=l0");
  // Staged 2 MiB-aligned, the Image runs where it was read: no copy.
  EXPECT_TRUE(r.report.kernel_zero_copy);
  const loader::DiskBootRecord& d = r.report.disk_boot->record();
  EXPECT_EQ(d.source.partition, 2u);
  EXPECT_EQ(d.source.kind, loader::ConfigKind::kExtlinux);
  EXPECT_STREQ(d.label, "l0");
  EXPECT_STREQ(d.kernel_path, "/boot/vmlinuz-test");
  EXPECT_EQ(d.kernel_bytes, real().image().size());
  EXPECT_FALSE(d.by_key);
  EXPECT_NE(r.handover_json.find("\"disk\":{\"table\":\"gpt\",\"backup_gpt\":false,\"partition\":2,\"fs\":\"ext4\","
                                 "\"config\":\"extlinux\",\"path\":\"/boot/extlinux/extlinux.conf\""),
            std::string::npos)
      << r.handover_json;
  EXPECT_NE(r.console.find("entry \"l0\" names a DT (fdt/fdtdir/devicetree): not used, Xen's DT is"), std::string::npos)
      << r.console;
  expect_nothing_left(left);
}

TEST(DiskBoot, BlsOnMbrFatBootsAGzipImageAndSortsNewestFirst) {
  ASSERT_TRUE(real().ok());
  DiskFiles d;
  d.files["vmlinuz-6.1.0-10-arm64"] = real().image_gz();
  d.files["initrd.img-6.1.0-10-arm64"] = real().ramdisk();
  d.files["vmlinuz-6.1.0-9-arm64"] = Bytes(1000, 0x5a);  // older: must not be booted
  d.text("loader/entries/debian-6.1.0-9-arm64.conf",
         "title Debian 9\nversion 6.1.0-9-arm64\nlinux /vmlinuz-6.1.0-9-arm64\noptions root=/dev/xvda2\n");
  d.text("loader/entries/debian-6.1.0-10-arm64.conf",
         "title Debian 10\nversion 6.1.0-10-arm64\nlinux /vmlinuz-6.1.0-10-arm64\ninitrd /initrd.img-6.1.0-10-arm64\n"
         "options root=/dev/xvda2\noptions ro quiet\n");
  Left left;
  const SimResult r = boot(disk_options(make_disk(d, Layout::kMbrFat)), left);
  ASSERT_EQ(r.outcome, SimResult::Outcome::kClean) << describe(r);
  EXPECT_EQ(r.report.kernel_compression, loader::Compression::kGzip);
  EXPECT_EQ(fnv1a(left.kernel.data(), left.kernel.size()), fnv1a(real().image().data(), real().image().size()));
  EXPECT_EQ(left.initrd, real().ramdisk());
  EXPECT_EQ(left.bootargs, "root=/dev/xvda2 ro quiet");
  const loader::DiskBootRecord& rec = r.report.disk_boot->record();
  EXPECT_EQ(rec.source.table, loader::TableKind::kMbr);
  EXPECT_EQ(rec.source.fs, loader::FsKind::kFat);
  EXPECT_EQ(rec.source.kind, loader::ConfigKind::kBls);
  EXPECT_STREQ(rec.label, "debian-6.1.0-10-arm64");
  expect_nothing_left(left);
}

TEST(DiskBoot, AFitOnExt4CarriesItsOwnRamdisk) {
  ASSERT_TRUE(real().ok());
  DiskFiles d;
  d.files["boot/linux.itb"] = real().fit_gz();
  d.text("boot/extlinux/extlinux.conf", "default fit\nlabel fit\n  kernel /boot/linux.itb\n  append console=hvc0\n");
  Left left;
  const SimResult r = boot(disk_options(make_disk(d, Layout::kGptExt4)), left);
  ASSERT_EQ(r.outcome, SimResult::Outcome::kClean) << describe(r);
  EXPECT_EQ(r.report.payload_kind, loader::PayloadKind::kFit);
  EXPECT_EQ(fnv1a(left.kernel.data(), left.kernel.size()), fnv1a(real().image().data(), real().image().size()));
  EXPECT_EQ(left.initrd, real().ramdisk());
  EXPECT_EQ(left.bootargs, "console=hvc0");
  expect_nothing_left(left);
}

TEST(DiskBoot, TheMenuTakesAKeyWithinTheTimeoutElseTheDefault) {
  ASSERT_TRUE(real().ok());
  const Bytes image = make_disk(extlinux_disk(real().image()), Layout::kGptExt4);
  struct Case {
    const char* keys;
    const char* label;
    bool by_key;
  };
  for (const Case& c : {Case{"2", "l0r", true}, Case{"x9\r", "l0", true}, Case{"", "l0", false}}) {
    SimOptions o = disk_options(image);
    o.menu_keys = c.keys;
    Left left;
    const SimResult r = boot(o, left);
    ASSERT_EQ(r.outcome, SimResult::Outcome::kClean) << c.keys << ": " << describe(r);
    const loader::DiskBootRecord& rec = r.report.disk_boot->record();
    EXPECT_STREQ(rec.label, c.label) << c.keys;
    EXPECT_EQ(rec.by_key, c.by_key) << c.keys;
    EXPECT_EQ(left.bootargs, std::string("root=/dev/xvda2 ro ") + (std::string(c.label) == "l0r" ? "single " : "") +
                                 "magicboot.label=" + c.label);
    EXPECT_NE(r.console.find("MAGICBOOT-MENU {\"entries\":2,\"default\":1,\"timeout_ds\":3,\"labels\":[\"l0\",\"l0r\"]}"),
              std::string::npos)
        << r.console;
  }
}

TEST(DiskBoot, WithoutAConfigTheNewestKernelAndTheDtCommandLine) {
  ASSERT_TRUE(real().ok());
  DiskFiles d;
  d.files["boot/vmlinuz-6.1.0-10-arm64"] = real().image();
  d.files["boot/initrd.img-6.1.0-10-arm64"] = real().ramdisk();
  d.files["boot/vmlinuz-6.1.0-9-arm64"] = Bytes(1000, 0x5a);
  SimOptions o = disk_options(make_disk(d, Layout::kGptExt4));
  o.bootargs = "root=/dev/xvda2 console=hvc0";
  Left left;
  const SimResult r = boot(o, left);
  ASSERT_EQ(r.outcome, SimResult::Outcome::kClean) << describe(r);
  EXPECT_EQ(r.report.disk_boot->record().source.kind, loader::ConfigKind::kFallback);
  EXPECT_EQ(left.initrd, real().ramdisk());
  EXPECT_EQ(left.bootargs, "root=/dev/xvda2 console=hvc0");
}

// Each bad disk: a named error, no jump, nothing left granted, bound or
// connected.
TEST(DiskBoot, BadDisksAreRefusedByNameWithNothingLeftOpen) {
  ASSERT_TRUE(real().ok());
  const Bytes kernel = synthetic_image(64 * 1024, 1 * kMiB);
  const Bytes good = make_disk(extlinux_disk(kernel), Layout::kGptExt4);
  struct Case {
    std::string name;
    Bytes image;
    const char* check;
  };
  std::vector<Case> cases;
  {
    Bytes b = good;
    b[512 + 16] ^= 0xff;  // primary header CRC: the backup serves, the boot goes on
    cases.push_back({"gpt-primary-only", b, nullptr});
    const uint64_t last = b.size() / 512 - 1;
    b[last * 512 + 16] ^= 0xff;
    cases.push_back({"gpt-both", b, "gpt-header"});
  }
  {
    DiskFiles d = extlinux_disk(kernel);
    d.text("boot/extlinux/extlinux.conf", "default a\nlabel a\n linux /boot/vmlinuz-nope\n");
    cases.push_back({"missing-kernel", make_disk(d, Layout::kGptExt4), "ext4-not-found"});
    d.text("boot/extlinux/extlinux.conf", "default a\nlabel a\n linux /boot/vmlinuz-test\n initrd /boot/initrd-nope\n");
    cases.push_back({"missing-initrd", make_disk(d, Layout::kGptExt4), "ext4-not-found"});
    d.symlinks["boot/loop-a"] = "loop-b";
    d.symlinks["boot/loop-b"] = "loop-a";
    d.text("boot/extlinux/extlinux.conf", "default a\nlabel a\n linux /boot/loop-a\n");
    cases.push_back({"symlink-loop", make_disk(d, Layout::kGptExt4), "ext4-symlink-loop"});
  }
  {
    // The kernel's extent header broken: find the inode's i_block by the
    // file's first block, which mke2fs -d wrote where the extent points.
    Bytes b = good;
    const Bytes magic = {0x0a, 0xf3};  // ext4 extent header magic, little-endian
    size_t hits = 0;
    for (size_t at = 6144 * 512; at + 12 < b.size(); at += 4) {
      if (b[at] != magic[0] || b[at + 1] != magic[1]) continue;
      // An inode's inline tree: depth 0, max 4 entries, in an inode table.
      if (b[at + 4] == 4 && b[at + 6] == 0 && b[at + 7] == 0) {
        const uint32_t len = b[at + 12 + 4] | b[at + 12 + 5] << 8;
        if (len * 1024u >= kernel.size() && len * 1024u < kernel.size() + 4096) {
          b[at + 12 + 6] = 0xff;  // ee_start_hi: far past the filesystem
          b[at + 12 + 7] = 0xff;
          ++hits;
        }
      }
    }
    ASSERT_EQ(hits, 1u) << "the kernel's extent";
    cases.push_back({"bad-extent", b, "ext4-extent"});
  }
  cases.push_back({"empty", Bytes(16 * kMiB, 0), "disk-no-table"});

  for (const Case& c : cases) {
    Left left;
    const SimResult r = boot(disk_options(c.image), left);
    if (c.check == nullptr) {
      EXPECT_EQ(r.outcome, SimResult::Outcome::kClean) << c.name << ": " << describe(r);
      EXPECT_TRUE(r.report.disk_boot->record().source.gpt_backup_used) << c.name;
    } else {
      EXPECT_FALSE(r.jumped) << c.name;
      EXPECT_STREQ(r.error.check, c.check) << c.name << ": " << r.error.detail;
    }
    EXPECT_TRUE(r.findings.empty()) << c.name << ": " << describe(r);
    expect_nothing_left(left);
  }
}

TEST(DiskBoot, NoModuleAndNoDiskIsNamed) {
  SimOptions o = disk_options({});
  o.disk.reset();
  Left left;
  const SimResult r = boot(o, left);
  EXPECT_FALSE(r.jumped);
  EXPECT_STREQ(r.error.check, "vbd-none") << r.error.detail;
  expect_nothing_left(left);
}

}  // namespace
}  // namespace mb::sim::test

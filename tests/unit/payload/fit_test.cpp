#include "magicboot/loader/payload/fit.h"

#include <gtest/gtest.h>
#include <libfdt.h>

#include <string>

#include "magicboot/loader/payload/payload.h"
#include "test_support.h"

namespace mb::loader::test {
namespace {

constexpr GuestPhys kPayloadAddr{0x48000000};

// Image nodes and their data files; every FIT in these tests is built from
// them by mkimage at test time.
class FitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(MB_MKIMAGE)) << "mkimage (u-boot-tools) not found";
    ASSERT_TRUE(std::filesystem::exists(MB_DTC)) << "dtc (device-tree-compiler) not found";
    kernel_ = make_image(64 * 1024, 256 * 1024, 0xa, 0, 21);
    kernel_gz_ = gzip_bytes(kernel_);
    ramdisk_ = random_bytes(10001, 22);
    not_image_ = random_bytes(5000, 23);
    write_file(dir_ / "kernel", kernel_);
    write_file(dir_ / "kernel.gz", kernel_gz_);
    write_file(dir_ / "ramdisk", ramdisk_);
    write_file(dir_ / "not-image", not_image_);
    write_text(dir_ / "board.dts",
               "/dts-v1/;\n/ { compatible = \"test,board\"; #address-cells = <2>; #size-cells = <2>;\n"
               "memory@40000000 { device_type = \"memory\"; reg = <0 0x40000000 0 0x8000000>; }; };\n");
    ASSERT_EQ(run(std::string(MB_DTC) + " -I dts -O dtb -o " + (dir_ / "board.dtb").string() + " " +
                  (dir_ / "board.dts").string()),
              0);
    fdt_ = read_file(dir_ / "board.dtb");
  }

  static std::string image(const std::string& name, const std::string& file, const std::string& type,
                           const std::string& comp, const std::string& hashes,
                           const std::string& arch = "arm64") {
    return "    " + name + " { data = /incbin/(\"" + file + "\"); type = \"" + type + "\"; arch = \"" +
           arch + "\"; os = \"linux\"; compression = \"" + comp +
           "\"; load = <0x80000>; entry = <0x80000>;\n" + hashes + "    };\n";
  }
  static std::string hash(int n, const std::string& algo) {
    return "      hash-" + std::to_string(n) + " { algo = \"" + algo + "\"; };\n";
  }
  static std::string all_hashes() { return hash(1, "crc32") + hash(2, "sha1") + hash(3, "sha256"); }

  std::string standard_images() {
    return image("kernel-1", "kernel", "kernel", "none", all_hashes()) +
           image("kernel-gz", "kernel.gz", "kernel", "gzip", hash(1, "sha256")) +
           image("ramdisk-1", "ramdisk", "ramdisk", "none", hash(1, "sha1")) +
           image("fdt-1", "board.dtb", "flat_dt", "none", hash(1, "crc32"));
  }
  std::string standard_configs() {
    return "    default = \"conf-full\";\n"
           "    conf-full { kernel = \"kernel-1\"; ramdisk = \"ramdisk-1\"; fdt = \"fdt-1\"; };\n"
           "    conf-gz { kernel = \"kernel-gz\"; };\n";
  }

  // mkimage -f over an .its with these images and configurations.
  Bytes build(const std::string& images, const std::string& configs,
              const std::string& mkimage_flags = "") {
    std::string its = "/dts-v1/;\n/ {\n  description = \"magicboot test\";\n  #address-cells = <1>;\n"
                      "  images {\n" + images + "  };\n  configurations {\n" + configs + "  };\n};\n";
    write_text(dir_ / "x.its", its);
    auto out = dir_ / "x.fit";
    std::filesystem::remove(out);
    std::string cmd = "cd " + dir_.path().string() + " && " + MB_MKIMAGE + " " + mkimage_flags +
                      " -f x.its x.fit";
    EXPECT_EQ(run(cmd), 0) << cmd << "\n" << its;
    return read_file(out);
  }

  Bytes standard(const std::string& flags = "") { return build(standard_images(), standard_configs(), flags); }

  static void expect_blob(const Blob& b, const Bytes& fit, const Bytes& want) {
    ASSERT_EQ(b.size, want.size());
    ASSERT_GE(b.data, fit.data());
    ASSERT_LE(b.data + b.size, fit.data() + fit.size());
    EXPECT_EQ(b.addr, kPayloadAddr + static_cast<uint64_t>(b.data - fit.data()));
    EXPECT_EQ(std::memcmp(b.data, want.data(), want.size()), 0);
  }

  TempDir dir_;
  Bytes kernel_, kernel_gz_, ramdisk_, fdt_, not_image_;
};

TEST_F(FitTest, DefaultConfigurationWithRamdiskAndFdt) {
  Bytes fit = standard();
  auto p = parse_fit(fit.data(), fit.size(), kPayloadAddr, nullptr);
  ASSERT_TRUE(p.ok()) << p.error().check << ": " << p.error().detail;
  EXPECT_EQ(p->kind, PayloadKind::kFit);
  EXPECT_STREQ(p->fit_config, "conf-full");
  EXPECT_STREQ(p->kernel_name, "kernel-1");
  EXPECT_EQ(p->kernel_compression, Compression::kNone);
  expect_blob(p->kernel, fit, kernel_);
  expect_blob(p->ramdisk, fit, ramdisk_);
  expect_blob(p->fdt, fit, fdt_);
}

TEST_F(FitTest, NamedConfigurationWithGzipKernelOnly) {
  Bytes fit = standard();
  auto p = identify_payload(fit.data(), fit.size(), kPayloadAddr, "conf-gz");
  ASSERT_TRUE(p.ok()) << p.error().detail;
  EXPECT_EQ(p->kind, PayloadKind::kFit);
  EXPECT_STREQ(p->fit_config, "conf-gz");
  EXPECT_STREQ(p->kernel_name, "kernel-gz");
  EXPECT_EQ(p->kernel_compression, Compression::kGzip);
  expect_blob(p->kernel, fit, kernel_gz_);
  EXPECT_EQ(p->ramdisk.size, 0u);
  EXPECT_EQ(p->fdt.size, 0u);
}

TEST_F(FitTest, UnknownConfigurationIsAnError) {
  Bytes fit = standard();
  auto p = parse_fit(fit.data(), fit.size(), kPayloadAddr, "conf-nope");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(check_of(p.error()), "fit-config");
  EXPECT_NE(std::string(p.error().detail).find("conf-nope"), std::string::npos);
}

TEST_F(FitTest, ExternalDataOffsetAndPosition) {
  for (const char* flags : {"-E", "-E -p 0x2000"}) {
    Bytes fit = standard(flags);
    ASSERT_FALSE(fit.empty());
    auto p = parse_fit(fit.data(), fit.size(), kPayloadAddr, nullptr);
    ASSERT_TRUE(p.ok()) << flags << ": " << p.error().detail;
    const uint32_t tree = uint32_t{fit[4]} << 24 | fit[5] << 16 | fit[6] << 8 | fit[7];
    EXPECT_GE(p->kernel.data, fit.data() + tree) << flags << ": data must be outside the tree";
    expect_blob(p->kernel, fit, kernel_);
    expect_blob(p->ramdisk, fit, ramdisk_);
    expect_blob(p->fdt, fit, fdt_);

    // Data cut off after the tree: the external data is missing.
    auto t = parse_fit(fit.data(), fit.size() - 100, kPayloadAddr, nullptr);
    ASSERT_FALSE(t.ok()) << flags;
    EXPECT_EQ(check_of(t.error()), "fit-truncated");
  }
}

// Flip one byte of an image's data after mkimage hashed it: the hash of that
// algorithm must catch it, named with the image.
TEST_F(FitTest, EachHashAlgorithmCatchesAFlippedByte) {
  std::string images, configs = "    default = \"conf-crc32\";\n";
  for (const char* algo : {"crc32", "sha1", "sha256"}) {
    std::string name = std::string("kernel-") + algo;
    images += image(name, "kernel", "kernel", "none", hash(1, algo));
    configs += std::string("    conf-") + algo + " { kernel = \"" + name + "\"; };\n";
  }
  for (const char* flags : {"", "-E"}) {
    Bytes fit = build(images, configs, flags);
    for (const char* algo : {"crc32", "sha1", "sha256"}) {
      std::string conf = std::string("conf-") + algo;
      auto good = parse_fit(fit.data(), fit.size(), kPayloadAddr, conf.c_str());
      ASSERT_TRUE(good.ok()) << good.error().detail;
      Bytes bad = fit;
      bad[static_cast<size_t>(good->kernel.data - fit.data()) + 1000] ^= 0x01;
      auto p = parse_fit(bad.data(), bad.size(), kPayloadAddr, conf.c_str());
      ASSERT_FALSE(p.ok()) << algo << " " << flags;
      EXPECT_EQ(p.error().code, ErrorCode::kBadHash);
      EXPECT_EQ(check_of(p.error()), "fit-hash");
      std::string detail = p.error().detail;
      EXPECT_NE(detail.find(std::string("kernel-") + algo), std::string::npos) << detail;
      EXPECT_NE(detail.find(std::string(" ") + algo + " mismatch"), std::string::npos) << detail;
    }
  }
}

TEST_F(FitTest, WrongHashInRamdiskAndFdtToo) {
  Bytes fit = standard();
  auto good = parse_fit(fit.data(), fit.size(), kPayloadAddr, nullptr);
  ASSERT_TRUE(good.ok());
  for (const Blob* b : {&good->ramdisk, &good->fdt}) {
    Bytes bad = fit;
    bad[static_cast<size_t>(b->data - fit.data()) + b->size - 1] ^= 0x80;
    auto p = parse_fit(bad.data(), bad.size(), kPayloadAddr, nullptr);
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.error().code, ErrorCode::kBadHash) << p.error().detail;
  }
}

TEST_F(FitTest, UnsupportedHashAlgorithm) {
  Bytes fit = build(image("kernel-1", "kernel", "kernel", "none", hash(1, "md5")),
                    "    default = \"c\";\n    c { kernel = \"kernel-1\"; };\n");
  auto p = parse_fit(fit.data(), fit.size(), kPayloadAddr, nullptr);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(check_of(p.error()), "fit-hash-algo");
  EXPECT_EQ(p.error().code, ErrorCode::kUnsupported);
}

TEST_F(FitTest, NoKernelIsAnError) {
  Bytes fit = build(standard_images(),
                    "    default = \"rd-only\";\n    rd-only { ramdisk = \"ramdisk-1\"; };\n");
  auto p = parse_fit(fit.data(), fit.size(), kPayloadAddr, nullptr);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(check_of(p.error()), "fit-no-kernel");
}

TEST_F(FitTest, KernelNamedButMissingIsAnError) {
  Bytes fit = build(standard_images(), "    default = \"c\";\n    c { kernel = \"kernel-9\"; };\n");
  auto p = parse_fit(fit.data(), fit.size(), kPayloadAddr, nullptr);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(check_of(p.error()), "fit-image");
}

TEST_F(FitTest, UnknownCompressionIsUnsupported) {
  Bytes fit = build(image("kernel-1", "kernel", "kernel", "lzma", hash(1, "crc32")),
                    "    default = \"c\";\n    c { kernel = \"kernel-1\"; };\n");
  auto p = parse_fit(fit.data(), fit.size(), kPayloadAddr, nullptr);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(check_of(p.error()), "fit-compression");
  EXPECT_EQ(p.error().code, ErrorCode::kUnsupported);
  EXPECT_NE(std::string(p.error().detail).find("unsupported compression \"lzma\""), std::string::npos)
      << p.error().detail;
}

TEST_F(FitTest, WrongTypeOrArchIsAnError) {
  Bytes fit = build(standard_images() + image("kernel-arm", "kernel", "kernel", "none", "", "arm"),
                    "    default = \"c\";\n    c { kernel = \"ramdisk-1\"; };\n"
                    "    d { kernel = \"kernel-arm\"; };\n");
  auto p = parse_fit(fit.data(), fit.size(), kPayloadAddr, nullptr);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(check_of(p.error()), "fit-type");
  p = parse_fit(fit.data(), fit.size(), kPayloadAddr, "d");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(check_of(p.error()), "fit-arch");
}

TEST_F(FitTest, KernelThatIsNoImageIsAnError) {
  Bytes fit = build(image("kernel-1", "not-image", "kernel", "none", hash(1, "crc32")),
                    "    default = \"c\";\n    c { kernel = \"kernel-1\"; };\n");
  auto p = parse_fit(fit.data(), fit.size(), kPayloadAddr, nullptr);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(check_of(p.error()), "image-magic");
}

TEST_F(FitTest, TruncatedFitIsAnError) {
  Bytes fit = standard();
  for (size_t len : {size_t{3}, size_t{20}, size_t{39}, size_t{40}, fit.size() / 2, fit.size() - 1}) {
    auto p = identify_payload(fit.data(), len, kPayloadAddr, nullptr);
    ASSERT_FALSE(p.ok()) << len;
    EXPECT_EQ(p.error().code, ErrorCode::kBadInput) << len;
    if (len >= 40) {
      EXPECT_EQ(check_of(p.error()), "fit-truncated") << len;
    }
  }
}

TEST_F(FitTest, MalformedTreeIsAnError) {
  Bytes fit = standard();
  // Corrupt the first structure-block token (FDT_BEGIN_NODE of /).
  const uint32_t off_struct = uint32_t{fit[8]} << 24 | fit[9] << 16 | fit[10] << 8 | fit[11];
  fit[off_struct] = 0x7f;
  auto p = parse_fit(fit.data(), fit.size(), kPayloadAddr, nullptr);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(check_of(p.error()), "fit-malformed");
}

// Random byte flips anywhere in a FIT (tree and external data): every result
// is either a clean parse whose blobs lie inside the payload, or an error.
// Run under ASan/UBSan this also proves no out-of-bounds read.
TEST_F(FitTest, RandomCorruptionNeverEscapesThePayload) {
  std::mt19937 rng(99);
  for (const char* flags : {"", "-E"}) {
    Bytes fit = standard(flags);
    int errors = 0;
    for (int i = 0; i < 3000; ++i) {
      Bytes bad = fit;
      for (int k = 0; k < 1 + i % 4; ++k) bad[rng() % bad.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
      size_t len = (i % 5 == 0) ? rng() % bad.size() : bad.size();
      Bytes cut(bad.begin(), bad.begin() + static_cast<std::ptrdiff_t>(len));
      auto p = identify_payload(cut.data(), cut.size(), kPayloadAddr, i % 2 ? "conf-gz" : nullptr);
      if (!p.ok()) {
        ++errors;
        EXPECT_NE(p.error().check[0], '\0');
        continue;
      }
      for (const Blob* b : {&p->kernel, &p->ramdisk, &p->fdt}) {
        if (b->size == 0) continue;
        EXPECT_GE(b->data, cut.data());
        EXPECT_LE(b->data + b->size, cut.data() + cut.size());
      }
    }
    EXPECT_GT(errors, 1500) << flags << ": hashes should reject most corruptions";
  }
}

TEST_F(FitTest, MisalignedFitIsRefusedClearly) {
  Bytes fit = standard();
  Bytes shifted(fit.size() + 8);
  uint8_t* at = shifted.data() + 4;  // vector storage is at least 8-aligned
  std::memcpy(at, fit.data(), fit.size());
  auto p = parse_fit(at, fit.size(), kPayloadAddr + 4, nullptr);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(check_of(p.error()), "fit-align");
}

TEST_F(FitTest, DeviceTreeWithoutImagesIsNoFit) {
  auto p = parse_fit(fdt_.data(), fdt_.size(), kPayloadAddr, nullptr);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(check_of(p.error()), "fit-structure");
}

// A data-offset so large that adding the tree's size wraps past 2^64 must not
// land back on the tree itself (found by reading the code after fuzzing).
TEST_F(FitTest, DataOffsetThatWouldWrapIsRefused) {
  Bytes fit = standard("-E");
  ASSERT_FALSE(fit.empty());
  const uint32_t tree = uint32_t{fit[4]} << 24 | fit[5] << 16 | fit[6] << 8 | fit[7];
  Bytes edited(tree + 256);
  ASSERT_EQ(fdt_open_into(fit.data(), edited.data(), static_cast<int>(edited.size())), 0);
  int kernel = fdt_path_offset(edited.data(), "/images/kernel-1");
  ASSERT_GE(kernel, 0);
  ASSERT_EQ(fdt_pack(edited.data()), 0);
  // Set after packing would move it; set first with room, then pack.
  ASSERT_EQ(fdt_open_into(edited.data(), edited.data(), static_cast<int>(edited.size())), 0);
  kernel = fdt_path_offset(edited.data(), "/images/kernel-1");
  ASSERT_EQ(fdt_setprop_u64(edited.data(), kernel, "data-offset", 0), 0);
  ASSERT_EQ(fdt_pack(edited.data()), 0);
  const uint64_t new_tree_end = (fdt_totalsize(edited.data()) + 3) & ~uint64_t{3};
  ASSERT_EQ(fdt_setprop_inplace_u64(edited.data(), kernel, "data-offset", 0 - new_tree_end), 0);
  edited.resize(new_tree_end);
  edited.insert(edited.end(), fit.begin() + ((tree + 3) & ~3u), fit.end());
  auto p = parse_fit(edited.data(), edited.size(), kPayloadAddr, nullptr);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(check_of(p.error()), "fit-truncated") << p.error().detail;
}

}  // namespace
}  // namespace mb::loader::test

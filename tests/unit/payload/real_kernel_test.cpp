// The Debian arm64 kernel cached by tools/setup: its header parsed by us and,
// independently, by od; and the same kernel gzip'd and inflated to guest
// memory (with a throughput figure). Skipped when the kernel is not cached.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <iostream>

#include "magicboot/loader/payload/gzip.h"
#include "magicboot/loader/payload/image.h"
#include "magicboot/loader/payload/payload.h"
#include "test_support.h"

namespace mb::loader::test {
namespace {

std::filesystem::path find_kernel() {
  const char* home = std::getenv("HOME");
  if (home == nullptr) return {};
  std::filesystem::path boot = std::filesystem::path(home) / ".cache/magicboot/arm64/boot";
  std::error_code ec;
  for (auto& e : std::filesystem::directory_iterator(boot, ec))
    if (e.path().filename().string().rfind("vmlinuz-", 0) == 0) return e.path();
  return {};
}

// One little-endian u64 of the file, read by od rather than by our parser.
uint64_t od_u64(const std::filesystem::path& f, unsigned offset) {
  std::string cmd = "od -A n -t u8 -j " + std::to_string(offset) + " -N 8 " + f.string();
  FILE* p = popen(cmd.c_str(), "r");
  unsigned long long v = ~0ull;
  if (p == nullptr || std::fscanf(p, "%llu", &v) != 1) ADD_FAILURE() << cmd;
  if (p) pclose(p);
  return v;
}

class RealKernel : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = find_kernel();
    if (path_.empty()) GTEST_SKIP() << "no ~/.cache/magicboot/arm64/boot/vmlinuz-* (run tools/setup)";
    image_ = read_file(path_);
  }
  std::filesystem::path path_;
  Bytes image_;
};

TEST_F(RealKernel, HeaderMatchesOd) {
  auto h = parse_image(image_.data(), image_.size());
  ASSERT_TRUE(h.ok()) << h.error().detail;
  EXPECT_EQ(h->text_offset, od_u64(path_, 0x08));
  EXPECT_EQ(h->image_size, od_u64(path_, 0x10));
  EXPECT_EQ(h->flags, od_u64(path_, 0x18));
  EXPECT_GT(h->image_size, image_.size()) << "image_size covers bss";
  EXPECT_FALSE(h->big_endian);
  if (path_.filename() == "vmlinuz-6.1.0-56-cloud-arm64") {
    // Read by hand with od when this test was written.
    EXPECT_EQ(h->text_offset, 0u);
    EXPECT_EQ(h->image_size, 0x1ab0000u);
    EXPECT_EQ(h->flags, 0xau);
    EXPECT_EQ(h->page_size_kib, 4u);
    EXPECT_TRUE(h->anywhere);
  }
  auto p = identify_payload(image_.data(), image_.size(), GuestPhys{0x50000000}, nullptr);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->kind, PayloadKind::kImage);
}

TEST_F(RealKernel, GzipHeaderAndInflateToGuest) {
  Bytes gz = gzip_bytes(image_, 6);
  auto p = identify_payload(gz.data(), gz.size(), GuestPhys{0x50000000}, nullptr);
  ASSERT_TRUE(p.ok()) << p.error().detail;
  EXPECT_EQ(p->kind, PayloadKind::kGzipImage);

  std::vector<uint8_t> arena_buf(kGunzipArenaBytes);
  Arena arena(arena_buf.data(), arena_buf.size());
  uint8_t head[kImageHeaderSize];
  auto n = gunzip_prefix(gz.data(), gz.size(), head, sizeof head, arena);
  ASSERT_TRUE(n.ok());
  auto h = parse_image_header(head, *n);
  ASSERT_TRUE(h.ok());
  auto isize = gzip_isize(gz.data(), gz.size());
  ASSERT_TRUE(isize.ok());
  EXPECT_EQ(*isize, image_.size());
  ASSERT_TRUE(check_image_size(*h, *isize).ok());
  EXPECT_EQ(h->image_size, od_u64(path_, 0x10));

  const GuestPhys base{0x40000000};
  const GuestPhys dst = base + (2u << 20) + h->text_offset;
  VectorMemory mem(base, (2u << 20) + h->text_offset + h->image_size);
  auto t0 = std::chrono::steady_clock::now();
  auto out = gunzip_to_guest(mem, gz.data(), gz.size(), dst, h->image_size, arena, nullptr);
  auto t1 = std::chrono::steady_clock::now();
  ASSERT_TRUE(out.ok()) << out.error().detail;
  EXPECT_EQ(*out, image_.size());
  EXPECT_EQ(std::memcmp(mem.at(dst), image_.data(), image_.size()), 0);
  double s = std::chrono::duration<double>(t1 - t0).count();
  double mbps = static_cast<double>(image_.size()) / 1e6 / s;
  std::cout << "gunzip_to_guest: " << image_.size() << " bytes (" << gz.size() << " compressed) in "
            << s << " s = " << mbps << " MB/s output, arena peak " << arena.peak() << " bytes\n";
  RecordProperty("gunzip_mb_per_s", std::to_string(mbps));
}

}  // namespace
}  // namespace mb::loader::test

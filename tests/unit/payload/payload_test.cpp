#include "magicboot/loader/payload/payload.h"

#include <gtest/gtest.h>

#include "test_support.h"

namespace mb::loader::test {
namespace {

constexpr GuestPhys kAddr{0x48000000};

TEST(IdentifyPayload, BareImage) {
  Bytes img = make_image(8192, 0x20000);
  auto p = identify_payload(img.data(), img.size(), kAddr, nullptr);
  ASSERT_TRUE(p.ok()) << p.error().detail;
  EXPECT_EQ(p->kind, PayloadKind::kImage);
  EXPECT_EQ(p->kernel_compression, Compression::kNone);
  EXPECT_EQ(p->kernel.addr, kAddr);
  EXPECT_EQ(p->kernel.size, img.size());
  EXPECT_EQ(p->kernel.data, img.data());
  EXPECT_EQ(p->ramdisk.size, 0u);
  EXPECT_EQ(p->fdt.size, 0u);
  EXPECT_EQ(p->fit_config, nullptr);
  EXPECT_EQ(p->kernel_name, nullptr);
}

TEST(IdentifyPayload, GzipImage) {
  Bytes gz = gzip_bytes(make_image(8192, 0x20000));
  auto p = identify_payload(gz.data(), gz.size(), kAddr, nullptr);
  ASSERT_TRUE(p.ok()) << p.error().detail;
  EXPECT_EQ(p->kind, PayloadKind::kGzipImage);
  EXPECT_EQ(p->kernel_compression, Compression::kGzip);
  EXPECT_EQ(p->kernel.size, gz.size());
  // A gzip member too short to have a trailer is rejected up front.
  auto t = identify_payload(gz.data(), 12, kAddr, nullptr);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(check_of(t.error()), "gzip-truncated");
}

TEST(IdentifyPayload, ImageProblemsAreReported) {
  Bytes small = make_image(0x3000, 0x1000);
  auto p = identify_payload(small.data(), small.size(), kAddr, nullptr);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(check_of(p.error()), "image-size");
  Bytes be = make_image(0x3000, 0x10000, 0x1);
  p = identify_payload(be.data(), be.size(), kAddr, nullptr);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(check_of(p.error()), "image-endian");
}

TEST(IdentifyPayload, AnythingElseIsRejected) {
  Bytes img = make_image(8192, 0x20000);
  img[0x39] = 0;  // bad Image magic
  Bytes junk = random_bytes(4096, 5);
  junk[0] = 'X';
  for (const Bytes* b : {&img, &junk}) {
    auto p = identify_payload(b->data(), b->size(), kAddr, nullptr);
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(check_of(p.error()), "payload-kind");
    EXPECT_NE(std::string(p.error().detail).find("0x48000000"), std::string::npos);
  }
  uint8_t tiny[3] = {1, 2, 3};
  auto p = identify_payload(tiny, sizeof tiny, kAddr, nullptr);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(check_of(p.error()), "payload-kind");
  p = identify_payload(tiny, 0, kAddr, nullptr);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(check_of(p.error()), "payload-empty");
}

}  // namespace
}  // namespace mb::loader::test

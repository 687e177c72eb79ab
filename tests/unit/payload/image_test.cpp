#include "magicboot/loader/payload/image.h"

#include <gtest/gtest.h>

#include "test_support.h"

namespace mb::loader::test {
namespace {

TEST(ImageHeader, ParsesModernHeader) {
  Bytes img = make_image(8192, 0x30000, /*flags=*/0xa, /*text_offset=*/0);
  auto h = parse_image(img.data(), img.size());
  ASSERT_TRUE(h.ok()) << h.error().detail;
  EXPECT_EQ(h->text_offset, 0u);
  EXPECT_EQ(h->image_size, 0x30000u);
  EXPECT_EQ(h->flags, 0xau);
  EXPECT_FALSE(h->big_endian);
  EXPECT_EQ(h->page_size_kib, 4u);
  EXPECT_TRUE(h->anywhere);
}

TEST(ImageHeader, PageSizeAndAnywhereBits) {
  struct Case {
    uint64_t flags;
    unsigned kib;
    bool anywhere;
  } cases[] = {{0x0, 0, false}, {0x2, 4, false}, {0x4, 16, false}, {0x6, 64, false}, {0xe, 64, true}};
  for (const Case& c : cases) {
    Bytes img = make_image(4096, 0x10000, c.flags, 0x80000);
    auto h = parse_image_header(img.data(), img.size());
    ASSERT_TRUE(h.ok()) << c.flags;
    EXPECT_EQ(h->page_size_kib, c.kib) << c.flags;
    EXPECT_EQ(h->anywhere, c.anywhere) << c.flags;
    EXPECT_EQ(h->text_offset, 0x80000u);
  }
}

TEST(ImageHeader, LegacyZeroImageSizeMeansTextOffset80000) {
  // Pre-3.17 kernels: image_size 0, text_offset and flags undefined.
  Bytes img = make_image(4096, 0, /*flags=*/0xf, /*text_offset=*/0x1234);
  auto h = parse_image(img.data(), img.size());
  ASSERT_TRUE(h.ok()) << h.error().detail;
  EXPECT_EQ(h->text_offset, kLegacyTextOffset);
  EXPECT_EQ(h->image_size, 0u);
  EXPECT_FALSE(h->anywhere);
}

TEST(ImageHeader, RejectsBadMagic) {
  Bytes img = make_image(4096, 0x10000);
  img[0x38] ^= 0xff;
  auto h = parse_image_header(img.data(), img.size());
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(check_of(h.error()), "image-magic");
  EXPECT_EQ(h.error().code, ErrorCode::kBadInput);
}

TEST(ImageHeader, RejectsTruncated) {
  Bytes img = make_image(4096, 0x10000);
  for (size_t len : {size_t{0}, size_t{1}, size_t{0x38}, kImageHeaderSize - 1}) {
    auto h = parse_image_header(img.data(), len);
    ASSERT_FALSE(h.ok()) << len;
    EXPECT_EQ(check_of(h.error()), "image-truncated");
  }
  EXPECT_TRUE(parse_image_header(img.data(), kImageHeaderSize).ok());
  EXPECT_FALSE(parse_image_header(nullptr, 4096).ok());
}

TEST(ImageHeader, RejectsBigEndian) {
  Bytes img = make_image(4096, 0x10000, /*flags=*/0xb);
  auto h = parse_image_header(img.data(), img.size());
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(check_of(h.error()), "image-endian");
  EXPECT_EQ(h.error().code, ErrorCode::kUnsupported);
}

TEST(ImageHeader, RejectsUnplaceableTextOffset) {
  for (uint64_t off : {uint64_t{0x200000}, uint64_t{0x80010}}) {
    Bytes img = make_image(4096, 0x10000, 0xa, off);
    auto h = parse_image_header(img.data(), img.size());
    ASSERT_FALSE(h.ok()) << off;
    EXPECT_EQ(check_of(h.error()), "image-text-offset");
  }
}

TEST(ImageHeader, ImageSizeSmallerThanFileIsRejected) {
  Bytes img = make_image(0x3000, 0x2fff);
  auto h = parse_image(img.data(), img.size());
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(check_of(h.error()), "image-size");
  EXPECT_NE(std::string(h.error().detail).find("0x2fff"), std::string::npos) << h.error().detail;
  // Exactly the file (no bss) is fine; so is the header alone when the file
  // size is checked separately, as for a gzip'd kernel.
  Bytes exact = make_image(0x3000, 0x3000);
  EXPECT_TRUE(parse_image(exact.data(), exact.size()).ok());
  auto hdr = parse_image_header(img.data(), kImageHeaderSize);
  ASSERT_TRUE(hdr.ok());
  EXPECT_FALSE(check_image_size(*hdr, 0x3000).ok());
  EXPECT_TRUE(check_image_size(*hdr, 0x2fff).ok());
}

}  // namespace
}  // namespace mb::loader::test

// The arm64 Image header: parse_image_header / check_image_size / parse_image
// against a reference reading of booting.rst, byte by byte.
#include <cstring>

#include "fuzz_check.h"
#include "magicboot/loader/payload/image.h"

namespace {

using namespace mb::loader;

uint64_t le(const uint8_t* p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = v << 8 | p[i];
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto hdr = parse_image_header(data, size);
  auto whole = parse_image(data, size);
  // parse_image is the header plus the size check, nothing else.
  FUZZ_CHECK(whole.ok() == (hdr.ok() && check_image_size(*hdr, size).ok()), "parse_image disagrees with its parts");

  // Reference: what booting.rst says.
  bool want = size >= 64 && le(data + 0x38, 4) == 0x644d5241;
  uint64_t image_size = 0, text_offset = 0, flags = 0;
  if (want) {
    image_size = le(data + 0x10, 8);
    text_offset = image_size == 0 ? 0x80000 : le(data + 0x08, 8);
    flags = image_size == 0 ? 0 : le(data + 0x18, 8);
    want = (flags & 1) == 0 && text_offset < (2u << 20) && text_offset % 4096 == 0;
  }
  FUZZ_CHECK(hdr.ok() == want, "parse_image_header: ok %d, reference %d (%s)", hdr.ok(), want,
             hdr.ok() ? "" : hdr.error().detail);
  if (!hdr.ok()) {
    FUZZ_CHECK(hdr.error().check[0] != '\0', "error without a check name");
    return 0;
  }
  const ImageHeader& h = *hdr;
  FUZZ_CHECK(h.image_size == image_size && h.text_offset == text_offset && h.flags == flags,
             "fields %#lx %#lx %#lx, reference %#lx %#lx %#lx", h.image_size, h.text_offset,
             h.flags, image_size, text_offset, flags);
  static constexpr unsigned kPage[4] = {0, 4, 16, 64};
  FUZZ_CHECK(!h.big_endian && h.page_size_kib == kPage[(flags >> 1) & 3] && h.anywhere == ((flags >> 3) & 1),
             "flags %#lx decoded as be %d page %u anywhere %d", flags, h.big_endian, h.page_size_kib, h.anywhere);
  // The file-size check at the edges of the header's claim.
  for (uint64_t file : {uint64_t{0}, image_size, image_size + 1, uint64_t{size}, ~uint64_t{0}}) {
    const bool fits = image_size == 0 || file <= image_size;
    FUZZ_CHECK(check_image_size(h, file).ok() == fits, "check_image_size(%#lx) with image_size %#lx", file,
               image_size);
  }
  return 0;
}

#include "magicboot/loader/payload/image.h"

#include <cstring>

#include "magicboot/addr.h"
#include "magicboot/loader/boot_protocol.h"

namespace mb::loader {

Res<ImageHeader> parse_image_header(const uint8_t* data, size_t len) {
  if (data == nullptr || len < kImageHeaderSize)
    return MB_ERR(ErrorCode::kBadInput, "image-truncated",
                  "arm64 Image header needs %zu bytes, payload has %zu", kImageHeaderSize, len);
  RawImageHeader raw;
  std::memcpy(&raw, data, sizeof(raw));  // fields are little-endian; so is every host we build for
  if (raw.magic != kImageMagic)
    return MB_ERR(ErrorCode::kBadInput, "image-magic",
                  "magic at offset 0x38 is %#x, an arm64 Image has %#x (\"ARM\\x64\")", raw.magic,
                  kImageMagic);

  ImageHeader h{};
  h.image_size = raw.image_size;
  if (raw.image_size == 0) {
    // Pre-3.17 kernel: text_offset and flags were not defined yet.
    h.text_offset = kLegacyTextOffset;
    h.flags = 0;
  } else {
    h.text_offset = raw.text_offset;
    h.flags = raw.flags;
  }
  h.big_endian = (h.flags & kImageFlagBigEndian) != 0;
  if (h.big_endian)
    return MB_ERR(ErrorCode::kUnsupported, "image-endian",
                  "Image flags %#lx: big-endian kernel, this loader boots little-endian only",
                  h.flags);
  static constexpr unsigned kPageKib[4] = {0, 4, 16, 64};
  h.page_size_kib = kPageKib[(h.flags & kImageFlagPageSizeMask) >> kImageFlagPageSizeShift];
  h.anywhere = (h.flags & kImageFlagAnywhere) != 0;
  // The base is 2 MiB aligned and text_offset is added to it; an offset of
  // 2 MiB or more, or not 4 KiB aligned, is no kernel we know how to place.
  if (h.text_offset >= boot_protocol::kKernelAlign || (h.text_offset & (kPageSize - 1)) != 0)
    return MB_ERR(ErrorCode::kBadInput, "image-text-offset",
                  "text_offset %#lx is not a 4 KiB-aligned offset below 2 MiB",
                  h.text_offset);
  return h;
}

Res<void> check_image_size(const ImageHeader& hdr, uint64_t file_size) {
  if (hdr.image_size != 0 && hdr.image_size < file_size)
    return MB_ERR(ErrorCode::kBadInput, "image-size",
                  "header image_size %#lx is smaller than the Image itself (%#lx bytes)",
                  hdr.image_size,
                  file_size);
  return {};
}

Res<ImageHeader> parse_image(const uint8_t* data, size_t len) {
  ImageHeader h = MB_TRY(parse_image_header(data, len));
  MB_CHECK(check_image_size(h, len));
  return h;
}

}  // namespace mb::loader

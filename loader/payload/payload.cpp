#include "magicboot/loader/payload/payload.h"

#include <cstring>

#include "magicboot/loader/payload/fit.h"
#include "magicboot/loader/payload/gzip.h"
#include "magicboot/loader/payload/image.h"

namespace mb::loader {

const char* to_string(PayloadKind kind) {
  switch (kind) {
    case PayloadKind::kFit: return "fit";
    case PayloadKind::kImage: return "image";
    case PayloadKind::kGzipImage: return "gzip-image";
  }
  return "?";
}

const char* to_string(Compression c) {
  switch (c) {
    case Compression::kNone: return "none";
    case Compression::kGzip: return "gzip";
  }
  return "?";
}

Res<Payload> identify_payload(const uint8_t* data, size_t len, GuestPhys addr,
                              const char* fit_config) {
  if (data == nullptr || len == 0)
    return MB_ERR(ErrorCode::kBadInput, "payload-empty", "payload at %#lx is empty",
                  addr.value);
  if (has_fdt_magic(data, len)) return parse_fit(data, len, addr, fit_config);

  Payload p{};
  p.kernel = Blob{addr, len, data};
  if (has_gzip_magic(data, len)) {
    (void)MB_TRY(gzip_isize(data, len));
    p.kind = PayloadKind::kGzipImage;
    p.kernel_compression = Compression::kGzip;
    return p;
  }
  if (len >= kImageHeaderSize) {
    auto hdr = parse_image_header(data, len);
    // Without the Image magic it is none of the three (below); with it, an
    // Image, or a broken one whose error says why.
    if (hdr.ok() || std::strcmp(hdr.error().check, "image-magic") != 0) {
      const ImageHeader image = MB_TRY(std::move(hdr));
      MB_CHECK(check_image_size(image, len));
      p.kind = PayloadKind::kImage;
      p.kernel_compression = Compression::kNone;
      return p;
    }
  }
  uint8_t b[4] = {};
  for (size_t i = 0; i < 4 && i < len; ++i) b[i] = data[i];
  return MB_ERR(ErrorCode::kBadInput, "payload-kind",
                "payload at %#lx (%#zx bytes) is no FIT (d0 0d fe ed), gzip (1f 8b) or arm64 "
                "Image (ARM\\x64 at 0x38); it starts %02x %02x %02x %02x",
                addr.value, len, b[0], b[1], b[2], b[3]);
}

}  // namespace mb::loader

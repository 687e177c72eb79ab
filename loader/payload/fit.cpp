#include "magicboot/loader/payload/fit.h"

#include <cstring>

#include "magicboot/loader/fdt/reader.h"
#include "magicboot/loader/payload/gzip.h"
#include "magicboot/loader/payload/hash.h"
#include "magicboot/loader/payload/image.h"

namespace mb::loader {
namespace {

enum class Role : uint8_t { kKernel, kRamdisk, kFdt };

const char* role_name(Role r) {
  switch (r) {
    case Role::kKernel: return "kernel";
    case Role::kRamdisk: return "ramdisk";
    case Role::kFdt: return "fdt";
  }
  return "?";
}

bool str_eq(const char* a, const char* b) { return std::strcmp(a, b) == 0; }

// A string property, checked to be NUL-terminated inside the tree; nullptr
// when absent.
const char* get_string(const void* fdt, int node, const char* name) {
  int len = 0;
  const char* s = static_cast<const char*>(fdt::getprop(fdt, node, name, &len));
  if (s == nullptr || len <= 0 || s[len - 1] != '\0' ||
      std::strlen(s) + 1 > static_cast<size_t>(len))
    return nullptr;
  return s;
}

// A one- or two-cell integer property (mkimage writes one cell).
bool get_uint(const void* fdt, int node, const char* name, uint64_t* out) {
  int len = 0;
  const uint8_t* p = static_cast<const uint8_t*>(fdt::getprop(fdt, node, name, &len));
  if (p == nullptr || (len != 4 && len != 8)) return false;
  uint64_t v = 0;
  for (int i = 0; i < len; ++i) v = v << 8 | p[i];
  *out = v;
  return true;
}

struct FitImage {
  const char* name;
  size_t offset;  // of the data in the payload
  size_t size;
  Compression compression;
};

bool hex_equal(const uint8_t* a, const uint8_t* b, size_t n) { return std::memcmp(a, b, n) == 0; }

Res<void> verify_hash(const void* fdt, int hash_node, const char* image, const uint8_t* data,
                      size_t size) {
  const char* node_name = fdt::node_name(fdt, hash_node);
  if (node_name == nullptr) node_name = "hash?";
  const char* algo = get_string(fdt, hash_node, "algo");
  if (algo == nullptr)
    return MB_ERR(ErrorCode::kBadInput, "fit-hash", "image %s: %s has no algo", image, node_name);
  int vlen = 0;
  const uint8_t* value = static_cast<const uint8_t*>(fdt::getprop(fdt, hash_node, "value", &vlen));
  if (value == nullptr)
    return MB_ERR(ErrorCode::kBadInput, "fit-hash", "image %s: %s (%s) has no value", image,
                  node_name, algo);
  size_t want_len;
  bool match;
  if (str_eq(algo, "crc32")) {
    want_len = 4;
    uint32_t c = crc32(data, size);
    const uint8_t be[4] = {static_cast<uint8_t>(c >> 24), static_cast<uint8_t>(c >> 16),
                           static_cast<uint8_t>(c >> 8), static_cast<uint8_t>(c)};
    match = static_cast<size_t>(vlen) == want_len && hex_equal(value, be, 4);
  } else if (str_eq(algo, "sha1")) {
    want_len = Sha1::kDigestSize;
    Sha1Digest d = sha1(data, size);
    match = static_cast<size_t>(vlen) == want_len && hex_equal(value, d.data(), want_len);
  } else if (str_eq(algo, "sha256")) {
    want_len = Sha256::kDigestSize;
    Sha256Digest d = sha256(data, size);
    match = static_cast<size_t>(vlen) == want_len && hex_equal(value, d.data(), want_len);
  } else {
    return MB_ERR(ErrorCode::kUnsupported, "fit-hash-algo",
                  "image %s: %s uses \"%s\"; supported: crc32, sha1, sha256", image, node_name, algo);
  }
  if (static_cast<size_t>(vlen) != want_len)
    return MB_ERR(ErrorCode::kBadInput, "fit-hash", "image %s: %s value is %d bytes, %s has %zu",
                  image, node_name, vlen, algo, want_len);
  if (!match)
    return MB_ERR(ErrorCode::kBadHash, "fit-hash", "image %s: %s mismatch (%s) over %#zx bytes",
                  image, algo, node_name, size);
  return {};
}

Res<FitImage> load_image(const uint8_t* data, size_t len, int images, const char* name, Role role) {
  const void* fdt = data;
  int node = fdt::child_named(fdt, images, name, std::strlen(name));
  if (node < 0)
    return MB_ERR(ErrorCode::kBadInput, "fit-image", "%s image \"%s\" not in /images: %s",
                  role_name(role), name, fdt::reason(node));
  FitImage img{};
  img.name = fdt::node_name(fdt, node);
  if (img.name == nullptr) img.name = name;

  const char* type = get_string(fdt, node, "type");
  bool type_ok = false;
  if (type != nullptr) {
    switch (role) {
      case Role::kKernel: type_ok = str_eq(type, "kernel") || str_eq(type, "kernel_noload"); break;
      case Role::kRamdisk: type_ok = str_eq(type, "ramdisk"); break;
      case Role::kFdt: type_ok = str_eq(type, "flat_dt"); break;
    }
  }
  if (!type_ok)
    return MB_ERR(ErrorCode::kBadInput, "fit-type", "image %s used as %s has type \"%s\"",
                  img.name, role_name(role), type ? type : "(none)");
  const char* arch = get_string(fdt, node, "arch");
  if (role == Role::kKernel && arch != nullptr && !str_eq(arch, "arm64"))
    return MB_ERR(ErrorCode::kUnsupported, "fit-arch", "kernel image %s is for \"%s\", not arm64",
                  img.name, arch);

  const char* comp = get_string(fdt, node, "compression");
  if (comp == nullptr || str_eq(comp, "none")) {
    img.compression = Compression::kNone;
  } else if (str_eq(comp, "gzip") && role != Role::kFdt) {
    img.compression = Compression::kGzip;
  } else {
    return MB_ERR(ErrorCode::kUnsupported, "fit-compression",
                  "image %s (%s): unsupported compression \"%s\"; supported: none, gzip%s", img.name,
                  role_name(role), comp, role == Role::kFdt ? " (not for fdt)" : "");
  }

  int plen = 0;
  const uint8_t* embedded = static_cast<const uint8_t*>(fdt::getprop(fdt, node, "data", &plen));
  if (embedded != nullptr) {
    img.offset = static_cast<size_t>(embedded - data);
    img.size = static_cast<size_t>(plen);
  } else {
    // External data (mkimage -E): after the tree.
    uint64_t size = 0, where = 0;
    if (!get_uint(fdt, node, "data-size", &size))
      return MB_ERR(ErrorCode::kBadInput, "fit-data", "image %s has neither data nor data-size",
                    img.name);
    if (get_uint(fdt, node, "data-position", &where)) {
      // absolute offset in the payload
    } else if (get_uint(fdt, node, "data-offset", &where)) {
      // Relative to the end of the tree; a huge offset must not wrap around
      // onto the tree itself.
      uint64_t tree_end = align_up(fdt::total_size(fdt), 4);
      if (where > len || tree_end > len - where)
        return MB_ERR(ErrorCode::kBadInput, "fit-truncated",
                      "image %s data-offset %#lx lies past the %#zx-byte payload", img.name,
                      where, len);
      where += tree_end;
    } else {
      return MB_ERR(ErrorCode::kBadInput, "fit-data",
                    "image %s has data-size but no data-offset or data-position", img.name);
    }
    if (where > len || size > len - where)
      return MB_ERR(ErrorCode::kBadInput, "fit-truncated",
                    "image %s data [%#lx, +%#lx) lies outside the %#zx-byte payload", img.name,
                    where, size,
                    len);
    img.offset = static_cast<size_t>(where);
    img.size = static_cast<size_t>(size);
  }

  for (int h = fdt::first_child(fdt, node); h >= 0; h = fdt::next_sibling(fdt, h)) {
    const char* hname = fdt::node_name(fdt, h);
    if (hname == nullptr || std::strncmp(hname, "hash", 4) != 0) continue;
    MB_CHECK(verify_hash(fdt, h, img.name, data + img.offset, img.size));
  }
  return img;
}

Blob blob_of(const FitImage& img, const uint8_t* data, GuestPhys addr) {
  return Blob{addr + img.offset, img.size, data + img.offset};
}

}  // namespace

bool has_fdt_magic(const uint8_t* data, size_t len) {
  return data != nullptr && len >= 4 && data[0] == 0xd0 && data[1] == 0x0d && data[2] == 0xfe &&
         data[3] == 0xed;
}

Res<Payload> parse_fit(const uint8_t* data, size_t len, GuestPhys addr, const char* fit_config) {
  if (data == nullptr || len < fdt::kHeaderSize)
    return MB_ERR(ErrorCode::kBadInput, "fit-truncated", "FIT at %#lx: %zu bytes, header needs %zu",
                  addr.value, len, fdt::kHeaderSize);
  // The devicetree specification puts a blob on an 8-byte boundary (our
  // reader would cope; a misplaced FIT is more likely a wrong address).
  if (reinterpret_cast<uintptr_t>(data) % 8 != 0)
    return MB_ERR(ErrorCode::kBadInput, "fit-align", "FIT at %#lx is not 8-byte aligned",
                  addr.value);
  const void* fdt = data;
  int rc = fdt::check_header(fdt);
  if (rc != 0)
    return MB_ERR(ErrorCode::kBadInput, "fit-header", "FIT at %#lx: %s",
                  addr.value, fdt::reason(rc));
  // Trees older than v16 name nodes by full path, which the walk does not
  // read. mkimage writes v17.
  if (fdt::version(fdt) < 16)
    return MB_ERR(ErrorCode::kBadInput, "fit-header", "FIT at %#lx: FDT version %u, need 16 or later",
                  addr.value, fdt::version(fdt));
  size_t total = fdt::total_size(fdt);
  if (total > len)
    return MB_ERR(ErrorCode::kBadInput, "fit-truncated",
                  "FIT at %#lx: tree is %#zx bytes, payload only %#zx",
                  addr.value, total, len);
  rc = fdt::check_tree(fdt, total);
  if (rc != 0)
    return MB_ERR(ErrorCode::kBadInput, "fit-malformed", "FIT at %#lx: %s",
                  addr.value, fdt::reason(rc));

  int images = fdt::path_offset(fdt, "/images", sizeof "/images" - 1);
  int configs = fdt::path_offset(fdt, "/configurations", sizeof "/configurations" - 1);
  if (images < 0 || configs < 0)
    return MB_ERR(ErrorCode::kBadInput, "fit-structure", "FIT at %#lx: no %s node",
                  addr.value,
                  images < 0 ? "/images" : "/configurations");

  const char* want = fit_config;
  if (want == nullptr) {
    want = get_string(fdt, configs, "default");
    if (want == nullptr)
      return MB_ERR(ErrorCode::kBadInput, "fit-config",
                    "FIT at %#lx: no configuration named and /configurations has no default",
                    addr.value);
  }
  int conf = fdt::child_named(fdt, configs, want, std::strlen(want));
  if (conf < 0)
    return MB_ERR(ErrorCode::kBadInput, "fit-config", "FIT at %#lx: no configuration \"%s\"",
                  addr.value, want);

  Payload p{};
  p.kind = PayloadKind::kFit;
  p.fit_config = fdt::node_name(fdt, conf);

  // "fdt" may list several blobs (a base and overlays); we take the base.
  const char* kernel = fdt::stringlist_get(fdt, conf, "kernel", 0, nullptr);
  if (kernel == nullptr)
    return MB_ERR(ErrorCode::kBadInput, "fit-no-kernel", "FIT at %#lx: configuration %s has no kernel",
                  addr.value, p.fit_config);
  FitImage k = MB_TRY(load_image(data, len, images, kernel, Role::kKernel));
  p.kernel = blob_of(k, data, addr);
  p.kernel_compression = k.compression;
  p.kernel_name = k.name;
  if (k.compression == Compression::kNone) {
    (void)MB_TRY(parse_image(p.kernel.data, k.size));
  } else {
    (void)MB_TRY(gzip_header_size(p.kernel.data, k.size));
  }

  if (const char* rd = fdt::stringlist_get(fdt, conf, "ramdisk", 0, nullptr)) {
    FitImage r = MB_TRY(load_image(data, len, images, rd, Role::kRamdisk));
    p.ramdisk = blob_of(r, data, addr);
  }
  if (const char* dt = fdt::stringlist_get(fdt, conf, "fdt", 0, nullptr)) {
    FitImage d = MB_TRY(load_image(data, len, images, dt, Role::kFdt));
    p.fdt = blob_of(d, data, addr);
    if (d.size < fdt::kHeaderSize)
      return MB_ERR(ErrorCode::kBadInput, "fit-fdt", "fdt image %s at %#lx is %#zx bytes, no device tree",
                    d.name, p.fdt.addr.value, d.size);
    // Only the magic and totalsize: discovery checks the tree itself once it
    // is in place (FIT data is only 4-byte aligned).
    const uint8_t* b = p.fdt.data;
    uint32_t dt_total = uint32_t{b[4]} << 24 | uint32_t{b[5]} << 16 | uint32_t{b[6]} << 8 | b[7];
    if (!has_fdt_magic(b, d.size) || dt_total > d.size || dt_total < fdt::kHeaderSize)
      return MB_ERR(ErrorCode::kBadInput, "fit-fdt", "fdt image %s at %#lx is not a device tree",
                    d.name, p.fdt.addr.value);
  }
  return p;
}

}  // namespace mb::loader

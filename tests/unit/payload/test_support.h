// Host-side helpers for the payload tests: guest memory over a vector, temp
// directories, synthetic Images, gzip made with zlib.
#pragma once

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "magicboot/arena.h"
#include "magicboot/loader/payload/gzip.h"
#include "magicboot/loader/payload/image.h"
#include "magicboot/platform.h"
#include "magicboot_test/gzip.h"

namespace mb::loader::test {

using Bytes = std::vector<uint8_t>;

// Guest RAM [base, base + size) over a vector; anything outside faults.
class VectorMemory final : public GuestMemory {
 public:
  VectorMemory(GuestPhys base, size_t size, uint8_t fill = 0xA5) : base_(base), ram_(size, fill) {}

  Res<void> read(GuestPhys src, void* dst, size_t len) override {
    MB_CHECK(check(src, len, "read"));
    std::memcpy(dst, ram_.data() + (src - base_), len);
    return {};
  }
  Res<void> write(GuestPhys dst, const void* src, size_t len) override {
    MB_CHECK(check(dst, len, "write"));
    std::memcpy(ram_.data() + (dst - base_), src, len);
    ++writes;
    return {};
  }
  Res<void> copy(GuestPhys dst, GuestPhys src, size_t len) override {
    MB_CHECK(check(dst, len, "copy"));
    MB_CHECK(check(src, len, "copy"));
    std::memmove(ram_.data() + (dst - base_), ram_.data() + (src - base_), len);
    return {};
  }
  Res<void> fill(GuestPhys dst, uint8_t byte, size_t len) override {
    MB_CHECK(check(dst, len, "fill"));
    std::memset(ram_.data() + (dst - base_), byte, len);
    return {};
  }
  Res<const uint8_t*> view(GuestPhys b, size_t len) override {
    MB_CHECK(check(b, len, "view"));
    return static_cast<const uint8_t*>(ram_.data() + (b - base_));
  }

  const uint8_t* at(GuestPhys a) const { return ram_.data() + (a - base_); }
  std::vector<uint8_t>& ram() { return ram_; }
  size_t writes = 0;

 private:
  Res<void> check(GuestPhys a, size_t len, const char* what) {
    if (a < base_ || a - base_ > ram_.size() || len > ram_.size() - (a - base_))
      return MB_ERR(ErrorCode::kMemoryFault, "test-memory", "%s [%#lx, +%#zx) outside RAM", what,
                    a.value, len);
    return {};
  }
  GuestPhys base_;
  std::vector<uint8_t> ram_;
};

inline Bytes random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes b(n);
  for (auto& x : b) x = static_cast<uint8_t>(rng());
  return b;
}

// Compressible but not trivial: text-like runs with random bytes mixed in.
inline Bytes kernel_like_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = (rng() % 4 == 0) ? static_cast<uint8_t>(rng()) : static_cast<uint8_t>(i / 64);
  return b;
}

inline void put_le(Bytes& b, size_t off, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) b[off + i] = static_cast<uint8_t>(v >> (8 * i));
}

// A synthetic arm64 Image of file_size bytes (header + filler body).
inline Bytes make_image(size_t file_size, uint64_t image_size, uint64_t flags = 0xa,
                        uint64_t text_offset = 0, uint32_t seed = 1) {
  Bytes b = kernel_like_bytes(file_size, seed);
  std::memset(b.data(), 0, kImageHeaderSize);
  put_le(b, 0x00, 0x91005a4d, 4);  // "MZ" + add x13 (EFI stub shape)
  put_le(b, 0x08, text_offset, 8);
  put_le(b, 0x10, image_size, 8);
  put_le(b, 0x18, flags, 8);
  put_le(b, 0x38, kImageMagic, 4);
  return b;
}

// Guest RAM and an inflate destination for the gzip tests, and an arena of
// the size gunzip promises to need.
constexpr GuestPhys kRamBase{0x40000000};
constexpr GuestPhys kDst{0x40010000};

struct ArenaBuf {
  std::vector<uint8_t> buf = std::vector<uint8_t>(kGunzipArenaBytes);
  Arena arena{buf.data(), buf.size()};
};

using mb::test_support::gzip_bytes;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "mb-payload-XXXXXX").string();
    char* p = mkdtemp(tmpl.data());
    EXPECT_NE(p, nullptr);
    path_ = tmpl;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline void write_file(const std::filesystem::path& p, const Bytes& b) {
  std::ofstream f(p, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  ASSERT_TRUE(f.good()) << p;
}

inline void write_text(const std::filesystem::path& p, const std::string& s) {
  std::ofstream f(p);
  f << s;
  ASSERT_TRUE(f.good()) << p;
}

inline Bytes read_file(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

// Runs a shell command; returns its exit status.
inline int run(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()); }

inline std::string check_of(const Error& e) { return e.check; }

}  // namespace mb::loader::test

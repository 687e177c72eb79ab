// gzip (or raw-deflate) a buffer in a test, with zlib, optionally with a
// custom gzip header (FEXTRA, FNAME, ...).
#pragma once

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdint>
#include <vector>

namespace mb::test_support {

// zlib's deflate of `in`: window_bits as deflateInit2 takes them (15 + 16
// for a gzip member, -15 for a raw deflate stream).
inline std::vector<uint8_t> deflate_bytes(const std::vector<uint8_t>& in, int level, int window_bits,
                                          int strategy = Z_DEFAULT_STRATEGY, gz_header* header = nullptr) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, level, Z_DEFLATED, window_bits, 8, strategy), Z_OK);
  if (header != nullptr) {
    EXPECT_EQ(deflateSetHeader(&zs, header), Z_OK);
  }
  std::vector<uint8_t> out(deflateBound(&zs, in.size()) + 128);
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

inline std::vector<uint8_t> gzip_bytes(const std::vector<uint8_t>& in, int level = 6, gz_header* header = nullptr) {
  return deflate_bytes(in, level, 15 + 16, Z_DEFAULT_STRATEGY, header);
}

}  // namespace mb::test_support

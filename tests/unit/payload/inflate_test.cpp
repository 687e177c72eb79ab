// RawInflater against zlib: the same raw deflate streams (windowBits -15)
// must give the same bytes and the same stream length, every stop (kFull,
// kPaused) must leave a correct prefix, and every stream zlib refuses must be
// refused with a check name, including handcrafted bad ones.
#include "magicboot/loader/payload/inflate.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "test_support.h"

namespace mb::loader::test {
namespace {

constexpr size_t kNoPause = SIZE_MAX;

Bytes deflate_raw(const Bytes& in, int level, int strategy = Z_DEFAULT_STRATEGY) {
  return test_support::deflate_bytes(in, level, -15, strategy);
}

// zlib's reading of raw deflate bytes.
struct ZlibResult {
  bool complete = false;  // reached Z_STREAM_END
  int rc = Z_OK;
  Bytes out;
  size_t consumed = 0;
  std::string msg;  // zlib's reason for refusing
};
ZlibResult zlib_inflate_raw(const Bytes& in, size_t max_out = 4u << 20) {
  ZlibResult r;
  z_stream zs{};
  EXPECT_EQ(inflateInit2(&zs, -15), Z_OK);
  r.out.resize(max_out);
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = r.out.data();
  zs.avail_out = static_cast<uInt>(r.out.size());
  int rc;
  do rc = inflate(&zs, Z_NO_FLUSH);
  while (rc == Z_OK && zs.avail_out != 0 && zs.avail_in != 0);
  r.rc = rc;
  r.complete = rc == Z_STREAM_END;
  r.out.resize(zs.total_out);
  r.consumed = zs.total_in;
  if (zs.msg) r.msg = zs.msg;
  inflateEnd(&zs);
  return r;
}

// One RawInflater run over `in` into a buffer of `cap` bytes.
struct Decoded {
  Res<InflateStop> stop{InflateStop::kEnd};
  Bytes out;
  size_t pos = 0;
  size_t consumed = 0;
};
Decoded decode(const Bytes& in, size_t cap, size_t pause_step = 0) {
  ArenaBuf a;
  Decoded d;
  d.out.assign(cap, 0xA5);
  auto inf = RawInflater::create(a.arena, in.data(), in.size(), 0);
  EXPECT_TRUE(inf.ok());
  if (!inf.ok()) return d;
  for (;;) {
    const size_t pause = pause_step == 0 ? kNoPause : d.pos + pause_step;
    const size_t before = d.pos;
    d.stop = inf->run(d.out.data(), d.pos, cap, pause);
    if (!d.stop.ok() || *d.stop != InflateStop::kPaused) break;
    EXPECT_GE(d.pos, pause) << "paused early";
    EXPECT_GT(d.pos, before) << "paused without progress";
    if (d.pos <= before) break;
  }
  d.consumed = inf->consumed();
  return d;
}

// Checks `stream` (from zlib, for `plain`) decodes exactly, alone and with
// junk after it.
void expect_round_trip(const Bytes& plain, const Bytes& stream, const std::string& what) {
  SCOPED_TRACE(what);
  Decoded d = decode(stream, plain.size());
  ASSERT_TRUE(d.stop.ok()) << d.stop.error().check << ": " << d.stop.error().detail;
  EXPECT_EQ(*d.stop, InflateStop::kEnd);
  EXPECT_EQ(d.pos, plain.size());
  EXPECT_TRUE(d.out == plain) << "output differs";
  EXPECT_EQ(d.consumed, stream.size());

  Bytes junk = stream;
  const Bytes tail = random_bytes(100, 7);
  junk.insert(junk.end(), tail.begin(), tail.end());
  Decoded j = decode(junk, plain.size());
  ASSERT_TRUE(j.stop.ok()) << j.stop.error().check << ": " << j.stop.error().detail;
  EXPECT_EQ(*j.stop, InflateStop::kEnd);
  EXPECT_EQ(j.pos, plain.size());
  EXPECT_TRUE(j.out == plain) << "output differs with junk after the stream";
  EXPECT_EQ(j.consumed, stream.size());
  ZlibResult z = zlib_inflate_raw(junk, plain.size() + 1);
  EXPECT_TRUE(z.complete);
  EXPECT_EQ(z.consumed, stream.size()) << "zlib's own stream length";
}

struct Input {
  std::string name;
  Bytes bytes;
};

std::vector<Input> inputs() {
  constexpr size_t kMiB = 1 << 20;
  std::vector<Input> v;
  v.push_back({"empty", {}});
  v.push_back({"1 byte", {0x42}});
  v.push_back({"2 bytes", {0x42, 0x43}});
  v.push_back({"300 random", random_bytes(300, 1)});
  v.push_back({"1 MiB random", random_bytes(kMiB, 2)});
  v.push_back({"1 MiB text-like", kernel_like_bytes(kMiB, 3)});
  v.push_back({"1 MiB zeros", Bytes(kMiB, 0)});
  for (size_t period = 1; period <= 17; ++period) {
    const Bytes unit = random_bytes(period, static_cast<uint32_t>(100 + period));
    Bytes b(kMiB);
    for (size_t i = 0; i < b.size(); ++i) b[i] = unit[i % period];
    v.push_back({"1 MiB period " + std::to_string(period), std::move(b)});
  }
  return v;
}

struct Setting {
  const char* name;
  int level;
  int strategy;
};
constexpr Setting kSettings[] = {
    {"level 0 (stored)", 0, Z_DEFAULT_STRATEGY}, {"level 1", 1, Z_DEFAULT_STRATEGY},
    {"level 6", 6, Z_DEFAULT_STRATEGY},          {"level 9", 9, Z_DEFAULT_STRATEGY},
    {"Z_FIXED", 6, Z_FIXED},                     {"Z_HUFFMAN_ONLY", 6, Z_HUFFMAN_ONLY},
    {"Z_RLE", 6, Z_RLE},
};

TEST(Inflate, RoundTripsMatchZlib) {
  for (const Input& in : inputs())
    for (const Setting& s : kSettings)
      expect_round_trip(in.bytes, deflate_raw(in.bytes, s.level, s.strategy), in.name + ", " + s.name);
}

TEST(Inflate, PausingGivesTheSameOutput) {
  Bytes pattern(256 << 10);
  for (size_t i = 0; i < pattern.size(); ++i) pattern[i] = static_cast<uint8_t>("abcdefg"[i % 7]);
  const Bytes text = kernel_like_bytes(256 << 10, 11);
  const std::vector<std::pair<std::string, Bytes>> streams = {
      {"text level 6", deflate_raw(text, 6)},
      {"text stored", deflate_raw(text, 0)},
      {"text fixed", deflate_raw(text, 6, Z_FIXED)},
      {"period 7 level 9", deflate_raw(pattern, 9)},
  };
  const std::vector<const Bytes*> plains = {&text, &text, &text, &pattern};
  for (size_t s = 0; s < streams.size(); ++s) {
    const Bytes& plain = *plains[s];
    for (size_t k : {1u, 7u, 300u, 4096u}) {
      SCOPED_TRACE(streams[s].first + ", pause every " + std::to_string(k));
      Decoded d = decode(streams[s].second, plain.size(), k);
      ASSERT_TRUE(d.stop.ok()) << d.stop.error().detail;
      EXPECT_EQ(*d.stop, InflateStop::kEnd);
      EXPECT_EQ(d.pos, plain.size());
      EXPECT_TRUE(d.out == plain);
      EXPECT_EQ(d.consumed, streams[s].second.size());
    }
  }
}

// Decodes into out[0, end) followed by guard bytes: expects kFull with the
// true prefix (or kEnd when everything fits) and the guard untouched.
void expect_full_at(const Bytes& plain, const Bytes& stream, size_t end) {
  SCOPED_TRACE("end " + std::to_string(end));
  constexpr size_t kGuard = 64;
  ArenaBuf a;
  auto inf = RawInflater::create(a.arena, stream.data(), stream.size(), 0);
  ASSERT_TRUE(inf.ok());
  Bytes out(end + kGuard, 0xA5);
  size_t pos = 0;
  auto stop = inf->run(out.data(), pos, end, kNoPause);
  ASSERT_TRUE(stop.ok()) << stop.error().detail;
  EXPECT_EQ(*stop, end < plain.size() ? InflateStop::kFull : InflateStop::kEnd);
  EXPECT_EQ(pos, end < plain.size() ? end : plain.size());
  EXPECT_EQ(std::memcmp(out.data(), plain.data(), pos), 0) << "prefix differs";
  for (size_t i = end; i < out.size(); ++i) ASSERT_EQ(out[i], 0xA5) << "wrote at offset " << i << " past end";
}

TEST(Inflate, FullStopsAtEndWithTheTruePrefix) {
  const Bytes small = kernel_like_bytes(1000, 21);
  for (const Setting& s : kSettings) {
    SCOPED_TRACE(s.name);
    const Bytes stream = deflate_raw(small, s.level, s.strategy);
    for (size_t end = 0; end <= 300; ++end) expect_full_at(small, stream, end);
    expect_full_at(small, stream, small.size() - 1);
    expect_full_at(small, stream, small.size());
  }
  // Ends far enough in for the fast loops, with and without distance checks.
  const Bytes big = kernel_like_bytes(256 << 10, 22);
  const Bytes zeros(256 << 10, 0);
  for (const Bytes* plain : {&big, &zeros}) {
    const Bytes stream = deflate_raw(*plain, 9);
    for (size_t end : {1000u, 4097u, 32767u, 32768u, 32769u, 40000u, 100003u, 262143u})
      expect_full_at(*plain, stream, end);
  }
}

// Writes bits LSB first, as deflate does; Huffman codes go most significant
// bit first.
class BitWriter {
 public:
  void bits(uint32_t v, unsigned n) {
    for (unsigned i = 0; i < n; ++i) put_bit((v >> i) & 1);
  }
  void code(uint32_t c, unsigned len) {
    for (unsigned i = len; i-- > 0;) put_bit((c >> i) & 1);
  }
  void align() { nbits_ = (nbits_ + 7) & ~size_t{7}; }
  void byte(uint8_t b) {
    align();
    bits(b, 8);
  }
  Bytes done(size_t padding = 0) const {
    Bytes b = bytes_;
    b.resize(b.size() + padding, 0);
    return b;
  }

 private:
  void put_bit(unsigned bit) {
    if (nbits_ % 8 == 0) bytes_.push_back(0);
    bytes_.back() |= static_cast<uint8_t>(bit << (nbits_ % 8));
    ++nbits_;
  }
  Bytes bytes_;
  size_t nbits_ = 0;
};

// Canonical Huffman codes for code lengths (RFC 1951 3.2.2).
std::vector<uint32_t> canonical_codes(const std::vector<uint8_t>& lens) {
  unsigned count[16] = {};
  for (uint8_t l : lens) ++count[l];
  count[0] = 0;
  uint32_t next[16] = {};
  uint32_t c = 0;
  for (unsigned bits = 1; bits < 16; ++bits) next[bits] = c = (c + count[bits - 1]) << 1;
  std::vector<uint32_t> codes(lens.size());
  for (size_t i = 0; i < lens.size(); ++i)
    if (lens[i] != 0) codes[i] = next[lens[i]]++;
  return codes;
}

// A Huffman code, for writing symbols with it.
struct Code {
  std::vector<uint8_t> lens;
  std::vector<uint32_t> codes;
  explicit Code(std::vector<uint8_t> l) : lens(std::move(l)), codes(canonical_codes(lens)) {}
  void put(BitWriter& w, unsigned sym) const { w.code(codes.at(sym), lens.at(sym)); }
};

Code fixed_litlen() {
  std::vector<uint8_t> l(288);
  for (unsigned i = 0; i < 288; ++i) l[i] = i < 144 ? 8 : i < 256 ? 9 : i < 280 ? 7 : 8;
  return Code(l);
}
Code fixed_dist() { return Code(std::vector<uint8_t>(32, 5)); }

constexpr unsigned kClOrder[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};

// A complete code-length code over all 19 symbols: 13 of 4 bits, 6 of 5.
std::vector<uint8_t> all_codelen_lengths() {
  std::vector<uint8_t> l(19);
  for (unsigned i = 0; i < 19; ++i) l[i] = i < 13 ? 4 : 5;
  return l;
}

// A dynamic block header: counts, the code-length code (its first hclen
// entries in RFC order), then every length as a literal code-length symbol.
void dynamic_header(BitWriter& w, bool final, const std::vector<uint8_t>& litlen, const std::vector<uint8_t>& dist,
                    const std::vector<uint8_t>& cl_lens = all_codelen_lengths(), unsigned hclen = 19) {
  w.bits(final, 1);
  w.bits(2, 2);
  w.bits(static_cast<uint32_t>(litlen.size() - 257), 5);
  w.bits(static_cast<uint32_t>(dist.size() - 1), 5);
  w.bits(hclen - 4, 4);
  for (unsigned i = 0; i < hclen; ++i) w.bits(cl_lens[kClOrder[i]], 3);
  const Code cl(cl_lens);
  for (uint8_t l : litlen) cl.put(w, l);
  for (uint8_t l : dist) cl.put(w, l);
}

// Both decoders must refuse `bad`: ours with the given check name, zlib for
// the reason the test built it for (so a badly built stream cannot pass).
// our_reason: a part of our detail that says which check refused it (a
// stream refused later for another reason must not pass).
void expect_refused(const Bytes& bad, const char* check, const std::string& what, const char* zlib_reason,
                    const char* our_reason = "") {
  SCOPED_TRACE(what);
  Decoded d = decode(bad, 1 << 16);
  ASSERT_FALSE(d.stop.ok()) << "accepted, " << d.pos << " bytes out";
  EXPECT_STREQ(d.stop.error().check, check) << d.stop.error().detail;
  EXPECT_NE(std::string(d.stop.error().detail).find(our_reason), std::string::npos) << d.stop.error().detail;
  ZlibResult z = zlib_inflate_raw(bad, 1 << 16);
  EXPECT_FALSE(z.complete) << "zlib accepts it";
  EXPECT_EQ(z.rc, Z_DATA_ERROR) << "zlib's verdict";
  EXPECT_EQ(z.msg, zlib_reason);
}

TEST(Inflate, RefusesReservedBlockType) {
  BitWriter w;
  w.bits(1, 1);
  w.bits(3, 2);
  expect_refused(w.done(8), "gzip-corrupt", "block type 3", "invalid block type");
}

TEST(Inflate, RefusesStoredLengthMismatch) {
  BitWriter w;
  w.bits(1, 1);
  w.bits(0, 2);
  w.align();
  w.bits(5, 16);
  w.bits(0x1234, 16);  // not ~5
  expect_refused(w.done(8), "gzip-corrupt", "LEN != ~NLEN", "invalid stored block lengths");
}

TEST(Inflate, RefusesReservedFixedSymbols) {
  const Code lit = fixed_litlen(), dist = fixed_dist();
  for (unsigned sym : {286u, 287u}) {
    BitWriter w;
    w.bits(1, 1);
    w.bits(1, 2);
    lit.put(w, 'x');
    lit.put(w, sym);
    expect_refused(w.done(8), "gzip-corrupt", "literal/length " + std::to_string(sym), "invalid literal/length code");
  }
  for (unsigned sym : {30u, 31u}) {
    BitWriter w;
    w.bits(1, 1);
    w.bits(1, 2);
    lit.put(w, 'x');
    lit.put(w, 257);  // length 3
    dist.put(w, sym);
    lit.put(w, 256);
    expect_refused(w.done(8), "gzip-corrupt", "distance " + std::to_string(sym), "invalid distance code");
  }
}

TEST(Inflate, RefusesDistanceBeforeTheStart) {
  const Code lit = fixed_litlen(), dist = fixed_dist();
  {
    BitWriter w;  // the first symbol a match
    w.bits(1, 1);
    w.bits(1, 2);
    lit.put(w, 257);
    dist.put(w, 0);  // distance 1
    lit.put(w, 256);
    expect_refused(w.done(8), "gzip-corrupt", "match first", "invalid distance too far back");
  }
  {
    BitWriter w;  // three bytes out, distance 4
    w.bits(1, 1);
    w.bits(1, 2);
    for (char c : {'a', 'b', 'c'}) lit.put(w, static_cast<unsigned>(c));
    lit.put(w, 257);
    dist.put(w, 3);  // distance 4
    lit.put(w, 256);
    expect_refused(w.done(8), "gzip-corrupt", "distance 4 after 3 bytes", "invalid distance too far back");
  }
  {
    // A stored block of 100 bytes, then a fixed block with distance 101.
    BitWriter w;
    w.bits(0, 1);
    w.bits(0, 2);
    w.align();
    w.bits(100, 16);
    w.bits(static_cast<uint16_t>(~100u), 16);
    for (int i = 0; i < 100; ++i) w.byte(static_cast<uint8_t>(i));
    w.bits(1, 1);
    w.bits(1, 2);
    lit.put(w, 257);
    dist.put(w, 13);  // 97..128 with 5 extra bits
    w.bits(101 - 97, 5);
    lit.put(w, 256);
    expect_refused(w.done(64), "gzip-corrupt", "distance 101 after 100 bytes", "invalid distance too far back");
  }
}

TEST(Inflate, RefusesTooManyCodes) {
  for (auto [hlit, hdist] : {std::pair{30u, 0u}, std::pair{31u, 0u}, std::pair{0u, 30u}, std::pair{0u, 31u}}) {
    BitWriter w;
    w.bits(1, 1);
    w.bits(2, 2);
    w.bits(hlit, 5);
    w.bits(hdist, 5);
    w.bits(15, 4);
    expect_refused(w.done(64), "gzip-corrupt", "HLIT " + std::to_string(hlit) + " HDIST " + std::to_string(hdist),
                   "too many length or distance symbols", "(at most 286 and 30)");
  }
}

TEST(Inflate, RefusesRepeatBeforeTheFirstLength) {
  // Code-length code: symbols 0 and 16, one bit each (HCLEN 0: the first
  // four in RFC order are 16, 17, 18, 0).
  BitWriter w;
  w.bits(1, 1);
  w.bits(2, 2);
  w.bits(0, 5);
  w.bits(0, 5);
  w.bits(0, 4);
  for (unsigned l : {1u, 0u, 0u, 1u}) w.bits(l, 3);
  std::vector<uint8_t> cl(19);
  cl[0] = 1;
  cl[16] = 1;
  Code(cl).put(w, 16);
  w.bits(0, 2);
  expect_refused(w.done(64), "gzip-corrupt", "symbol 16 first", "invalid bit length repeat");
}

std::vector<uint8_t> litlen_lengths(std::initializer_list<std::pair<unsigned, uint8_t>> set, size_t n = 258) {
  std::vector<uint8_t> l(n);
  for (auto [sym, len] : set) l[sym] = len;
  return l;
}

TEST(Inflate, RefusesOverSubscribedAndIncompleteCodes) {
  {
    BitWriter w;
    dynamic_header(w, true, litlen_lengths({{'a', 1}, {'b', 1}, {256, 1}}), {1, 1});
    expect_refused(w.done(64), "gzip-corrupt", "over-subscribed literal/length code", "invalid literal/lengths set");
  }
  {
    BitWriter w;
    dynamic_header(w, true, litlen_lengths({{'a', 1}, {256, 2}}), {1, 1});
    expect_refused(w.done(64), "gzip-corrupt", "incomplete literal/length code", "invalid literal/lengths set");
  }
  {
    BitWriter w;
    dynamic_header(w, true, litlen_lengths({{'a', 1}, {256, 2}, {257, 2}}), {1, 1, 1});
    expect_refused(w.done(64), "gzip-corrupt", "over-subscribed distance code", "invalid distances set");
  }
  {
    BitWriter w;
    dynamic_header(w, true, litlen_lengths({{'a', 1}, {256, 2}, {257, 2}}), {2, 1});
    expect_refused(w.done(64), "gzip-corrupt", "incomplete distance code (not a single one-bit code)", "invalid distances set");
  }
  {
    // A complete code without symbol 256: a block that could never end.
    BitWriter w;
    dynamic_header(w, true, litlen_lengths({{'a', 1}, {'b', 1}}), {1, 1});
    expect_refused(w.done(64), "gzip-corrupt", "no end-of-block code", "invalid code -- missing end-of-block",
                   "no end-of-block code");
  }
  {
    // Code-length code over-subscribed: three one-bit codes.
    std::vector<uint8_t> cl(19);
    cl[0] = cl[1] = cl[2] = 1;
    BitWriter w;
    w.bits(1, 1);
    w.bits(2, 2);
    w.bits(0, 5);
    w.bits(0, 5);
    w.bits(15, 4);
    for (unsigned i = 0; i < 19; ++i) w.bits(cl[kClOrder[i]], 3);
    expect_refused(w.done(64), "gzip-corrupt", "over-subscribed code-length code", "invalid code lengths set");
  }
}

// Decodes `stream` with both decoders and expects the same bytes.
void expect_same_as_zlib(const Bytes& stream, const Bytes& want, const std::string& what) {
  SCOPED_TRACE(what);
  ZlibResult z = zlib_inflate_raw(stream, 1 << 16);
  ASSERT_TRUE(z.complete) << "zlib rc " << z.rc;
  EXPECT_TRUE(z.out == want) << "the test's own stream is not what it meant";
  Decoded d = decode(stream, z.out.size());
  ASSERT_TRUE(d.stop.ok()) << d.stop.error().check << ": " << d.stop.error().detail;
  EXPECT_EQ(*d.stop, InflateStop::kEnd);
  EXPECT_TRUE(d.out == z.out);
  EXPECT_EQ(d.consumed, z.consumed);
}

TEST(Inflate, AcceptsASingleOneBitDistanceCode) {
  const Code lit(litlen_lengths({{'a', 1}, {256, 2}, {257, 2}}));
  const Code dist(std::vector<uint8_t>{1});
  BitWriter w;
  dynamic_header(w, true, lit.lens, dist.lens);
  lit.put(w, 'a');
  lit.put(w, 257);  // length 3
  dist.put(w, 0);   // distance 1
  lit.put(w, 256);
  expect_same_as_zlib(w.done(), {'a', 'a', 'a', 'a'}, "one distance code of one bit");

  // The unused half of that code is invalid for both.
  BitWriter bad;
  dynamic_header(bad, true, lit.lens, dist.lens);
  lit.put(bad, 'a');
  lit.put(bad, 257);
  bad.code(1, 1);  // the hole
  lit.put(bad, 256);
  expect_refused(bad.done(8), "gzip-corrupt", "the missing distance code", "invalid distance code");
}

TEST(Inflate, AcceptsASingleOneBitLiteralLengthCode) {
  // Only end-of-block, one bit: zlib accepts the incomplete one-bit code
  // for literal/length too.
  const Code lit(litlen_lengths({{256, 1}}, 257));
  BitWriter w;
  dynamic_header(w, false, lit.lens, {1});
  lit.put(w, 256);
  w.bits(1, 1);  // a final fixed block: 'z'
  w.bits(1, 2);
  fixed_litlen().put(w, 'z');
  fixed_litlen().put(w, 256);
  expect_same_as_zlib(w.done(), {'z'}, "end-of-block alone");
}

TEST(Inflate, ReadsAll19CodeLengthCodeLengths) {
  // HCLEN 15: 4 + 14 + 57 bits of header before the first code length.
  const Code lit(litlen_lengths({{'a', 2}, {'b', 2}, {256, 2}, {257, 2}}));
  const Code dist(std::vector<uint8_t>{1, 1});
  Bytes want = {'x'};
  BitWriter w;
  w.bits(0, 1);  // a fixed block first, so the dynamic header starts mid-byte
  w.bits(1, 2);
  fixed_litlen().put(w, 'x');
  fixed_litlen().put(w, 256);
  dynamic_header(w, true, lit.lens, dist.lens);
  lit.put(w, 'a');
  lit.put(w, 'b');
  lit.put(w, 257);
  dist.put(w, 0);  // distance 1: "bbb"
  lit.put(w, 256);
  for (char c : {'a', 'b', 'b', 'b', 'b'}) want.push_back(static_cast<uint8_t>(c));
  expect_same_as_zlib(w.done(), want, "HCLEN 15");
}

TEST(Inflate, CodeLengthHeaderAtEveryBitAlignment) {
  // 9-bit fixed literals (144..255) shift the dynamic header's start by one
  // bit each, so the 57-bit code-length code lands on every alignment.
  const Code lit(litlen_lengths({{'a', 2}, {'b', 2}, {256, 2}, {257, 2}}));
  const Code dist(std::vector<uint8_t>{1, 1});
  for (unsigned shift = 0; shift < 8; ++shift) {
    BitWriter w;
    Bytes want;
    w.bits(0, 1);
    w.bits(1, 2);
    for (unsigned i = 0; i < shift; ++i) {
      fixed_litlen().put(w, 200 + i);
      want.push_back(static_cast<uint8_t>(200 + i));
    }
    fixed_litlen().put(w, 256);
    dynamic_header(w, true, lit.lens, dist.lens);
    lit.put(w, 'a');
    lit.put(w, 257);
    dist.put(w, 0);
    lit.put(w, 256);
    for (char c : {'a', 'a', 'a', 'a'}) want.push_back(static_cast<uint8_t>(c));
    expect_same_as_zlib(w.done(), want, "shift " + std::to_string(shift));
  }
}

TEST(Inflate, EveryTruncationIsRefused) {
  const Bytes text = kernel_like_bytes(6000, 31);
  const std::vector<std::pair<std::string, Bytes>> streams = {
      {"level 6", deflate_raw(text, 6)},
      {"stored", deflate_raw(random_bytes(1800, 32), 0)},
      {"fixed", deflate_raw(text, 6, Z_FIXED)},
  };
  for (const auto& [name, stream] : streams) {
    SCOPED_TRACE(name + ", " + std::to_string(stream.size()) + " bytes");
    ASSERT_GT(stream.size(), 1000u);
    for (size_t cut = 0; cut < stream.size(); ++cut) {
      SCOPED_TRACE("cut at " + std::to_string(cut));
      const Bytes prefix(stream.begin(), stream.begin() + static_cast<ptrdiff_t>(cut));  // exactly cut bytes
      Decoded d = decode(prefix, 1 << 16);
      ASSERT_FALSE(d.stop.ok()) << "a truncated stream decoded: " << d.pos << " bytes";
      const std::string check = d.stop.error().check;
      EXPECT_TRUE(check == "gzip-truncated" || check == "gzip-corrupt") << check;
      EXPECT_FALSE(zlib_inflate_raw(prefix, 1 << 16).complete);
    }
  }
}

}  // namespace
}  // namespace mb::loader::test

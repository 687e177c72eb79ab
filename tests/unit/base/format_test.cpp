// mb::format_to against glibc's snprintf: every combination of the flags,
// widths, precisions and lengths the loader's messages use (and more), on
// edge values; then truncation and the documented differences.
#include "magicboot/format.h"

#include <gtest/gtest.h>

#include <climits>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#pragma GCC diagnostic ignored "-Wformat"

namespace mb {
namespace {

template <class... A>
void expect_same(const std::string& fmt, A... args) {
  char ours[300], theirs[300];
  const int n_ours = format_to(ours, sizeof ours, fmt.c_str(), args...);
  const int n_theirs = snprintf(theirs, sizeof theirs, fmt.c_str(), args...);
  EXPECT_EQ(std::string(ours), std::string(theirs)) << "format \"" << fmt << "\"";
  EXPECT_EQ(n_ours, n_theirs) << "format \"" << fmt << "\"";
}

const std::vector<std::string> kIntFlags = {"", "-", "0", "#", "+", " ", "-#", "0#", "+0", "- ", "-0"};
const std::vector<std::string> kWidths = {"", "1", "7", "20", "25"};
const std::vector<std::string> kPrecisions = {"", ".0", ".1", ".5", ".22"};

TEST(Format, IntegersMatchGlibc) {
  const std::vector<int64_t> values = {0, 1, -1, 7, 42, -42, 255, 0x1234abcd, INT_MIN, INT_MAX,
                                       INT64_MIN, INT64_MAX, static_cast<int64_t>(0x8000000000000000ull)};
  int checked = 0;
  for (const auto& flags : kIntFlags)
    for (const auto& width : kWidths)
      for (const auto& precision : kPrecisions)
        for (const char* conv : {"d", "i", "u", "x", "X"}) {
          const std::string spec = "[%" + flags + width + precision;
          for (int64_t v : values) {
            expect_same(spec + conv + "]", static_cast<int>(v));
            expect_same(spec + "l" + conv + "]", static_cast<long>(v));
            expect_same(spec + "ll" + conv + "]", static_cast<long long>(v));
            expect_same(spec + "z" + conv + "]", static_cast<size_t>(v));
            expect_same(spec + "h" + conv + "]", static_cast<int>(v));
            expect_same(spec + "hh" + conv + "]", static_cast<int>(v));
            checked += 6;
          }
        }
  EXPECT_GT(checked, 30000);
}

TEST(Format, StringsCharsAndPercentMatchGlibc) {
  for (const char* flags : {"", "-"})
    for (const auto& width : kWidths)
      for (const char* precision : {"", ".0", ".2", ".40"})
        for (const char* v : {"", "a", "hello world", "RAM bank [0x40000000, 0x60000000)"})
          expect_same(std::string("<%") + flags + width + precision + "s>", v);
  for (const char* spec : {"%c", "%-3c|", "%3c|"}) expect_same(spec, 'A');
  expect_same("100%% of %s", "it");
  expect_same("%s", static_cast<const char*>(nullptr));
  expect_same("%*d|%-*d|%*d", 6, 42, 6, 42, -6, 42);
  expect_same("%.*s|%.*s", 3, "abcdef", -1, "abcdef");
  expect_same("%p %p", reinterpret_cast<void*>(0x40200000), reinterpret_cast<void*>(1));
  // The loader's own formats, as written in its sources.
  expect_same("  [0x%016llx, 0x%016llx) %-7s %s", 0x40000000ull, 0x80000000ull, "1 GiB", "free RAM");
  expect_same("%#011llx|%09u|%02x|%04x|%.40s", 0x1234ull, 77u, 5u, 0xbeefu, "xen,xen-4.17");
}

TEST(Format, TruncatesLikeSnprintf) {
  char buf[8];
  EXPECT_EQ(format_to(buf, sizeof buf, "%s-%d", "abcdef", 1234), 11);
  EXPECT_STREQ(buf, "abcdef-");
  EXPECT_EQ(format_to(buf, 1, "%d", 5), 1);
  EXPECT_STREQ(buf, "");
  EXPECT_EQ(format_to(nullptr, 0, "%#llx", 0x1234ull), 6);
}

TEST(Format, DocumentedDifferencesFromGlibc) {
  char buf[32];
  format_to(buf, sizeof buf, "%p", static_cast<void*>(nullptr));
  EXPECT_STREQ(buf, "0x0");  // glibc: "(nil)"
  format_to(buf, sizeof buf, "%f|%o|%", 1.5, 8);
  EXPECT_STREQ(buf, "%f|%o|%");  // not supported: copied out
}

// human_size: whole units as integers, the rest to one decimal (half up),
// checked against the same rule computed in floating point.
TEST(HumanSize, WholeUnitsAndOneDecimal) {
  const std::pair<uint64_t, const char*> cases[] = {
      {0, "0 B"},
      {1, "1 B"},
      {602, "602 B"},
      {1023, "1023 B"},
      {1024, "1 KiB"},
      {1025, "1.0 KiB"},
      {1536, "1.5 KiB"},
      {128 * 1024, "128 KiB"},
      {1020 * 1024, "1020 KiB"},
      {27983872, "26.7 MiB"},    // the Debian kernel's image_size
      {2092492, "2.0 MiB"},      // just under 2 MiB: rounded, so a decimal
      {uint64_t{2} << 20, "2 MiB"},
      {(uint64_t{1} << 30) - 1, "1.0 GiB"},  // 1023.99... MiB rounds up a unit
      {uint64_t{3} << 30, "3 GiB"},
      {(uint64_t{3} << 30) + (uint64_t{1} << 29), "3.5 GiB"},
      {uint64_t{1} << 40, "1 TiB"},
      {uint64_t{5000} << 40, "5000 TiB"},
      {UINT64_MAX, "16777216.0 TiB"},
  };
  for (const auto& [bytes, want] : cases) EXPECT_STREQ(human_size(bytes).text, want) << bytes;
}

TEST(HumanSize, MatchesTheRuleOnManySizes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  uint64_t x = 1;
  for (int i = 0; i < 20000; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    const uint64_t bytes = x >> (x % 40 + 16);  // sizes from bytes to ~TiB
    int u = 0;
    while (u < 4 && (bytes >> (10 * (u + 1))) != 0) ++u;
    const uint64_t unit = uint64_t{1} << (10 * u);
    std::string want;
    char buf[40];
    if (bytes % unit == 0) {
      snprintf(buf, sizeof buf, "%llu %s", (unsigned long long)(bytes / unit), units[u]);
    } else {
      // Half up on tenths: floor(bytes * 10 / unit + 0.5), exact in long double.
      auto tenths = static_cast<unsigned long long>((static_cast<long double>(bytes) * 10 / unit) + 0.5L);
      if (tenths >= 10240 && u < 4) tenths = 10, ++u;
      snprintf(buf, sizeof buf, "%llu.%llu %s", tenths / 10, tenths % 10, units[u]);
    }
    ASSERT_STREQ(human_size(bytes).text, buf) << bytes;
  }
}

}  // namespace
}  // namespace mb

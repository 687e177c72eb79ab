#include "magicboot/error.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace mb {
namespace {

Res<int> parse_positive(int v) {
  if (v <= 0) return MB_ERR(ErrorCode::kBadInput, "positive", "value %d at %#lx", v, uint64_t{0x40000000});
  return v;
}

Res<int> doubled(int v) {
  int x = MB_TRY(parse_positive(v));
  return 2 * x;
}

Res<void> check(int v) {
  MB_CHECK(parse_positive(v));
  return {};
}

TEST(Result, HoldsValueOrErrorNeverBoth) {
  auto ok = doubled(21);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 42);

  auto bad = doubled(-1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kBadInput);
  EXPECT_STREQ(bad.error().check, "positive");
  EXPECT_STREQ(bad.error().detail, "value -1 at 0x40000000");
}

TEST(Result, VoidResultPropagates) {
  EXPECT_TRUE(check(1).ok());
  auto r = check(0);
  ASSERT_FALSE(r.ok());
  EXPECT_STREQ(r.error().check, "positive");
}

TEST(Result, NonTrivialValuesAreCopiedAndDestroyed) {
  Result<std::string, Error> a{std::string(100, 'x')};
  Result<std::string, Error> b = a;
  a = Result<std::string, Error>{MB_ERR(ErrorCode::kOverlap, "c", "d")};
  EXPECT_FALSE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->size(), 100u);
}

// The wrong alternative stops loudly (result_misuse) instead of reading the
// other one's bytes: a failed Result has no value, a good one no error.
TEST(ResultMisuse, ValueOfAnErrorStops) {
  Res<int> bad = MB_ERR(ErrorCode::kBadInput, "x", "y");
  EXPECT_DEATH((void)bad.value(), "Result misuse: value of a Result that holds an error");
  EXPECT_DEATH((void)*bad, "Result misuse");
  const Res<std::string> text = MB_ERR(ErrorCode::kBadInput, "x", "y");
  EXPECT_DEATH((void)text->size(), "Result misuse");
}

TEST(ResultMisuse, ErrorOfAValueStops) {
  Res<int> good = 7;
  EXPECT_DEATH((void)good.error(), "Result misuse: error\\(\\) of a Result that holds a value");
  Res<void> done;
  EXPECT_DEATH((void)done.error(), "Result misuse: error\\(\\) of a Result that holds a value");
  enum class Errno { kEINVAL };  // a plain-value error type, as the hypercall layer's
  Result<int, Errno> hyp = 3;
  EXPECT_DEATH((void)hyp.error(), "Result misuse");
}

TEST(ResultMisuse, TheRightAlternativeIsFine) {
  Res<int> good = 7;
  EXPECT_EQ(good.value(), 7);
  Res<int> bad = MB_ERR(ErrorCode::kBadInput, "x", "y");
  EXPECT_STREQ(bad.error().check, "x");
}

TEST(Error, DetailIsTruncatedNotOverflowed) {
  std::string long_text(1000, 'a');
  Error e = Error::make(ErrorCode::kNoMemory, "x", "%s", long_text.c_str());
  EXPECT_EQ(std::strlen(e.detail), sizeof e.detail - 1);
  EXPECT_STREQ(to_string(ErrorCode::kMemoryFault), "memory fault");
}

}  // namespace
}  // namespace mb

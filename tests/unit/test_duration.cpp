#include <gtest/gtest.h>

#include "core/duration.h"

using namespace tierscope;
using namespace std::chrono_literals;

TEST(Duration, ParsesUnitsAndBareSeconds) {
  EXPECT_EQ(parse_duration("250ms"), 250ms);
  EXPECT_EQ(parse_duration("1s"), 1000ms);
  EXPECT_EQ(parse_duration("1.5s"), 1500ms);
  EXPECT_EQ(parse_duration("2m"), 120000ms);
  EXPECT_EQ(parse_duration("1h"), 3600000ms);
  EXPECT_EQ(parse_duration("0.5"), 500ms);
  EXPECT_EQ(parse_duration(" 15s "), 15000ms);
}

TEST(Duration, RejectsMalformedNegativeAndSubMillisecond) {
  for (auto bad : {"", "s", "ms", "-1s", "+1s", "1x", "1 s", "0.0001s", "1e400s", "abc", "1.5ms"})
    EXPECT_FALSE(parse_duration(bad)) << bad;
}

TEST(Duration, FormatsTheShortestExactSpelling) {
  EXPECT_EQ(format_duration(250ms), "250ms");
  EXPECT_EQ(format_duration(1000ms), "1s");
  EXPECT_EQ(format_duration(1500ms), "1500ms");
  EXPECT_EQ(format_duration(90000ms), "90s");
}

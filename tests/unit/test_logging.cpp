#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "core/logging.h"
#include "test_util.h"

using namespace tierscope;

using tierscope::testing::drain;

TEST(Logging, JournalLinesCarryPriorityPrefixes) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  {
    Logger log(LogLevel::debug, p[1], true);
    log.error("e");
    log.warn("w");
    log.info("i");
    log.debug("d\nsecond line");
  }
  ::close(p[1]);
  EXPECT_EQ(drain(p[0]), "<3>e\n<4>w\n<6>i\n<7>d second line\n");
  ::close(p[0]);
}

TEST(Logging, PlainLinesHaveTimestampAndLevelAndRespectTheLevel) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  {
    Logger log(LogLevel::warn, p[1], false);
    log.info("hidden");
    log.warn("shown");
    log.set_level(LogLevel::info);
    log.info("now shown");
  }
  ::close(p[1]);
  auto out = drain(p[0]);
  ::close(p[0]);
  EXPECT_EQ(out.find("hidden"), std::string::npos);
  ASSERT_NE(out.find(" warn shown\n"), std::string::npos);
  EXPECT_NE(out.find(" info now shown\n"), std::string::npos);
  EXPECT_EQ(out[4], '-');   // 2026-...
  EXPECT_EQ(out[23], 'Z');  // ...T01:02:03.456Z
}

TEST(Logging, DetectsJournalStreamByDeviceAndInode) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  struct stat st{};
  ASSERT_EQ(::fstat(p[1], &st), 0);
  std::string env = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  ::setenv("JOURNAL_STREAM", env.c_str(), 1);
  EXPECT_TRUE(stderr_is_journal(p[1]));
  ::setenv("JOURNAL_STREAM", "1:2", 1);
  EXPECT_FALSE(stderr_is_journal(p[1]));
  ::unsetenv("JOURNAL_STREAM");
  EXPECT_FALSE(stderr_is_journal(p[1]));
  ::close(p[0]);
  ::close(p[1]);
}

TEST(Logging, LevelNames) {
  EXPECT_EQ(parse_log_level("warning"), LogLevel::warn);
  EXPECT_FALSE(parse_log_level("trace"));
  EXPECT_EQ(to_string(LogLevel::debug), "debug");
}

namespace {
using Clock = LogRateLimiter::Clock;
Clock::time_point at(int seconds) { return Clock::time_point{} + std::chrono::hours(1) + std::chrono::seconds(seconds); }
}  // namespace

TEST(LogRateLimit, IdenticalLinesPastTheBurstAreSuppressedAndCounted) {
  LogRateLimiter lim({std::chrono::seconds(60), 2, 1000, std::chrono::seconds(10)});
  EXPECT_TRUE(lim.admit("probe nvme failed", at(0)).write);
  EXPECT_TRUE(lim.admit("probe nvme failed", at(1)).write);
  EXPECT_FALSE(lim.admit("probe nvme failed", at(2)).write);
  EXPECT_FALSE(lim.admit("probe nvme failed", at(59)).write);
  EXPECT_TRUE(lim.admit("another line", at(59)).write);  // other lines are independent
  auto v = lim.admit("probe nvme failed", at(60));         // a new window
  EXPECT_TRUE(v.write);
  EXPECT_EQ(v.repeats, 2u);
  EXPECT_EQ(lim.admit("probe nvme failed", at(61)).repeats, 0u);
}

TEST(LogRateLimit, BurstLimitDropsAndReportsTheCount) {
  LogRateLimiter lim({std::chrono::seconds(60), 5, 3, std::chrono::seconds(10)});
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(lim.admit("line " + std::to_string(i), at(0)).write);
  for (int i = 3; i < 10; ++i) EXPECT_FALSE(lim.admit("line " + std::to_string(i), at(5)).write);
  auto v = lim.admit("line 10", at(10));
  EXPECT_TRUE(v.write);
  EXPECT_EQ(v.dropped, 7u);
  EXPECT_EQ(lim.admit("line 11", at(10)).dropped, 0u);
}

TEST(LogRateLimit, LoggerWritesOneLinePerEventAndTheSuppressedCount) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  {
    Logger log(LogLevel::info, p[1], true);
    int now = 0;
    log.set_clock([&now] { return at(now); });
    log.set_rate_limits({std::chrono::seconds(60), 1, 2, std::chrono::seconds(10)});
    for (int i = 0; i < 50; ++i) log.warn("flood");  // 1 written, 49 suppressed
    log.info("a");
    log.info("b");  // burst of 2 in this window exhausted (flood + a)
    now = 61;
    log.warn("flood");
  }
  ::close(p[1]);
  EXPECT_EQ(drain(p[0]),
            "<4>flood\n<6>a\n<4>1 log lines dropped by the rate limit\n"
            "<4>flood (49 identical lines suppressed since it was last logged)\n");
  ::close(p[0]);
}

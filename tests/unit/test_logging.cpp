#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "daemon/logging.h"

using namespace tierscope;

namespace {
std::string drain(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  return out;
}
}  // namespace

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

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <string>

#include "core/file_cache.h"
#include "test_util.h"

using namespace tierscope;
using tierscope::testing::TempDir;

TEST(FileCache, RereadsChangedContentThroughTheSameDescriptor) {
  TempDir t;
  auto p = t.write("f", "first");
  FileCache files;
  std::string buf;
  ASSERT_EQ(files.read(p, buf), 0);
  EXPECT_EQ(buf, "first");
  // Rewrite in place (same inode): the cached descriptor sees the new content.
  { std::ofstream(p, std::ios::binary | std::ios::trunc) << "second, longer"; }
  ASSERT_EQ(files.read(p, buf), 0);
  EXPECT_EQ(buf, "second, longer");
  EXPECT_EQ(files.open_files(), 1u);
}

TEST(FileCache, ReadsFilesLargerThanItsInitialBuffer) {
  TempDir t;
  std::string big(1 << 20, 'x');
  big += "end";
  auto p = t.write("big", big);
  FileCache files;
  std::string buf;
  ASSERT_EQ(files.read(p, buf), 0);
  EXPECT_EQ(buf, big);
}

TEST(FileCache, MissingFileReturnsErrnoAndEmptiesBuffer) {
  TempDir t;
  FileCache files;
  std::string buf = "stale";
  EXPECT_EQ(files.read(t.path() / "absent", buf), ENOENT);
  EXPECT_TRUE(buf.empty());
  EXPECT_EQ(files.open_files(), 0u);
}

TEST(FileCache, AbsentFilesAreRememberedUntilTheRecheck) {
  TempDir t;
  FileCache files;
  std::string buf;
  auto p = t.path() / "irq";
  EXPECT_EQ(files.read(p, buf), ENOENT);
  t.write("irq", "full total=1\n");  // appears: not seen before the recheck time
  EXPECT_EQ(files.read(p, buf), ENOENT);
  EXPECT_TRUE(buf.empty());
  EXPECT_EQ(files.open_files(), 0u);
  files.sweep();
  files.sweep();  // not read since the last sweep: forgotten, so the next read looks again
  EXPECT_EQ(files.read(p, buf), 0);
  EXPECT_EQ(buf, "full total=1\n");
}

TEST(FileCache, SweepClosesFilesNotReadSinceLastSweep) {
  TempDir t;
  auto a = t.write("a", "1");
  auto b = t.write("b", "2");
  FileCache files;
  std::string buf;
  files.read(a, buf);
  files.read(b, buf);
  files.sweep();  // both were read: kept
  EXPECT_EQ(files.open_files(), 2u);
  files.read(a, buf);
  files.sweep();  // b not read since the last sweep: closed
  EXPECT_EQ(files.open_files(), 1u);
}

TEST(FileCache, ReadsProcfsRepeatedly) {
  FileCache files;
  std::string first, second;
  ASSERT_EQ(files.read("/proc/self/stat", first), 0);
  ASSERT_EQ(files.read("/proc/self/stat", second), 0);
  EXPECT_FALSE(first.empty());
  EXPECT_EQ(first.substr(0, first.find(' ')), second.substr(0, second.find(' ')));  // same pid
}

TEST(FileCache, DescribeErrnoNamesPathAndReason) {
  EXPECT_EQ(describe_errno("/proc/x", ENOENT), "/proc/x: No such file or directory");
}

TEST(FileCache, AttributeModeReadsSmallFilesWhole) {
  TempDir t;
  auto p = t.write("model", "PHISON AI100E 2TB\n");
  FileCache files;
  std::string buf;
  ASSERT_EQ(files.read(p, buf, FileCache::Read::attribute), 0);
  EXPECT_EQ(buf, "PHISON AI100E 2TB\n");
  std::string big(10000, 'y');  // larger than the first buffer: still read whole
  auto q = t.write("big", big);
  ASSERT_EQ(files.read(q, buf, FileCache::Read::attribute), 0);
  EXPECT_EQ(buf, big);
}

TEST(FileCache, ProcfsFilesLargerThanAPageAreReadToTheEnd) {
  // /proc/self/maps of a test binary spans several seq_file pages.
  FileCache files;
  std::string buf;
  ASSERT_EQ(files.read("/proc/self/maps", buf), 0);
  EXPECT_GT(buf.size(), 4096u);
  EXPECT_EQ(buf.back(), '\n');
  EXPECT_NE(buf.find("[stack]"), std::string::npos);
}

// A FIFO put where a kernel file belongs: refused at once, never waited on
// (a blocking open would wait for a writer forever).
TEST(FileCache, FifoIsRefusedWithoutWaiting) {
  TempDir t;
  auto p = t.path() / "diskstats";
  ASSERT_EQ(::mkfifo(p.c_str(), 0600), 0);
  FileCache files;
  std::string buf = "stale";
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(files.read(p, buf), kNotRegularFile);
  EXPECT_TRUE(buf.empty());
  EXPECT_EQ(read_uncached(p, buf), kNotRegularFile);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(files.open_files(), 0u);
  EXPECT_NE(describe_errno(p, kNotRegularFile).find("not a regular file"), std::string::npos);
}

// /dev/zero behind a symlink in a root: an endless device, refused before a
// byte is read (reading it would fill memory).
TEST(FileCache, EndlessDeviceBehindASymlinkIsRefused) {
  TempDir t;
  auto p = t.path() / "meminfo";
  std::filesystem::create_symlink("/dev/zero", p);
  FileCache files;
  std::string buf;
  EXPECT_EQ(files.read(p, buf), kNotRegularFile);
  EXPECT_EQ(read_uncached(p, buf), kNotRegularFile);
  EXPECT_TRUE(buf.empty());
  EXPECT_EQ(files.read(t.path(), buf), kNotRegularFile);  // a directory
}

// A regular file over the cap: EFBIG after reading at most the cap, not the
// whole file. Sparse, so the test costs no disk.
TEST(FileCache, FileOverTheCapIsEfbig) {
  TempDir t;
  auto p = t.write("huge", "");
  std::filesystem::resize_file(p, FileCache::kMaxFileBytes + 4096);
  FileCache files;
  std::string buf;
  EXPECT_EQ(files.read(p, buf), EFBIG);
  EXPECT_TRUE(buf.empty());
  EXPECT_NE(describe_errno(p, EFBIG).find("larger than 32 MiB"), std::string::npos);
  // Under the cap it is read whole.
  std::filesystem::resize_file(p, FileCache::kMaxFileBytes / 2);
  FileCache again;
  ASSERT_EQ(again.read(p, buf), 0);
  EXPECT_EQ(buf.size(), FileCache::kMaxFileBytes / 2);
}

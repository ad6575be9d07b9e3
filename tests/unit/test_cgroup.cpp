#include <gtest/gtest.h>

#include "probes/cgroup.h"
#include "test_util.h"

using namespace tierscope;
using tierscope::testing::TempDir;

namespace {

// /proc/<pid>/cgroup of a process on a systemd hybrid host (v1 controllers
// plus the unified hierarchy as 0::).
constexpr std::string_view kHybridProcCgroup =
    "12:hugetlb:/\n"
    "9:name=systemd:/system.slice/ollama.service\n"
    "7:blkio:/system.slice/ollama.service\n"
    "4:memory:/system.slice/ollama.service\n"
    "2:cpu,cpuacct:/system.slice\n"
    "0::/system.slice/ollama.service\n";

// A pure cgroup v2 host: the memory controller enabled at the root.
void write_v2_tree(const TempDir& t) {
  t.write("sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
  t.write("sys/fs/cgroup/system.slice/ollama.service/memory.max", "17179869184\n");
  t.write("sys/fs/cgroup/system.slice/ollama.service/memory.high", "max\n");
  t.write("sys/fs/cgroup/system.slice/ollama.service/memory.swap.max", "0\n");
}

// systemd's hybrid layout: v2 at fs/cgroup/unified without the memory
// controller, v1 memory and blkio beside it.
void write_hybrid_tree(const TempDir& t) {
  t.write("sys/fs/cgroup/unified/cgroup.controllers", "");
  t.write("sys/fs/cgroup/memory/memory.usage_in_bytes", "123\n");
  t.write("sys/fs/cgroup/blkio/blkio.throttle.io_service_bytes", "Total 0\n");
  t.write("sys/fs/cgroup/memory/system.slice/ollama.service/memory.limit_in_bytes", "8589934592\n");
  t.write("sys/fs/cgroup/memory/system.slice/ollama.service/memory.memsw.limit_in_bytes", "12884901888\n");
}

}  // namespace

TEST(Cgroup, VersionNames) {
  EXPECT_EQ(to_string(CgroupVersion::v1), "v1");
  EXPECT_EQ(to_string(CgroupVersion::v2), "v2");
}

TEST(Cgroup, ParsesProcCgroupLines) {
  auto lines = parse_proc_cgroup(kHybridProcCgroup);
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_EQ(lines[0], (ProcCgroupLine{12, {"hugetlb"}, "/"}));
  EXPECT_EQ(lines[1], (ProcCgroupLine{9, {"name=systemd"}, "/system.slice/ollama.service"}));
  EXPECT_EQ(lines[4], (ProcCgroupLine{2, {"cpu", "cpuacct"}, "/system.slice"}));
  EXPECT_EQ(lines[5], (ProcCgroupLine{0, {}, "/system.slice/ollama.service"}));
}

TEST(Cgroup, ProcCgroupPathMayHoldColonsAndMalformedLinesAreSkipped) {
  auto lines = parse_proc_cgroup(
      "0::/a:b/c\n"            // the path is everything after the second ':'
      "x:memory:/bad-id\n"     // non-numeric ID
      "4:memory\n"             // one ':' only
      "5:blkio:relative\n"     // not a path
      "6:pids:\n"              // empty path
      "99999999999:cpu:/big\n"  // ID beyond 32 bits
      "\n"
      "3:cpuset:/ok");         // no final newline
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], (ProcCgroupLine{0, {}, "/a:b/c"}));
  EXPECT_EQ(lines[1], (ProcCgroupLine{3, {"cpuset"}, "/ok"}));
}

TEST(Cgroup, FindsPureV2Mount) {
  TempDir t;
  write_v2_tree(t);
  auto m = find_cgroup_mounts(t.roots());
  ASSERT_TRUE(m.v2);
  EXPECT_EQ(*m.v2, t.path() / "sys/fs/cgroup");
  EXPECT_TRUE(m.v2_memory);
  EXPECT_FALSE(m.v1_memory);
  EXPECT_FALSE(m.v1_blkio);
}

TEST(Cgroup, MemoryControllerLastOnTheLineIsFound) {
  TempDir t;
  t.write("sys/fs/cgroup/cgroup.controllers", "cpu io memory\n");
  EXPECT_TRUE(find_cgroup_mounts(t.roots()).v2_memory);
  t.write("sys/fs/cgroup/cgroup.controllers", "cpu io memoryx\n");
  EXPECT_FALSE(find_cgroup_mounts(t.roots()).v2_memory);
}

TEST(Cgroup, FindsHybridMounts) {
  TempDir t;
  write_hybrid_tree(t);
  auto m = find_cgroup_mounts(t.roots());
  ASSERT_TRUE(m.v2);
  EXPECT_EQ(*m.v2, t.path() / "sys/fs/cgroup/unified");
  EXPECT_FALSE(m.v2_memory);
  ASSERT_TRUE(m.v1_memory);
  EXPECT_EQ(*m.v1_memory, t.path() / "sys/fs/cgroup/memory");
  ASSERT_TRUE(m.v1_blkio);
  EXPECT_EQ(*m.v1_blkio, t.path() / "sys/fs/cgroup/blkio");
}

TEST(Cgroup, TreeWithNeitherHasNoMemoryCgroup) {
  TempDir t;
  t.write("sys/fs/cgroup/cpu/cpu.shares", "1024\n");  // a v1 cpu controller only
  t.write("proc/42/cgroup", "1:cpu:/x\n0::/x\n");
  auto m = find_cgroup_mounts(t.roots());
  EXPECT_FALSE(m.v2);
  EXPECT_FALSE(m.v2_memory);
  EXPECT_FALSE(m.v1_memory);
  EXPECT_FALSE(memory_cgroup_of(m, kHybridProcCgroup));
  EXPECT_FALSE(memory_cgroup_at(m, "/system.slice/ollama.service"));
  EXPECT_FALSE(memory_cgroup_of_pid(t.roots(), 42));
}

TEST(Cgroup, V2MemoryCgroupOfAProcess) {
  TempDir t;
  write_v2_tree(t);
  t.write("proc/42/cgroup", "0::/system.slice/ollama.service\n");
  auto cg = memory_cgroup_of_pid(t.roots(), 42);
  ASSERT_TRUE(cg);
  EXPECT_EQ(*cg, (CgroupDir{CgroupVersion::v2, "/system.slice/ollama.service",
                            t.path() / "sys/fs/cgroup/system.slice/ollama.service"}));
  EXPECT_EQ(memory_cgroup_at(find_cgroup_mounts(t.roots()), "/system.slice/ollama.service"), cg);
  EXPECT_FALSE(memory_cgroup_of_pid(t.roots(), 43));  // no such process
}

TEST(Cgroup, V2WithoutMemoryControllerFallsBackToV1) {
  TempDir t;
  write_hybrid_tree(t);
  t.write("proc/42/cgroup", kHybridProcCgroup);
  auto cg = memory_cgroup_of_pid(t.roots(), 42);
  ASSERT_TRUE(cg);
  EXPECT_EQ(*cg, (CgroupDir{CgroupVersion::v1, "/system.slice/ollama.service",
                            t.path() / "sys/fs/cgroup/memory/system.slice/ollama.service"}));
  auto blkio = blkio_cgroup_of(find_cgroup_mounts(t.roots()), kHybridProcCgroup);
  ASSERT_TRUE(blkio);
  EXPECT_EQ(*blkio, t.path() / "sys/fs/cgroup/blkio/system.slice/ollama.service");
}

TEST(Cgroup, RootCgroupAndPathsThatLeaveTheHierarchy) {
  CgroupMounts m;
  m.v2 = "/cg";
  m.v2_memory = true;
  auto root = memory_cgroup_of(m, "0::/\n");
  ASSERT_TRUE(root);
  EXPECT_EQ(root->dir, "/cg");
  EXPECT_FALSE(memory_cgroup_at(m, "system.slice"));        // not absolute
  EXPECT_FALSE(memory_cgroup_at(m, "/system.slice/../.."));  // leaves the hierarchy
  EXPECT_FALSE(memory_cgroup_of(m, "0::/a/./b\n"));
  EXPECT_FALSE(memory_cgroup_of(m, "4:memory:/a\n"));  // no v2 line
  auto doubled = memory_cgroup_at(m, "//a//b/");
  ASSERT_TRUE(doubled);
  EXPECT_EQ(doubled->dir, "/cg/a/b");
}

TEST(Cgroup, ParsesMemoryLimits) {
  EXPECT_EQ(parse_memory_limit("max\n", CgroupVersion::v2), (MemoryLimit{true, 0}));
  EXPECT_EQ(parse_memory_limit("1234\n", CgroupVersion::v2), (MemoryLimit{false, 1234}));
  EXPECT_EQ(parse_memory_limit("0\n", CgroupVersion::v2), (MemoryLimit{false, 0}));
  EXPECT_FALSE(parse_memory_limit("max\n", CgroupVersion::v1));  // v1 never writes "max"
  EXPECT_FALSE(parse_memory_limit("", CgroupVersion::v2));
  EXPECT_FALSE(parse_memory_limit("-1\n", CgroupVersion::v1));
  EXPECT_FALSE(parse_memory_limit("12k\n", CgroupVersion::v2));
  // v1 "unlimited": PAGE_COUNTER_MAX x 4 KiB and x 64 KiB pages.
  EXPECT_EQ(parse_memory_limit("9223372036854771712\n", CgroupVersion::v1), (MemoryLimit{true, 0}));
  EXPECT_EQ(parse_memory_limit("9223372036854710272\n", CgroupVersion::v1), (MemoryLimit{true, 0}));
  EXPECT_EQ(parse_memory_limit("8589934592\n", CgroupVersion::v1), (MemoryLimit{false, 8589934592}));
}

TEST(Cgroup, ReadsV2Limits) {
  TempDir t;
  write_v2_tree(t);
  auto cg = memory_cgroup_at(find_cgroup_mounts(t.roots()), "/system.slice/ollama.service");
  ASSERT_TRUE(cg);
  auto l = read_memory_limits(*cg);
  EXPECT_EQ(l.max, (MemoryLimit{false, 17179869184}));
  EXPECT_EQ(l.high, (MemoryLimit{true, 0}));
  EXPECT_EQ(l.swap_max, (MemoryLimit{false, 0}));
  // Unreadable files leave their limit absent.
  auto none = read_memory_limits(CgroupDir{CgroupVersion::v2, "/gone", t.path() / "gone"});
  EXPECT_EQ(none, MemoryLimits{});
}

TEST(Cgroup, ReadsV1LimitsWithSwapFromMemsw) {
  TempDir t;
  write_hybrid_tree(t);
  auto cg = memory_cgroup_at(find_cgroup_mounts(t.roots()), "/system.slice/ollama.service");
  ASSERT_TRUE(cg);
  ASSERT_EQ(cg->version, CgroupVersion::v1);
  auto l = read_memory_limits(*cg);
  EXPECT_EQ(l.max, (MemoryLimit{false, 8589934592}));
  EXPECT_FALSE(l.high);
  EXPECT_EQ(l.swap_max, (MemoryLimit{false, 4294967296}));

  // memsw unlimited: swap unlimited.
  t.write("sys/fs/cgroup/memory/system.slice/ollama.service/memory.memsw.limit_in_bytes", "9223372036854771712\n");
  EXPECT_EQ(read_memory_limits(*cg).swap_max, (MemoryLimit{true, 0}));
  // Swap accounting off (no memsw files): absent.
  std::filesystem::remove(t.path() / "sys/fs/cgroup/memory/system.slice/ollama.service/memory.memsw.limit_in_bytes");
  auto off = read_memory_limits(*cg);
  EXPECT_EQ(off.max, (MemoryLimit{false, 8589934592}));
  EXPECT_FALSE(off.swap_max);
}

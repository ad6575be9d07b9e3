#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>

#include "core/metric_writer.h"
#include "probes/cgroup.h"
#include "probes/workload_memory.h"
#include "test_util.h"

using namespace tierscope;
using tierscope::testing::ProbeRig;
using tierscope::testing::TempDir;

namespace {

// memory.stat of a 6.x kernel (cgroup v2), trimmed to the fields of interest
// plus neighbours the parser must skip.
constexpr std::string_view kV2Stat =
    "anon 1073741824\n"
    "file 536870912\n"
    "kernel 16777216\n"
    "kernel_stack 1048576\n"
    "pagetables 2097152\n"
    "sec_pagetables 0\n"
    "percpu 4096\n"
    "sock 8192\n"
    "vmalloc 0\n"
    "shmem 134217728\n"
    "zswap 0\n"
    "file_mapped 268435456\n"
    "file_dirty 4096\n"
    "anon_thp 524288000\n"
    "slab_reclaimable 3145728\n"
    "slab_unreclaimable 4194304\n"
    "slab 7340032\n"
    "pgfault 123456\n"
    "pgmajfault 789\n";

// A 5.15 kernel: no `kernel` line, no vmalloc.
constexpr std::string_view kV2StatOld =
    "anon 4096\n"
    "file 8192\n"
    "kernel_stack 16384\n"
    "pagetables 32768\n"
    "percpu 1024\n"
    "sock 0\n"
    "shmem 0\n"
    "file_mapped 4096\n"
    "slab_reclaimable 65536\n"
    "slab_unreclaimable 131072\n"
    "slab 196608\n"
    "pgmajfault 3\n";

constexpr std::string_view kV1Stat =
    "cache 1000\n"
    "rss 2000\n"
    "rss_huge 0\n"
    "shmem 10\n"
    "mapped_file 20\n"
    "swap 30\n"
    "pgmajfault 1\n"
    "hierarchical_memory_limit 9223372036854771712\n"
    "total_cache 536870912\n"
    "total_rss 67108864\n"
    "total_rss_huge 2097152\n"
    "total_shmem 4194304\n"
    "total_mapped_file 8388608\n"
    "total_swap 1048576\n"
    "total_pgmajfault 42\n";

constexpr std::string_view kSmapsRollup =
    "55d5c8a4f000-7ffd1b5fe000 ---p 00000000 00:00 0                          [rollup]\n"
    "Rss:               10240 kB\n"
    "Pss:                8192 kB\n"
    "Pss_Dirty:          4096 kB\n"
    "Pss_Anon:           6144 kB\n"
    "Pss_File:           1536 kB\n"
    "Pss_Shmem:           512 kB\n"
    "Shared_Clean:       2048 kB\n"
    "Private_Dirty:      4096 kB\n"
    "Referenced:        10240 kB\n"
    "Anonymous:          7168 kB\n"
    "LazyFree:              0 kB\n"
    "AnonHugePages:      2048 kB\n"
    "Swap:               2048 kB\n"
    "SwapPss:            1024 kB\n"
    "Locked:                0 kB\n";

// A 5.4 kernel: no Pss_Anon/Pss_File/Pss_Shmem.
constexpr std::string_view kSmapsRollupOld =
    "00400000-7ffd1b5fe000 ---p 00000000 00:00 0                          [rollup]\n"
    "Rss:                 400 kB\n"
    "Pss:                 300 kB\n"
    "Anonymous:           200 kB\n"
    "Swap:                 16 kB\n"
    "SwapPss:               8 kB\n";

constexpr std::string_view kStatus =
    "Name:\tllama-server\n"
    "VmRSS:\t    4000 kB\n"
    "RssAnon:\t    3000 kB\n"
    "RssFile:\t     900 kB\n"
    "RssShmem:\t     100 kB\n"
    "VmSwap:\t      64 kB\n"
    "Threads:\t8\n";

std::string stat_line(std::uint32_t pid, std::string_view comm, std::uint64_t majflt) {
  return std::to_string(pid) + " (" + std::string(comm) + ") S 1 100 100 0 -1 4194560 5000 0 " +
         std::to_string(majflt) + " 0 10 20 0 0 20 0 8 0 12345 1000000 250 18446744073709551615\n";
}

// The value of the series of `name` whose labels include `want`; NaN when none.
double value_of(const std::vector<prometheus::MetricFamily>& fams, std::string_view name,
                const std::map<std::string, std::string>& want = {}) {
  for (const auto& f : fams) {
    if (f.name != name) continue;
    for (const auto& m : f.metric) {
      bool match = true;
      for (const auto& kv : want) {
        auto it = std::find_if(m.label.begin(), m.label.end(), [&](const Label& l) { return l.name == kv.first; });
        match = match && it != m.label.end() && it->value == kv.second;
      }
      if (!match) continue;
      return f.type == prometheus::MetricType::Counter ? m.counter.value : m.gauge.value;
    }
  }
  return std::nan("");
}

std::size_t series_count(const std::vector<prometheus::MetricFamily>& fams, std::string_view name) {
  for (const auto& f : fams)
    if (f.name == name) return f.metric.size();
  return 0;
}

std::vector<prometheus::MetricFamily> render(const WorkloadMemory& m) {
  MetricWriter w;
  render_workload_memory(m, w);
  return std::move(w).finish();
}

// A v2 host with the engine's cgroup /tierscope/engine holding pids 500, 501.
void write_v2_workload(const TempDir& t) {
  t.write("sys/fs/cgroup/cgroup.controllers", "cpu io memory pids\n");
  const std::string cg = "sys/fs/cgroup/tierscope/engine/";
  t.write(cg + "cgroup.procs", "500\n501\n");
  t.write(cg + "memory.stat", kV2Stat);
  t.write(cg + "memory.current", "1744830464\n");
  t.write(cg + "memory.swap.current", "33554432\n");
  t.write(cg + "memory.peak", "2147483648\n");
  t.write(cg + "memory.events", "low 0\nhigh 12\nmax 34\noom 2\noom_kill 1\noom_group_kill 0\n");
  t.write(cg + "io.stat",
          "259:0 rbytes=1048576 wbytes=2097152 rios=16 wios=32 dbytes=0 dios=0\n"
          "8:0 rbytes=4096 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n");
  t.write(cg + "memory.max", "3221225472\n");
  t.write(cg + "memory.high", "max\n");
  t.write(cg + "memory.swap.max", "1073741824\n");
  t.write("sys/dev/block/259:0/uevent", "MAJOR=259\nMINOR=0\nDEVNAME=nvme0n1\nDEVTYPE=disk\n");
  t.write("sys/dev/block/8:0/uevent", "MAJOR=8\nMINOR=0\nDEVNAME=sda\nDEVTYPE=disk\n");
  for (std::uint32_t pid : {500u, 501u}) {
    t.write("proc/" + std::to_string(pid) + "/comm", "llama-server\n");
    t.write("proc/" + std::to_string(pid) + "/cgroup", "0::/tierscope/engine\n");
  }
}

}  // namespace

// ---- parsers --------------------------------------------------------------

TEST(CgroupMemoryStat, V2WithKernelLine) {
  auto s = parse_memory_stat(kV2Stat, CgroupVersion::v2);
  EXPECT_EQ(s.anon, 1073741824u);
  EXPECT_EQ(s.file, 536870912u);
  EXPECT_EQ(s.file_mapped, 268435456u);
  EXPECT_EQ(s.shmem, 134217728u);
  EXPECT_EQ(s.kernel, 16777216u);
  EXPECT_FALSE(s.kernel_from_parts);
  EXPECT_EQ(s.sock, 8192u);
  EXPECT_EQ(s.anon_thp, 524288000u);
  EXPECT_EQ(s.pgmajfault, 789u);
  EXPECT_FALSE(s.swap);  // v2 keeps swap in memory.swap.current
}

TEST(CgroupMemoryStat, V2KernelWithoutKernelLineIsTheSumOfItsParts) {
  auto s = parse_memory_stat(kV2StatOld, CgroupVersion::v2);
  EXPECT_EQ(s.kernel, 16384u + 32768u + 1024u + 65536u + 131072u);  // not counting `slab` twice
  EXPECT_TRUE(s.kernel_from_parts);
  EXPECT_EQ(s.pgmajfault, 3u);
  // No kernel memory line at all: absent, not 0.
  auto none = parse_memory_stat("anon 1\nfile 2\n", CgroupVersion::v2);
  EXPECT_FALSE(none.kernel);
  EXPECT_FALSE(none.kernel_from_parts);
}

TEST(CgroupMemoryStat, V1UsesTheHierarchicalTotals) {
  auto s = parse_memory_stat(kV1Stat, CgroupVersion::v1);
  EXPECT_EQ(s.anon, 67108864u);
  EXPECT_EQ(s.file, 536870912u);
  EXPECT_EQ(s.file_mapped, 8388608u);
  EXPECT_EQ(s.shmem, 4194304u);
  EXPECT_EQ(s.swap, 1048576u);
  EXPECT_EQ(s.anon_thp, 2097152u);
  EXPECT_EQ(s.pgmajfault, 42u);
  EXPECT_FALSE(s.kernel);
  // Without swap accounting there is no total_swap.
  EXPECT_FALSE(parse_memory_stat("total_rss 1\n", CgroupVersion::v1).swap);
}

TEST(CgroupMemoryStat, MalformedLinesAreSkippedAndTheFirstOfARepeatWins) {
  auto s = parse_memory_stat("anon x\nanon 5\nanon 6\nfile 1 2\nshmem\n-3\nfile_mapped 18446744073709551616\n",
                             CgroupVersion::v2);
  EXPECT_EQ(s.anon, 5u);
  EXPECT_FALSE(s.file);
  EXPECT_FALSE(s.shmem);
  EXPECT_FALSE(s.file_mapped);  // beyond 64 bits
}

TEST(CgroupMemoryEvents, ParsesV2EventsAndV1OomControl) {
  auto e = parse_memory_events("low 1\nhigh 2\nmax 3\noom 4\noom_kill 5\noom_group_kill 6\n");
  EXPECT_EQ(e, (CgroupMemoryEvents{1, 2, 3, 4, 5}));
  EXPECT_EQ(parse_memory_events("max 3\n"), (CgroupMemoryEvents{std::nullopt, std::nullopt, 3, std::nullopt, std::nullopt}));
  auto c = parse_oom_control("oom_kill_disable 0\nunder_oom 1\noom_kill 7\n");
  EXPECT_EQ(c.under_oom, true);
  EXPECT_EQ(c.oom_kill, 7u);
  auto old = parse_oom_control("oom_kill_disable 0\nunder_oom 0\n");  // before 4.13
  EXPECT_EQ(old.under_oom, false);
  EXPECT_FALSE(old.oom_kill);
  EXPECT_FALSE(parse_oom_control("under_oom 2\n").under_oom);
}

TEST(CgroupIoStat, ParsesV2IoStatSortedByDevice) {
  auto io = parse_io_stat(
      "259:0 rbytes=1048576 wbytes=2097152 rios=16 wios=32 dbytes=4096 dios=1\n"
      "8:0 rbytes=4096 wbytes=0 rios=1 wios=0 dbytes=0 dios=0 cost.vrate=100.00\n"
      "8:16 rbytes=x wbytes=0\n"      // a bad value: the line is skipped
      "bogus rbytes=1\n"
      "8:32 rbytes=7 stray\n"          // a field without '='
      "8:48 wbytes=9\n");              // keys missing: absent
  ASSERT_EQ(io.size(), 3u);
  EXPECT_EQ(io[0], (CgroupDeviceIo{8, 0, 4096, 0, 1, 0, 0, 0}));
  EXPECT_EQ(io[1], (CgroupDeviceIo{8, 48, std::nullopt, 9, std::nullopt, std::nullopt, std::nullopt, std::nullopt}));
  EXPECT_EQ(io[2], (CgroupDeviceIo{259, 0, 1048576, 2097152, 16, 32, 4096, 1}));
  EXPECT_TRUE(parse_io_stat("").empty());
}

TEST(CgroupIoStat, ParsesV1BlkioThrottleFiles) {
  constexpr std::string_view bytes =
      "8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 12288\n8:0 Async 0\n8:0 Discard 512\n8:0 Total 12288\n"
      "259:0 Read 1\n259:0 Write 2\n"
      "7:0 Total 5\n"  // only a total: nothing to report
      "Total 12291\n";
  auto b = parse_blkio_throttle(bytes, false);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[0], (CgroupDeviceIo{8, 0, 4096, 8192, std::nullopt, std::nullopt, 512, std::nullopt}));
  EXPECT_EQ(b[1], (CgroupDeviceIo{259, 0, 1, 2, std::nullopt, std::nullopt, std::nullopt, std::nullopt}));
  auto ops = parse_blkio_throttle("8:0 Read 3\n8:0 Write 4\nTotal 7\n", true);
  ASSERT_EQ(ops.size(), 1u);
  EXPECT_EQ(ops[0], (CgroupDeviceIo{8, 0, std::nullopt, std::nullopt, 3, 4, std::nullopt, std::nullopt}));
}

TEST(ProcMemory, ParsesSmapsRollup) {
  auto s = parse_smaps_rollup(kSmapsRollup);
  EXPECT_EQ(s.rss, 10240u * 1024);
  EXPECT_EQ(s.pss, 8192u * 1024);
  EXPECT_EQ(s.pss_anon, 6144u * 1024);
  EXPECT_EQ(s.pss_file, 1536u * 1024);
  EXPECT_EQ(s.pss_shmem, 512u * 1024);
  EXPECT_EQ(s.anonymous, 7168u * 1024);
  EXPECT_EQ(s.swap, 2048u * 1024);
  EXPECT_EQ(s.swap_pss, 1024u * 1024);
  auto old = parse_smaps_rollup(kSmapsRollupOld);
  EXPECT_EQ(old.rss, 400u * 1024);
  EXPECT_FALSE(old.pss_anon);
  EXPECT_FALSE(old.pss_file);
  EXPECT_EQ(old.anonymous, 200u * 1024);
  // A kernel thread's smaps_rollup is empty.
  EXPECT_EQ(parse_smaps_rollup(""), SmapsRollup{});
  // Values not in kB, or overflowing when scaled, are skipped.
  EXPECT_FALSE(parse_smaps_rollup("Rss: 5 MB\nPss: 18014398509481984 kB\n").rss);
  EXPECT_FALSE(parse_smaps_rollup("Pss: 18014398509481984 kB\n").pss);
}

TEST(ProcMemory, ParsesStatusAndMajorFaults) {
  auto s = parse_proc_status_memory(kStatus);
  EXPECT_EQ(s, (ProcStatusMemory{3000u * 1024, 900u * 1024, 100u * 1024, 64u * 1024}));
  EXPECT_EQ(parse_proc_stat_major_faults(stat_line(42, "llama-server", 77)), 77u);
  // A comm with spaces and parentheses cannot shift the fields.
  EXPECT_EQ(parse_proc_stat_major_faults(stat_line(42, "a) b (c", 5)), 5u);
  EXPECT_FALSE(parse_proc_stat_major_faults("42 (x) S 1 2 3\n"));  // truncated
  EXPECT_FALSE(parse_proc_stat_major_faults("garbage"));
}

// ---- the probe on fixture trees -------------------------------------------

TEST(WorkloadMemoryProbe, NothingWatchedIsNoData) {
  TempDir t;
  ProbeRig rig(t.roots());
  WorkloadMemoryProbe probe({});
  EXPECT_EQ(rig.run(probe).status, ProbeStatus::no_data);
  EXPECT_FALSE(rig.snap.get(kWorkloadMemory));
}

TEST(WorkloadMemoryProbe, CgroupWorkloadOnV2ExportsEveryFigureOfItsFiles) {
  TempDir t;
  write_v2_workload(t);
  WorkloadSelection sel;
  sel.cgroups = {"/tierscope/engine"};
  ProbeRig rig(t.roots());
  WorkloadProbe workload(sel, std::chrono::milliseconds(0));
  WorkloadMemoryProbe probe(sel);
  ASSERT_EQ(rig.run(workload).status, ProbeStatus::ok);
  ASSERT_EQ(rig.run(probe).status, ProbeStatus::ok);
  // The workload probe lists the cgroup's members.
  const auto* w = rig.snap.get(kWorkload);
  ASSERT_TRUE(w);
  ASSERT_EQ(w->processes.size(), 2u);
  EXPECT_EQ(w->processes[0].matched_by, "cgroup:/tierscope/engine");

  const auto* m = rig.snap.get(kWorkloadMemory);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->source, WorkloadSource::cgroup);
  ASSERT_EQ(m->cgroups.size(), 1u);
  EXPECT_EQ(m->cgroups[0].version, CgroupVersion::v2);
  EXPECT_TRUE(m->processes.empty());  // never both sources

  auto fams = render(*m);
  EXPECT_EQ(value_of(fams, "tierscope_workload_source_info",
                     {{"source", "cgroup"}, {"cgroup", "/tierscope/engine"}, {"version", "v2"}}),
            1);
  auto tier = [&](const char* name) { return value_of(fams, "tierscope_workload_memory_bytes", {{"tier", name}}); };
  EXPECT_EQ(tier("ram_anon"), 1073741824);
  EXPECT_EQ(tier("page_cache"), 536870912.0 - 134217728);  // file - shmem
  EXPECT_EQ(tier("file_mapped"), 268435456);
  EXPECT_EQ(tier("shmem"), 134217728);
  EXPECT_EQ(tier("kernel"), 16777216);
  EXPECT_EQ(tier("swap"), 33554432);
  EXPECT_TRUE(std::isnan(tier("vram")));  // no GPU probe ran: absent
  EXPECT_TRUE(std::isnan(tier("gtt")));
  EXPECT_EQ(series_count(fams, "tierscope_workload_memory_bytes"), 6u);
  EXPECT_EQ(value_of(fams, "tierscope_workload_memory_current_bytes"), 1744830464);
  EXPECT_EQ(value_of(fams, "tierscope_workload_memory_peak_bytes"), 2147483648);
  EXPECT_EQ(value_of(fams, "tierscope_workload_memory_limit_bytes", {{"limit", "max"}}), 3221225472);
  EXPECT_EQ(value_of(fams, "tierscope_workload_memory_limit_bytes", {{"limit", "high"}}),
            std::numeric_limits<double>::infinity());
  EXPECT_EQ(value_of(fams, "tierscope_workload_memory_limit_bytes", {{"limit", "swap_max"}}), 1073741824);
  auto event = [&](const char* e) { return value_of(fams, "tierscope_workload_memory_events_total", {{"event", e}}); };
  EXPECT_EQ(event("low"), 0);
  EXPECT_EQ(event("high"), 12);
  EXPECT_EQ(event("max"), 34);
  EXPECT_EQ(event("oom"), 2);
  EXPECT_EQ(event("oom_kill"), 1);
  EXPECT_EQ(value_of(fams, "tierscope_workload_oom_kills_total"), 1);
  auto io = [&](const char* metric, const char* dev, const char* dir) {
    return value_of(fams, metric, {{"device", dev}, {"direction", dir}});
  };
  EXPECT_EQ(io("tierscope_workload_io_bytes_total", "nvme0n1", "read"), 1048576);
  EXPECT_EQ(io("tierscope_workload_io_bytes_total", "nvme0n1", "write"), 2097152);
  EXPECT_EQ(io("tierscope_workload_io_ops_total", "nvme0n1", "read"), 16);
  EXPECT_EQ(io("tierscope_workload_io_ops_total", "nvme0n1", "write"), 32);
  EXPECT_EQ(io("tierscope_workload_io_bytes_total", "sda", "read"), 4096);
  EXPECT_EQ(io("tierscope_workload_io_bytes_total", "sda", "write"), 0);
  EXPECT_EQ(value_of(fams, "tierscope_workload_major_faults_total"), 789);
}

TEST(WorkloadMemoryProbe, OlderV2KernelWithoutPeakOrKernelLine) {
  TempDir t;
  write_v2_workload(t);
  const std::string cg = "sys/fs/cgroup/tierscope/engine/";
  t.write(cg + "memory.stat", kV2StatOld);
  std::filesystem::remove(t.path() / cg / "memory.peak");
  std::filesystem::remove(t.path() / "sys/dev/block/8:0/uevent");  // a device whose name is unknown
  ProbeRig rig(t.roots());
  WorkloadMemoryProbe probe({});
  probe.watch(WorkloadTarget{{CgroupDir{CgroupVersion::v2, "/tierscope/engine", t.path() / cg}}, {}});
  ASSERT_EQ(rig.run(probe).status, ProbeStatus::ok);
  const auto* m = rig.snap.get(kWorkloadMemory);
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->peak);
  EXPECT_EQ(m->kernel, 16384u + 32768u + 1024u + 65536u + 131072u);
  EXPECT_TRUE(m->kernel_from_parts);
  auto fams = render(*m);
  EXPECT_TRUE(std::isnan(value_of(fams, "tierscope_workload_memory_peak_bytes")));
  EXPECT_EQ(value_of(fams, "tierscope_workload_io_bytes_total", {{"device", "8:0"}, {"direction", "read"}}), 4096);
}

TEST(WorkloadMemoryProbe, PidWorkloadSumsItsProcesses) {
  TempDir t;
  // 600: a 6.x kernel's smaps_rollup; 601: a 5.4 kernel's (status fills the
  // rest); 602: a kernel thread (empty smaps_rollup, no memory in status);
  // 603: gone.
  t.write("proc/600/comm", "llama-server\n");
  t.write("proc/600/smaps_rollup", kSmapsRollup);
  t.write("proc/600/status", kStatus);
  t.write("proc/600/stat", stat_line(600, "llama-server", 11));
  t.write("proc/601/comm", "worker\n");
  t.write("proc/601/smaps_rollup", kSmapsRollupOld);
  t.write("proc/601/status", kStatus);
  t.write("proc/601/stat", stat_line(601, "worker", 4));
  t.write("proc/602/comm", "kthread\n");
  t.write("proc/602/smaps_rollup", "");
  t.write("proc/602/status", "Name:\tkthread\nThreads:\t1\n");
  t.write("proc/602/stat", stat_line(602, "kthread", 0));
  WorkloadSelection sel;
  sel.pids = {600, 601, 602, 603};
  ProbeRig rig(t.roots());
  WorkloadProbe workload(sel, std::chrono::milliseconds(0));
  WorkloadMemoryProbe probe(sel);
  ASSERT_EQ(rig.run(workload).status, ProbeStatus::ok);
  ASSERT_EQ(rig.run(probe).status, ProbeStatus::ok);
  const auto* m = rig.snap.get(kWorkloadMemory);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->source, WorkloadSource::processes);
  ASSERT_EQ(m->processes.size(), 2u);
  EXPECT_EQ(m->processes_unreadable, 1u);  // 602; 603 is not watched (gone)
  EXPECT_EQ(m->processes[1].anon, 200u * 1024);          // Anonymous when Pss_Anon is missing
  EXPECT_EQ(m->processes[1].file_mapped, 900u * 1024);   // status RssFile
  EXPECT_EQ(m->processes[1].swap_pss, 8u * 1024);

  auto fams = render(*m);
  EXPECT_EQ(value_of(fams, "tierscope_workload_source_info", {{"source", "processes"}, {"cgroup", ""}}), 1);
  auto tier = [&](const char* name) { return value_of(fams, "tierscope_workload_memory_bytes", {{"tier", name}}); };
  EXPECT_EQ(tier("ram_anon"), (6144.0 + 200) * 1024);
  EXPECT_EQ(tier("file_mapped"), (1536.0 + 900) * 1024);
  EXPECT_EQ(tier("shmem"), (512.0 + 100) * 1024);
  EXPECT_EQ(tier("swap"), (1024.0 + 8) * 1024);  // SwapPss
  EXPECT_TRUE(std::isnan(tier("page_cache")));    // not attributable to processes
  EXPECT_TRUE(std::isnan(tier("kernel")));
  EXPECT_EQ(value_of(fams, "tierscope_workload_major_faults_total"), 15);
  // No cgroup figures at all.
  for (const char* name : {"tierscope_workload_memory_current_bytes", "tierscope_workload_memory_peak_bytes",
                           "tierscope_workload_memory_limit_bytes", "tierscope_workload_memory_events_total",
                           "tierscope_workload_oom_kills_total", "tierscope_workload_io_bytes_total"})
    EXPECT_EQ(series_count(fams, name), 0u) << name;
}

TEST(WorkloadMemoryProbe, PidsInTheSelectionMeanTheProcessesSourceEvenWithACgroup) {
  TempDir t;
  write_v2_workload(t);
  t.write("proc/500/smaps_rollup", kSmapsRollup);
  WorkloadSelection sel;
  sel.cgroups = {"/tierscope/engine"};
  sel.pids = {500};
  ProbeRig rig(t.roots());
  WorkloadProbe workload(sel, std::chrono::milliseconds(0));
  WorkloadMemoryProbe probe(sel);
  rig.run(workload);
  rig.run(probe);
  const auto* m = rig.snap.get(kWorkloadMemory);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->source, WorkloadSource::processes);
  EXPECT_EQ(m->ram_anon, 6144u * 1024);  // 500 only: 501 has no readable files
  EXPECT_FALSE(m->current);
}

TEST(WorkloadMemoryProbe, V1UnitWorkloadOnAHybridHost) {
  TempDir t;
  t.write("sys/fs/cgroup/unified/cgroup.controllers", "");
  t.write("sys/fs/cgroup/memory/memory.usage_in_bytes", "1\n");
  t.write("sys/fs/cgroup/blkio/blkio.throttle.io_service_bytes", "Total 0\n");
  const std::string mem = "sys/fs/cgroup/memory/system.slice/ollama.service/";
  const std::string blk = "sys/fs/cgroup/blkio/system.slice/ollama.service/";
  t.write(mem + "memory.stat", kV1Stat);
  t.write(mem + "memory.usage_in_bytes", "612368384\n");
  t.write(mem + "memory.max_usage_in_bytes", "700000000\n");
  t.write(mem + "memory.kmem.usage_in_bytes", "5242880\n");
  t.write(mem + "memory.failcnt", "9\n");
  t.write(mem + "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n");
  t.write(mem + "memory.limit_in_bytes", "1073741824\n");
  t.write(mem + "memory.memsw.limit_in_bytes", "9223372036854771712\n");
  t.write(blk + "blkio.throttle.io_service_bytes_recursive", "259:0 Read 8192\n259:0 Write 16384\nTotal 24576\n");
  t.write(blk + "blkio.throttle.io_service_bytes", "259:0 Read 1\n259:0 Write 1\nTotal 2\n");  // not recursive
  t.write(blk + "blkio.throttle.io_serviced", "259:0 Read 2\n259:0 Write 4\nTotal 6\n");
  t.write("sys/dev/block/259:0/uevent", "DEVNAME=nvme0n1\n");
  // The unit's process sits in a sub-cgroup of the unit.
  t.write("sys/fs/cgroup/unified/system.slice/ollama.service/cgroup.procs", "700\n");
  t.write(mem + "runner/cgroup.procs", "700\n");
  t.write("proc/700/comm", "ollama\n");
  t.write("proc/700/cgroup",
          "7:blkio:/system.slice/ollama.service\n4:memory:/system.slice/ollama.service/runner\n"
          "0::/system.slice/ollama.service\n");

  WorkloadSelection sel;
  sel.systemd_units = {"ollama.service"};
  ProbeRig rig(t.roots());
  WorkloadProbe workload(sel, std::chrono::milliseconds(0));
  WorkloadMemoryProbe probe(sel);
  ASSERT_EQ(rig.run(workload).status, ProbeStatus::ok);
  ASSERT_EQ(rig.run(probe).status, ProbeStatus::ok);
  const auto* m = rig.snap.get(kWorkloadMemory);
  ASSERT_TRUE(m);
  ASSERT_EQ(m->source, WorkloadSource::cgroup);
  ASSERT_EQ(m->cgroups.size(), 1u);
  EXPECT_EQ(m->cgroups[0].path, "/system.slice/ollama.service");
  EXPECT_EQ(m->under_oom, false);

  auto fams = render(*m);
  EXPECT_EQ(value_of(fams, "tierscope_workload_source_info",
                     {{"source", "cgroup"}, {"cgroup", "/system.slice/ollama.service"}, {"version", "v1"}}),
            1);
  auto tier = [&](const char* name) { return value_of(fams, "tierscope_workload_memory_bytes", {{"tier", name}}); };
  EXPECT_EQ(tier("ram_anon"), 67108864);
  EXPECT_EQ(tier("page_cache"), 536870912.0 - 4194304);
  EXPECT_EQ(tier("file_mapped"), 8388608);
  EXPECT_EQ(tier("shmem"), 4194304);
  EXPECT_EQ(tier("kernel"), 5242880);
  EXPECT_EQ(tier("swap"), 1048576);
  EXPECT_EQ(value_of(fams, "tierscope_workload_memory_current_bytes"), 612368384);
  EXPECT_EQ(value_of(fams, "tierscope_workload_memory_peak_bytes"), 700000000);
  EXPECT_EQ(value_of(fams, "tierscope_workload_memory_limit_bytes", {{"limit", "max"}}), 1073741824);
  EXPECT_EQ(value_of(fams, "tierscope_workload_memory_limit_bytes", {{"limit", "swap_max"}}),
            std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(value_of(fams, "tierscope_workload_memory_limit_bytes", {{"limit", "high"}})));
  EXPECT_EQ(value_of(fams, "tierscope_workload_memory_events_total", {{"event", "max"}}), 9);
  EXPECT_EQ(value_of(fams, "tierscope_workload_memory_events_total", {{"event", "oom_kill"}}), 3);
  EXPECT_EQ(series_count(fams, "tierscope_workload_memory_events_total"), 2u);  // v1 has no low/high/oom
  EXPECT_EQ(value_of(fams, "tierscope_workload_oom_kills_total"), 3);
  EXPECT_EQ(value_of(fams, "tierscope_workload_io_bytes_total", {{"device", "nvme0n1"}, {"direction", "read"}}), 8192);
  EXPECT_EQ(value_of(fams, "tierscope_workload_io_bytes_total", {{"device", "nvme0n1"}, {"direction", "write"}}), 16384);
  EXPECT_EQ(value_of(fams, "tierscope_workload_io_ops_total", {{"device", "nvme0n1"}, {"direction", "read"}}), 2);
  EXPECT_EQ(value_of(fams, "tierscope_workload_io_ops_total", {{"device", "nvme0n1"}, {"direction", "write"}}), 4);
  EXPECT_EQ(value_of(fams, "tierscope_workload_major_faults_total"), 42);
}

TEST(WorkloadMemoryProbe, SeveralCgroupsAreSummedNestedOnesOnceAndPeakIsAbsent) {
  TempDir t;
  t.write("sys/fs/cgroup/cgroup.controllers", "memory\n");
  for (const char* cg : {"a", "b", "a/inner"}) {
    std::string dir = std::string("sys/fs/cgroup/") + cg + "/";
    t.write(dir + "memory.stat", "anon 100\nfile 50\nshmem 10\n");
    t.write(dir + "memory.current", "160\n");
    t.write(dir + "memory.peak", "200\n");
    t.write(dir + "memory.max", "1000\n");
  }
  WorkloadMemoryReader reader;
  auto m = find_cgroup_mounts(t.roots());
  WorkloadTarget target;
  for (const char* p : {"/a", "/b", "/a/inner", "/b"}) {
    auto cg = memory_cgroup_at(m, p);
    ASSERT_TRUE(cg) << p;
    target.cgroups.push_back(*cg);
  }
  auto w = reader.read(t.roots(), target);
  ASSERT_EQ(w.cgroups.size(), 2u);  // /a/inner is in /a; /b once
  EXPECT_EQ(w.ram_anon, 200u);
  EXPECT_EQ(w.page_cache, 80u);
  EXPECT_EQ(w.current, 320u);
  EXPECT_FALSE(w.peak);
  EXPECT_EQ(w.limits, MemoryLimits{});  // limits of one cgroup only
}

TEST(WorkloadMemoryProbe, GpuMemoryOfTheWatchedPids) {
  Snapshot snap;
  GpuInventory nv;
  GpuReading g;
  g.id = "nvidia0";
  g.processes = {{500, "vram", 1000}, {500, "vram", 900}, {501, "vram", 50}, {999, "vram", 7}, {500, "unified", 3}};
  nv.gpus.push_back(g);
  snap.put(kGpuNvml, nv);
  DrmMemoryUsage drm;
  drm.entries = {{500, "0000:c3:00.0", "amdgpu", "vram", 20},
                 {500, "0000:c3:00.0", "amdgpu", "gtt", 30},
                 {501, "0000:c3:00.0", "amdgpu", "cpu", 40},
                 {999, "0000:c3:00.0", "amdgpu", "gtt", 9}};
  snap.put(kDrmFdinfo, drm);
  WorkloadMemory m;
  add_gpu_memory(snap, {500, 501}, m);
  EXPECT_EQ(m.vram, 1000u + 50 + 20);  // a repeated listing counts once (the larger)
  EXPECT_EQ(m.gtt, 30u);
  WorkloadMemory none;
  add_gpu_memory(Snapshot{}, {500}, none);
  EXPECT_FALSE(none.vram);  // no GPU probe reading: absent, not 0
  EXPECT_FALSE(none.gtt);
}

TEST(WorkloadMemoryProbe, ACgroupThatIsGoneLeavesItsFiguresAbsent) {
  TempDir t;
  t.write("sys/fs/cgroup/cgroup.controllers", "memory\n");
  ProbeRig rig(t.roots());
  WorkloadMemoryProbe probe({});
  probe.watch(WorkloadTarget{{CgroupDir{CgroupVersion::v2, "/gone", t.path() / "sys/fs/cgroup/gone"}}, {}});
  ASSERT_EQ(rig.run(probe).status, ProbeStatus::ok);
  auto fams = render(*rig.snap.get(kWorkloadMemory));
  EXPECT_EQ(series_count(fams, "tierscope_workload_memory_bytes"), 0u);
  EXPECT_EQ(series_count(fams, "tierscope_workload_memory_current_bytes"), 0u);
  EXPECT_EQ(series_count(fams, "tierscope_workload_source_info"), 1u);
}

TEST(WorkloadMemoryReader, KeepsProcessFilesOpenWhileWatchedAndReopensAnEmptyOne) {
  TempDir t;
  t.write("proc/600/smaps_rollup", kSmapsRollup);
  t.write("proc/600/stat", stat_line(600, "llama-server", 11));
  t.write("proc/601/smaps_rollup", kSmapsRollupOld);
  t.write("proc/601/stat", stat_line(601, "worker", 4));
  WorkloadMemoryReader reader;
  auto both = reader.read(t.roots(), WorkloadTarget{{}, {600, 601}});
  EXPECT_EQ(both.processes.size(), 2u);
  EXPECT_EQ(reader.open_files(), 4u);
  // Rewritten in place: the kept descriptor reads the new text.
  t.write("proc/600/stat", stat_line(600, "llama-server", 12));
  EXPECT_EQ(reader.read(t.roots(), WorkloadTarget{{}, {600, 601}}).major_faults, 12u + 4u);
  // The descriptor's file comes back empty (an exec leaves the address space
  // it holds) while the path holds another file: opened afresh.
  t.write("proc/600/smaps_rollup", "");
  t.write("new_rollup", kSmapsRollupOld);
  std::filesystem::rename(t.path() / "new_rollup", t.path() / "proc/600/smaps_rollup");
  auto again = reader.read(t.roots(), WorkloadTarget{{}, {600, 601}});
  ASSERT_EQ(again.processes.size(), 2u);
  EXPECT_EQ(again.processes[0].rss, 400u * 1024);
  // A process no longer watched: its descriptors are closed.
  reader.read(t.roots(), WorkloadTarget{{}, {601}});
  EXPECT_EQ(reader.open_files(), 2u);
  reader.read(t.roots(), WorkloadTarget{{}, {}});
  EXPECT_EQ(reader.open_files(), 0u);
}

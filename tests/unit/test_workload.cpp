// The watched workload: selection by PID, by comm and by systemd unit (cgroup
// v2 tree in sysfs), the rescan cadence, and the info series. Trees are built
// in temporary directories, plus the fdinfo-host fixture
// (tests/fixtures/fdinfo-host/README.md).

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include "core/metric_writer.h"
#include "probes/workload.h"
#include "test_util.h"

using namespace tierscope;
using tierscope::testing::ProbeRig;
using tierscope::testing::TempDir;
namespace fs = std::filesystem;

namespace {

constexpr std::chrono::milliseconds kHour{3'600'000};

WorkloadSelection select(std::vector<std::uint32_t> pids, std::vector<std::string> names,
                         std::vector<std::string> units) {
  WorkloadSelection s;
  s.pids = std::move(pids);
  s.process_names = std::move(names);
  s.systemd_units = std::move(units);
  return s;
}

// "pid comm matched_by" per process, for compact comparisons.
std::vector<std::string> listed(const Snapshot& snap) {
  std::vector<std::string> out;
  if (!snap.get(kWorkload)) return out;
  for (const auto& p : snap.get(kWorkload)->processes)
    out.push_back(std::to_string(p.pid) + " " + p.comm + " " + p.matched_by);
  return out;
}

void add_process(const TempDir& t, std::uint32_t pid, std::string_view comm) {
  t.write("proc/" + std::to_string(pid) + "/comm", std::string(comm) + "\n");
}

using Listing = std::vector<std::string>;

}  // namespace

TEST(WorkloadText, CommLosesOnlyItsTrailingNewline) {
  EXPECT_EQ(parse_comm("llama-server\n"), "llama-server");
  EXPECT_EQ(parse_comm("kworker/0:1 x\n"), "kworker/0:1 x");  // comm may hold spaces
  EXPECT_EQ(parse_comm("no-newline"), "no-newline");
  EXPECT_EQ(parse_comm(""), "");
  EXPECT_EQ(parse_comm("\n"), "");
}

TEST(WorkloadText, CgroupProcsSkipsMalformedLines) {
  EXPECT_EQ(parse_cgroup_procs("4242\n4243\n"), (std::vector<std::uint32_t>{4242, 4243}));
  EXPECT_EQ(parse_cgroup_procs("1\n\nx\n-2\n0\n99999999999\n7"), (std::vector<std::uint32_t>{1, 7}));
  EXPECT_TRUE(parse_cgroup_procs("").empty());
}

TEST(WorkloadProcesses, FindIsABinarySearchByPid) {
  WorkloadProcesses w;
  for (std::uint32_t pid : {3u, 10u, 42u, 4242u}) w.processes.push_back({pid, "p" + std::to_string(pid), "pid"});
  ASSERT_NE(w.find(42), nullptr);
  EXPECT_EQ(w.find(42)->comm, "p42");
  EXPECT_EQ(w.find(3)->pid, 3u);
  EXPECT_EQ(w.find(4242)->pid, 4242u);
  EXPECT_EQ(w.find(1), nullptr);
  EXPECT_EQ(w.find(11), nullptr);
  EXPECT_EQ(w.find(5000), nullptr);
  EXPECT_EQ(WorkloadProcesses{}.find(1), nullptr);
}

TEST(WorkloadProbe, NothingConfiguredIsNoData) {
  TempDir t;
  add_process(t, 1, "systemd");
  ProbeRig rig(t.roots());
  WorkloadProbe probe({}, kHour);
  EXPECT_EQ(probe.name(), "workload");
  EXPECT_EQ(rig.run(probe).status, ProbeStatus::no_data);
  EXPECT_FALSE(rig.snap.get(kWorkload));
}

TEST(WorkloadProbe, ConfiguredButNothingFoundIsAnEmptyList) {
  TempDir t;
  add_process(t, 1, "systemd");
  t.write("sys/fs/cgroup/cgroup.procs", "1\n");
  ProbeRig rig(t.roots());
  WorkloadProbe probe(select({999}, {"ollama"}, {"ollama.service"}), kHour);
  EXPECT_EQ(rig.run(probe).status, ProbeStatus::ok);
  ASSERT_TRUE(rig.snap.get(kWorkload));
  EXPECT_TRUE(rig.snap.get(kWorkload)->processes.empty());
}

TEST(WorkloadProbe, ByPidListsOnlyExistingProcesses) {
  TempDir t;
  add_process(t, 100, "bash");
  add_process(t, 200, "llama-server");
  ProbeRig rig(t.roots());
  WorkloadProbe probe(select({200, 999, 100}, {}, {}), kHour);
  EXPECT_EQ(rig.run(probe).status, ProbeStatus::ok);
  EXPECT_EQ(listed(rig.snap), (Listing{"100 bash pid", "200 llama-server pid"}));
}

TEST(WorkloadProbe, ByNameScansEveryProcessComm) {
  TempDir t;
  add_process(t, 1, "systemd");
  add_process(t, 300, "llama-server");
  add_process(t, 301, "llama-server");
  add_process(t, 302, "llama-server-x");  // not a prefix match
  add_process(t, 303, "ollama");
  t.write("proc/meminfo", "MemTotal: 1 kB\n");  // not a process
  t.write("proc/self/comm", "tierscope\n");     // not a process
  ProbeRig rig(t.roots());
  WorkloadProbe probe(select({}, {"ollama", "llama-server"}, {}), kHour);
  EXPECT_EQ(rig.run(probe).status, ProbeStatus::ok);
  EXPECT_EQ(listed(rig.snap),
            (Listing{"300 llama-server name:llama-server", "301 llama-server name:llama-server", "303 ollama name:ollama"}));
}

TEST(WorkloadProbe, ByUnitReadsTheUnitCgroupAndItsSubCgroups) {
  ProbeRig rig(tierscope::testing::fixture_roots("fdinfo-host"));
  WorkloadProbe probe(select({}, {}, {"llama.service"}), kHour);
  EXPECT_EQ(rig.run(probe).status, ProbeStatus::ok);
  EXPECT_EQ(listed(rig.snap), (Listing{"4242 llama-server unit:llama.service", "4243 llama-worker unit:llama.service",
                                       "4250 python3 unit:llama.service"}));
}

TEST(WorkloadProbe, FirstMatchWinsPidThenNameThenUnit) {
  ProbeRig rig(tierscope::testing::fixture_roots("fdinfo-host"));
  WorkloadProbe probe(select({4243}, {"llama-server", "Xorg"}, {"display-manager.service", "llama.service"}), kHour);
  EXPECT_EQ(rig.run(probe).status, ProbeStatus::ok);
  EXPECT_EQ(listed(rig.snap), (Listing{"4242 llama-server name:llama-server", "4243 llama-worker pid",
                                       "4250 python3 unit:llama.service", "5000 Xorg name:Xorg"}));
}

TEST(WorkloadProbe, UnitOutsideSystemSliceIsFoundInTheTreeAndCached) {
  TempDir t;
  add_process(t, 500, "comfyui");
  add_process(t, 501, "python3");
  add_process(t, 600, "other");
  const std::string user = "sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/app.slice/";
  t.write(user + "comfy.service/cgroup.procs", "500\n");
  t.write(user + "comfy.service/sub/deeper/cgroup.procs", "501\n");
  t.write("sys/fs/cgroup/system.slice/other.service/cgroup.procs", "600\n");
  ProbeRig rig(t.roots());
  WorkloadProbe probe(select({}, {}, {"comfy.service"}), std::chrono::milliseconds(0));
  EXPECT_EQ(rig.run(probe).status, ProbeStatus::ok);
  EXPECT_EQ(listed(rig.snap), (Listing{"500 comfyui unit:comfy.service", "501 python3 unit:comfy.service"}));

  // The unit is restarted into another place: the cached path is gone, so it
  // is looked for again.
  fs::remove_all(t.path() / user / "comfy.service");
  t.write("sys/fs/cgroup/system.slice/comfy.service/cgroup.procs", "600\n");
  EXPECT_EQ(rig.run(probe).status, ProbeStatus::ok);
  EXPECT_EQ(listed(rig.snap), (Listing{"600 other unit:comfy.service"}));
}

TEST(WorkloadProbe, UnitSearchIsBoundedInDepth) {
  TempDir t;
  add_process(t, 700, "deep");
  t.write("sys/fs/cgroup/a/b/c/d/e/f/g/deep.service/cgroup.procs", "700\n");  // depth 8
  ProbeRig rig(t.roots());
  WorkloadProbe probe(select({}, {}, {"deep.service"}), kHour);
  EXPECT_EQ(rig.run(probe).status, ProbeStatus::ok);
  ASSERT_TRUE(rig.snap.get(kWorkload));
  EXPECT_TRUE(rig.snap.get(kWorkload)->processes.empty());
}

TEST(WorkloadProbe, AnExitedPidIsDroppedOnTheNextTickWithoutARescan) {
  TempDir t;
  add_process(t, 100, "llama-server");
  add_process(t, 101, "llama-server");
  ProbeRig rig(t.roots());
  WorkloadProbe probe(select({}, {"llama-server"}, {}), kHour);
  rig.run(probe);
  EXPECT_EQ(listed(rig.snap), (Listing{"100 llama-server name:llama-server", "101 llama-server name:llama-server"}));

  fs::remove_all(t.path() / "proc/101");  // exits
  add_process(t, 102, "llama-server");     // starts: only seen at the next rescan
  EXPECT_EQ(rig.run(probe).status, ProbeStatus::ok);
  EXPECT_EQ(listed(rig.snap), (Listing{"100 llama-server name:llama-server"}));

  probe.force_rescan();
  EXPECT_EQ(rig.run(probe).status, ProbeStatus::ok);
  EXPECT_EQ(listed(rig.snap), (Listing{"100 llama-server name:llama-server", "102 llama-server name:llama-server"}));
}

TEST(WorkloadProbe, CommIsRefreshedOnlyAtARescan) {
  TempDir t;
  add_process(t, 100, "llama-server");
  add_process(t, 200, "python3");
  ProbeRig rig(t.roots());
  WorkloadProbe probe(select({200}, {"llama-server"}, {}), kHour);
  rig.run(probe);
  EXPECT_EQ(listed(rig.snap), (Listing{"100 llama-server name:llama-server", "200 python3 pid"}));

  add_process(t, 100, "llama-srv-old");  // renamed itself (prctl PR_SET_NAME)
  add_process(t, 200, "vllm");
  rig.run(probe);
  EXPECT_EQ(listed(rig.snap), (Listing{"100 llama-server name:llama-server", "200 python3 pid"}));

  probe.force_rescan();
  rig.run(probe);
  // The pid selection keeps 200 under its new name; 100 no longer matches.
  EXPECT_EQ(listed(rig.snap), (Listing{"200 vllm pid"}));
}

TEST(WorkloadProbe, ZeroIntervalRescansEveryTick) {
  TempDir t;
  add_process(t, 200, "python3");
  ProbeRig rig(t.roots());
  WorkloadProbe probe(select({200}, {"ollama"}, {}), std::chrono::milliseconds(0));
  rig.run(probe);
  EXPECT_EQ(listed(rig.snap), (Listing{"200 python3 pid"}));
  add_process(t, 200, "vllm");
  add_process(t, 300, "ollama");
  rig.run(probe);
  EXPECT_EQ(listed(rig.snap), (Listing{"200 vllm pid", "300 ollama name:ollama"}));
}

TEST(WorkloadProbe, OtherRootsMeanAnImmediateRescan) {
  TempDir a, b;
  add_process(a, 100, "ollama");
  add_process(b, 200, "ollama");
  WorkloadProbe probe(select({}, {"ollama"}, {}), kHour);
  ProbeRig rig_a(a.roots());
  rig_a.run(probe);
  EXPECT_EQ(listed(rig_a.snap), (Listing{"100 ollama name:ollama"}));
  ProbeRig rig_b(b.roots());
  rig_b.run(probe);
  EXPECT_EQ(listed(rig_b.snap), (Listing{"200 ollama name:ollama"}));
}

TEST(WorkloadProbe, RendersOneInfoSeriesPerProcess) {
  WorkloadProcesses w;
  w.processes = {{4242, "llama-server", "name:llama-server"}, {4250, "python3", "unit:llama.service"}};
  MetricWriter out;
  render_workload(w, out);
  auto fams = std::move(out).finish();
  ASSERT_EQ(fams.size(), 1u);
  EXPECT_EQ(fams[0].name, "tierscope_workload_process_info");
  ASSERT_EQ(fams[0].metric.size(), 2u);
  EXPECT_EQ(fams[0].metric[0].label,
            (Labels{{"comm", "llama-server"}, {"matched_by", "name:llama-server"}, {"pid", "4242"}}));
  EXPECT_EQ(fams[0].metric[0].gauge.value, 1);
  EXPECT_EQ(fams[0].metric[1].label,
            (Labels{{"comm", "python3"}, {"matched_by", "unit:llama.service"}, {"pid", "4250"}}));
}

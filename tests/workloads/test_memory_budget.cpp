// The memory budget's decisions and refusals on fixture trees (no kernel
// enforces anything here: the live and system tests do that), and the scenario's
// `limits` keys.
#include <gtest/gtest.h>

#include <unistd.h>

#include "test_util.h"
#include "workloads/memory_budget.h"
#include "workloads/scenario.h"
#include "workloads/systemd_scope.h"

using namespace tierscope;
using namespace tierscope::workloads;
using tierscope::testing::TempDir;

namespace {

BudgetRequest cgroup_request(std::optional<std::uint64_t> max, std::optional<std::uint64_t> high = std::nullopt,
                             std::optional<std::uint64_t> swap = std::nullopt) {
  BudgetRequest r;
  r.memory_max = max;
  r.memory_high = high;
  r.swap_max = swap;
  r.backend = BudgetBackend::cgroup;
  return r;
}

std::string error_of(const BudgetRequest& r, const HostRoots& roots) {
  try {
    MemoryBudget b(r, "t", roots);
  } catch (const BudgetError& e) {
    return e.what();
  }
  return "";
}

// A cgroup v1 host (memory hierarchy only), tierscope in /bench.
void v1_host(const TempDir& t, bool memsw) {
  t.write("proc/self/cgroup", "4:memory:/bench\n1:cpu:/\n0::/\n");
  t.write("sys/fs/cgroup/memory/memory.usage_in_bytes", "0\n");
  t.write("sys/fs/cgroup/memory/bench/memory.limit_in_bytes", "9223372036854771712\n");
  if (memsw) t.write("sys/fs/cgroup/memory/bench/memory.memsw.limit_in_bytes", "9223372036854771712\n");
}

// A cgroup v2 host, tierscope in /user.slice/t.scope whose controllers are `controllers`.
void v2_host(const TempDir& t, std::string_view controllers) {
  t.write("proc/self/cgroup", "0::/user.slice/t.scope\n");
  t.write("sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory pids\n");
  t.write("sys/fs/cgroup/user.slice/t.scope/cgroup.controllers", std::string(controllers) + "\n");
  t.write("sys/fs/cgroup/user.slice/t.scope/cgroup.subtree_control", "\n");
}

}  // namespace

TEST(MemoryBudget, PageRoundingIsTheKernelsRoundingDown) {
  EXPECT_EQ(page_rounded(48ull << 20, 4096), 48ull << 20);
  EXPECT_EQ(page_rounded(1000000, 4096), 999424u);
  EXPECT_EQ(page_rounded(4095, 4096), 0u);
  EXPECT_EQ(page_rounded(1000000, 65536), 983040u);
}

TEST(MemoryBudget, NoMemoryControllerAnywhereIsRefusedBeforeAnythingStarts) {
  TempDir t;
  t.write("proc/self/cgroup", "0::/\n");
  t.write("sys/fs/cgroup/unified/cgroup.controllers", "\n");  // hybrid host, memory bound nowhere
  auto e = error_of(cgroup_request(64ull << 20), t.roots());
  EXPECT_NE(e.find("no memory controller"), std::string::npos) << e;
}

TEST(MemoryBudget, AV2CgroupWithoutTheMemoryControllerDelegatedSaysSo) {
  TempDir t;
  v2_host(t, "cpu pids");
  auto e = error_of(cgroup_request(64ull << 20), t.roots());
  EXPECT_NE(e.find("no memory controller in cgroup /user.slice/t.scope"), std::string::npos) << e;
  EXPECT_NE(e.find("\"cpu pids\""), std::string::npos) << e;
  EXPECT_NE(e.find("not delegated"), std::string::npos) << e;
  EXPECT_FALSE(std::filesystem::exists(t.path() / "sys/fs/cgroup/user.slice/t.scope/tierscope-t-engine"));
}

TEST(MemoryBudget, AV2ParentThatIsNotThereIsNamed) {
  TempDir t;
  v2_host(t, "memory");
  auto r = cgroup_request(64ull << 20);
  r.cgroup_parent = "/nowhere";
  auto e = error_of(r, t.roots());
  EXPECT_NE(e.find("does not exist"), std::string::npos) << e;
  r.cgroup_parent = "/../etc";
  e = error_of(r, t.roots());
  EXPECT_NE(e.find("is not in the cgroup v2 hierarchy"), std::string::npos) << e;
}

TEST(MemoryBudget, AV2CgroupWhoseMemoryFilesNeverAppearIsRefusedAndRemoved) {
  // A directory that is not a cgroup (no kernel made memory.max in it): the
  // limit cannot be written, which is an error, and the directory goes.
  TempDir t;
  v2_host(t, "io memory pids");
  auto e = error_of(cgroup_request(64ull << 20), t.roots());
  EXPECT_NE(e.find("memory_max"), std::string::npos) << e;
  EXPECT_NE(e.find("memory.max does not exist"), std::string::npos) << e;
  EXPECT_FALSE(std::filesystem::exists(t.path() / "sys/fs/cgroup/user.slice/t.scope/tierscope-t-engine"));
}

TEST(MemoryBudget, CgroupV1RefusesMemoryHighAndSwapWithoutMemoryOrAccounting) {
  TempDir t;
  v1_host(t, /*memsw=*/false);
  auto e = error_of(cgroup_request(64ull << 20, 32ull << 20), t.roots());
  EXPECT_NE(e.find("memory_high needs cgroup v2"), std::string::npos) << e;
  e = error_of(cgroup_request(std::nullopt, std::nullopt, 0), t.roots());
  EXPECT_NE(e.find("swap_max on cgroup v1 needs memory_max"), std::string::npos) << e;
  e = error_of(cgroup_request(64ull << 20, std::nullopt, 0), t.roots());
  EXPECT_NE(e.find("swap accounting is off"), std::string::npos) << e;
}

TEST(MemoryBudget, AnEmptyRequestAndASecondRunOfTheSameNameAreRefused) {
  TempDir t;
  v1_host(t, true);
  EXPECT_NE(error_of(BudgetRequest{}, t.roots()).find("no limit asked for"), std::string::npos);
  std::filesystem::create_directories(t.path() / "sys/fs/cgroup/memory/bench/tierscope-t-engine");
  auto e = error_of(cgroup_request(64ull << 20), t.roots());
  EXPECT_NE(e.find("/bench/tierscope-t-engine already exists"), std::string::npos) << e;
}

TEST(MemoryBudget, BackendSystemdWhereSystemdIsNotPid1IsRefusedBeforeAnythingStarts) {
  // sd_booted() looks at the real /run/systemd/system, not at HostRoots: this
  // runs where systemd is not PID 1 (containers, CI runners, this test's
  // build hosts); the nspawn system test covers the other side.
  if (systemd_is_init()) GTEST_SKIP() << "systemd is PID 1 here";
  TempDir t;
  v1_host(t, true);  // a memory controller there is: only systemd is missing
  auto r = cgroup_request(64ull << 20);
  r.backend = BudgetBackend::systemd;
  auto e = error_of(r, t.roots());
  EXPECT_NE(e.find("backend systemd"), std::string::npos) << e;
  EXPECT_NE(e.find("systemd is not PID 1 on this machine"), std::string::npos) << e;
  EXPECT_FALSE(std::filesystem::exists(t.path() / "sys/fs/cgroup/memory/bench/tierscope-t-engine"));
  // auto on the same host picks the cgroup: no mention of systemd.
  r.backend = BudgetBackend::automatic;
  e = error_of(r, t.roots());
  EXPECT_EQ(e.find("systemd"), std::string::npos) << e;
}

TEST(ScenarioLimits, ParseRoundTripAndRefuse) {
  const std::string base =
      "engine: {kind: llamacpp, launch: {argv: [llama-server, --port, '{port}']}}\nscenario: context_sweep\ncontexts: [128]\n";
  auto s = parse_scenario(base + "limits: {memory_max: 16G, memory_high: 12G, swap_max: 512M, backend: cgroup, "
                                 "cgroup_parent: /tierscope}\n",
                          "s.yaml");
  EXPECT_EQ(s.limits.memory_max, 16ull << 30);
  EXPECT_EQ(s.limits.memory_high, 12ull << 30);
  EXPECT_EQ(s.limits.swap_max, 512ull << 20);
  EXPECT_EQ(s.limits.backend, BudgetBackend::cgroup);
  EXPECT_EQ(s.limits.cgroup_parent, "/tierscope");
  EXPECT_EQ(parse_scenario(to_yaml(s), "again.yaml").limits, s.limits);
  EXPECT_EQ(parse_scenario(base + "limits: {swap_max: 0}\n", "s.yaml").limits.swap_max, 0u);
  auto error = [&](const std::string& limits) {
    try {
      parse_scenario(base + limits, "s.yaml");
    } catch (const ScenarioError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(error("limits: {memory_maxx: 16G}\n").find("did you mean \"memory_max\""), std::string::npos)
      << error("limits: {memory_maxx: 16G}\n");
  EXPECT_NE(error("limits: {memory_max: 10}\n").find("s.yaml:4:22: limits.memory_max: expected a size from 4M"),
            std::string::npos)
      << error("limits: {memory_max: 10}\n");
  EXPECT_NE(error("limits: {memory_max: 16GB}\n").find("ambiguous unit GB"), std::string::npos);
  EXPECT_NE(error("limits: {}\n").find("expected at least one of"), std::string::npos) << error("limits: {}\n");
  EXPECT_NE(error("limits: {memory_max: 1G, backend: docker}\n").find("limits.backend"), std::string::npos);
  EXPECT_NE(error("limits: {memory_max: 1G, cgroup_parent: /a/../b}\n").find("cgroup_parent"), std::string::npos);
  try {
    parse_scenario("engine: {kind: llamacpp, url: http://127.0.0.1:8080}\nscenario: context_sweep\ncontexts: [128]\n"
                   "limits: {memory_max: 1G}\n",
                   "s.yaml");
    ADD_FAILURE() << "limits without engine.launch was accepted";
  } catch (const ScenarioError& e) {
    EXPECT_NE(std::string(e.what()).find("s.yaml:4:9: limits: needs engine.launch"), std::string::npos) << e.what();
  }
}

// The soak's bounded series, the Threads: line it reads, and its soak.json
// state round trip (scenario: soak is parsed in test_scenario.cpp).
#include <gtest/gtest.h>

#include <cmath>

#include "probes/workload.h"
#include "workloads/run_recording.h"
#include "workloads/soak_series.h"

using namespace tierscope::workloads;

namespace {

bool has(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

}  // namespace

TEST(SoakSeries, KeepsEverySampleUntilFull) {
  BoundedSeries s(8);
  for (int i = 0; i < 7; ++i) s.add({double(i), double(10 * i), double(i), std::nullopt});
  auto p = s.points();
  ASSERT_EQ(p.size(), 7u);
  EXPECT_EQ(s.stride(), 1u);
  EXPECT_DOUBLE_EQ(p[6].value, 60);
  EXPECT_DOUBLE_EQ(*p[6].requests, 6);
  EXPECT_FALSE(p[6].tokens);
}

TEST(SoakSeries, MergesAdjacentPairsWhenFullAndStaysBounded) {
  BoundedSeries s(1000);
  const std::uint64_t n = 864'000;  // 24 h at 10 Hz
  for (std::uint64_t i = 0; i < n; ++i) {
    const double t = static_cast<double>(i) / 10.0;
    s.add({t, 1000.0 + 2.0 * t, t, std::nullopt});
  }
  auto p = s.points();
  EXPECT_LE(p.size(), 1001u);
  EXPECT_GE(p.size(), 500u);
  EXPECT_EQ(s.samples(), n);
  EXPECT_EQ(s.stride(), 1024u);  // 864 000 samples / 1000 points, rounded up to a power of two
  // Means of a line lie on the line, evenly spaced in time.
  for (std::size_t i = 0; i < p.size(); ++i) EXPECT_NEAR(p[i].value, 1000.0 + 2.0 * p[i].t_s, 1e-6) << i;
  const double step = p[1].t_s - p[0].t_s;
  EXPECT_NEAR(step, 1024 / 10.0, 1e-6);
  for (std::size_t i = 1; i + 2 < p.size(); ++i) EXPECT_NEAR(p[i + 1].t_s - p[i].t_s, step, 1e-6) << i;
  // The first point is the mean of the first stride of samples; the last sample counts (partial mean).
  EXPECT_NEAR(p.front().t_s, (1024 - 1) / 2.0 / 10.0, 1e-6);
  EXPECT_GT(p.back().t_s, (n - 1024) / 10.0);
}

TEST(SoakSeries, OddCapacityKeepsWeights) {
  BoundedSeries s(5);
  for (int i = 0; i < 100; ++i) s.add({double(i), double(i), std::nullopt, std::nullopt});
  auto p = s.points();
  EXPECT_LE(p.size(), 6u);
  for (const auto& x : p) EXPECT_NEAR(x.value, x.t_s, 1e-9);
}

TEST(SoakState, RoundTripsThroughJson) {
  SoakState s;
  s.name = "soak-a";
  s.scenario_sha256 = std::string(64, 'f');
  s.status = "interrupted";
  s.started = "2026-12-02T10:00:00Z";
  s.updated = "2026-12-02T11:00:00Z";
  s.elapsed_s = 3599.5;
  s.duration_s = 86400;
  s.idle_tail_s = 600;
  s.samples = 35995;
  s.requests_ok = 1234;
  s.requests_failed = 5;
  s.output_tokens = 98765;
  s.engine_restarts = 2;
  s.gaps = {{1000.0, 1012.5}, {2000.0, 2001.0}};
  auto j = s.to_json();
  EXPECT_DOUBLE_EQ(j["gap_seconds"].get<double>(), 13.5);
  EXPECT_DOUBLE_EQ(j["gaps"][0]["seconds"].get<double>(), 12.5);
  SoakState back = SoakState::from_json(nlohmann::json::parse(j.dump()));
  EXPECT_EQ(back.to_json(), j);
  EXPECT_EQ(back.engine_restarts, 2u);
  EXPECT_DOUBLE_EQ(back.gap_seconds(), 13.5);
}

TEST(SoakState, RejectsAWrongShapeNamingTheField) {
  SoakState s;
  auto j = s.to_json();
  j["requests_ok"] = "many";
  try {
    (void)SoakState::from_json(j);
    FAIL() << "accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_TRUE(has(e.what(), "requests_ok")) << e.what();
  }
  j = s.to_json();
  j.erase("gaps");
  EXPECT_THROW((void)SoakState::from_json(j), std::runtime_error);
  EXPECT_THROW((void)SoakState::from_json(nlohmann::json::array()), std::runtime_error);
}

TEST(SoakSeries, ThreadsOfProcStatus) {
  EXPECT_EQ(parse_status_threads("Name:\tllama-server\nUmask:\t0022\nThreads:\t17\nVmRSS:\t 1 kB\n"), 17u);
  EXPECT_EQ(parse_status_threads("Threads:\t1\n"), 1u);
  EXPECT_FALSE(parse_status_threads("Name:\tx\n"));
  EXPECT_FALSE(parse_status_threads("Threads:\tmany\n"));
  EXPECT_FALSE(parse_status_threads("XThreads:\t3\n"));
}

// What a bench or soak watches of a launched engine: the budget's cgroup when
// it has one (never with the PID too: a selection with PIDs sums over
// processes), else the PID as EngineSession records it (a signed number).
TEST(LaunchedWorkload, BudgetCgroupElsePid) {
  nlohmann::json launch = {{"pid", 4242}, {"argv", {"llama-server"}}};
  tierscope::WorkloadSelection w = launched_workload(launch);
  ASSERT_EQ(w.pids.size(), 1u);
  EXPECT_EQ(w.pids[0], 4242u);
  EXPECT_TRUE(w.cgroups.empty());

  launch["budget"] = {{"backend", "cgroup-v2"}, {"cgroup", "/tierscope/run-engine"}};
  w = launched_workload(launch);
  EXPECT_TRUE(w.pids.empty());
  ASSERT_EQ(w.cgroups.size(), 1u);
  EXPECT_EQ(w.cgroups[0], "/tierscope/run-engine");

  // A budget without a cgroup (not verified), a negative or missing PID: nothing made up.
  launch["budget"] = {{"backend", "cgroup-v2"}};
  launch["pid"] = -1;
  EXPECT_TRUE(launched_workload(launch).empty());
  EXPECT_TRUE(launched_workload(nlohmann::json::object()).empty());
}

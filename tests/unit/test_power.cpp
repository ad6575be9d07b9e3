// The power probe: RAPL energy with its wrap, CPU temperatures from hwmon,
// thermal throttle counts, and what is absent when something cannot be read.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <string>

#include "core/metric_writer.h"
#include "probes/power.h"
#include "probes/snapshot.h"
#include "test_util.h"

using namespace tierscope;
using tierscope::testing::CapturedLog;
using tierscope::testing::ProbeRig;
using tierscope::testing::series;
using tierscope::testing::TempDir;
namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t kIntelRange = 262143328850;  // max_energy_range_uj of a 61.035 µJ energy unit

// A writable copy of a fixture host's sysfs parts the probe reads.
void copy_fixture(const TempDir& t, const std::string& host) {
  const fs::path from = fs::path(TIERSCOPE_FIXTURES) / host / "sys";
  for (const char* part : {"class/powercap", "class/hwmon", "devices/system/cpu"}) {
    if (!fs::exists(from / part)) continue;
    fs::create_directories(t.path() / "sys" / part);
    fs::copy(from / part, t.path() / "sys" / part, fs::copy_options::recursive | fs::copy_options::copy_symlinks);
  }
}

const RaplZone* zone(const Power& p, const std::string& label) {
  for (const auto& z : p.zones)
    if (z.zone == label) return &z;
  return nullptr;
}

std::map<std::string, double> rendered(const Power& p) {
  MetricWriter w;
  render_power(p, w);
  return series(std::move(w).finish());
}

}  // namespace

// ---- the wrap ----------------------------------------------------------------

TEST(RaplDelta, CountsForwardAndAcrossTheInclusiveRange) {
  EXPECT_EQ(rapl_energy_delta_uj(1000, 1500, kIntelRange), 500u);
  EXPECT_EQ(rapl_energy_delta_uj(1000, 1000, kIntelRange), 0u);
  // The counter shows 0 ... max_energy_range_uj: from the top to 1000000 is
  // one step to 0 and 1000000 more.
  EXPECT_EQ(rapl_energy_delta_uj(kIntelRange, 1000000, kIntelRange), 1000001u);
  EXPECT_EQ(rapl_energy_delta_uj(kIntelRange - 328850, 1000000, kIntelRange), 328850u + 1000001u);
  EXPECT_EQ(rapl_energy_delta_uj(5, 4, kIntelRange), kIntelRange);  // one short of a full turn
  constexpr auto top = std::numeric_limits<std::uint64_t>::max();
  EXPECT_EQ(rapl_energy_delta_uj(top, 7, top), 8u);  // no overflow at the widest range
}

TEST(RaplDelta, BackwardsWithoutAUsableRangeIsUnknown) {
  EXPECT_FALSE(rapl_energy_delta_uj(1000, 999, std::nullopt));
  EXPECT_FALSE(rapl_energy_delta_uj(5000, 10, 4000));  // last above the range: not this counter's wrap
  EXPECT_EQ(rapl_energy_delta_uj(10, 20, std::nullopt), 10u);
}

// ---- zone labels -------------------------------------------------------------

TEST(RaplZoneLabels, NameWhenUniqueParentWhenRepeatedDirectoryAsTheLastResort) {
  EXPECT_EQ(unique_zone_labels({{"intel-rapl:0", "package-0", ""},
                                {"intel-rapl:0:0", "core", "package-0"},
                                {"intel-rapl:0:1", "dram", "package-0"},
                                {"intel-rapl:1", "package-1", ""},
                                {"intel-rapl:1:0", "core", "package-1"},
                                {"intel-rapl:2", "psys", ""}}),
            (std::vector<std::string>{"package-0", "package-0/core", "dram", "package-1", "package-1/core", "psys"}));
  // Two top zones of one name (and subzones under them) cannot use a parent.
  EXPECT_EQ(unique_zone_labels({{"intel-rapl:0", "package-0", ""},
                                {"intel-rapl:0:0", "core", "package-0"},
                                {"amd-rapl:0", "package-0", ""},
                                {"amd-rapl:0:0", "core", "package-0"}}),
            (std::vector<std::string>{"intel-rapl:0", "intel-rapl:0:0", "amd-rapl:0", "amd-rapl:0:0"}));
  // A name that is another zone's directory gives way to its own directory.
  EXPECT_EQ(unique_zone_labels({{"intel-rapl:0", "intel-rapl:1", ""}, {"intel-rapl:1", "x", ""}, {"intel-rapl:2", "x", ""}}),
            (std::vector<std::string>{"intel-rapl:0", "intel-rapl:1", "intel-rapl:2"}));
}

// ---- the fixture hosts -------------------------------------------------------

TEST(PowerProbe, PhisonHostTwoIntelPackagesCoretempAndThrottleCounts) {
  ProbeRig rig(tierscope::testing::fixture_roots("phison-host"));
  PowerProbe probe;
  auto outcome = rig.run(probe);
  ASSERT_EQ(outcome.status, ProbeStatus::ok) << outcome.error;
  const Power* p = rig.snap.get(kPower);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->energy_problem, "");
  // intel-rapl-mmio:0 (the same package counter through MMIO) is left out.
  std::vector<std::string> labels;
  for (const auto& z : p->zones) labels.push_back(z.zone);
  EXPECT_EQ(labels, (std::vector<std::string>{"package-0", "package-0/core", "package-0/dram", "package-1",
                                              "package-1/core", "package-1/dram"}));
  for (const auto& z : p->zones) EXPECT_EQ(z.energy_joules, 0.0) << z.zone;  // counted from the first reading
  EXPECT_EQ(zone(*p, "package-0/dram")->max_energy_range_uj, 65712999613u);

  auto s = rendered(*p);
  EXPECT_EQ(s.count("tierscope_cpu_energy_joules_total{zone=package-1/core,}"), 1u);
  // acpitz (hwmon0) is not a CPU sensor; two coretemp chips, told apart by their device.
  EXPECT_EQ(s.at("tierscope_cpu_temperature_celsius{chip=coretemp/coretemp.0,sensor=Package id 0,}"), 54.0);
  EXPECT_EQ(s.at("tierscope_cpu_temperature_celsius{chip=coretemp/coretemp.1,sensor=Core 1,}"), 48.5);
  EXPECT_EQ(s.at("tierscope_cpu_temperature_max_celsius{chip=coretemp/coretemp.1,sensor=Core 1,}"), 80.0);
  EXPECT_EQ(s.at("tierscope_cpu_temperature_critical_celsius{chip=coretemp/coretemp.0,sensor=Core 0,}"), 100.0);
  EXPECT_EQ(p->temperatures.size(), 6u);
  // core: 3 + 0 + 0 + 2 + 5 + 0 + 1 + 0; package: max(12, 12, 11, 12) + max(4, 4, 4, 4).
  EXPECT_EQ(s.at("tierscope_cpu_thermal_throttle_total{kind=core,}"), 11.0);
  EXPECT_EQ(s.at("tierscope_cpu_thermal_throttle_total{kind=package,}"), 16.0);
}

TEST(PowerProbe, StrixHaloAmdRaplUnderIntelNamesAndK10temp) {
  auto roots = tierscope::testing::fixture_roots("amd-strix-halo");
  ProbeRig rig(roots);
  PowerProbe probe;
  ASSERT_EQ(rig.run(probe).status, ProbeStatus::ok);
  const Power* p = rig.snap.get(kPower);
  ASSERT_TRUE(p);
  auto s = rendered(*p);
  EXPECT_EQ(s.count("tierscope_cpu_energy_joules_total{zone=package-0,}"), 1u);
  EXPECT_EQ(s.count("tierscope_cpu_energy_joules_total{zone=core,}"), 1u);  // one package: no parent needed
  EXPECT_EQ(s.at("tierscope_cpu_temperature_celsius{chip=k10temp,sensor=Tctl,}"), 61.25);
  EXPECT_EQ(s.at("tierscope_cpu_temperature_celsius{chip=k10temp,sensor=Tccd1,}"), 58.875);
  EXPECT_EQ(s.at("tierscope_cpu_temperature_max_celsius{chip=k10temp,sensor=Tctl,}"), 70.0);
  EXPECT_EQ(s.count("tierscope_cpu_temperature_max_celsius{chip=k10temp,sensor=Tccd1,}"), 0u);  // no temp3_max
  EXPECT_EQ(s.count("tierscope_cpu_temperature_critical_celsius{chip=k10temp,sensor=Tctl,}"), 0u);
  EXPECT_FALSE(p->core_throttle_total);  // no thermal_throttle directories: absent, not 0
  EXPECT_FALSE(p->package_throttle_total);
}

// ---- energy across samples ---------------------------------------------------

TEST(PowerProbe, WrapOnTheFixtureIsCountedExactly) {
  TempDir t;
  copy_fixture(t, "phison-host");
  ProbeRig rig(t.roots());
  PowerProbe probe;
  ASSERT_EQ(rig.run(probe).status, ProbeStatus::ok);
  // package-0 stood at 262143000000 of 262143328850 and wrapped to 1000000;
  // package-0/core went on by 5 J without a wrap.
  t.write("sys/class/powercap/intel-rapl:0/energy_uj", "1000000\n");
  t.write("sys/class/powercap/intel-rapl:0:0/energy_uj", "73256234567\n");
  rig.snap = Snapshot{};
  ASSERT_EQ(rig.run(probe).status, ProbeStatus::ok);
  const Power* p = rig.snap.get(kPower);
  ASSERT_TRUE(p);
  EXPECT_EQ(zone(*p, "package-0")->energy_joules, static_cast<double>(328850 + 1000001) / 1e6);
  EXPECT_EQ(zone(*p, "package-0/core")->energy_joules, 5.0);
  EXPECT_EQ(zone(*p, "package-1")->energy_joules, 0.0);
  // And on from there: the counter keeps what it has.
  t.write("sys/class/powercap/intel-rapl:0/energy_uj", "3000000\n");
  rig.snap = Snapshot{};
  rig.run(probe);
  EXPECT_EQ(zone(*rig.snap.get(kPower), "package-0")->energy_joules, static_cast<double>(328850 + 3000001) / 1e6);
}

TEST(PowerProbe, TwoWrapsBetweenReadingsLookLikeOne) {
  // A documented limit: the counter holds only its position in the range, so
  // readings more than one range apart lose whole turns. Here the zone used
  // 2 x (range + 1) + 50 µJ and the probe can only see 50.
  TempDir t;
  t.write("sys/class/powercap/intel-rapl:0/name", "package-0\n");
  t.write("sys/class/powercap/intel-rapl:0/max_energy_range_uj", std::to_string(kIntelRange) + "\n");
  t.write("sys/class/powercap/intel-rapl:0/energy_uj", "100\n");
  ProbeRig rig(t.roots());
  PowerProbe probe;
  rig.run(probe);
  t.write("sys/class/powercap/intel-rapl:0/energy_uj", "150\n");
  rig.snap = Snapshot{};
  rig.run(probe);
  EXPECT_EQ(zone(*rig.snap.get(kPower), "package-0")->energy_joules, 50e-6);
}

TEST(PowerProbe, ACounterThatGoesBackWithoutARangeStartsAgainFromThere) {
  TempDir t;
  t.write("sys/class/powercap/intel-rapl:0/name", "package-0\n");
  t.write("sys/class/powercap/intel-rapl:0/energy_uj", "9000000\n");  // no max_energy_range_uj
  ProbeRig rig(t.roots());
  PowerProbe probe;
  rig.run(probe);
  t.write("sys/class/powercap/intel-rapl:0/energy_uj", "2000000\n");  // reset or wrap: unknowable
  rig.snap = Snapshot{};
  rig.run(probe);
  EXPECT_EQ(zone(*rig.snap.get(kPower), "package-0")->energy_joules, 0.0);
  t.write("sys/class/powercap/intel-rapl:0/energy_uj", "2500000\n");
  rig.snap = Snapshot{};
  rig.run(probe);
  EXPECT_EQ(zone(*rig.snap.get(kPower), "package-0")->energy_joules, 0.5);
}

// ---- what cannot be read -----------------------------------------------------

namespace {

// Runs `body` in a child process without root's rights (the test may run as
// root, who reads mode-000 files): uid and gid 65534 when root, as is
// otherwise. Returns the child's exit status (body's return value).
int run_unprivileged(const std::function<int()>& body) {
  pid_t pid = ::fork();
  if (pid == 0) {
    if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) ::_exit(100);
    ::_exit(body());
  }
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

}  // namespace

TEST(PowerProbe, RootOnlyEnergyIsAbsentTheRestStaysAndTheProbeSucceeds) {
  TempDir t;
  copy_fixture(t, "phison-host");
  // As Linux 5.10+ lays it out: energy_uj 0400 root; the rest world-readable.
  for (auto it = fs::recursive_directory_iterator(t.path()); it != fs::recursive_directory_iterator(); ++it) {
    if (it->is_symlink()) continue;
    ::chmod(it->path().c_str(), it->is_directory() ? 0755 : 0644);
    if (it->path().filename() == "energy_uj") ::chmod(it->path().c_str(), 0);
  }
  ::chmod(t.path().c_str(), 0755);
  int rc = run_unprivileged([&] {
    ProbeRig rig(t.roots());
    PowerProbe probe;
    auto outcome = rig.run(probe);
    if (outcome.status != ProbeStatus::ok) return 1;
    const Power* p = rig.snap.get(kPower);
    if (!p) return 2;
    if (!p->zones.empty()) return 3;  // absent, never 0
    if (p->energy_problem.find("energy_uj: Permission denied") == std::string::npos) return 4;
    if (p->energy_problem.find("CVE-2020-8694") == std::string::npos) return 5;
    if (p->temperatures.size() != 6 || p->core_throttle_total != 11u) return 6;
    return 0;
  });
  EXPECT_EQ(rc, 0) << "1 not ok, 2 no reading, 3 energy present, 4/5 reason, 6 temperatures or throttle lost, 100 setuid";
}

TEST(PowerProbe, NothingThereIsNoData) {
  TempDir t;
  t.write("sys/class/hwmon/hwmon0/name", "nvme\n");  // not a CPU sensor
  t.write("sys/class/hwmon/hwmon0/temp1_input", "40000\n");
  t.write("sys/devices/system/cpu/cpu0/topology/physical_package_id", "0\n");  // no thermal_throttle
  t.write("sys/class/powercap/intel-rapl/enabled", "1\n");  // the control type, no zone
  ProbeRig rig(t.roots());
  PowerProbe probe;
  EXPECT_EQ(rig.run(probe).status, ProbeStatus::no_data);
  EXPECT_FALSE(rig.snap.get(kPower));
}

TEST(PowerProbe, MillidegreesLabelsAndMissingFiles) {
  TempDir t;
  const std::string h = "sys/class/hwmon/hwmon2/";
  t.write(h + "name", "cpu_thermal\n");  // an arm64 SoC's thermal zone, unlabelled
  t.write(h + "temp1_input", "-2500\n");
  t.write(h + "temp2_input", "45123\n");
  t.write(h + "temp2_label", "\n");  // empty label: the channel name
  t.write(h + "temp3_label", "no input\n");
  t.write("sys/class/hwmon/hwmon3/name", "zenpower\n");
  t.write("sys/class/hwmon/hwmon3/temp1_label", "Tdie\n");
  t.write("sys/class/hwmon/hwmon3/temp1_input", "71000\n");
  // A zone without energy_uj (power limits only) is left out quietly.
  t.write("sys/class/powercap/intel-rapl:0/name", "psys\n");
  ProbeRig rig(t.roots());
  PowerProbe probe;
  auto outcome = rig.run(probe);
  ASSERT_EQ(outcome.status, ProbeStatus::ok) << outcome.error;
  auto s = rendered(*rig.snap.get(kPower));
  EXPECT_EQ(s, (std::map<std::string, double>{
                   {"tierscope_cpu_temperature_celsius{chip=cpu_thermal,sensor=temp1,}", -2.5},
                   {"tierscope_cpu_temperature_celsius{chip=cpu_thermal,sensor=temp2,}", 45.123},
                   {"tierscope_cpu_temperature_celsius{chip=zenpower,sensor=Tdie,}", 71.0},
               }));
}

TEST(PowerProbe, GarbageIsAFailureNamingTheFileAndTheRestStillReports) {
  TempDir t;
  copy_fixture(t, "phison-host");
  t.write("sys/class/hwmon/hwmon1/temp2_input", "51.5\n");
  t.write("sys/class/powercap/intel-rapl:1/energy_uj", "-1\n");
  ProbeRig rig(t.roots());
  PowerProbe probe;
  auto outcome = rig.run(probe);
  EXPECT_EQ(outcome.status, ProbeStatus::error);
  EXPECT_NE(outcome.error.find("hwmon1/temp2_input: not millidegrees: \"51.5\""), std::string::npos) << outcome.error;
  EXPECT_NE(outcome.error.find("intel-rapl:1/energy_uj: not a whole number: \"-1\""), std::string::npos)
      << outcome.error;
  const Power* p = rig.snap.get(kPower);
  ASSERT_TRUE(p);
  EXPECT_FALSE(zone(*p, "package-1"));  // absent, not 0
  EXPECT_TRUE(zone(*p, "package-0"));
  EXPECT_EQ(p->temperatures.size(), 5u);
}

TEST(PowerProbe, OtherRootsStartTheCountersAgain) {
  TempDir a, b;
  for (const TempDir* t : {&a, &b}) {
    t->write("sys/class/powercap/intel-rapl:0/name", "package-0\n");
    t->write("sys/class/powercap/intel-rapl:0/max_energy_range_uj", std::to_string(kIntelRange) + "\n");
  }
  a.write("sys/class/powercap/intel-rapl:0/energy_uj", "1000000\n");
  b.write("sys/class/powercap/intel-rapl:0/energy_uj", "9000000\n");
  PowerProbe probe;
  FileCache files;
  std::string scratch;
  auto energy = [&](const TempDir& t) {
    HostRoots roots = t.roots();
    ProbeContext ctx{roots, files, scratch};
    Snapshot snap;
    probe.sample(ctx, snap);
    return zone(*snap.get(kPower), "package-0")->energy_joules;
  };
  EXPECT_EQ(energy(a), 0.0);
  EXPECT_EQ(energy(b), 0.0);  // another host: not 8 J
  b.write("sys/class/powercap/intel-rapl:0/energy_uj", "9500000\n");
  EXPECT_EQ(energy(b), 0.5);
}

TEST(PowerProbe, ThrottleCountsEveryTenSecondsNewZonesAndCpusWithinAMinute) {
  using namespace std::chrono_literals;
  TempDir t;
  t.write("sys/class/powercap/intel-rapl:0/name", "package-0\n");
  t.write("sys/class/powercap/intel-rapl:0/energy_uj", "1000000\n");
  t.write("sys/devices/system/cpu/cpu0/thermal_throttle/core_throttle_count", "1\n");
  t.write("sys/devices/system/cpu/cpu0/thermal_throttle/package_throttle_count", "2\n");
  auto now = std::chrono::steady_clock::time_point{} + 1000s;
  PowerProbe probe([&] { return now; });
  ProbeRig rig(t.roots());
  auto tick = [&](std::chrono::seconds later) {
    now += later;
    rig.snap = Snapshot{};
    EXPECT_EQ(rig.run(probe).status, ProbeStatus::ok);
    return *rig.snap.get(kPower);
  };
  EXPECT_EQ(tick(0s).core_throttle_total, 1u);
  t.write("sys/devices/system/cpu/cpu0/thermal_throttle/core_throttle_count", "4\n");
  t.write("sys/class/powercap/intel-rapl:0/energy_uj", "3000000\n");
  auto p = tick(9s);
  EXPECT_EQ(p.core_throttle_total, 1u);  // the count read at 0 s, exported again
  EXPECT_EQ(p.package_throttle_total, 2u);
  EXPECT_EQ(zone(p, "package-0")->energy_joules, 2.0);  // energy: every sample
  EXPECT_EQ(tick(1s).core_throttle_total, 4u);
  // A new zone and a new CPU: found at the next look, 60 s after the last.
  t.write("sys/class/powercap/intel-rapl:1/name", "package-1\n");
  t.write("sys/class/powercap/intel-rapl:1/energy_uj", "5\n");
  t.write("sys/devices/system/cpu/cpu1/thermal_throttle/core_throttle_count", "10\n");
  t.write("sys/devices/system/cpu/cpu1/thermal_throttle/package_throttle_count", "2\n");
  EXPECT_FALSE(zone(tick(49s), "package-1"));
  p = tick(1s);  // 60 s
  EXPECT_TRUE(zone(p, "package-1"));
  EXPECT_EQ(p.core_throttle_total, 14u);  // read again at once after the look
  EXPECT_EQ(p.package_throttle_total, 2u);  // no physical_package_id: one package of unknowns, the highest copy
  EXPECT_EQ(zone(p, "package-0")->energy_joules, 2.0);  // the count goes on across the look
}

// ---- one log line per change -------------------------------------------------

TEST(PowerLog, OneLineWhenEnergyIsUnreadableOneWhenItIsReadableAgain) {
  CapturedLog captured;
  PowerLog step;
  auto observe = [&](std::optional<std::string> problem) {
    Snapshot snap;
    if (problem) {
      Power p;
      p.energy_problem = *problem;
      snap.put(kPower, std::move(p));
    }
    step.observe(snap, *captured.log);
  };
  const std::string denied = "/sys/class/powercap/intel-rapl:0/energy_uj: Permission denied: root only";
  observe(denied);
  observe(denied);
  observe(std::nullopt);  // probe disabled or nothing found this time: no news
  observe(denied);
  observe("");
  observe("");
  EXPECT_EQ(captured.text(), "<4>power: " + denied + "\n<6>power: RAPL energy counters readable again\n");
}

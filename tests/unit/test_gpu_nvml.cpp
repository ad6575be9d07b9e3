// The NVML probe against the fake libnvidia-ml (tests/fakes/fake_nvml.cpp),
// loaded through the probe's normal dlopen path, scenario by scenario
// (tests/fixtures/nvml). Expected values are the scenario's, converted by the
// units the NVML API reference gives (mW, mJ, MHz, KB/s).

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/metric_writer.h"
#include "probes/gpu_nvml.h"
#include "test_util.h"

using namespace tierscope;
using namespace std::chrono_literals;
using tierscope::testing::ProbeRig;
using tierscope::testing::TempDir;

namespace {

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(TIERSCOPE_FIXTURES) + "/nvml/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A scenario file the fake reads; rewriting it changes what the "driver" says.
class Scenario {
 public:
  explicit Scenario(const std::string& json) {
    path_ = dir_.write("scenario.json", json);
    ::setenv("FAKE_NVML_SCENARIO", path_.c_str(), 1);
  }
  ~Scenario() { ::unsetenv("FAKE_NVML_SCENARIO"); }
  void rewrite(const std::string& json) {
    // A new file (new mtime even within the same clock tick) renamed over the old one.
    auto tmp = dir_.write("next.json", json);
    std::filesystem::rename(tmp, path_);
    std::this_thread::sleep_for(30ms);  // the fake checks for changes every 20 ms
  }

 private:
  TempDir dir_;
  std::filesystem::path path_;
};

GpuSettings settings(const char* library) {
  GpuSettings s;
  s.nvml_library = library;
  s.process_interval = 0ms;
  s.retry_min = 0ms;
  s.retry_max = 0ms;
  return s;
}

ProbeOutcome run(GpuNvmlProbe& probe, ProbeRig& rig) {
  rig.snap = Snapshot{};
  return rig.run(probe);
}

std::string replace(std::string s, const std::string& from, const std::string& to) {
  auto at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return s.replace(at, from.size(), to);
}

}  // namespace

TEST(GpuNvmlProbe, MissingLibraryIsQuietlyNoData) {
  GpuNvmlProbe probe(settings("/nonexistent/libnvidia-ml.so.1"));
  ProbeRig rig({});
  EXPECT_EQ(run(probe, rig).status, ProbeStatus::no_data);
  EXPECT_FALSE(rig.snap.get(kGpuNvml));
}

TEST(GpuNvmlProbe, ALibraryThatIsNotNvmlIsAFailure) {
  GpuNvmlProbe probe(settings("libm.so.6"));
  ProbeRig rig({});
  auto outcome = run(probe, rig);
  EXPECT_EQ(outcome.status, ProbeStatus::error);
  EXPECT_NE(outcome.error.find("not NVML"), std::string::npos) << outcome.error;
}

TEST(GpuNvmlProbe, DriverNotLoadedIsNoData) {
  Scenario sc(fixture("no-driver.json"));
  GpuNvmlProbe probe(settings(FAKE_NVML_CURRENT));
  ProbeRig rig({});
  EXPECT_EQ(run(probe, rig).status, ProbeStatus::no_data);
  EXPECT_FALSE(rig.snap.get(kGpuNvml));
}

TEST(GpuNvmlProbe, DiscreteH100) {
  Scenario sc(fixture("h100.json"));
  GpuNvmlProbe probe(settings(FAKE_NVML_CURRENT));
  ProbeRig rig({});
  ASSERT_EQ(run(probe, rig).status, ProbeStatus::ok);
  ASSERT_TRUE(rig.snap.get(kGpuNvml));
  ASSERT_EQ(rig.snap.get(kGpuNvml)->gpus.size(), 1u);
  const GpuReading& g = rig.snap.get(kGpuNvml)->gpus[0];
  EXPECT_EQ(g.id, "nvidia0");
  EXPECT_EQ(g.vendor, "nvidia");
  EXPECT_EQ(g.memory_model, "discrete");
  EXPECT_EQ(g.name, "NVIDIA H100 80GB HBM3");
  EXPECT_EQ(g.uuid, "GPU-8b3e2f0c-1d5a-4c77-9e21-4f0a6d2b9c11");
  EXPECT_EQ(g.pci_bus_id, "0000:1b:00.0");  // NVML's 00000000:1B:00.0 in sysfs form
  EXPECT_EQ(g.driver_version, "550.54.15");
  EXPECT_EQ(g.cuda_driver_version, "12.4");
  EXPECT_EQ(g.vram_total_bytes, 85520809984u);
  EXPECT_EQ(g.vram_used_bytes, 44485623808u);
  EXPECT_EQ(g.vram_reserved_bytes, 567279616u);
  EXPECT_DOUBLE_EQ(*g.utilization_ratio, 0.87);
  EXPECT_DOUBLE_EQ(*g.memory_utilization_ratio, 0.41);
  EXPECT_DOUBLE_EQ(*g.power_watts, 312.456);
  EXPECT_DOUBLE_EQ(*g.energy_joules, 98765432.1);
  ASSERT_EQ(g.temperatures.size(), 1u);
  EXPECT_EQ(g.temperatures[0].sensor, "gpu");
  EXPECT_EQ(g.temperatures[0].celsius, 61);
  EXPECT_DOUBLE_EQ(*g.sm_clock_hz, 1980e6);
  EXPECT_DOUBLE_EQ(*g.memory_clock_hz, 2619e6);
  EXPECT_DOUBLE_EQ(*g.pcie_rx_bytes_per_second, 1234567.0 * 1024);
  EXPECT_DOUBLE_EQ(*g.pcie_tx_bytes_per_second, 76543.0 * 1024);
  EXPECT_EQ(g.throttle_reasons, 5u);
  // 4242 holds a compute and a graphics context: one process, counted once.
  ASSERT_EQ(g.processes.size(), 2u);
  EXPECT_EQ(g.processes[0].pid, 4242u);
  EXPECT_EQ(g.processes[0].bytes, 42949672960u);
  EXPECT_EQ(g.processes[0].region, "vram");
  EXPECT_EQ(g.processes[1].pid, 5151u);
  EXPECT_EQ(g.process_memory_sum_bytes, 42949672960u + 1073741824u);
  EXPECT_TRUE(rig.snap.get(kGpuNvml)->errors.empty());
}

TEST(GpuNvmlProbe, Gb10IsUnifiedAndCountsItsProcessList) {
  Scenario sc(fixture("gb10.json"));
  GpuNvmlProbe probe(settings(FAKE_NVML_CURRENT));
  ProbeRig rig({});
  ASSERT_EQ(run(probe, rig).status, ProbeStatus::ok);
  const GpuReading& g = rig.snap.get(kGpuNvml)->gpus.at(0);
  EXPECT_EQ(g.memory_model, "unified");
  EXPECT_FALSE(g.vram_total_bytes);  // NOT_SUPPORTED: absent, never 0
  EXPECT_FALSE(g.vram_used_bytes);
  EXPECT_FALSE(g.pcie_rx_bytes_per_second);
  EXPECT_EQ(g.cuda_driver_version, "13.0");
  EXPECT_EQ(g.pci_bus_id, "000f:01:00.0");
  EXPECT_EQ(g.process_memory_sum_bytes, 64424509440u + 2147483648u);
  ASSERT_EQ(g.processes.size(), 2u);
  EXPECT_EQ(g.processes[0].pid, 777u);
  EXPECT_EQ(g.processes[0].region, "unified");
  EXPECT_TRUE(rig.snap.get(kGpuNvml)->errors.empty());  // NOT_SUPPORTED is not an error

  MetricWriter w;
  render_gpus(*rig.snap.get(kGpuNvml), nullptr, w);
  auto fams = std::move(w).finish();
  bool unified_tier = false;
  for (const auto& f : fams) {
    if (f.name == "tierscope_memory_capacity_bytes") ADD_FAILURE() << "no vram capacity on a unified GPU";
    if (f.name == "tierscope_memory_used_bytes") {
      ASSERT_EQ(f.metric.size(), 1u);
      EXPECT_EQ(f.metric[0].label, (Labels{{"device", "nvidia0"}, {"tier", "unified"}}));
      EXPECT_EQ(f.metric[0].gauge.value, 64424509440.0 + 2147483648.0);
      unified_tier = true;
    }
  }
  EXPECT_TRUE(unified_tier);
}

TEST(GpuNvmlProbe, MemoryModelOverride) {
  Scenario sc(fixture("h100.json"));
  auto s = settings(FAKE_NVML_CURRENT);
  s.memory_model = "unified";
  GpuNvmlProbe probe(s);
  ProbeRig rig({});
  ASSERT_EQ(run(probe, rig).status, ProbeStatus::ok);
  EXPECT_EQ(rig.snap.get(kGpuNvml)->gpus.at(0).memory_model, "unified");
  EXPECT_FALSE(rig.snap.get(kGpuNvml)->gpus.at(0).vram_total_bytes);
}

TEST(GpuNvmlProbe, LostGpuIsCountedDroppedAndReinitialisedUntilItAnswers) {
  const std::string healthy = fixture("h100.json");
  Scenario sc(healthy);
  GpuNvmlProbe probe(settings(FAKE_NVML_CURRENT));
  ProbeRig rig({});
  ASSERT_EQ(run(probe, rig).status, ProbeStatus::ok);

  sc.rewrite(replace(healthy, "\"name\": \"NVIDIA H100 80GB HBM3\",", "\"error\": \"GPU_IS_LOST\", \"name\": \"x\","));
  auto lost = run(probe, rig);
  EXPECT_EQ(lost.status, ProbeStatus::error);
  EXPECT_NE(lost.error.find("GPU_IS_LOST"), std::string::npos) << lost.error;
  ASSERT_TRUE(rig.snap.get(kGpuNvml));
  EXPECT_TRUE(rig.snap.get(kGpuNvml)->gpus.empty());  // no partial data from a lost GPU
  ASSERT_FALSE(rig.snap.get(kGpuNvml)->errors.empty());
  EXPECT_EQ(rig.snap.get(kGpuNvml)->errors[0].error, "GPU_IS_LOST");
  auto again = run(probe, rig);  // re-init finds it still lost
  EXPECT_EQ(again.status, ProbeStatus::error);

  sc.rewrite(healthy);
  ASSERT_EQ(run(probe, rig).status, ProbeStatus::ok);
  ASSERT_EQ(rig.snap.get(kGpuNvml)->gpus.size(), 1u);
  EXPECT_EQ(rig.snap.get(kGpuNvml)->gpus[0].power_watts, 312.456);
  std::uint64_t lost_count = 0;
  for (const auto& e : rig.snap.get(kGpuNvml)->errors) lost_count += e.error == "GPU_IS_LOST" ? e.count : 0;
  EXPECT_GE(lost_count, 2u);  // the counters outlive the outage
}

TEST(GpuNvmlProbe, OldDriverWithoutVersionedCalls) {
  Scenario sc(fixture("h100.json"));
  GpuNvmlProbe probe(settings(FAKE_NVML_OLD));
  ProbeRig rig({});
  ASSERT_EQ(run(probe, rig).status, ProbeStatus::ok);
  const GpuReading& g = rig.snap.get(kGpuNvml)->gpus.at(0);
  EXPECT_EQ(g.vram_total_bytes, 85520809984u);
  EXPECT_EQ(g.vram_used_bytes, 44485623808u + 567279616u);  // v1 "used" includes the reserved part
  EXPECT_FALSE(g.vram_reserved_bytes);
  EXPECT_EQ(g.throttle_reasons, 5u);            // under the old ThrottleReasons name
  EXPECT_EQ(g.cuda_driver_version, "12.4");     // nvmlSystemGetCudaDriverVersion
  ASSERT_EQ(g.processes.size(), 2u);            // 16-byte v1 entries read right
  EXPECT_EQ(g.processes[1].pid, 5151u);
  EXPECT_EQ(g.processes[1].bytes, 1073741824u);
}

TEST(GpuNvmlProbe, R535DriverWritesWiderV3Entries) {
  Scenario sc(fixture("h100.json"));
  GpuNvmlProbe probe(settings(FAKE_NVML_CC));
  ProbeRig rig({});
  ASSERT_EQ(run(probe, rig).status, ProbeStatus::ok);
  const GpuReading& g = rig.snap.get(kGpuNvml)->gpus.at(0);
  ASSERT_EQ(g.processes.size(), 2u);  // with a 24-byte stride the second entry would be garbage
  EXPECT_EQ(g.processes[1].pid, 5151u);
  EXPECT_EQ(g.processes[1].bytes, 1073741824u);
}

TEST(GpuNvmlProbe, ProcessListsRunAtTheirOwnCadence) {
  const std::string base = fixture("gb10.json");
  Scenario sc(base);
  auto s = settings(FAKE_NVML_CURRENT);
  s.process_interval = 3600s;
  GpuNvmlProbe probe(s);
  ProbeRig rig({});
  ASSERT_EQ(run(probe, rig).status, ProbeStatus::ok);
  sc.rewrite(replace(replace(base, "64424509440", "1"), "\"power_mw\": 38750", "\"power_mw\": 40000"));
  ASSERT_EQ(run(probe, rig).status, ProbeStatus::ok);
  const GpuReading& g = rig.snap.get(kGpuNvml)->gpus.at(0);
  EXPECT_EQ(g.power_watts, 40.0);                                        // read every sample
  EXPECT_EQ(g.process_memory_sum_bytes, 64424509440u + 2147483648u);     // kept until the next scan
}

#include <gtest/gtest.h>
#include <prometheus/check_names.h>

#include <set>

#include "exporters/listener.h"
#include "exporters/prometheus_exporter.h"
#include "probes/sampler.h"
#include "test_util.h"

using namespace tierscope;
using tierscope::testing::fixture_roots;

namespace {
// prometheus-cpp releases after 1.0 check a label name against its family's
// type (CheckLabelName(name, type)); 1.0 takes the name alone. Whichever this
// prometheus-cpp declares: Name is a template parameter, so the spelling it
// lacks is never looked up.
template <typename Name>
bool valid_label_name(const Name& name, prometheus::MetricType type) {
  if constexpr (requires { prometheus::CheckLabelName(name, type); })
    return prometheus::CheckLabelName(name, type);
  else
    return prometheus::CheckLabelName(name);
}
std::shared_ptr<const Snapshot> phison_snapshot() { return tierscope::testing::sample_twice(fixture_roots("phison-host")); }
const prometheus::MetricFamily* find(const std::vector<prometheus::MetricFamily>& f, std::string_view name) {
  for (const auto& x : f)
    if (x.name == name) return &x;
  return nullptr;
}
}  // namespace

TEST(Exporter, EveryFamilyIsValidNonEmptyAndHasNoDuplicateSeries) {
  auto snap = phison_snapshot();
  DaemonStatus status;
  auto fams = collect_all(snap.get(), &status, true);
  std::set<std::string> names;
  for (const auto& f : fams) {
    EXPECT_TRUE(prometheus::CheckMetricName(f.name)) << f.name;
    EXPECT_TRUE(names.insert(f.name).second) << "family twice: " << f.name;
    EXPECT_FALSE(f.metric.empty()) << f.name;
    EXPECT_FALSE(f.help.empty()) << f.name;
    std::set<std::vector<Label>> series;
    for (const auto& m : f.metric) {
      for (const auto& l : m.label) EXPECT_TRUE(valid_label_name(l.name, f.type)) << f.name << " " << l.name;
      EXPECT_TRUE(series.insert(m.label).second) << "duplicate series in " << f.name;
    }
  }
  for (auto required : {"tierscope_build_info", "tierscope_probe_success", "tierscope_probe_duration_seconds",
                        "tierscope_samples_total", "tierscope_sample_overruns_total", "tierscope_sample_interval_seconds",
                        "process_resident_memory_bytes", "process_cpu_seconds_total", "process_open_fds",
                        "process_start_time_seconds", "tierscope_memory_capacity_bytes", "tierscope_memory_used_bytes",
                        "tierscope_memory_available_bytes", "tierscope_memory_page_cache_bytes",
                        "tierscope_memory_anon_bytes", "tierscope_memory_shmem_bytes", "tierscope_swap_in_pages_total",
                        "tierscope_swap_out_pages_total", "tierscope_page_major_faults_total",
                        "tierscope_pressure_stalled_seconds_total", "tierscope_disk_reads_completed_total",
                        "tierscope_disk_writes_completed_total", "tierscope_disk_read_bytes_total",
                        "tierscope_disk_written_bytes_total", "tierscope_disk_read_time_seconds_total",
                        "tierscope_disk_write_time_seconds_total", "tierscope_disk_io_time_seconds_total",
                        "tierscope_disk_io_in_progress", "tierscope_disk_iops_peak",
                        "tierscope_disk_throughput_peak_bytes_per_second", "tierscope_nvme_info",
                        "tierscope_offload_device_info", "tierscope_config_reloads_total"})
    EXPECT_NE(find(fams, required), nullptr) << required;
}

TEST(Exporter, ProcessMetricsDescribeThisProcess) {
  auto fams = collect_all(nullptr, nullptr, true);
  auto* rss = find(fams, "process_resident_memory_bytes");
  ASSERT_NE(rss, nullptr);
  EXPECT_GT(rss->metric[0].gauge.value, 1e6);
  auto* start = find(fams, "process_start_time_seconds");
  ASSERT_NE(start, nullptr);
  auto now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_LE(start->metric[0].gauge.value, now + 1);
  EXPECT_GT(start->metric[0].gauge.value, now - 3600);
  EXPECT_GT(find(fams, "process_open_fds")->metric[0].gauge.value, 2);
  // Without a snapshot there is nothing but build info and the footprint: no zeros for unread values.
  EXPECT_EQ(find(fams, "tierscope_samples_total"), nullptr);
  EXPECT_EQ(find(fams, "tierscope_memory_capacity_bytes"), nullptr);
}

TEST(Exporter, CollectorRendersTheLatestSnapshotAndReloadState) {
  auto snap = phison_snapshot();
  DaemonStatus status;
  status.reloads_ok = 2;
  status.reloads_failed = 1;
  status.last_load_ok = false;
  SnapshotCollector c([&] { return snap; }, &status);
  auto fams = c.Collect();
  auto* reloads = find(fams, "tierscope_config_reloads_total");
  ASSERT_NE(reloads, nullptr);
  ASSERT_EQ(reloads->metric.size(), 2u);
  EXPECT_EQ(reloads->metric[0].counter.value, 1);  // failure sorts first
  EXPECT_EQ(reloads->metric[1].counter.value, 2);
  EXPECT_EQ(find(fams, "tierscope_config_last_reload_successful")->metric[0].gauge.value, 0);
  EXPECT_EQ(find(fams, "tierscope_samples_total")->metric[0].counter.value, 2);
}

TEST(Exporter, BindFailureNamesTheAddress) {
  Listener first = bind_listener("127.0.0.1:0");
  auto port = first.port;
  try {
    bind_listener("127.0.0.1:" + std::to_string(port));
    FAIL() << "second bind succeeded";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot listen on 127.0.0.1:" + std::to_string(port)), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("address already in use"), std::string::npos) << e.what();
  }
}

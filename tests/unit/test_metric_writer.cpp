#include <gtest/gtest.h>
#include <prometheus/check_names.h>

#include "core/metric_catalog.h"
#include "core/metric_writer.h"
#include "exporters/json_output.h"

using namespace tierscope;

TEST(MetricWriter, MergesFamiliesByNameAndSortsFamiliesSeriesAndLabels) {
  MetricWriter w;
  w.add(metric::memory_capacity, 2, {{"tier", "swap"}, {"device", "/dev/b"}});
  w.add(metric::samples_total, 5);
  w.add(metric::memory_capacity, 1, {{"tier", "ram"}, {"device", "host"}});
  auto fams = std::move(w).finish();
  ASSERT_EQ(fams.size(), 2u);
  EXPECT_EQ(fams[0].name, "tierscope_memory_capacity_bytes");
  ASSERT_EQ(fams[0].metric.size(), 2u);
  EXPECT_EQ(fams[0].metric[0].label, (Labels{{"device", "/dev/b"}, {"tier", "swap"}}));
  EXPECT_EQ(fams[0].metric[1].label, (Labels{{"device", "host"}, {"tier", "ram"}}));
  EXPECT_EQ(fams[1].name, "tierscope_samples_total");
  EXPECT_EQ(fams[1].type, prometheus::MetricType::Counter);
  EXPECT_EQ(fams[1].metric[0].counter.value, 5);
}

TEST(MetricWriter, LabelValuesAreMadeValidUtf8) {
  MetricWriter w;
  w.add(metric::swap_priority, -2, {{"device", "/swap\xff"}});
  auto fams = std::move(w).finish();
  EXPECT_EQ(fams[0].metric[0].label[0].value, "/swap\xEF\xBF\xBD");
}

TEST(MetricWriter, ARepeatedLabelSetKeepsTheFirstSeries) {
  MetricWriter w;
  w.add(metric::swap_priority, -2, {{"device", "/swap\xff"}});
  w.add(metric::swap_priority, -3, {{"device", "/swap\xfe"}});  // same label once made valid UTF-8
  auto fams = std::move(w).finish();
  ASSERT_EQ(fams[0].metric.size(), 1u);
  EXPECT_EQ(fams[0].metric[0].gauge.value, -2);
}

TEST(MetricWriter, EmptyWriterYieldsNoFamilies) {
  MetricWriter w;
  EXPECT_TRUE(std::move(w).finish().empty());
}

TEST(MetricCatalog, EveryNameAndLabelIsValidAndHelpNamesAUnitOrSource) {
  const MetricDef* defs[] = {
      &metric::build_info, &metric::probe_success, &metric::probe_duration, &metric::samples_total,
      &metric::sample_overruns, &metric::sample_interval, &metric::peak_window, &metric::last_sample_time,
      &metric::config_reloads, &metric::config_last_reload_ok, &metric::process_rss, &metric::process_vms,
      &metric::process_cpu, &metric::process_open_fds, &metric::process_max_fds, &metric::process_start,
      &metric::memory_capacity, &metric::memory_used, &metric::memory_available, &metric::memory_page_cache,
      &metric::memory_anon, &metric::memory_shmem, &metric::swap_in_pages, &metric::swap_out_pages,
      &metric::major_faults, &metric::page_in_bytes, &metric::page_out_bytes, &metric::oom_kills,
      &metric::pressure_stalled, &metric::swap_device_info, &metric::swap_priority, &metric::swap_peak,
      &metric::disk_reads, &metric::disk_reads_merged, &metric::disk_read_bytes, &metric::disk_read_time,
      &metric::disk_writes, &metric::disk_writes_merged, &metric::disk_written_bytes, &metric::disk_write_time,
      &metric::disk_in_progress, &metric::disk_io_time, &metric::disk_io_weighted, &metric::disk_discards,
      &metric::disk_discards_merged, &metric::disk_discarded_bytes, &metric::disk_discard_time,
      &metric::disk_flushes, &metric::disk_flush_time, &metric::disk_iops_peak, &metric::disk_throughput_peak,
      &metric::nvme_info, &metric::nvme_state, &metric::nvme_namespace_info, &metric::nvme_namespace_capacity,
      &metric::offload_device_info};
  for (const auto* d : defs) {
    std::string name(d->name);
    EXPECT_TRUE(prometheus::CheckMetricName(name)) << name;
    bool counter = d->type == prometheus::MetricType::Counter;
    EXPECT_EQ(counter, name.ends_with("_total")) << name << ": _total exactly on counters";
    EXPECT_GT(d->help.size(), 20u) << name;
    EXPECT_EQ(d->help.back(), '.') << name;
  }
}

TEST(JsonOutput, CarriesNameHelpTypeLabelsAndValue) {
  MetricWriter w;
  w.add(metric::disk_reads, 42, {{"device", "sda"}});
  auto j = to_json(std::move(w).finish());
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["name"], "tierscope_disk_reads_completed_total");
  EXPECT_EQ(j[0]["type"], "counter");
  EXPECT_EQ(j[0]["samples"][0]["labels"]["device"], "sda");
  EXPECT_EQ(j[0]["samples"][0]["value"], 42.0);
}

TEST(TextOutput, IsTheExpositionFormat) {
  MetricWriter w;
  w.add(metric::disk_reads, 42, {{"device", "sda"}});
  auto text = to_prometheus_text(std::move(w).finish());
  EXPECT_NE(text.find("# TYPE tierscope_disk_reads_completed_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("tierscope_disk_reads_completed_total{device=\"sda\"} 42\n"), std::string::npos);
}

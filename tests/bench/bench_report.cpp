// bench_report: the time `tierscope report` takes for a 24 h soak recorded
// at 1 s (target: at most 2 s). A recording of --samples samples (default
// 86 400) is written with the real Recorder from the families of real
// snapshots of a fixture host (the daemon's series on it, plus process_*),
// one second apart, with the disk counters and memory gauges moving, and a
// soak_point record per sample with the soak's subject/tier values; then a
// soak.json with a verdict per subject/tier. The report of that directory
// (load_run_dir, build_report, render_html, render_markdown) is timed
// --repeat times. Prints figures; asserts nothing about them (`OVER` marks
// one above the target). Exits non-zero only when it cannot measure.
//
// Usage: bench_report FIXTURE_HOST_DIR [--samples N] [--repeat N] [--dir DIR]

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/logging.h"
#include "exporters/prometheus_exporter.h"
#include "exporters/recorder.h"
#include "probes/gpu.h"
#include "probes/sampler.h"
#include "workloads/report.h"
#include "workloads/run_dir.h"

using namespace tierscope;
namespace fs = std::filesystem;

namespace {

constexpr double kTargetSeconds = 2.0;

[[noreturn]] void fail(const std::string& why) {
  std::fprintf(stderr, "bench_report: %s\n", why.c_str());
  std::exit(1);
}

double cpu_s() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// The values of `name`'s series in `families`, for moving them sample by sample.
std::vector<prometheus::ClientMetric*> metrics_of(std::vector<prometheus::MetricFamily>& families, const std::string& name) {
  std::vector<prometheus::ClientMetric*> out;
  for (auto& f : families)
    if (f.name == name)
      for (auto& m : f.metric) out.push_back(&m);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) fail("usage: bench_report FIXTURE_HOST_DIR [--samples N] [--repeat N] [--dir DIR]");
  const fs::path fixture = argv[1];
  long samples = 86400;
  int repeat = 3;
  std::string dir = (fs::temp_directory_path() / ("bench-report-" + std::to_string(getpid()))).native();
  for (int i = 2; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--samples") == 0) samples = std::atol(argv[i + 1]);
    else if (std::strcmp(argv[i], "--repeat") == 0) repeat = std::atoi(argv[i + 1]);
    else if (std::strcmp(argv[i], "--dir") == 0) dir = argv[i + 1];
    else fail(std::string("unknown argument ") + argv[i]);
  }
  if (!fs::is_directory(fixture / "proc")) fail(fixture.string() + " is not a fixture host (no proc/)");
  if (samples < 10 || repeat < 1) fail("--samples at least 10, --repeat at least 1");

  // The daemon's families on the fixture host.
  SamplerConfig config;
  config.roots = {fixture / "proc", fixture / "sys", fixture / "dev"};
  GpuSettings gpu;
  gpu.nvml_library = (fixture / "no-nvml-here.so").string();  // never this machine's GPUs
  config.settings.set(gpu);
  Logger log(LogLevel::error);
  Sampler sampler(config, log);
  sampler.sample_now();
  const auto snap = sampler.sample_now();
  DaemonStatus status;
  std::vector<prometheus::MetricFamily> families = collect_all(snap.get(), &status, true);
  std::size_t series = 0;
  for (const auto& f : families) series += f.metric.size();
  if (series == 0) fail("no series in the fixture's snapshot");
  auto reads = metrics_of(families, "tierscope_disk_reads_completed_total");
  auto writes = metrics_of(families, "tierscope_disk_writes_completed_total");
  auto anon = metrics_of(families, "tierscope_memory_anon_bytes");
  auto cache = metrics_of(families, "tierscope_memory_page_cache_bytes");

  fs::remove_all(dir);
  const double w0 = now_s();
  const std::vector<std::string> keys = {"workload/ram_anon", "workload/swap", "workload/page_cache",
                                         "tierscope/anon_swap", "tierscope/fds", "tierscope/threads"};
  {
    RecorderOptions o;
    o.dir = dir;
    o.segment_max_bytes = 64ull << 20;
    o.segment_max_age = std::chrono::hours(48);
    Recorder r(o, &log);
    r.set_background_flush(false);
    auto mono = std::chrono::steady_clock::now();
    auto wall = std::chrono::system_clock::now() - std::chrono::seconds(samples);
    for (long i = 0; i < samples; ++i) {
      const double t = static_cast<double>(i);
      for (auto* m : reads) m->counter.value += static_cast<double>(40 + (i % 600 < 30 ? 9000 : 0));
      for (auto* m : writes) m->counter.value += static_cast<double>(15 + (i % 3600 < 60 ? 4000 : 0));
      for (auto* m : anon) m->gauge.value = 6e9 + 2e3 * t + static_cast<double>((i * 7919) % 100000) * 1e3;
      for (auto* m : cache) m->gauge.value = 2e10 + static_cast<double>(i % 7200) * 1e5;
      r.record_sample(static_cast<std::uint64_t>(i), mono, wall, families);
      nlohmann::json values = nlohmann::json::object();
      for (std::size_t k = 0; k < keys.size(); ++k) values[keys[k]] = 1e8 * static_cast<double>(k + 1) + 50.0 * t + static_cast<double>((i * 31 + static_cast<long>(k)) % 977);
      r.record_event("soak_point", {{"t", t}, {"values", values}, {"requests", t / 2}, {"tokens", t * 64}});
      mono += std::chrono::seconds(1);
      wall += std::chrono::seconds(1);
      if (i % 1000 == 999) r.flush();
    }
  }
  nlohmann::json soak = {{"scenario", "soak"}, {"name", "bench"}, {"status", "done"}, {"started", "2026-12-01T00:00:00Z"},
                         {"updated", "2026-12-02T00:00:00Z"}, {"elapsed_s", samples}, {"duration_s", samples},
                         {"samples", samples}, {"series", nlohmann::json::array()}};
  for (const auto& k : keys) {
    const auto slash = k.find('/');
    soak["series"].push_back({{"subject", k.substr(0, slash)}, {"tier", k.substr(slash + 1)},
                              {"unit", k.find("fds") != std::string::npos || k.find("threads") != std::string::npos ? "count" : "bytes"},
                              {"verdict", "LEAK"}, {"slope_per_s", 50.0}, {"slope_low_per_s", 49.0}, {"slope_high_per_s", 51.0},
                              {"samples", samples}, {"reasons", {"grows"}}});
  }
  std::ofstream(fs::path(dir) / "soak.json") << soak.dump(2);
  std::uintmax_t bytes = 0;
  std::size_t segments = 0;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().rfind("samples-", 0) == 0) bytes += e.file_size(), ++segments;
  std::printf("report: a recording of %ld samples at 1 s (%zu series each, the daemon's on %s, plus a soak_point "
              "record of %zu values per sample): %zu segments, %.1f MiB, written in %.1f s\n",
              samples, series, fixture.c_str(), keys.size(), segments, static_cast<double>(bytes) / (1 << 20), now_s() - w0);

  double best = 1e9, best_cpu = 1e9;
  for (int i = 0; i < repeat; ++i) {
    const double a = now_s(), ca = cpu_s();
    const auto run = workloads::load_run_dir(dir);
    const double loaded = now_s();
    const auto report = workloads::build_report({run});
    const double built = now_s();
    const std::string html = workloads::render_html(report);
    const std::string md = workloads::render_markdown(report);
    const double b = now_s(), cb = cpu_s();
    best = std::min(best, b - a);
    best_cpu = std::min(best_cpu, cb - ca);
    std::printf("  run %d: %.3f s wall, %.3f s CPU (load %.3f, build with the recording %.3f, render %.3f); %zu charts, HTML %.1f KiB%s\n",
                i + 1, b - a, cb - ca, loaded - a, built - loaded, b - built, report.charts().size(),
                static_cast<double>(html.size()) / 1024, b - a > kTargetSeconds ? "  OVER" : "");
    if (report.charts().size() < keys.size() + 2 || md.empty()) fail("the report lacks charts: nothing measured");
  }
  std::printf("report: best %.3f s wall (%.3f s CPU) for a 24 h soak at 1 s (target %.1f s)%s\n", best, best_cpu, kTargetSeconds,
              best > kTargetSeconds ? "  OVER" : "");
  fs::remove_all(dir);
  return 0;
}

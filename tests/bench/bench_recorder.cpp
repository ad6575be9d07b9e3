// bench_recorder: what recording every sample costs (exporters/recorder.h),
// on the families of real full host snapshots of this machine's live /proc
// and /sys (the default config: every probe, plus tierscope's own process_*
// series, as the daemon records them). Prints figures; asserts nothing about
// them; `OVER` marks a figure above its target. Exits non-zero only when
// something could not be measured.
//
//   render    collect_all(snapshot, status, true): the families, as a scrape
//             builds them (CPU of the calling thread per call).
//   record    Recorder::record_sample on the sampler's thread: formatting the
//             line into memory (thread CPU per sample).
//   writer    the background flush: write(2), fdatasync, zstd (process CPU
//             minus the caller's, per sample).
//   bytes     per sample and per hour at 10 Hz and 1 Hz (fsync_period 1 s:
//             10 samples per flush at 10 Hz, one at 1 Hz; with zstd, one
//             frame per flush), plain and zstd.
//   paced     30 samples at 10 Hz: the longest record_sample call while the
//             writer fsyncs every second.
//
// Usage: bench_recorder [--samples N] [--snapshots N] [--dir DIR]

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "core/logging.h"
#include "daemon/config.h"
#include "exporters/prometheus_exporter.h"
#include "exporters/recorder.h"
#include "probes/sampler.h"

using namespace tierscope;
namespace fs = std::filesystem;

namespace {

double cpu_of(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

constexpr double kTargetUs = 20;

struct Cost {
  double record_us = 0, writer_us = 0;
  double p99_wall_us = 0, max_wall_us = 0;  // of one record_sample call, while the writer writes and fsyncs
};

// Back to back, the background thread flushing every second.
Cost measure_cost(const std::string& dir, bool zstd, const std::vector<std::vector<prometheus::MetricFamily>>& snaps,
                  int samples) {
  fs::remove_all(dir);
  RecorderOptions o;
  o.dir = dir;
  o.zstd = zstd;
  o.segment_max_bytes = std::uint64_t{1} << 40;  // no rotation inside the measurement
  double thread0 = 0, process0 = 0, thread1 = 0, process1 = 0;
  std::vector<double> walls;
  walls.reserve(static_cast<std::size_t>(samples));
  {
    Recorder r(o);
    for (int i = 0; i < 200; ++i)  // warm-up: the series record, buffers
      r.record_sample(static_cast<std::uint64_t>(i), std::chrono::steady_clock::now(),
                      std::chrono::system_clock::now(), snaps[static_cast<std::size_t>(i) % snaps.size()]);
    r.flush();
    process0 = cpu_of(CLOCK_PROCESS_CPUTIME_ID);
    thread0 = cpu_of(CLOCK_THREAD_CPUTIME_ID);
    for (int i = 0; i < samples; ++i) {
      const auto a = std::chrono::steady_clock::now();
      r.record_sample(static_cast<std::uint64_t>(i), a, std::chrono::system_clock::now(),
                      snaps[static_cast<std::size_t>(i) % snaps.size()]);
      walls.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - a).count());
    }
    thread1 = cpu_of(CLOCK_THREAD_CPUTIME_ID);
    r.flush();  // the rest of the writer's work, on this thread
  }
  process1 = cpu_of(CLOCK_PROCESS_CPUTIME_ID);
  const double caller = thread1 - thread0;
  std::sort(walls.begin(), walls.end());
  return {caller / samples * 1e6, ((process1 - process0) - caller) / samples * 1e6,
          walls[walls.size() * 99 / 100], walls.back()};
}

// Bytes on disk per sample with `per_flush` samples per flush.
double bytes_per_sample(const std::string& dir, bool zstd, const std::vector<std::vector<prometheus::MetricFamily>>& snaps,
                        int samples, int per_flush) {
  fs::remove_all(dir);
  RecorderOptions o;
  o.dir = dir;
  o.zstd = zstd;
  o.fsync_period = std::chrono::hours(1);
  o.segment_max_bytes = std::uint64_t{1} << 40;
  Recorder r(o);
  r.set_background_flush(false);
  r.flush();
  const auto start = r.counters()->written_bytes.load();  // the header
  auto mono = std::chrono::steady_clock::now();
  auto wall = std::chrono::system_clock::now();
  for (int i = 0; i < samples; ++i) {
    r.record_sample(static_cast<std::uint64_t>(i), mono, wall, snaps[static_cast<std::size_t>(i) % snaps.size()]);
    mono += std::chrono::milliseconds(100);
    wall += std::chrono::milliseconds(100);
    if ((i + 1) % per_flush == 0) r.flush();
  }
  r.flush();
  return static_cast<double>(r.counters()->written_bytes.load() - start) / samples;
}

// Paced as the daemon takes samples (10 Hz, fsync every second): the wall
// time of each record_sample call while the writer writes and fsyncs.
double paced_max_wall_us(const std::string& dir, const std::vector<std::vector<prometheus::MetricFamily>>& snaps,
                         int samples) {
  fs::remove_all(dir);
  RecorderOptions o;
  o.dir = dir;
  Recorder r(o);
  double worst = 0;
  auto next = std::chrono::steady_clock::now();
  for (int i = 0; i < samples; ++i) {
    next += std::chrono::milliseconds(100);
    std::this_thread::sleep_until(next);
    const auto a = std::chrono::steady_clock::now();
    r.record_sample(static_cast<std::uint64_t>(i), a, std::chrono::system_clock::now(),
                    snaps[static_cast<std::size_t>(i) % snaps.size()]);
    // (The first call also writes the series record.)
    if (i > 0) worst = std::max(worst, std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - a).count());
  }
  return worst;
}

}  // namespace

int main(int argc, char** argv) {
  int samples = 20000, snapshots = 20;
  std::string dir = (fs::temp_directory_path() / ("bench-recorder-" + std::to_string(getpid()))).native();
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--samples") == 0) samples = std::atoi(argv[i + 1]);
    else if (std::strcmp(argv[i], "--snapshots") == 0) snapshots = std::atoi(argv[i + 1]);
    else if (std::strcmp(argv[i], "--dir") == 0) dir = argv[i + 1];
    else {
      std::fprintf(stderr, "usage: %s [--samples N] [--snapshots N] [--dir DIR]\n", argv[0]);
      return 64;
    }
  }
  if (samples < 100 || snapshots < 1) return 64;

  Logger log(LogLevel::error);
  Config config;
  Sampler sampler(config, log);
  DaemonStatus status;
  status.recorder->configured = true;
  // Real snapshots 100 ms apart, as the daemon takes them at 10 Hz.
  // The first two lack the rates and peaks (they need a previous sample):
  // not what the daemon records for hours.
  for (int i = 0; i < 2; ++i) {
    sampler.sample_now();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::vector<std::shared_ptr<const Snapshot>> snaps;
  for (int i = 0; i < snapshots; ++i) {
    snaps.push_back(sampler.sample_now());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::vector<std::vector<prometheus::MetricFamily>> families;
  for (const auto& s : snaps) families.push_back(collect_all(s.get(), &status, true));
  std::size_t series = 0;
  for (const auto& f : families.back()) series += f.metric.size();
  if (series == 0) {
    std::fprintf(stderr, "bench_recorder: no series in the snapshot\n");
    return 1;
  }

  // The render, as the daemon's tick does it before recording.
  const int renders = std::max(200, samples / 10);
  double t0 = cpu_of(CLOCK_THREAD_CPUTIME_ID);
  std::size_t sink = 0;
  for (int i = 0; i < renders; ++i) sink += collect_all(snaps[static_cast<std::size_t>(i) % snaps.size()].get(), &status, true).size();
  const double render_us = (cpu_of(CLOCK_THREAD_CPUTIME_ID) - t0) / renders * 1e6;

  std::printf("recorder: %zu families, %zu series per sample (live /proc and /sys, every probe, process_*); %d samples\n",
              families.back().size(), series, samples);
  std::printf("  render (collect_all, not the recorder's): %.1f us CPU per sample%s\n", render_us,
              sink ? "" : " (nothing rendered)");
  int rc = 0;
  for (bool zstd : {false, true}) {
    auto c = measure_cost(dir, zstd, families, samples);
    const double total = c.record_us + c.writer_us;
    const double b10 = bytes_per_sample(dir, zstd, families, 600, 10);
    const double b1 = bytes_per_sample(dir, zstd, families, 120, 1);
    std::printf("  %-5s record_sample %.1f us (sampler thread) + writer %.1f us = %.1f us CPU per sample "
                "(target <= %.0f us)%s\n",
                zstd ? "zstd" : "plain", c.record_us, c.writer_us, total, kTargetUs, total > kTargetUs ? "  OVER" : "");
    std::printf("  %-5s record_sample wall per call: p99 %.1f us, max %.1f us (back to back; the writer's write and fsync run on its own thread)\n",
                zstd ? "zstd" : "plain", c.p99_wall_us, c.max_wall_us);
    std::printf("  %-5s 10 Hz: %.0f bytes/sample, %.1f MiB/hour; 1 Hz: %.0f bytes/sample, %.1f MiB/hour\n",
                zstd ? "zstd" : "plain", b10, b10 * 36000 / (1 << 20), b1, b1 * 3600 / (1 << 20));
    if (!(b10 > 0) || !(b1 > 0)) rc = 1;
  }
  const double paced = paced_max_wall_us(dir, families, 30);
  std::printf("  paced at 10 Hz for 3 s (fsync every 1 s on the writer's thread): record_sample wall max %.1f us\n",
              paced);
  fs::remove_all(dir);
  return rc;
}

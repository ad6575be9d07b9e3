// bench_sample: what one full host sample and one scrape rendering cost, on
// this machine's live /proc and /sys. Prints figures; asserts nothing about
// them. Exits non-zero only when something could not be measured at all.
//
//   (a) Sampler::sample_now(): process CPU (CLOCK_PROCESS_CPUTIME_ID) per
//       sample, wall per sample, heap allocations per sample, and the split
//       per probe from each ProbeRun's duration_seconds. Back to back, so
//       with hot caches; then --paced samples 100 ms apart, as the daemon
//       takes them at 10 Hz, with whatever the sleep left in the caches.
//   (b) Reading the same files without parsing: open+read+close each time,
//       and pread(2) at offset 0 on a descriptor kept open (what FileCache does).
//   (c) Parsing alone, on the text read once into memory.
//   (d) Scrape rendering in process: collect_all() + to_prometheus_text().
//
// Usage: bench_sample [--samples N] [--warmup N] [--reads N] [--parses N]
//                     [--renders N] [--paced N] [--figures FILE] [--host DIR]
// --figures writes "key value" lines for run_bench.sh's summary. --host DIR
// samples (a) from a fixture host's DIR/proc, DIR/sys, DIR/dev (e.g.
// tests/fixtures/phison-host) instead of the live ones: the cost of probes
// whose hardware this machine lacks.

#include <fcntl.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "core/logging.h"
#include "core/metric_writer.h"
#include "daemon/config.h"
#include "exporters/json_output.h"
#include "exporters/process_metrics.h"
#include "exporters/prometheus_exporter.h"
#include "probes/diskstats.h"
#include "probes/meminfo.h"
#include "probes/pressure.h"
#include "probes/sampler.h"
#include "probes/swaps.h"
#include "probes/vmstat.h"

// ---------------------------------------------------------------------------
// Heap allocation counter: every operator new in this process goes through
// here. Relaxed atomics: the benchmark is single-threaded while it counts.
namespace {
std::atomic<std::uint64_t> g_allocations{0};
}  // namespace

void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (size == 0) size = 1;
  if (void* p = std::malloc(size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return ::operator new(size); }
// GCC 14 inlines the library's new/delete pairs into these and warns that
// free() meets operator new's pointer; this operator new is malloc().
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11
#pragma GCC diagnostic pop
#endif

namespace {

using namespace tierscope;

double cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double thread_cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double wall_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Keeps results observable so the optimizer cannot drop a parse.
volatile std::size_t g_sink = 0;

struct Cost {
  double cpu_us = 0;     // per iteration
  double wall_us = 0;    // per iteration
  double allocs = 0;     // per iteration
};

// Runs fn n times and returns the mean cost per call.
Cost measure(long n, const std::function<void()>& fn) {
  const std::uint64_t a0 = g_allocations.load(std::memory_order_relaxed);
  const double c0 = cpu_seconds(), w0 = wall_seconds();
  for (long i = 0; i < n; ++i) fn();
  const double c1 = cpu_seconds(), w1 = wall_seconds();
  const std::uint64_t a1 = g_allocations.load(std::memory_order_relaxed);
  const double dn = static_cast<double>(n);
  return {(c1 - c0) * 1e6 / dn, (w1 - w0) * 1e6 / dn, static_cast<double>(a1 - a0) / dn};
}

struct Options {
  long samples = 20000;
  long warmup = 1000;
  long reads = 20000;
  long parses = 20000;
  long renders = 5000;
  long paced = 30;
  std::string figures;
  std::string host;  // fixture host root for (a); empty: live
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "bench_sample: %s\nusage: bench_sample [--samples N] [--warmup N] [--reads N] [--parses N] "
               "[--renders N] [--paced N] [--figures FILE] [--host DIR]\n",
               why);
  std::exit(2);
}

Options parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (i + 1 >= argc) usage("missing value after an option");
    const char* v = argv[++i];
    auto count = [&](long& out) {
      char* end = nullptr;
      long n = std::strtol(v, &end, 10);
      if (end == v || *end != '\0' || n < 1) usage("counts must be positive integers");
      out = n;
    };
    if (a == "--samples") count(o.samples);
    else if (a == "--warmup") count(o.warmup);
    else if (a == "--reads") count(o.reads);
    else if (a == "--parses") count(o.parses);
    else if (a == "--renders") count(o.renders);
    else if (a == "--paced") count(o.paced);
    else if (a == "--figures") o.figures = v;
    else if (a == "--host") o.host = v;
    else usage("unknown option");
  }
  return o;
}

// "key value" lines for run_bench.sh.
class Figures {
 public:
  void add(const std::string& key, double value) { kv_.emplace_back(key, value); }
  bool write(const std::string& path) const {
    if (path.empty()) return true;
    std::ofstream out(path);
    for (const auto& [k, v] : kv_) out << k << ' ' << v << '\n';
    return static_cast<bool>(out);
  }

 private:
  std::vector<std::pair<std::string, double>> kv_;
};

// "31.2 us (target 60 us, 0.52x)"
std::string versus(double value, double target, const char* unit) {
  char buf[128];
  std::snprintf(buf, sizeof buf, "%.1f %s (target %.0f %s, %.2fx)", value, unit, target, unit, value / target);
  return buf;
}

// Reads a whole file with a fresh descriptor; false when it cannot be opened.
bool read_file(const std::string& path, std::string& out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  out.clear();
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return true;
}

// What probes read every tick, as plain files (sysfs NVMe attributes are
// covered by the per-probe split of (a); this host may have none).
struct ProcFile {
  std::string path;
  std::string label;
  std::string text;
};

std::vector<ProcFile> present_files() {
  std::vector<ProcFile> files;
  for (const char* p : {"/proc/meminfo", "/proc/vmstat", "/proc/pressure/cpu", "/proc/pressure/memory",
                        "/proc/pressure/io", "/proc/pressure/irq", "/proc/swaps", "/proc/diskstats"}) {
    ProcFile f{p, std::string(p).substr(6), {}};
    if (read_file(f.path, f.text)) files.push_back(std::move(f));
  }
  return files;
}

std::size_t count_lines(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

// One Sampler with its history ring held at about `intervals` entries, then n
// samples timed. Samples are taken back to back (thousands per second) and the
// ring keeps every interval that ended within peak_window, so the window is
// set to intervals x (measured wall per sample), re-measured twice as the
// ring filled. The per-probe split is summed from each snapshot's ProbeRun
// (that bookkeeping, a map lookup per probe, is inside the timed loop: a few
// hundred ns).
struct SampleRun {
  Cost cost;
  double window_ms = 0;
  double ring = 0;  // estimated: window / wall per sample
  std::map<std::string, double> probe_seconds;
  std::map<std::string, ProbeStatus> probe_status;
  std::vector<std::string> probe_order;
  std::shared_ptr<const Snapshot> last;
};

// The roots (a) samples: the live ones, or those of a fixture host.
Config sample_config(const std::string& host) {
  Config config;  // the defaults: live /proc, /sys, /dev, every probe enabled
  if (!host.empty()) config.roots = {host + "/proc", host + "/sys", host + "/dev"};
  return config;
}

SampleRun sample_run(Logger& log, const std::string& host, double intervals, long warmup, long n) {
  SampleRun out;
  Config config = sample_config(host);
  config.peak_window = std::chrono::milliseconds(1);
  Sampler sampler(config, log);
  for (long i = 0; i < warmup; ++i) sampler.sample_now();
  for (int round = 0; round < 3; ++round) {
    double wall_us = measure(500, [&] { sampler.sample_now(); }).wall_us;
    config.peak_window = std::chrono::milliseconds(std::max<long long>(1, std::llround(intervals * wall_us / 1000)));
    sampler.apply(config);  // same roots: the ring is kept, only the window changes
    long fill = std::lround(intervals * 1.2);
    for (long i = 0; i < fill; ++i) sampler.sample_now();
  }
  out.cost = measure(n, [&] {
    out.last = sampler.sample_now();
    for (const auto& run : out.last->probes) {
      auto [it, inserted] = out.probe_seconds.try_emplace(run.probe, 0.0);
      if (inserted) out.probe_order.push_back(run.probe);
      it->second += run.duration_seconds;
      out.probe_status[run.probe] = run.status;
    }
  });
  out.window_ms = static_cast<double>(config.peak_window.count());
  out.ring = out.window_ms * 1000 / out.cost.wall_us;
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = parse_args(argc, argv);
  Figures fig;
  bool ok = true;

  utsname un{};
  ::uname(&un);
  std::printf("bench_sample: live /proc and /sys of %s (Linux %s, %ld CPUs online)\n", un.nodename, un.release,
              ::sysconf(_SC_NPROCESSORS_ONLN));
  std::printf("CPU = CLOCK_PROCESS_CPUTIME_ID (user+system of this process); wall = CLOCK_MONOTONIC.\n\n");

  // ---- (a) full sample ------------------------------------------------------
  Logger log(LogLevel::error);
  if (!opt.host.empty()) std::printf("(a) samples the fixture host %s, not the live /proc and /sys\n\n", opt.host.c_str());
  const SampleRun def = sample_run(log, opt.host, 15, opt.warmup, opt.samples);  // 1 s sampling, 15 s window (defaults)
  const SampleRun hz10 = sample_run(log, opt.host, 150, opt.warmup, opt.samples / 4);  // 100 ms sampling, 15 s window
  const SampleRun worst = sample_run(log, opt.host, 6000, opt.warmup, opt.samples / 4);  // 100 ms / 600 s: config maxima
  const double sample_cpu = def.cost.cpu_us, sample_wall = def.cost.wall_us;
  const double ns = static_cast<double>(opt.samples);

  std::printf("(a) full host sample: Sampler::sample_now(), %ld samples after warm-up\n", opt.samples);
  std::printf("    samples back to back; peak_window shrunk so the history ring holds as many intervals as the\n"
              "    daemon's would (defaults: 1 s sampling, 15 s window = 15 intervals): %.0f ms here, ring ~%.0f\n",
              def.window_ms, def.ring);
  std::printf("    %-44s %s\n", "sample CPU (ring ~15: 1 s / 15 s, defaults)", versus(sample_cpu, 60, "us").c_str());
  std::printf("    %-44s %.1f us\n", "sample wall", sample_wall);
  std::printf("    %-44s %.0f\n", "heap allocations / sample", def.cost.allocs);
  std::printf("    %-44s %s   (ring ~%.0f)\n", "sample CPU, 10 Hz (100 ms / 15 s)", versus(hz10.cost.cpu_us, 60, "us").c_str(),
              hz10.ring);
  std::printf("    %-44s %s   (ring ~%.0f)\n", "sample CPU, 100 ms / 600 s (config maxima)",
              versus(worst.cost.cpu_us, 60, "us").c_str(), worst.ring);
  std::printf("    per probe (wall, mean ProbeRun.duration_seconds, defaults):\n");
  double probes_sum = 0;
  const auto& snap0 = def.last;
  for (const auto& name : def.probe_order) {
    double us = def.probe_seconds.at(name) * 1e6 / ns;
    probes_sum += us;
    ProbeStatus st = def.probe_status.at(name);
    const char* word = st == ProbeStatus::ok ? "ok" : st == ProbeStatus::no_data ? "no data on this host" : "ERROR";
    std::printf("      %-12s %8.2f us   %s\n", name.c_str(), us, word);
    fig.add("probe_" + name + "_us", us);
    if (st == ProbeStatus::error && snap0)
      for (const auto& run : snap0->probes)
        if (run.probe == name) std::printf("        error: %s\n", run.error.c_str());
  }
  std::printf("      %-12s %8.2f us\n", "sum", probes_sum);
  std::printf("      %-12s %8.2f us   (snapshot, offload verdict, peaks, publish)\n", "outside", sample_wall - probes_sum);
  fig.add("sample_cpu_us", sample_cpu);
  fig.add("sample_wall_us", sample_wall);
  fig.add("sample_allocs", def.cost.allocs);
  fig.add("sample_cpu_10hz_us", hz10.cost.cpu_us);
  fig.add("sample_cpu_maxring_us", worst.cost.cpu_us);
  fig.add("maxring_intervals", worst.ring);
  fig.add("probes_sum_us", probes_sum);

  // Paced: one sample every 100 ms, the thread's own CPU clock around each call.
  double paced_us = 0;
  {
    Config c = sample_config(opt.host);
    Sampler sampler(c, log);
    for (long i = 0; i < 100; ++i) sampler.sample_now();
    double total = 0;
    for (long i = 0; i < opt.paced; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      const double t0 = thread_cpu_seconds();
      sampler.sample_now();
      total += thread_cpu_seconds() - t0;
    }
    paced_us = total * 1e6 / static_cast<double>(opt.paced);
  }
  std::printf("    %-44s %s\n", "sample CPU, paced 100 ms apart (as the daemon)", versus(paced_us, 60, "us").c_str());
  std::printf("      (%ld samples; after a 100 ms sleep the caches and TLB are cold: this is the cost per tick\n"
              "       that the 10 Hz row of run_bench.sh sees, the back-to-back figure is the hot-cache floor)\n",
              opt.paced);
  fig.add("sample_cpu_paced_us", paced_us);
  std::shared_ptr<const Snapshot> snap = snap0;
  if (!snap || snap->probes.empty() || !(sample_cpu > 0)) {
    std::printf("    NO FIGURE: the sampler ran no probe\n");
    ok = false;
  }

  // ---- (b) raw reads ----------------------------------------------------------
  auto files = present_files();
  std::printf("\n(b) reading the same files, no parsing (mean of %ld per file)\n", opt.reads);
  std::printf("      %-18s %7s %20s %22s\n", "file", "bytes", "open+read+close CPU", "pread(kept fd) CPU");
  double total_orc = 0, total_pread = 0;
  std::vector<char> buf(1 << 16);
  for (const auto& f : files) {
    Cost orc = measure(opt.reads, [&] {
      int fd = ::open(f.path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) return;
      std::size_t got = 0;
      for (;;) {
        ssize_t n = ::read(fd, buf.data(), buf.size());
        if (n <= 0) break;
        got += static_cast<std::size_t>(n);
      }
      ::close(fd);
      g_sink = got;
    });
    int kept = ::open(f.path.c_str(), O_RDONLY | O_CLOEXEC);
    Cost pr{};
    if (kept >= 0) {
      pr = measure(opt.reads, [&] {
        std::size_t got = 0;
        for (;;) {
          ssize_t n = ::pread(kept, buf.data(), buf.size(), static_cast<off_t>(got));
          if (n <= 0) break;
          got += static_cast<std::size_t>(n);
        }
        g_sink = got;
      });
      ::close(kept);
    }
    total_orc += orc.cpu_us;
    total_pread += pr.cpu_us;
    std::printf("      %-18s %7zu %17.2f us %19.2f us\n", f.label.c_str(), f.text.size(), orc.cpu_us, pr.cpu_us);
  }
  std::printf("      %-18s %7s %17.2f us %19.2f us\n", "total", "", total_orc, total_pread);
  {
    // The same preads, all files in a row, 100 ms apart: the kernel's share of a cold tick.
    std::vector<int> fds;
    for (const auto& f : files)
      if (int fd = ::open(f.path.c_str(), O_RDONLY | O_CLOEXEC); fd >= 0) fds.push_back(fd);
    double total = 0;
    for (long i = 0; i < opt.paced; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      const double t0 = thread_cpu_seconds();
      for (int fd : fds) {
        std::size_t got = 0;
        for (;;) {
          ssize_t n = ::pread(fd, buf.data(), buf.size(), static_cast<off_t>(got));
          if (n <= 0) break;
          got += static_cast<std::size_t>(n);
        }
        g_sink = got;
      }
      total += thread_cpu_seconds() - t0;
    }
    for (int fd : fds) ::close(fd);
    const double paced_read = total * 1e6 / static_cast<double>(opt.paced);
    std::printf("      %-18s %7s %20s %19.2f us   (all files, %ld rounds 100 ms apart)\n", "total, paced", "", "",
                paced_read, opt.paced);
    fig.add("read_pread_paced_us", paced_read);
  }
  fig.add("read_orc_total_us", total_orc);
  fig.add("read_pread_total_us", total_pread);
  if (files.empty()) {
    std::printf("    NO FIGURE: none of the files could be opened\n");
    ok = false;
  }

  // ---- (c) parse only -----------------------------------------------------------
  std::printf("\n(c) parse only, on the text read once (mean of %ld per parser)\n", opt.parses);
  std::printf("      %-34s %6s %12s %8s\n", "parser", "lines", "CPU", "allocs");
  double total_parse = 0;
  for (const auto& f : files) {
    std::string_view text = f.text;
    std::function<void()> fn;
    std::string name;
    if (f.label == "meminfo") {
      name = "parse_meminfo";
      fn = [text] { g_sink = parse_meminfo(text).fields.size(); };
    } else if (f.label == "vmstat") {
      name = "parse_vmstat";
      fn = [text] { g_sink = parse_vmstat(text).pswpin.value_or(0); };
    } else if (f.label.rfind("pressure/", 0) == 0) {
      std::string resource = f.label.substr(9);
      name = "parse_pressure(" + resource + ")";
      fn = [text, resource] { g_sink = parse_pressure(resource, text).some.has_value(); };
    } else if (f.label == "swaps") {
      name = "parse_swaps";
      fn = [text] { g_sink = parse_swaps(text).size(); };
    } else if (f.label == "diskstats") {
      name = "parse_diskstats";
      fn = [text] { g_sink = parse_diskstats(text).size(); };
    } else {
      continue;
    }
    Cost c = measure(opt.parses, fn);
    total_parse += c.cpu_us;
    std::printf("      %-34s %6zu %9.2f us %8.0f\n", name.c_str(), count_lines(text), c.cpu_us, c.allocs);
    std::string key = name;
    for (char& ch : key)
      if (ch == '(' || ch == ')') ch = '_';
    if (!key.empty() && key.back() == '_') key.pop_back();
    fig.add(key + "_us", c.cpu_us);
  }
  {
    // What DiskStatsProbe does after parsing: the device filter (regexes, cached per name).
    std::string_view text;
    for (const auto& f : files)
      if (f.label == "diskstats") text = f.text;
    if (!text.empty()) {
      DeviceFilter filter;
      Cost c = measure(opt.parses, [&] {
        auto devices = parse_diskstats(text);
        std::erase_if(devices, [&](const DiskStat& s) { return !filter.keep(s.name); });
        g_sink = devices.size();
      });
      std::printf("      %-34s %6s %9.2f us %8.0f\n", "parse_diskstats + DeviceFilter", "", c.cpu_us, c.allocs);
    }
  }
  std::printf("      %-34s %6s %9.2f us   (%.0f%% of the sample CPU)\n", "total parse", "", total_parse,
              sample_cpu > 0 ? 100 * total_parse / sample_cpu : 0.0);
  fig.add("parse_total_us", total_parse);

  // ---- (d) scrape rendering ------------------------------------------------------
  DaemonStatus status;
  std::string body = to_prometheus_text(collect_all(snap.get(), &status, true));
  std::size_t series = 0;
  for (const auto& f : collect_all(snap.get(), &status, true)) series += f.metric.size();
  Cost full = measure(opt.renders, [&] { g_sink = to_prometheus_text(collect_all(snap.get(), &status, true)).size(); });
  Cost no_proc = measure(opt.renders, [&] { g_sink = collect_all(snap.get(), &status, false).size(); });
  Cost proc = measure(opt.renders, [&] {
    MetricWriter w;
    render_process_metrics(w);
    g_sink = std::move(w).finish().size();
  });
  auto families = collect_all(snap.get(), &status, true);
  Cost text = measure(opt.renders, [&] { g_sink = to_prometheus_text(families).size(); });
  std::printf("\n(d) scrape rendering in process, one snapshot (mean of %ld)\n", opt.renders);
  std::printf("    %-44s %s\n", "collect_all(with_process) + to_prometheus_text", versus(full.cpu_us, 500, "us").c_str());
  std::printf("      %-42s %9.2f us %8.0f allocs\n", "collect_all, no process_* metrics", no_proc.cpu_us, no_proc.allocs);
  std::printf("      %-42s %9.2f us %8.0f allocs\n", "render_process_metrics (/proc/self reads)", proc.cpu_us, proc.allocs);
  std::printf("      %-42s %9.2f us %8.0f allocs\n", "to_prometheus_text (TextSerializer)", text.cpu_us, text.allocs);
  std::printf("      %-42s %9.0f allocs\n", "whole rendering", full.allocs);
  std::printf("      body %zu bytes, %zu families, %zu series\n", body.size(), families.size(), series);
  std::printf("    (the daemon adds HTTP handling in civetweb on top: see the scrape rows of run_bench.sh)\n");
  fig.add("render_us", full.cpu_us);
  fig.add("render_collect_us", no_proc.cpu_us);
  fig.add("render_process_us", proc.cpu_us);
  fig.add("render_text_us", text.cpu_us);
  fig.add("render_allocs", full.allocs);
  fig.add("render_bytes", static_cast<double>(body.size()));
  fig.add("render_series", static_cast<double>(series));
  if (body.empty()) {
    std::printf("    NO FIGURE: empty rendering\n");
    ok = false;
  }

  if (!fig.write(opt.figures)) {
    std::fprintf(stderr, "bench_sample: cannot write %s\n", opt.figures.c_str());
    ok = false;
  }
  return ok ? 0 : 1;
}

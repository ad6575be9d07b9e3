// bench_self_soak: tierscope's own leak check, time-compressed. The real
// Sampler takes --samples samples (default 864000: 24 h at 10 Hz) back to
// back with sample_now() on a copy of a fixture host whose devices and
// processes come and go: every --churn samples the NVMe controller nvme1
// (its namespace, partitions, /dev nodes and diskstats lines) is removed or
// put back, and a watched process "soak-worker" appears under a new PID or
// exits. Every --every samples this process's RSS anon + swap
// (/proc/self/status RssAnon + VmSwap) and its open descriptors
// (/proc/self/fd) are read. At the end the leak verdicts of workloads/leak.h
// run on both, with t_s = sample index / 10 (the compressed time of a 10 Hz
// daemon), and the verdicts, slopes and reasons are printed.
//
// Prints figures; asserts nothing about them (the verdict included). Exits
// non-zero only when it cannot run (the fixture is missing, a read fails).
//
// Usage: bench_self_soak FIXTURE_HOST_DIR [--samples N] [--every N]
//                        [--churn N] [--warmup N]
// The sample count defaults to $TIERSCOPE_SELF_SOAK_SAMPLES, else 864000.

#include <dirent.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "core/logging.h"
#include "core/file_cache.h"
#include "probes/gpu.h"
#include "probes/sampler.h"
#include "probes/workload.h"
#include "probes/workload_memory.h"
#include "workloads/leak.h"

namespace fs = std::filesystem;
using namespace tierscope;

namespace {

struct Options {
  std::string fixture;
  long samples = 864000;
  long every = 100;    // 10 s of compressed time
  long churn = 3000;   // 5 min of compressed time
  long warmup = 1000;  // samples before the first reading (start-up)
};

[[noreturn]] void fail(const std::string& why) {
  std::fprintf(stderr, "bench_self_soak: %s\n", why.c_str());
  std::exit(1);
}

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "bench_self_soak: %s\nusage: bench_self_soak FIXTURE_HOST_DIR [--samples N] [--every N] [--churn N] "
               "[--warmup N]\n",
               why);
  std::exit(2);
}

long positive(const char* v) {
  char* end = nullptr;
  const long n = std::strtol(v, &end, 10);
  if (end == v || *end != '\0' || n < 1) usage("counts must be positive integers");
  return n;
}

Options parse_args(int argc, char** argv) {
  Options o;
  if (const char* env = std::getenv("TIERSCOPE_SELF_SOAK_SAMPLES"); env && *env) o.samples = positive(env);
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (!a.starts_with("--")) {
      o.fixture = argv[i];
      continue;
    }
    if (i + 1 >= argc) usage("missing value after an option");
    const long n = positive(argv[++i]);
    if (a == "--samples") o.samples = n;
    else if (a == "--every") o.every = n;
    else if (a == "--churn") o.churn = n;
    else if (a == "--warmup") o.warmup = n;
    else usage("unknown option");
  }
  if (o.fixture.empty()) usage("missing FIXTURE_HOST_DIR");
  return o;
}

double wall_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

std::string read_text(const fs::path& p) {
  std::string text;
  if (const int err = read_uncached(p, text, 1 << 20)) fail(describe_errno(p, err));
  return text;
}

void write_text(const fs::path& p, std::string_view text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) fail("cannot write " + p.string());
}

// The host copy and what comes and goes in it.
class ChurningHost {
 public:
  ChurningHost(const fs::path& fixture, const fs::path& root) : fixture_(fixture), root_(root) {
    fs::copy(fixture, root, fs::copy_options::recursive | fs::copy_options::copy_symlinks);
    diskstats_full_ = read_text(root / "proc/diskstats");
    std::istringstream lines(diskstats_full_);
    for (std::string line; std::getline(lines, line);)
      if (line.find(" nvme1") == std::string::npos) diskstats_without_ += line + "\n";
    // Every entry naming nvme1 (or pointing into it) in the device lists.
    for (const char* dir : {"sys/block", "sys/class/nvme", "sys/class/block", "sys/dev/block", "dev"}) {
      if (!fs::exists(root / dir)) continue;
      for (const auto& e : fs::directory_iterator(root / dir)) {
        std::string what = e.path().filename().string();
        if (e.is_symlink()) what += " " + fs::read_symlink(e.path()).string();
        if (what.find("nvme1") != std::string::npos) nvme1_.push_back(fs::path(dir) / e.path().filename());
      }
    }
    if (nvme1_.empty()) fail("the fixture host has no nvme1 to take away");
  }

  // Removes or restores nvme1.
  void toggle_device() {
    device_present_ = !device_present_;
    for (const auto& rel : nvme1_) {
      if (device_present_)
        fs::copy(fixture_ / rel, root_ / rel, fs::copy_options::recursive | fs::copy_options::copy_symlinks);
      else
        fs::remove_all(root_ / rel);
    }
    write_text(root_ / "proc/diskstats", device_present_ ? diskstats_full_ : diskstats_without_);
  }

  // Starts a watched process under a new PID, or ends the running one.
  void toggle_process() {
    const fs::path dir = root_ / "proc" / std::to_string(pid_);
    if (fs::exists(dir)) {
      fs::remove_all(dir);
      ++pid_;
      return;
    }
    fs::create_directories(dir);
    const std::string pid = std::to_string(pid_);
    write_text(dir / "comm", "soak-worker\n");
    write_text(dir / "status", "Name:\tsoak-worker\nVmRSS:\t    4000 kB\nRssAnon:\t    3000 kB\nRssFile:\t     900 kB\n"
                               "RssShmem:\t     100 kB\nVmSwap:\t      64 kB\nThreads:\t8\n");
    write_text(dir / "smaps_rollup", "00400000-7ffd1b5fe000 ---p 00000000 00:00 0 [rollup]\nRss:  4000 kB\n"
                                     "Pss:  3500 kB\nPss_Anon:  3000 kB\nPss_File:  400 kB\nPss_Shmem:  100 kB\n"
                                     "Anonymous:  3000 kB\nSwap:  64 kB\nSwapPss:  64 kB\n");
    write_text(dir / "stat", pid + " (soak-worker) S 1 100 100 0 -1 4194560 5000 0 7 0 10 20 0 0 20 0 8 0 12345 "
                                   "1000000 250 18446744073709551615\n");
    write_text(dir / "cgroup", "0::/soak.slice/worker.service\n");
  }

  std::uint32_t pid() const { return pid_; }

 private:
  fs::path fixture_, root_;
  std::string diskstats_full_, diskstats_without_;
  std::vector<fs::path> nvme1_;
  bool device_present_ = true;
  std::uint32_t pid_ = 70000;
};

// RSS anon + swap of this process, bytes (/proc/self/status).
double self_anon_swap() {
  const ProcStatusMemory m = parse_proc_status_memory(read_text("/proc/self/status"));
  if (!m.rss_anon || !m.vm_swap) fail("/proc/self/status has no RssAnon or VmSwap");
  return static_cast<double>(*m.rss_anon + *m.vm_swap);
}

// Open descriptors of this process (/proc/self/fd, less the one listing it).
double self_fds() {
  DIR* d = ::opendir("/proc/self/fd");
  if (!d) fail(describe_errno("/proc/self/fd", errno));
  double n = 0;
  while (const dirent* e = ::readdir(d))
    if (e->d_name[0] != '.') ++n;
  ::closedir(d);
  return n - 1;
}

void print_result(const workloads::LeakResult& r, bool bytes) {
  std::printf("%s %s: %s\n", r.subject.c_str(), r.tier.c_str(), std::string(workloads::to_string(r.verdict)).c_str());
  if (r.first && r.last && r.min && r.max)
    std::printf("  first %.0f, last %.0f, min %.0f, max %.0f %s\n", *r.first, *r.last, *r.min, *r.max,
                bytes ? "bytes" : "");
  if (r.slope_per_s) {
    const double hour = 3600, per_1000_samples = 100;  // 1000 samples = 100 s at 10 Hz
    std::printf("  Theil–Sen slope %.1f %s/hour of compressed time (95 %% CI %.1f .. %.1f); %.3f %s per 1000 samples\n",
                *r.slope_per_s * hour, bytes ? "bytes" : "fds", *r.slope_low_per_s * hour,
                *r.slope_high_per_s * hour, *r.slope_per_s * per_1000_samples, bytes ? "bytes" : "fds");
  }
  if (r.mk_p)
    std::printf("  Mann–Kendall on %zu block means: S %.0f, Z %.3f, p %.4g, tau-b %.3f\n", r.mk_blocks, *r.mk_s,
                *r.mk_z, *r.mk_p, *r.mk_tau);
  if (r.growth_first_third && r.growth_last_third)
    std::printf("  growth first third %.0f, last third %.0f\n", *r.growth_first_third, *r.growth_last_third);
  std::printf("  points %zu, used %zu (%s), duration %.0f s of compressed time\n", r.points, r.points_used,
              r.downsampling.c_str(), r.duration_s);
  for (const auto& reason : r.reasons) std::printf("  - %s\n", reason.c_str());
}

// What the analysis costs at its largest: 2000 points after downsampling, with
// requests and tokens, so three Theil–Sen fits of ~2M pairwise slopes each.
void print_full_analysis_cost() {
  std::vector<workloads::TrendPoint> points;
  for (int i = 0; i < 2000; ++i) {
    const double t = i * 10.0, noise = static_cast<double>((i * 7919) % 101) * 40960.0;
    points.push_back({t, 5e8 + t * 300.0 + noise, t / 5, t * 40});
  }
  double best = 1e300;
  std::string verdict;
  for (int repeat = 0; repeat < 3; ++repeat) {
    const double a0 = wall_seconds();
    const auto r = workloads::analyze_leak("synthetic", "anon+swap", points);
    best = std::min(best, (wall_seconds() - a0) * 1e3);
    verdict = workloads::to_string(r.verdict);
  }
  std::printf("analysis cost: analyze_leak on 2000 points with requests and tokens (3 fits of 1999000 slopes): "
              "%.1f ms, best of 3 (%s)\n",
              best, verdict.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse_args(argc, argv);
  if (!fs::is_directory(fs::path(o.fixture) / "proc")) fail(o.fixture + " is not a fixture host (no proc/)");
  std::string tmpl = (fs::temp_directory_path() / "tierscope-self-soak-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) fail(describe_errno(tmpl, errno));
  const fs::path root = fs::path(tmpl) / "host";
  int rc = 0;
  {
    ChurningHost host(o.fixture, root);
    SamplerConfig config;
    config.roots = {root / "proc", root / "sys", root / "dev"};
    config.sample_interval = std::chrono::milliseconds(100);
    config.peak_window = std::chrono::milliseconds(1000);
    WorkloadSelection selection;
    selection.process_names = {"soak-worker"};
    config.settings.set(selection);
    GpuSettings gpu;
    gpu.process_interval = std::chrono::milliseconds(0);  // rescan the processes at every sample
    gpu.nvml_library = (root / "no-nvml-here.so").string();  // never this machine's GPUs
    config.settings.set(gpu);
    Logger log(LogLevel::error);  // the fixture has no NVMe device nodes: one warning per controller
    Sampler sampler(config, log);

    // The readings' storage is allocated and written once up front: filling
    // it as the run goes would itself add resident pages, a slope of its own
    // (48 bytes per reading).
    const auto readings = static_cast<std::size_t>((o.samples + o.every - 1) / o.every);
    std::vector<workloads::TrendPoint> anon(readings), fds(readings);
    std::size_t taken = 0;
    const double w0 = wall_seconds(), c0 = cpu_seconds();
    std::size_t probes_failed = 0, changes = 0;
    for (long i = 0; i < o.samples + o.warmup; ++i) {
      if (i > 0 && i % o.churn == 0) {
        host.toggle_device();
        host.toggle_process();
        ++changes;
      }
      const auto snap = sampler.sample_now();
      for (const auto& run : snap->probes) probes_failed += run.status == ProbeStatus::error ? 1 : 0;
      const long k = i - o.warmup;
      if (k >= 0 && k % o.every == 0) {
        const double t = static_cast<double>(k) / 10.0;
        anon[taken] = {t, self_anon_swap(), {}, {}};
        fds[taken] = {t, self_fds(), {}, {}};
        ++taken;
      }
    }
    const double wall = wall_seconds() - w0, cpu = cpu_seconds() - c0;
    anon.resize(taken);
    fds.resize(taken);
    const double n = static_cast<double>(o.samples + o.warmup);
    std::printf("self-soak: %ld samples (+%ld warm-up) on %s, %zu device/process changes, %zu failed probe runs\n",
                o.samples, o.warmup, o.fixture.c_str(), changes, probes_failed);
    std::printf("self-soak: wall %.1f s (%.1f µs per sample), CPU %.1f s (%.1f µs per sample)\n", wall,
                wall * 1e6 / n, cpu, cpu * 1e6 / n);

    workloads::LeakOptions bytes;
    const double a0 = wall_seconds();
    const auto anon_result = workloads::analyze_leak("tierscope", "anon+swap", anon, bytes);
    const double analysis_ms = (wall_seconds() - a0) * 1e3;
    workloads::LeakOptions count;
    count.unit = "count";
    count.noise_floor = 2;
    const auto fd_result = workloads::analyze_leak("tierscope", "fds", fds, count);
    print_result(anon_result, true);
    print_result(fd_result, false);
    std::printf("analysis cost: analyze_leak on the %zu anon+swap points (%zu after downsampling, time fit only): "
                "%.1f ms\n",
                anon_result.points, anon_result.points_used, analysis_ms);
    print_full_analysis_cost();
    if (anon.size() < 2) rc = 1;
  }
  std::error_code ec;
  fs::remove_all(tmpl, ec);
  return rc;
}

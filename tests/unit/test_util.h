#pragma once
// Helpers for tests: temporary directory trees and fixture roots.

#include <unistd.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>

#include "core/host_roots.h"
#include "core/logging.h"
#include "core/metric_writer.h"
#include "daemon/config.h"
#include "probes/diskstats.h"
#include "probes/drm_fdinfo.h"
#include "probes/gpu_amdgpu.h"
#include "probes/gpu_nvml.h"
#include "probes/meminfo.h"
#include "probes/nvme.h"
#include "probes/offload.h"
#include "probes/peaks.h"
#include "probes/pressure.h"
#include "probes/sampler.h"
#include "probes/snapshot.h"
#include "probes/swaps.h"
#include "probes/vmstat.h"
#include "probes/workload.h"

namespace tierscope::testing {

// Everything readable from `fd` until EOF (a pipe whose writer is closed).
inline std::string drain(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  return out;
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "tierscope-test-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

  // Writes `content` to path()/relative, creating directories.
  std::filesystem::path write(std::string_view relative, std::string_view content) const {
    auto p = path_ / relative;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }
  void symlink(std::string_view target, std::string_view relative) const {
    auto p = path_ / relative;
    std::filesystem::create_directories(p.parent_path());
    std::filesystem::create_symlink(target, p);
  }
  HostRoots roots() const { return {path_ / "proc", path_ / "sys", path_ / "dev"}; }

 private:
  std::filesystem::path path_;
};

// One probe run against a tree: roots, descriptor cache, scratch buffer and
// the snapshot the probe writes into.
struct ProbeRig {
  explicit ProbeRig(HostRoots r) : roots(std::move(r)) {}
  ProbeOutcome run(Probe& probe) {
    ProbeContext ctx{roots, files, scratch};
    return probe.sample(ctx, snap);
  }
  HostRoots roots;
  FileCache files;
  std::string scratch;
  Snapshot snap;
};

// The second of two samples of `roots` (so rates and peaks exist).
inline std::shared_ptr<const Snapshot> sample_twice(const HostRoots& roots, SamplerConfig config = {}) {
  config.roots = roots;
  static Logger quiet(LogLevel::error);
  Sampler sampler(config, quiet);
  sampler.sample_now();
  return sampler.sample_now();
}

// A Logger writing into a pipe, journal style ("<4>message"): text() closes
// it and returns every line written.
struct CapturedLog {
  CapturedLog() {
    if (::pipe(p) != 0) throw std::runtime_error("pipe");
    log = std::make_unique<Logger>(LogLevel::debug, p[1], true);
  }
  ~CapturedLog() {
    if (p[1] >= 0) ::close(p[1]);
    ::close(p[0]);
  }
  std::string text() {
    log.reset();
    ::close(p[1]);
    p[1] = -1;
    return drain(p[0]);
  }
  int p[2];
  std::unique_ptr<Logger> log;
};

// "name{k=v,...}" -> value, for every series of every family.
inline std::map<std::string, double> series(std::vector<prometheus::MetricFamily> families) {
  std::map<std::string, double> out;
  for (const auto& f : families)
    for (const auto& m : f.metric) {
      std::string key = f.name + "{";
      for (const auto& l : m.label) key += l.name + "=" + l.value + ",";
      key += "}";
      out[key] = f.type == prometheus::MetricType::Counter ? m.counter.value : m.gauge.value;
    }
  return out;
}

#ifdef TIERSCOPE_FIXTURES
inline HostRoots fixture_roots(std::string_view host) {
  std::filesystem::path base = std::filesystem::path(TIERSCOPE_FIXTURES) / host;
  return {base / "proc", base / "sys", base / "dev"};
}
#endif

}  // namespace tierscope::testing

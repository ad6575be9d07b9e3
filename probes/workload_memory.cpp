#include "probes/workload_memory.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <limits>
#include <set>
#include <system_error>
#include <tuple>

#include "core/metric_catalog.h"
#include "core/metric_writer.h"
#include "core/text.h"
#include "probes/drm_fdinfo.h"
#include "probes/gpu.h"
#include "probes/gpu_amdgpu.h"
#include "probes/gpu_nvml.h"
#include "probes/registry.h"

namespace tierscope {

namespace fs = std::filesystem;

namespace {

// smaps_rollup and status of one process are a few KiB; stat one line.
constexpr std::size_t kMaxProcFileBytes = 64 << 10;
// A cgroup accounting file: memory.stat is ~2 KiB; io.stat grows with devices.
constexpr std::size_t kMaxCgroupFileBytes = 1 << 20;

std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) {
  return a > std::numeric_limits<std::uint64_t>::max() - b ? std::numeric_limits<std::uint64_t>::max() : a + b;
}

void add_to(std::optional<std::uint64_t>& sum, std::optional<std::uint64_t> v) {
  if (v) sum = saturating_add(sum.value_or(0), *v);
}

// "Key:   1234 kB" lines: calls f(key, bytes).
template <typename F>
void each_kb_line(std::string_view text, F&& f) {
  text::Lines lines(text);
  std::string_view line;
  while (lines.next(line)) {
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    text::Fields fields(line.substr(colon + 1));
    auto value = text::parse_u64(fields.next());
    if (!value || fields.next() != "kB" || !fields.done()) continue;
    if (*value > std::numeric_limits<std::uint64_t>::max() / 1024) continue;
    f(line.substr(0, colon), *value * 1024);
  }
}

void set_once(std::optional<std::uint64_t>& slot, std::uint64_t v) {
  if (!slot) slot = v;
}

std::optional<std::uint64_t> difference(std::optional<std::uint64_t> a, std::optional<std::uint64_t> b) {
  if (!a || !b || *b > *a) return std::nullopt;
  return *a - *b;
}

// The unit's cgroup path from the path of a process inside it:
// "/system.slice/x.service/sub" -> "/system.slice/x.service".
std::optional<std::string> unit_prefix(std::string_view path, std::string_view unit) {
  std::size_t pos = 0;
  while (pos < path.size()) {
    auto start = pos + 1;
    auto end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (path.substr(start, end - start) == unit) return std::string(path.substr(0, end));
    pos = end;
  }
  return std::nullopt;
}

bool directory_exists(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

// True when `inner` lies below `outer` in the same hierarchy.
bool nested_in(const CgroupDir& inner, const CgroupDir& outer) {
  if (inner.version != outer.version || inner.path == outer.path) return false;
  std::string_view o = outer.path;
  while (!o.empty() && o.back() == '/') o.remove_suffix(1);
  return inner.path.size() > o.size() && std::string_view(inner.path).starts_with(o) && inner.path[o.size()] == '/';
}

}  // namespace

SmapsRollup parse_smaps_rollup(std::string_view text) {
  SmapsRollup s;
  each_kb_line(text, [&](std::string_view key, std::uint64_t bytes) {
    if (key == "Rss") set_once(s.rss, bytes);
    else if (key == "Pss") set_once(s.pss, bytes);
    else if (key == "Pss_Anon") set_once(s.pss_anon, bytes);
    else if (key == "Pss_File") set_once(s.pss_file, bytes);
    else if (key == "Pss_Shmem") set_once(s.pss_shmem, bytes);
    else if (key == "Anonymous") set_once(s.anonymous, bytes);
    else if (key == "Swap") set_once(s.swap, bytes);
    else if (key == "SwapPss") set_once(s.swap_pss, bytes);
  });
  return s;
}

ProcStatusMemory parse_proc_status_memory(std::string_view text) {
  ProcStatusMemory s;
  each_kb_line(text, [&](std::string_view key, std::uint64_t bytes) {
    if (key == "RssAnon") set_once(s.rss_anon, bytes);
    else if (key == "RssFile") set_once(s.rss_file, bytes);
    else if (key == "RssShmem") set_once(s.rss_shmem, bytes);
    else if (key == "VmSwap") set_once(s.vm_swap, bytes);
  });
  return s;
}

std::optional<std::uint64_t> parse_proc_stat_major_faults(std::string_view text) {
  auto close = text.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  text::Fields f(text.substr(close + 1));
  // After the comm: state (3) ppid pgrp session tty_nr tpgid flags minflt cminflt majflt (12).
  std::string_view field;
  for (int i = 3; i <= 12; ++i) {
    field = f.next();
    if (field.empty()) return std::nullopt;
  }
  return text::parse_u64(field);
}

std::string_view to_string(WorkloadSource s) { return s == WorkloadSource::cgroup ? "cgroup" : "processes"; }

// ---- reading --------------------------------------------------------------

const CgroupMounts& WorkloadMemoryReader::mounts(const HostRoots& roots) {
  if (!mounts_ || !(mounts_roots_ == roots)) {
    mounts_ = find_cgroup_mounts(roots);
    mounts_roots_ = roots;
  }
  return *mounts_;
}

const std::string& WorkloadMemoryReader::device_name(const HostRoots& roots, unsigned major, unsigned minor) {
  auto key = std::pair{major, minor};
  if (auto it = devices_.find(key); it != devices_.end()) return it->second;
  const std::string dev = std::to_string(major) + ":" + std::to_string(minor);
  std::string name = dev;
  if (read_uncached(roots.sys("dev/block") / dev / "uevent", buf_, 4096) == 0) {
    text::Lines lines(buf_);
    std::string_view line;
    while (lines.next(line))
      if (line.starts_with("DEVNAME=") && line.size() > 8) name = std::string(line.substr(8));
  }
  if (devices_.size() > 4096) devices_.clear();  // bound: device numbers that churn
  return devices_.emplace(key, std::move(name)).first->second;
}

void WorkloadMemoryReader::read_cgroup(const HostRoots& roots, const CgroupDir& cg, WorkloadMemory& out) {
  auto read = [&](std::string_view file) -> const std::string* {
    return read_uncached(cg.dir / file, buf_, kMaxCgroupFileBytes) == 0 ? &buf_ : nullptr;
  };
  auto read_u64 = [&](std::string_view file) -> std::optional<std::uint64_t> {
    const auto* t = read(file);
    return t ? text::parse_u64(text::trim(*t)) : std::nullopt;
  };
  const bool v2 = cg.version == CgroupVersion::v2;

  if (const auto* t = read("memory.stat")) {
    auto st = parse_memory_stat(*t, cg.version);
    add_to(out.ram_anon, st.anon);
    add_to(out.page_cache, difference(st.file, st.shmem));
    add_to(out.file_mapped, st.file_mapped);
    add_to(out.shmem, st.shmem);
    add_to(out.major_faults, st.pgmajfault);
    if (v2) {
      add_to(out.kernel, st.kernel);
      out.kernel_from_parts = out.kernel_from_parts || st.kernel_from_parts;
    } else {
      add_to(out.swap, st.swap);
    }
  }
  std::vector<CgroupDeviceIo> io;
  if (v2) {
    add_to(out.current, read_u64("memory.current"));
    add_to(out.swap, read_u64("memory.swap.current"));
    add_to(out.peak, read_u64("memory.peak"));
    if (const auto* t = read("memory.events")) {
      auto e = parse_memory_events(*t);
      add_to(out.events.low, e.low);
      add_to(out.events.high, e.high);
      add_to(out.events.max, e.max);
      add_to(out.events.oom, e.oom);
      add_to(out.events.oom_kill, e.oom_kill);
    }
    if (const auto* t = read("io.stat")) io = parse_io_stat(*t);
  } else {
    add_to(out.current, read_u64("memory.usage_in_bytes"));
    add_to(out.peak, read_u64("memory.max_usage_in_bytes"));
    add_to(out.kernel, read_u64("memory.kmem.usage_in_bytes"));
    add_to(out.events.max, read_u64("memory.failcnt"));
    if (const auto* t = read("memory.oom_control")) {
      auto c = parse_oom_control(*t);
      add_to(out.events.oom_kill, c.oom_kill);
      if (c.under_oom) out.under_oom = out.under_oom.value_or(false) || *c.under_oom;
    }
    // The blkio hierarchy's cgroup of the same path (systemd keeps the
    // controllers' trees alike).
    const auto& m = mounts(roots);
    if (auto blkio = m.v1_blkio ? cgroup_dir_below(*m.v1_blkio, cg.path) : std::nullopt) {
      auto read_blkio = [&](std::string_view file, bool ops) {
        // The _recursive files (kernel 4.19+) include the descendants, as the
        // memory figures do.
        int err = read_uncached(*blkio / (std::string(file) + "_recursive"), buf_, kMaxCgroupFileBytes);
        if (err != 0) err = read_uncached(*blkio / file, buf_, kMaxCgroupFileBytes);
        return err == 0 ? parse_blkio_throttle(buf_, ops) : std::vector<CgroupDeviceIo>{};
      };
      io = read_blkio("blkio.throttle.io_service_bytes", false);
      for (const auto& o : read_blkio("blkio.throttle.io_serviced", true)) {
        auto it = std::find_if(io.begin(), io.end(),
                               [&](const CgroupDeviceIo& d) { return d.major == o.major && d.minor == o.minor; });
        if (it == io.end()) it = io.insert(io.end(), CgroupDeviceIo{o.major, o.minor, {}, {}, {}, {}, {}, {}});
        it->read_ios = o.read_ios;
        it->write_ios = o.write_ios;
      }
    }
  }
  for (const auto& d : io) {
    auto it = std::find_if(out.io.begin(), out.io.end(),
                           [&](const WorkloadDeviceIo& w) { return w.major == d.major && w.minor == d.minor; });
    if (it == out.io.end()) {
      it = out.io.insert(out.io.end(), WorkloadDeviceIo{device_name(roots, d.major, d.minor), d.major, d.minor,
                                                        {}, {}, {}, {}});
    }
    add_to(it->read_bytes, d.read_bytes);
    add_to(it->write_bytes, d.write_bytes);
    add_to(it->read_ios, d.read_ios);
    add_to(it->write_ios, d.write_ios);
  }
}

std::size_t WorkloadMemoryReader::open_files() const {
  std::size_t n = 0;
  for (const auto& [pid, f] : process_files_) n += (f.smaps_rollup ? 1 : 0) + (f.stat ? 1 : 0);
  return n;
}

bool WorkloadMemoryReader::read_kept(UniqueFd& fd, const fs::path& file) {
  // smaps_rollup and stat are one seq_file record each: a read shorter than
  // asked is the whole file.
  constexpr std::size_t kChunk = 16 << 10;
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!fd) fd.reset(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return false;
    buf_.clear();
    bool failed = false;
    for (off_t offset = 0; buf_.size() < kMaxProcFileBytes;) {
      const std::size_t old = buf_.size();
      buf_.resize(old + kChunk);
      ssize_t n = ::pread(fd.get(), buf_.data() + old, kChunk, offset);
      if (n < 0 && errno == EINTR) {
        buf_.resize(old);
        continue;
      }
      if (n < 0) {
        failed = true;
        buf_.clear();
        break;
      }
      buf_.resize(old + static_cast<std::size_t>(n));
      if (static_cast<std::size_t>(n) < kChunk) break;
      offset += n;
    }
    if (!failed && !buf_.empty()) return true;
    fd.reset();  // exited, or exec'd away from the address space it holds: once afresh
  }
  return false;
}

void WorkloadMemoryReader::read_processes(const HostRoots& roots, const std::vector<std::uint32_t>& pids,
                                          WorkloadMemory& out) {
  // Descriptors of processes no longer watched go.
  std::erase_if(process_files_, [&](const auto& e) { return !std::binary_search(pids.begin(), pids.end(), e.first); });
  for (std::uint32_t pid : pids) {
    const fs::path dir = roots.procfs / std::to_string(pid);
    auto& files = process_files_[pid];
    WorkloadProcessMemory p;
    p.pid = pid;
    bool any = false;
    if (read_kept(files.smaps_rollup, dir / "smaps_rollup")) {
      auto s = parse_smaps_rollup(buf_);
      // A kernel thread or a zombie has an empty smaps_rollup.
      any = s.rss.has_value();
      p.rss = s.rss;
      p.pss = s.pss;
      p.anon = s.pss_anon ? s.pss_anon : s.anonymous;
      p.file_mapped = s.pss_file;
      p.shmem = s.pss_shmem;
      p.swap = s.swap;
      p.swap_pss = s.swap_pss;
    }
    if (!p.anon || !p.file_mapped || !p.shmem || !p.swap) {
      if (read_uncached(dir / "status", buf_, kMaxProcFileBytes) == 0) {
        auto s = parse_proc_status_memory(buf_);
        any = any || s.rss_anon || s.rss_file || s.rss_shmem || s.vm_swap;
        if (!p.anon) p.anon = s.rss_anon;
        if (!p.file_mapped) p.file_mapped = s.rss_file;
        if (!p.shmem) p.shmem = s.rss_shmem;
        if (!p.swap) p.swap = s.vm_swap;
      }
    }
    if (read_kept(files.stat, dir / "stat")) p.major_faults = parse_proc_stat_major_faults(buf_);
    if (!any) {
      ++out.processes_unreadable;
      process_files_.erase(pid);
      continue;
    }
    add_to(out.ram_anon, p.anon);
    add_to(out.file_mapped, p.file_mapped);
    add_to(out.shmem, p.shmem);
    add_to(out.swap, p.swap_pss ? p.swap_pss : p.swap);
    add_to(out.major_faults, p.major_faults);
    out.processes.push_back(std::move(p));
  }
}

WorkloadMemory WorkloadMemoryReader::read(const HostRoots& roots, const WorkloadTarget& target) {
  if (last_roots_ && !(*last_roots_ == roots)) clear();  // another tree: nothing of the last one holds
  last_roots_ = roots;
  WorkloadMemory out;
  if (!target.cgroups.empty()) {
    out.source = WorkloadSource::cgroup;
    for (const auto& cg : target.cgroups) {
      // A cgroup below another of the list is already in its hierarchical figures.
      bool nested = std::any_of(target.cgroups.begin(), target.cgroups.end(),
                                [&](const CgroupDir& o) { return nested_in(cg, o); });
      bool repeated = std::find(out.cgroups.begin(), out.cgroups.end(), cg) != out.cgroups.end();
      if (nested || repeated) continue;
      out.cgroups.push_back(cg);
      read_cgroup(roots, cg, out);
    }
    std::sort(out.io.begin(), out.io.end(), [](const WorkloadDeviceIo& a, const WorkloadDeviceIo& b) {
      return std::pair{a.major, a.minor} < std::pair{b.major, b.minor};
    });
    if (out.cgroups.size() == 1) {
      out.limits = read_memory_limits(out.cgroups.front());
    } else {
      out.peak.reset();  // the sum of several peaks is no peak of the sum
    }
    return out;
  }
  std::vector<std::uint32_t> pids = target.pids;
  std::sort(pids.begin(), pids.end());
  pids.erase(std::unique(pids.begin(), pids.end()), pids.end());
  out.source = WorkloadSource::processes;
  read_processes(roots, pids, out);
  return out;
}

void add_gpu_memory(const Snapshot& snap, const std::vector<std::uint32_t>& pids, WorkloadMemory& out) {
  auto watched = [&](std::uint32_t pid) { return std::binary_search(pids.begin(), pids.end(), pid); };
  // (gpu, pid, region) -> bytes; a repeat keeps the larger, as render_gpus does.
  std::map<std::tuple<std::string, std::uint32_t, std::string>, std::uint64_t> per;
  bool any_reading = false;
  for (const auto* inv : {snap.get(kGpuNvml), snap.get(kGpuAmdgpu)}) {
    if (!inv) continue;
    any_reading = true;
    for (const auto& g : inv->gpus)
      for (const auto& p : g.processes)
        if (watched(p.pid) && (p.region == "vram" || p.region == "gtt")) {
          auto& b = per[{g.id, p.pid, p.region}];
          b = std::max(b, p.bytes);
        }
  }
  if (const auto* drm = snap.get(kDrmFdinfo)) {
    any_reading = true;
    for (const auto& e : drm->entries) {
      if (!watched(e.pid)) continue;
      // amdgpu "vram", xe "vram0", "vram1": device memory; amdgpu "gtt".
      std::string region = e.region.starts_with("vram") ? "vram" : e.region == "gtt" ? "gtt" : "";
      if (region.empty()) continue;
      auto& b = per[{"drm:" + e.pdev, e.pid, region}];
      b = saturating_add(b, e.bytes);
    }
  }
  if (!any_reading) return;
  out.vram = 0;
  out.gtt = 0;
  for (const auto& [key, bytes] : per) {
    auto& slot = std::get<2>(key) == "vram" ? out.vram : out.gtt;
    slot = saturating_add(*slot, bytes);
  }
}

// ---- the probe ------------------------------------------------------------

WorkloadTarget WorkloadMemoryProbe::configured_target(const HostRoots& roots, const WorkloadProcesses* watched) {
  WorkloadTarget t;
  if (watched)
    for (const auto& p : watched->processes) t.pids.push_back(p.pid);
  // The cgroup source only when the whole workload is cgroups: with PIDs or
  // names in the selection, the sum over every watched process covers it all.
  if (!selection_.pids.empty() || !selection_.process_names.empty()) return t;
  auto m = find_cgroup_mounts(roots);
  for (const auto& path : selection_.cgroups)
    if (auto cg = memory_cgroup_at(m, path)) t.cgroups.push_back(std::move(*cg));
  for (const auto& unit : selection_.systemd_units) {
    if (auto it = unit_cgroups_.find(unit); it != unit_cgroups_.end()) {
      if (directory_exists(it->second.dir)) {
        t.cgroups.push_back(it->second);
        continue;
      }
      unit_cgroups_.erase(it);
    }
    // The unit's cgroup from one of its processes: the prefix of that
    // process's cgroup path that ends in the unit's name.
    if (!watched) continue;
    const std::string matched = "unit:" + unit;
    for (const auto& p : watched->processes) {
      if (p.matched_by != matched) continue;
      auto cg = memory_cgroup_of_pid(roots, p.pid);
      if (!cg) continue;
      auto prefix = unit_prefix(cg->path, unit);
      if (!prefix) continue;
      auto unit_cg = memory_cgroup_at(m, *prefix);
      if (!unit_cg) continue;
      unit_cgroups_[unit] = *unit_cg;
      t.cgroups.push_back(std::move(*unit_cg));
      break;
    }
  }
  return t;
}

ProbeOutcome WorkloadMemoryProbe::sample(ProbeContext& ctx, Snapshot& out) {
  if (!(roots_ == ctx.roots)) {
    roots_ = ctx.roots;
    unit_cgroups_.clear();
    reader_.clear();
  }
  const WorkloadProcesses* watched = out.get(kWorkload);
  WorkloadTarget target = override_;
  if (target.empty()) {
    if (selection_.empty()) return ProbeOutcome::no_data();
    target = configured_target(ctx.roots, watched);
  }
  WorkloadMemory m = reader_.read(ctx.roots, target);
  // GPU memory of the workload's processes: the target's PIDs, and the
  // watched processes (a cgroup's members, listed by the workload probe).
  std::vector<std::uint32_t> pids = target.pids;
  if (watched)
    for (const auto& p : watched->processes) pids.push_back(p.pid);
  std::sort(pids.begin(), pids.end());
  pids.erase(std::unique(pids.begin(), pids.end()), pids.end());
  add_gpu_memory(out, pids, m);
  out.put(kWorkloadMemory, std::move(m));
  return ProbeOutcome::ok();
}

// ---- metrics --------------------------------------------------------------

void render_workload_memory(const WorkloadMemory& m, MetricWriter& w) {
  auto put = [&](const MetricDef& def, const std::optional<std::uint64_t>& v, Labels labels = {}) {
    if (v) w.add(def, static_cast<double>(*v), std::move(labels));
  };
  if (m.source == WorkloadSource::cgroup) {
    for (const auto& cg : m.cgroups)
      w.add(metric::workload_source_info, 1,
            {{"source", "cgroup"}, {"cgroup", cg.path}, {"version", std::string(to_string(cg.version))}});
  } else {
    w.add(metric::workload_source_info, 1, {{"source", "processes"}, {"cgroup", ""}, {"version", ""}});
  }
  const std::pair<std::string_view, const std::optional<std::uint64_t>*> tiers[] = {
      {"ram_anon", &m.ram_anon}, {"page_cache", &m.page_cache}, {"file_mapped", &m.file_mapped},
      {"shmem", &m.shmem},       {"kernel", &m.kernel},         {"swap", &m.swap},
      {"vram", &m.vram},         {"gtt", &m.gtt},
  };
  for (const auto& [tier, v] : tiers) put(metric::workload_memory, *v, {{"tier", std::string(tier)}});
  put(metric::workload_memory_current, m.current);
  put(metric::workload_memory_peak, m.peak);
  const std::pair<std::string_view, const std::optional<MemoryLimit>*> limits[] = {
      {"max", &m.limits.max}, {"high", &m.limits.high}, {"swap_max", &m.limits.swap_max}};
  for (const auto& [name, l] : limits) {
    if (!*l) continue;
    double v = (*l)->unlimited ? std::numeric_limits<double>::infinity() : static_cast<double>((*l)->bytes);
    w.add(metric::workload_memory_limit, v, {{"limit", std::string(name)}});
  }
  const std::pair<std::string_view, const std::optional<std::uint64_t>*> events[] = {
      {"low", &m.events.low}, {"high", &m.events.high}, {"max", &m.events.max},
      {"oom", &m.events.oom}, {"oom_kill", &m.events.oom_kill}};
  for (const auto& [name, v] : events) put(metric::workload_memory_events, *v, {{"event", std::string(name)}});
  put(metric::workload_oom_kills, m.events.oom_kill);
  for (const auto& d : m.io) {
    put(metric::workload_io_bytes, d.read_bytes, {{"device", d.device}, {"direction", "read"}});
    put(metric::workload_io_bytes, d.write_bytes, {{"device", d.device}, {"direction", "write"}});
    put(metric::workload_io_ops, d.read_ios, {{"device", d.device}, {"direction", "read"}});
    put(metric::workload_io_ops, d.write_ios, {{"device", d.device}, {"direction", "write"}});
  }
  put(metric::workload_major_faults, m.major_faults);
}

namespace {
// The workload probe lists the processes; the GPU probes read their GPU memory.
constexpr std::string_view kWorkloadMemoryAfter[] = {"workload", "gpu_nvml", "gpu_amdgpu", "drm_fdinfo"};
}  // namespace

constinit const ProbeRegistration kWorkloadMemoryProbe{
    .name = "workload_memory",
    .after = kWorkloadMemoryAfter,
    .make = [](const ProbeSettings& settings) -> std::unique_ptr<Probe> {
      return std::make_unique<WorkloadMemoryProbe>(settings.get<WorkloadSelection>());
    },
    .render =
        [](const Snapshot& snap, MetricWriter& w) {
          if (const auto* r = snap.get(kWorkloadMemory)) render_workload_memory(*r, w);
        },
};

}  // namespace tierscope

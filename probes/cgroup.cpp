#include "probes/cgroup.h"

#include <algorithm>
#include <limits>
#include <system_error>

#include "core/file_cache.h"
#include "core/text.h"

namespace tierscope {

namespace fs = std::filesystem;

namespace {

// /proc/<pid>/cgroup of a process in many v1 hierarchies stays well below this.
constexpr std::size_t kMaxProcCgroupBytes = 64 << 10;
// A limit file holds one number.
constexpr std::size_t kMaxLimitBytes = 64;

bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

// Whether the space-separated list of a one-line file (ending in '\n') names `token`.
bool has_token(std::string_view text, std::string_view token) {
  text::Lines lines(text);
  std::string_view line;
  while (lines.next(line)) {
    text::Fields f(line);
    for (auto t = f.next(); !t.empty(); t = f.next())
      if (t == token) return true;
  }
  return false;
}

const ProcCgroupLine* line_with_controller(const std::vector<ProcCgroupLine>& lines, std::string_view controller) {
  for (const auto& l : lines)
    if (std::find(l.controllers.begin(), l.controllers.end(), controller) != l.controllers.end()) return &l;
  return nullptr;
}

const ProcCgroupLine* v2_line(const std::vector<ProcCgroupLine>& lines) {
  for (const auto& l : lines)
    if (l.hierarchy == 0 && l.controllers.empty()) return &l;
  return nullptr;
}

std::optional<CgroupDir> make_dir(CgroupVersion v, const fs::path& root, std::string_view path) {
  auto dir = cgroup_dir_below(root, path);
  if (!dir) return std::nullopt;
  return CgroupDir{v, std::string(path), std::move(*dir)};
}

std::optional<MemoryLimit> read_limit(const fs::path& file, CgroupVersion v) {
  std::string buf;
  if (read_uncached(file, buf, kMaxLimitBytes) != 0) return std::nullopt;
  return parse_memory_limit(buf, v);
}

}  // namespace

std::string_view to_string(CgroupVersion v) { return v == CgroupVersion::v1 ? "v1" : "v2"; }

std::vector<ProcCgroupLine> parse_proc_cgroup(std::string_view text) {
  std::vector<ProcCgroupLine> out;
  text::Lines lines(text);
  std::string_view line;
  while (lines.next(line)) {
    auto c1 = line.find(':');
    if (c1 == std::string_view::npos) continue;
    auto c2 = line.find(':', c1 + 1);
    if (c2 == std::string_view::npos) continue;
    auto id = text::parse_u64(line.substr(0, c1));
    if (!id || *id > std::numeric_limits<std::uint32_t>::max()) continue;
    auto path = line.substr(c2 + 1);
    if (path.empty() || path.front() != '/') continue;
    ProcCgroupLine l;
    l.hierarchy = static_cast<std::uint32_t>(*id);
    auto list = line.substr(c1 + 1, c2 - c1 - 1);
    while (!list.empty()) {
      auto comma = list.find(',');
      auto name = list.substr(0, comma);
      if (!name.empty()) l.controllers.emplace_back(name);
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
    l.path = std::string(path);
    out.push_back(std::move(l));
  }
  return out;
}

CgroupMounts find_cgroup_mounts(const HostRoots& roots) {
  CgroupMounts m;
  const fs::path base = roots.sys("fs/cgroup");
  for (const fs::path& candidate : {base, base / "unified"}) {
    if (is_file(candidate / "cgroup.controllers")) {
      m.v2 = candidate;
      break;
    }
  }
  if (m.v2) {
    std::string buf;
    if (read_uncached(*m.v2 / "cgroup.controllers", buf, 4096) == 0) m.v2_memory = has_token(buf, "memory");
  }
  if (is_file(base / "memory" / "memory.usage_in_bytes")) m.v1_memory = base / "memory";
  if (is_file(base / "blkio" / "blkio.throttle.io_service_bytes")) m.v1_blkio = base / "blkio";
  return m;
}

std::optional<fs::path> cgroup_dir_below(const fs::path& root, std::string_view path) {
  if (path.empty() || path.front() != '/') return std::nullopt;
  fs::path dir = root;
  while (!path.empty()) {
    auto slash = path.find('/');
    auto part = path.substr(0, slash);
    if (part == "." || part == "..") return std::nullopt;
    if (!part.empty()) dir /= part;
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return dir;
}

std::optional<CgroupDir> memory_cgroup_of(const CgroupMounts& mounts, std::string_view proc_cgroup_text) {
  auto lines = parse_proc_cgroup(proc_cgroup_text);
  if (mounts.v2 && mounts.v2_memory) {
    if (const auto* l = v2_line(lines)) return make_dir(CgroupVersion::v2, *mounts.v2, l->path);
    return std::nullopt;
  }
  if (mounts.v1_memory)
    if (const auto* l = line_with_controller(lines, "memory"))
      return make_dir(CgroupVersion::v1, *mounts.v1_memory, l->path);
  return std::nullopt;
}

std::optional<CgroupDir> memory_cgroup_of_pid(const HostRoots& roots, std::uint32_t pid) {
  std::string buf;
  if (read_uncached(roots.procfs / std::to_string(pid) / "cgroup", buf, kMaxProcCgroupBytes) != 0)
    return std::nullopt;
  return memory_cgroup_of(find_cgroup_mounts(roots), buf);
}

std::optional<CgroupDir> memory_cgroup_at(const CgroupMounts& mounts, std::string_view cgroup_path) {
  if (mounts.v2 && mounts.v2_memory) return make_dir(CgroupVersion::v2, *mounts.v2, cgroup_path);
  if (mounts.v1_memory) return make_dir(CgroupVersion::v1, *mounts.v1_memory, cgroup_path);
  return std::nullopt;
}

std::optional<fs::path> blkio_cgroup_of(const CgroupMounts& mounts, std::string_view proc_cgroup_text) {
  if (!mounts.v1_blkio) return std::nullopt;
  auto lines = parse_proc_cgroup(proc_cgroup_text);
  if (const auto* l = line_with_controller(lines, "blkio")) return cgroup_dir_below(*mounts.v1_blkio, l->path);
  return std::nullopt;
}

std::optional<MemoryLimit> parse_memory_limit(std::string_view text, CgroupVersion v) {
  text = text::trim(text);
  if (v == CgroupVersion::v2 && text == "max") return MemoryLimit{true, 0};
  auto n = text::parse_u64(text);
  if (!n) return std::nullopt;
  if (v == CgroupVersion::v1 && *n >= kV1UnlimitedFrom) return MemoryLimit{true, 0};
  return MemoryLimit{false, *n};
}

MemoryLimits read_memory_limits(const CgroupDir& cg) {
  MemoryLimits l;
  if (cg.version == CgroupVersion::v2) {
    l.max = read_limit(cg.dir / "memory.max", cg.version);
    l.high = read_limit(cg.dir / "memory.high", cg.version);
    l.swap_max = read_limit(cg.dir / "memory.swap.max", cg.version);
    return l;
  }
  l.max = read_limit(cg.dir / "memory.limit_in_bytes", cg.version);
  // memory.memsw.* exist only with swap accounting on (swapaccount=1).
  auto memsw = read_limit(cg.dir / "memory.memsw.limit_in_bytes", cg.version);
  if (memsw && l.max) {
    if (memsw->unlimited)
      l.swap_max = MemoryLimit{true, 0};
    else if (!l.max->unlimited && memsw->bytes >= l.max->bytes)
      l.swap_max = MemoryLimit{false, memsw->bytes - l.max->bytes};
  }
  return l;
}


namespace {

// "key value" lines: calls f(key, value) for each line whose value parses.
template <typename F>
void each_keyed_line(std::string_view text, F&& f) {
  text::Lines lines(text);
  std::string_view line;
  while (lines.next(line)) {
    text::Fields fields(line);
    auto key = fields.next();
    auto value = text::parse_u64(fields.next());
    if (key.empty() || !value || !fields.done()) continue;
    f(key, *value);
  }
}

void set_once(std::optional<std::uint64_t>& slot, std::uint64_t v) {
  if (!slot) slot = v;
}

std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) {
  return a > std::numeric_limits<std::uint64_t>::max() - b ? std::numeric_limits<std::uint64_t>::max() : a + b;
}

std::optional<std::pair<unsigned, unsigned>> parse_dev(std::string_view s) {
  auto colon = s.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  auto major = text::parse_u64(s.substr(0, colon));
  auto minor = text::parse_u64(s.substr(colon + 1));
  if (!major || !minor || *major > std::numeric_limits<unsigned>::max() || *minor > std::numeric_limits<unsigned>::max())
    return std::nullopt;
  return std::pair{static_cast<unsigned>(*major), static_cast<unsigned>(*minor)};
}

CgroupDeviceIo& device_entry(std::vector<CgroupDeviceIo>& out, std::pair<unsigned, unsigned> dev) {
  auto it = std::lower_bound(out.begin(), out.end(), dev, [](const CgroupDeviceIo& d, std::pair<unsigned, unsigned> v) {
    return std::pair{d.major, d.minor} < v;
  });
  if (it != out.end() && it->major == dev.first && it->minor == dev.second) return *it;
  CgroupDeviceIo d;
  d.major = dev.first;
  d.minor = dev.second;
  return *out.insert(it, d);
}

}  // namespace

CgroupMemoryStat parse_memory_stat(std::string_view text, CgroupVersion v) {
  CgroupMemoryStat m;
  if (v == CgroupVersion::v1) {
    each_keyed_line(text, [&](std::string_view key, std::uint64_t value) {
      if (key == "total_rss") set_once(m.anon, value);
      else if (key == "total_cache") set_once(m.file, value);
      else if (key == "total_mapped_file") set_once(m.file_mapped, value);
      else if (key == "total_shmem") set_once(m.shmem, value);
      else if (key == "total_swap") set_once(m.swap, value);
      else if (key == "total_rss_huge") set_once(m.anon_thp, value);
      else if (key == "total_pgmajfault") set_once(m.pgmajfault, value);
    });
    return m;
  }
  // The kernel memory lines that `kernel` (5.18+) sums, for older kernels.
  static constexpr std::string_view kKernelParts[] = {"kernel_stack",     "pagetables",         "sec_pagetables",
                                                      "percpu",           "slab_reclaimable",   "slab_unreclaimable",
                                                      "vmalloc"};
  std::optional<std::uint64_t> parts[std::size(kKernelParts)];
  each_keyed_line(text, [&](std::string_view key, std::uint64_t value) {
    if (key == "anon") set_once(m.anon, value);
    else if (key == "file") set_once(m.file, value);
    else if (key == "file_mapped") set_once(m.file_mapped, value);
    else if (key == "shmem") set_once(m.shmem, value);
    else if (key == "kernel") set_once(m.kernel, value);
    else if (key == "sock") set_once(m.sock, value);
    else if (key == "anon_thp") set_once(m.anon_thp, value);
    else if (key == "pgmajfault") set_once(m.pgmajfault, value);
    else
      for (std::size_t i = 0; i < std::size(kKernelParts); ++i)
        if (key == kKernelParts[i]) set_once(parts[i], value);
  });
  if (!m.kernel) {
    for (const auto& part : parts) {
      if (!part) continue;
      m.kernel = saturating_add(m.kernel.value_or(0), *part);
      m.kernel_from_parts = true;
    }
  }
  return m;
}

CgroupMemoryEvents parse_memory_events(std::string_view text) {
  CgroupMemoryEvents e;
  each_keyed_line(text, [&](std::string_view key, std::uint64_t value) {
    if (key == "low") set_once(e.low, value);
    else if (key == "high") set_once(e.high, value);
    else if (key == "max") set_once(e.max, value);
    else if (key == "oom") set_once(e.oom, value);
    else if (key == "oom_kill") set_once(e.oom_kill, value);
  });
  return e;
}

CgroupOomControl parse_oom_control(std::string_view text) {
  CgroupOomControl c;
  each_keyed_line(text, [&](std::string_view key, std::uint64_t value) {
    if (key == "under_oom" && !c.under_oom && value <= 1) c.under_oom = value == 1;
    else if (key == "oom_kill") set_once(c.oom_kill, value);
  });
  return c;
}

std::vector<CgroupDeviceIo> parse_io_stat(std::string_view text) {
  std::vector<CgroupDeviceIo> out;
  text::Lines lines(text);
  std::string_view line;
  while (lines.next(line)) {
    text::Fields f(line);
    auto dev = parse_dev(f.next());
    if (!dev) continue;
    CgroupDeviceIo d;
    d.major = dev->first;
    d.minor = dev->second;
    bool bad = false;
    for (auto kv = f.next(); !kv.empty() && !bad; kv = f.next()) {
      auto eq = kv.find('=');
      if (eq == std::string_view::npos) { bad = true; break; }
      auto key = kv.substr(0, eq);
      std::optional<std::uint64_t>* slot = key == "rbytes" ? &d.read_bytes
                                           : key == "wbytes" ? &d.write_bytes
                                           : key == "rios"   ? &d.read_ios
                                           : key == "wios"   ? &d.write_ios
                                           : key == "dbytes" ? &d.discard_bytes
                                           : key == "dios"   ? &d.discard_ios
                                                             : nullptr;
      if (!slot) continue;  // cost.*, io latency keys of other controllers
      auto value = text::parse_u64(kv.substr(eq + 1));
      if (!value) bad = true;
      else set_once(*slot, *value);
    }
    if (bad) continue;
    auto& e = device_entry(out, *dev);
    if (e.read_bytes || e.write_bytes || e.read_ios || e.write_ios) continue;  // a repeated device: first wins
    e = d;
  }
  return out;
}

std::vector<CgroupDeviceIo> parse_blkio_throttle(std::string_view text, bool ops) {
  std::vector<CgroupDeviceIo> out;
  text::Lines lines(text);
  std::string_view line;
  while (lines.next(line)) {
    text::Fields f(line);
    auto dev = parse_dev(f.next());
    auto kind = f.next();
    auto value = text::parse_u64(f.next());
    if (!dev || !value || !f.done()) continue;  // also the final "Total N"
    std::optional<std::uint64_t>* slot = nullptr;
    auto& e = device_entry(out, *dev);
    if (kind == "Read") slot = ops ? &e.read_ios : &e.read_bytes;
    else if (kind == "Write") slot = ops ? &e.write_ios : &e.write_bytes;
    else if (kind == "Discard") slot = ops ? &e.discard_ios : &e.discard_bytes;
    if (slot) set_once(*slot, *value);
  }
  // A device listed only with Sync/Async/Total lines has nothing to report.
  std::erase_if(out, [](const CgroupDeviceIo& d) {
    return !d.read_bytes && !d.write_bytes && !d.read_ios && !d.write_ios && !d.discard_bytes && !d.discard_ios;
  });
  return out;
}

}  // namespace tierscope

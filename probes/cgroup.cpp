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

bool has_token(std::string_view text, std::string_view token) {
  text::Fields f(text);
  for (auto t = f.next(); !t.empty(); t = f.next())
    if (t == token) return true;
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

}  // namespace tierscope

#include "probes/workload.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <deque>
#include <limits>
#include <system_error>
#include <vector>

#include "core/metric_catalog.h"
#include "core/metric_writer.h"
#include "core/text.h"
#include "probes/cgroup.h"
#include "probes/gpu.h"
#include "probes/registry.h"
#include "probes/snapshot.h"

namespace tierscope {

namespace fs = std::filesystem;

namespace {

// How deep below <sysfs>/fs/cgroup a unit is looked for when it is not
// system.slice/<unit> (user@1000.service/app.slice/x.service is depth 5), and
// how deep the sub-cgroups of a unit are followed.
constexpr int kUnitSearchDepth = 6;
constexpr int kSubCgroupDepth = 8;

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<std::uint32_t> parse_pid(std::string_view s) {
  auto v = text::parse_u64(text::trim(s));
  if (!v || *v == 0 || *v > std::numeric_limits<std::uint32_t>::max()) return std::nullopt;
  return static_cast<std::uint32_t>(*v);
}

bool is_real_directory(const fs::directory_entry& e) {
  std::error_code ec;
  return e.symlink_status(ec).type() == fs::file_type::directory;
}

bool directory_exists(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

// One stat(2) of /proc/<pid>. Gone means not found; a process whose
// directory cannot be stat'ed for another reason still exists.
bool process_exists(const HostRoots& roots, std::uint32_t pid) {
  std::error_code ec;
  return fs::status(roots.procfs / std::to_string(pid), ec).type() != fs::file_type::not_found;
}

enum class CommRead { ok, gone, unreadable };

CommRead read_comm(const HostRoots& roots, std::uint32_t pid, std::string& buf, std::string& comm) {
  int err = read_uncached(roots.procfs / std::to_string(pid) / "comm", buf, 4096);
  if (err == ENOENT || err == ESRCH) return CommRead::gone;
  if (err != 0) return CommRead::unreadable;
  comm = std::string(parse_comm(buf));
  return CommRead::ok;
}

// Every PID in cgroup.procs of `dir` and of its sub-cgroups.
void collect_cgroup_pids(ProbeContext& ctx, const fs::path& dir, int depth, std::vector<std::uint32_t>& out) {
  if (ctx.files.read(dir / "cgroup.procs", ctx.scratch) == 0) {
    auto pids = parse_cgroup_procs(ctx.scratch);
    out.insert(out.end(), pids.begin(), pids.end());
  }
  if (depth >= kSubCgroupDepth) return;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (is_real_directory(*it)) collect_cgroup_pids(ctx, it->path(), depth + 1, out);
}

}  // namespace

std::string_view parse_comm(std::string_view text) {
  // The kernel writes the name and one '\n'; a name may itself hold spaces.
  if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  return text;
}

std::vector<std::uint32_t> parse_cgroup_procs(std::string_view text) {
  std::vector<std::uint32_t> out;
  text::Lines lines(text);
  std::string_view line;
  while (lines.next(line))
    if (auto pid = parse_pid(line)) out.push_back(*pid);
  return out;
}

const WatchedProcess* WorkloadProcesses::find(std::uint32_t pid) const {
  auto it = std::lower_bound(processes.begin(), processes.end(), pid,
                             [](const WatchedProcess& p, std::uint32_t v) { return p.pid < v; });
  return it != processes.end() && it->pid == pid ? &*it : nullptr;
}

WorkloadProbe::WorkloadProbe(WorkloadSelection selection, std::chrono::milliseconds rescan_interval)
    : selection_(std::move(selection)), rescan_interval_(rescan_interval) {}

std::optional<fs::path> WorkloadProbe::unit_cgroup(const HostRoots& roots, const std::string& unit) {
  if (auto it = unit_dirs_.find(unit); it != unit_dirs_.end()) {
    if (directory_exists(it->second)) return it->second;
    unit_dirs_.erase(it);
  }
  const fs::path root = roots.sys("fs/cgroup");
  fs::path found = root / "system.slice" / unit;
  if (!directory_exists(found)) {
    // Breadth first, so the shallowest match wins (system units before a
    // user unit of the same name under user@<uid>.service). Each directory's
    // entries in a fixed order, whatever order the file system lists them
    // in: on a hybrid or legacy host the unit's directory exists in several
    // hierarchies at the same depth, and the ones systemd moves the unit's
    // processes into (unified, then name=systemd) come before the
    // controllers', which may have no cgroup.procs of their own.
    found.clear();
    auto rank = [](const fs::path& p) {
      const std::string name = p.filename().string();
      return std::pair<int, std::string>{name == "unified" ? 0 : name == "systemd" ? 1 : 2, name};
    };
    std::deque<std::pair<fs::path, int>> queue{{root, 0}};
    std::vector<fs::path> children;
    while (!queue.empty() && found.empty()) {
      auto [dir, depth] = std::move(queue.front());
      queue.pop_front();
      children.clear();
      std::error_code ec;
      for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
        if (is_real_directory(*it)) children.push_back(it->path());
      std::sort(children.begin(), children.end(),
                [&](const fs::path& a, const fs::path& b) { return rank(a) < rank(b); });
      for (auto& child : children) {
        if (child.filename() == unit) {
          found = std::move(child);
          break;
        }
        if (depth + 1 < kUnitSearchDepth) queue.emplace_back(std::move(child), depth + 1);
      }
    }
    if (found.empty()) return std::nullopt;
  }
  unit_dirs_[unit] = found;
  return found;
}

void WorkloadProbe::rescan(ProbeContext& ctx) {
  const HostRoots& roots = ctx.roots;
  std::string buf;
  // First match wins: pid, then name, then unit (each in config order).
  std::map<std::uint32_t, WatchedProcess> found;
  std::map<std::uint32_t, std::string> comms;  // read during this scan

  for (std::uint32_t pid : selection_.pids) found.emplace(pid, WatchedProcess{pid, {}, "pid"});

  if (!selection_.process_names.empty()) {
    std::error_code ec;
    for (fs::directory_iterator it(roots.procfs, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (!all_digits(name)) continue;
      auto pid = parse_pid(name);
      if (!pid) continue;
      std::string comm;
      if (read_comm(roots, *pid, buf, comm) != CommRead::ok) continue;
      for (const auto& wanted : selection_.process_names) {
        if (comm == wanted) {
          found.emplace(*pid, WatchedProcess{*pid, {}, "name:" + wanted});
          break;
        }
      }
      comms.emplace(*pid, std::move(comm));
    }
  }

  for (const auto& unit : selection_.systemd_units) {
    auto dir = unit_cgroup(roots, unit);
    if (!dir) continue;
    std::vector<std::uint32_t> pids;
    collect_cgroup_pids(ctx, *dir, 0, pids);
    for (std::uint32_t pid : pids) found.emplace(pid, WatchedProcess{pid, {}, "unit:" + unit});
  }

  if (!selection_.cgroups.empty()) {
    auto mounts = find_cgroup_mounts(roots);
    for (const auto& path : selection_.cgroups) {
      auto cg = memory_cgroup_at(mounts, path);
      if (!cg) continue;
      std::vector<std::uint32_t> pids;
      collect_cgroup_pids(ctx, cg->dir, 0, pids);
      for (std::uint32_t pid : pids) found.emplace(pid, WatchedProcess{pid, {}, "cgroup:" + path});
    }
  }

  // comm is refreshed here only; a process that is gone is dropped.
  WorkloadProcesses next;
  next.processes.reserve(found.size());
  for (auto& [pid, proc] : found) {
    if (auto c = comms.find(pid); c != comms.end()) {
      proc.comm = c->second;
    } else {
      std::string comm;
      // Gone unless /proc/<pid> itself is still there (then the name is
      // unknown: "").
      if (read_comm(roots, pid, buf, comm) == CommRead::gone && !process_exists(roots, pid)) continue;
      proc.comm = std::move(comm);
    }
    next.processes.push_back(std::move(proc));
  }
  last_ = std::move(next);
}

void WorkloadProbe::drop_exited(const ProbeContext& ctx) {
  std::erase_if(last_.processes, [&](const WatchedProcess& p) { return !process_exists(ctx.roots, p.pid); });
}

ProbeOutcome WorkloadProbe::sample(ProbeContext& ctx, Snapshot& out) {
  if (selection_.empty()) return ProbeOutcome::no_data();
  const auto now = std::chrono::steady_clock::now();
  if (!scanned_ || !(scanned_roots_ == ctx.roots)) {
    unit_dirs_.clear();
    scanned_roots_ = ctx.roots;
    scanned_ = true;
    next_scan_ = {};
  }
  if (now >= next_scan_) {
    rescan(ctx);
    next_scan_ = now + rescan_interval_;
  } else {
    // A PID reused by another process within one interval stays listed until
    // the next rescan re-reads its comm and re-matches it.
    drop_exited(ctx);
  }
  out.put(kWorkload, last_);
  return ProbeOutcome::ok();
}

void render_workload(const WorkloadProcesses& w, MetricWriter& out) {
  for (const auto& p : w.processes)
    out.add(metric::workload_process, 1,
            {{"pid", std::to_string(p.pid)}, {"comm", p.comm}, {"matched_by", p.matched_by}});
}

namespace {

void parse_workload_section(const YamlReader& p, const YAML::Node& v, const std::string& key, ProbeSettings& out) {
  WorkloadSelection sel = out.get<WorkloadSelection>();
  p.each_key(v, key, {"pids", "process_names", "systemd_units", "cgroup"},
             [&](const std::string& k, const std::string& f, const YAML::Node& n) {
               if (n.IsNull()) return;
               if (!n.IsSequence()) p.fail(n.Mark(), f, "expected a list, e.g. [1234] or [llama-server]");
               for (const auto& item : n) {
                 auto s = p.scalar(item, f, k == "pids" ? "a process id" : k == "cgroup" ? "a cgroup path" : "a name");
                 if (k == "cgroup") {
                   // The path as /proc/<pid>/cgroup shows it; "/" would be the whole host.
                   if (s.size() < 2 || s.front() != '/' || !cgroup_dir_below("/", s))
                     p.fail(item.Mark(), f,
                            "expected a cgroup path below the root such as /system.slice/ollama.service, got " +
                                text::quoted(s));
                   sel.cgroups.push_back(s);
                   continue;
                 }
                 if (k == "pids") {
                   auto pid = text::parse_u64(s);
                   if (!pid || *pid == 0 || *pid > 4194304)
                     p.fail(item.Mark(), f, "expected a process id 1-4194304, got " + text::quoted(s));
                   sel.pids.push_back(static_cast<std::uint32_t>(*pid));
                 } else if (s.empty()) {
                   p.fail(item.Mark(), f, "expected a name, got an empty string");
                 } else if (k == "process_names") {
                   if (s.size() > 15)  // the kernel truncates comm to 15 bytes
                     p.fail(item.Mark(), f,
                            "expected a process name as /proc/<pid>/comm shows it (at most 15 characters), got " +
                                text::quoted(s));
                   sel.process_names.push_back(s);
                 } else {
                   if (s.find('/') != std::string::npos)
                     p.fail(item.Mark(), f, "expected a unit name such as ollama.service, got " + text::quoted(s));
                   sel.systemd_units.push_back(s);
                 }
               }
             });
  out.set(std::move(sel));
}

constexpr ConfigSection kWorkloadSection{"workload", parse_workload_section};

}  // namespace

constinit const ProbeRegistration kWorkloadProbe{
    .name = "workload",
    .section = &kWorkloadSection,
    .make = [](const ProbeSettings& settings) -> std::unique_ptr<Probe> {
      return std::make_unique<WorkloadProbe>(settings.get<WorkloadSelection>(),
                                             settings.get<GpuSettings>().process_interval);
    },
    .render =
        [](const Snapshot& snap, MetricWriter& w) {
          if (const auto* r = snap.get(kWorkload)) render_workload(*r, w);
        },
};

}  // namespace tierscope

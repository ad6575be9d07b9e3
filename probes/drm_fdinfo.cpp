#include "probes/drm_fdinfo.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <limits>
#include <memory>
#include <map>
#include <set>
#include <system_error>
#include <tuple>

#include "core/metric_catalog.h"
#include "core/metric_writer.h"
#include "core/text.h"
#include "core/unique_fd.h"
#include "probes/gpu.h"
#include "probes/gpu_amdgpu.h"
#include "probes/registry.h"
#include "probes/snapshot.h"
#include "probes/workload.h"

namespace tierscope {

namespace fs = std::filesystem;

namespace {

bool has_blank(std::string_view s) {
  return s.find_first_of(" \t\r") != std::string_view::npos;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

using RegionField = std::optional<std::uint64_t> DrmRegionMemory::*;
struct RegionKey {
  std::string_view prefix;
  RegionField field;
};
// Documentation/gpu/drm-usage-stats.rst, "Memory".
constexpr RegionKey kRegionKeys[] = {
    {"drm-total-", &DrmRegionMemory::total},         {"drm-shared-", &DrmRegionMemory::shared},
    {"drm-resident-", &DrmRegionMemory::resident},   {"drm-purgeable-", &DrmRegionMemory::purgeable},
    {"drm-active-", &DrmRegionMemory::active},       {"drm-memory-", &DrmRegionMemory::memory},
};

using AmdField = std::optional<std::uint64_t> DrmFdinfo::*;
struct AmdKey {
  std::string_view key;
  AmdField field;
};
// amdgpu_show_fdinfo (drivers/gpu/drm/amd/amdgpu/amdgpu_fdinfo.c).
constexpr AmdKey kAmdKeys[] = {
    {"amd-memory-visible-vram", &DrmFdinfo::amd_memory_visible_vram},
    {"amd-evicted-vram", &DrmFdinfo::amd_evicted_vram},
    {"amd-evicted-visible-vram", &DrmFdinfo::amd_evicted_visible_vram},
    {"amd-requested-vram", &DrmFdinfo::amd_requested_vram},
    {"amd-requested-visible-vram", &DrmFdinfo::amd_requested_visible_vram},
    {"amd-requested-gtt", &DrmFdinfo::amd_requested_gtt},
};

// Drivers name a handful of regions; the bound keeps a corrupt file from
// making the lookup quadratic or the series unbounded.
constexpr std::size_t kMaxRegions = 64;

DrmRegionMemory* region_entry(DrmFdinfo& info, std::string_view name) {
  for (auto& r : info.regions)
    if (r.region == name) return &r;
  if (info.regions.size() >= kMaxRegions) return nullptr;
  info.regions.push_back({});
  info.regions.back().region = std::string(name);
  return &info.regions.back();
}

std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) {
  return b > std::numeric_limits<std::uint64_t>::max() - a ? std::numeric_limits<std::uint64_t>::max() : a + b;
}

bool same_pci_address(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

// "renderD128" / "card1" after ".../dri/"; nullopt otherwise.
std::optional<std::string> node_name(std::string_view rest) {
  for (std::string_view kind : {std::string_view("renderD"), std::string_view("card")}) {
    if (rest.substr(0, kind.size()) == kind && all_digits(rest.substr(kind.size()))) return std::string(rest);
  }
  return std::nullopt;
}

bool errno_gone(int err) { return err == ENOENT || err == ESRCH; }

bool process_exists(const fs::path& proc_dir) {
  std::error_code ec;
  return fs::status(proc_dir, ec).type() != fs::file_type::not_found;
}

// One DRM client as one process sees it, already reduced to resident bytes.
struct ClientRead {
  std::string pdev;
  std::string driver;
  std::optional<std::uint64_t> client_id;
  std::vector<std::pair<std::string, std::uint64_t>> resident;  // region, bytes
};

enum class ReadResult { ok, vanished, unreadable };

struct ReadError {
  fs::path path;
  int err = 0;
};

// fdinfo is deliberately read with read_uncached, not through FileCache: its
// files come and go with the process's descriptors, and FileCache remembers a
// missing file as absent for 30 s, so a DRM fd closed and opened again under
// the same number would go unseen for that long. A handful of DRM fds per
// process makes the extra syscalls cheap.
constexpr std::size_t kMaxFdinfo = 1 << 20;  // a DRM client's is < 4 KiB

enum class FdRead { ok, closed, vanished, unreadable };

// fdinfo/<fd> of a DRM fd, added to `clients` when it carries drm- keys (a
// DRM fd number reused for another file since the last discovery does not).
FdRead read_drm_fd(const fs::path& proc_dir, unsigned fd, const std::string& node, std::string& buf,
                   std::vector<ClientRead>& clients, ReadError& error) {
  const fs::path path = proc_dir / "fdinfo" / std::to_string(fd);
  if (int err = read_uncached(path, buf, kMaxFdinfo)) {
    if (errno_gone(err)) return process_exists(proc_dir) ? FdRead::closed : FdRead::vanished;
    error = {path, err};
    return FdRead::unreadable;
  }
  DrmFdinfo info = parse_drm_fdinfo(buf);
  if (!info.driver) return FdRead::ok;  // not DRM (any more), or a driver that prints no usage stats
  ClientRead c;
  c.pdev = info.pdev.value_or(node);
  c.driver = *info.driver;
  c.client_id = info.client_id;
  for (const auto& r : info.regions)
    if (auto bytes = r.resident_bytes()) c.resident.emplace_back(r.region, *bytes);
  clients.push_back(std::move(c));
  return FdRead::ok;
}

// Finds the DRM fds of a process (fd/ listed, every link read) and reads
// them. A process that exits meanwhile (ENOENT/ESRCH and /proc/<pid> gone)
// is `vanished`; EACCES/EPERM or another failure to list fd/ is
// `unreadable`. An fd closed between the listing and the read is skipped.
ReadResult discover_process(ProbeContext& ctx, std::uint32_t pid, DrmFdinfoProbe::DrmFds& drm_fds,
                            std::vector<ClientRead>& clients, ReadError& error) {
  const fs::path proc_dir = ctx.roots.procfs / std::to_string(pid);
  const fs::path fd_dir = proc_dir / "fd";
  auto fail = [&](const fs::path& path, int err) {
    // The kernel answers ENOENT/ESRCH for fd/ only once the task is gone.
    if (errno_gone(err)) return ReadResult::vanished;
    error = {path, err};
    return ReadResult::unreadable;
  };

  // opendir + readlinkat on its descriptor: each link is looked up in fd/
  // alone, not walked from / through /proc/<pid> again.
  UniqueDir dir(::opendir(fd_dir.c_str()));
  if (!dir) return fail(fd_dir, errno);
  std::vector<unsigned> fds;
  for (;;) {
    errno = 0;
    const dirent* entry = ::readdir(dir.get());
    if (!entry) {
      if (int err = errno) return fail(fd_dir, err);
      break;
    }
    auto fd = text::parse_u64(entry->d_name);
    if (fd && *fd <= std::numeric_limits<unsigned>::max()) fds.push_back(static_cast<unsigned>(*fd));
  }
  // Lowest fd first, so the same text is chosen on every sample.
  std::sort(fds.begin(), fds.end());

  drm_fds.clear();
  std::array<char, 4096> link{};
  for (unsigned fd : fds) {
    const std::string name = std::to_string(fd);
    ssize_t n = ::readlinkat(::dirfd(dir.get()), name.c_str(), link.data(), link.size());
    if (n < 0) {
      int err = errno;
      if (err == EACCES || err == EPERM) return fail(fd_dir / name, err);
      if (errno_gone(err) && !process_exists(proc_dir)) return ReadResult::vanished;
      continue;  // closed meanwhile, or not a link (a fixture's plain file)
    }
    auto node = drm_node_of_link(std::string_view(link.data(), static_cast<std::size_t>(n)), fd_dir, ctx.roots.devfs);
    if (!node) continue;
    switch (read_drm_fd(proc_dir, fd, *node, ctx.scratch, clients, error)) {
      case FdRead::ok:
        drm_fds.emplace(fd, std::move(*node));
        break;
      case FdRead::closed:
        break;
      case FdRead::vanished:
        return ReadResult::vanished;
      case FdRead::unreadable:
        return ReadResult::unreadable;
    }
  }
  return ReadResult::ok;
}

// Between discoveries: only the fdinfo of the DRM fds found last time.
ReadResult reread_process(ProbeContext& ctx, std::uint32_t pid, DrmFdinfoProbe::DrmFds& drm_fds,
                          std::vector<ClientRead>& clients, ReadError& error) {
  const fs::path proc_dir = ctx.roots.procfs / std::to_string(pid);
  for (auto it = drm_fds.begin(); it != drm_fds.end();) {
    switch (read_drm_fd(proc_dir, it->first, it->second, ctx.scratch, clients, error)) {
      case FdRead::ok:
        ++it;
        break;
      case FdRead::closed:
        it = drm_fds.erase(it);
        break;
      case FdRead::vanished:
        return ReadResult::vanished;
      case FdRead::unreadable:
        return ReadResult::unreadable;
    }
  }
  return ReadResult::ok;
}

}  // namespace

const DrmRegionMemory* DrmFdinfo::region(std::string_view name) const {
  for (const auto& r : regions)
    if (r.region == name) return &r;
  return nullptr;
}

std::optional<std::uint64_t> parse_drm_size(std::string_view value) {
  value = text::trim(value);
  std::size_t digits = 0;
  while (digits < value.size() && value[digits] >= '0' && value[digits] <= '9') ++digits;
  auto number = text::parse_u64(value.substr(0, digits));
  if (!number) return std::nullopt;
  std::string_view unit = text::trim(value.substr(digits));
  std::uint64_t scale;
  if (unit.empty()) scale = 1;
  else if (unit == "KiB") scale = std::uint64_t{1} << 10;
  else if (unit == "MiB") scale = std::uint64_t{1} << 20;
  else if (unit == "GiB") scale = std::uint64_t{1} << 30;
  else return std::nullopt;
  if (*number > std::numeric_limits<std::uint64_t>::max() / scale) return std::nullopt;
  return *number * scale;
}

DrmFdinfo parse_drm_fdinfo(std::string_view text) {
  DrmFdinfo info;
  text::Lines lines(text);
  std::string_view line;
  while (lines.next(line)) {
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view key = line.substr(0, colon);
    std::string_view value = text::trim(line.substr(colon + 1));
    if (key.empty() || has_blank(key)) continue;  // e.g. "inotify wd:3 ino:1 ..."

    if (key == "drm-driver" || key == "drm-pdev") {
      auto& field = key == "drm-driver" ? info.driver : info.pdev;
      if (!field && !value.empty() && !has_blank(value)) field = std::string(value);
      continue;
    }
    if (key == "drm-client-id") {
      if (!info.client_id) info.client_id = text::parse_u64(value);
      continue;
    }
    if (key.substr(0, 4) == "amd-") {
      for (const auto& k : kAmdKeys) {
        if (key != k.key) continue;
        if (!(info.*k.field)) info.*k.field = parse_drm_size(value);
        break;
      }
      continue;
    }
    if (key.substr(0, 4) != "drm-") continue;
    if (key.substr(0, 17) == "drm-total-cycles-") continue;  // engine cycles (xe, panthor), not memory
    for (const auto& k : kRegionKeys) {
      if (key.substr(0, k.prefix.size()) != k.prefix) continue;
      std::string_view region = key.substr(k.prefix.size());
      auto bytes = parse_drm_size(value);
      if (region.empty() || !bytes) break;
      auto* entry = region_entry(info, region);
      if (entry && !(entry->*k.field)) entry->*k.field = bytes;
      break;
    }
  }
  return info;
}

std::optional<std::string> drm_node_of_link(std::string_view target, const fs::path& link_dir,
                                            const fs::path& devfs) {
  constexpr std::string_view kDeleted = " (deleted)";  // the node was removed after open
  if (target.size() > kDeleted.size() && target.substr(target.size() - kDeleted.size()) == kDeleted)
    target.remove_suffix(kDeleted.size());
  // What the kernel shows for a real process: the path in its own root.
  constexpr std::string_view kDevDri = "/dev/dri/";
  if (target.substr(0, kDevDri.size()) == kDevDri) return node_name(target.substr(kDevDri.size()));
  // Sockets, pipes, files: no lexical work for them on every tick.
  if (target.find("dri/") == std::string_view::npos || devfs.empty() || devfs == "/dev") return std::nullopt;

  // A fixture tree: a link into the tree's own dev/ (relative or absolute).
  std::error_code ec;
  fs::path resolved = fs::path(target);
  if (resolved.is_relative()) resolved = link_dir / resolved;
  resolved = fs::absolute(resolved, ec).lexically_normal();
  if (ec) return std::nullopt;
  fs::path dri = fs::absolute(devfs / "dri", ec).lexically_normal();
  if (ec) return std::nullopt;
  if (resolved.parent_path() != dri) return std::nullopt;
  return node_name(resolved.filename().native());
}

DrmFdinfoProbe::DrmFdinfoProbe(std::chrono::milliseconds rediscover_interval)
    : rediscover_interval_(rediscover_interval) {}

ProbeOutcome DrmFdinfoProbe::sample(ProbeContext& ctx, Snapshot& out) {
  const auto* workload = out.get(kWorkload);
  if (!workload || workload->processes.empty()) {
    known_.clear();
    return ProbeOutcome::no_data();
  }
  const auto& watched = workload->processes;
  if (!(roots_ == ctx.roots)) {
    roots_ = ctx.roots;
    known_.clear();
    next_rediscovery_ = {};
  }
  const auto now = std::chrono::steady_clock::now();
  const bool rediscover = now >= next_rediscovery_;
  if (rediscover) next_rediscovery_ = now + rediscover_interval_;

  DrmMemoryUsage usage;
  ReadError first_error;
  std::map<std::uint32_t, DrmFds> known;
  std::vector<std::pair<std::uint32_t, std::vector<ClientRead>>> reads;
  for (const auto& p : watched) {
    std::vector<ClientRead> clients;
    ReadError error;
    auto it = known_.find(p.pid);
    const bool discover = rediscover || it == known_.end();  // a newly watched process at once
    DrmFds fds;
    if (it != known_.end()) fds = std::move(it->second);
    ReadResult result = discover ? discover_process(ctx, p.pid, fds, clients, error)
                                 : reread_process(ctx, p.pid, fds, clients, error);
    switch (result) {
      case ReadResult::ok:
        known.emplace(p.pid, std::move(fds));
        reads.emplace_back(p.pid, std::move(clients));
        break;
      case ReadResult::vanished:
        ++usage.vanished_processes;
        break;
      case ReadResult::unreadable:
        ++usage.unreadable_processes;
        if (first_error.err == 0) first_error = error;
        break;
    }
  }
  known_ = std::move(known);  // processes no longer watched are forgotten
  if (usage.unreadable_processes == watched.size()) {
    std::string why = describe_errno(first_error.path, first_error.err);
    if (first_error.err == EACCES || first_error.err == EPERM)
      why += " (every watched process; reading another user's /proc/<pid>/fd needs ptrace read access, "
             "e.g. the same user or CAP_SYS_PTRACE)";
    return ProbeOutcome::failed(std::move(why));
  }

  // Processes come in pid order, so a client shared by several goes to the
  // lowest pid; a client seen again (another fd, another process) is skipped.
  std::set<std::pair<std::string, std::uint64_t>> seen;
  std::map<std::tuple<std::uint32_t, std::string, std::string>, DrmProcessMemory> sums;
  for (const auto& [pid, clients] : reads) {
    for (const auto& c : clients) {
      if (c.client_id && !seen.emplace(c.pdev, *c.client_id).second) continue;
      for (const auto& [region, bytes] : c.resident) {
        auto [it, fresh] = sums.try_emplace({pid, c.pdev, region}, DrmProcessMemory{pid, c.pdev, c.driver, region, 0});
        it->second.bytes = saturating_add(it->second.bytes, bytes);
      }
    }
  }
  usage.entries.reserve(sums.size());
  for (auto& [key, e] : sums) usage.entries.push_back(std::move(e));
  out.put(kDrmFdinfo, std::move(usage));
  return ProbeOutcome::ok();
}

void render_drm_fdinfo(const DrmMemoryUsage& usage, const GpuInventory* amdgpu, const WorkloadProcesses* watched,
                       MetricWriter& w) {
  for (const auto& e : usage.entries) {
    std::string_view gpu = e.pdev;
    if (amdgpu) {
      for (const auto& g : amdgpu->gpus) {
        if (g.pci_bus_id && same_pci_address(*g.pci_bus_id, e.pdev)) {
          gpu = g.id;
          break;
        }
      }
    }
    const WatchedProcess* proc = watched ? watched->find(e.pid) : nullptr;
    w.add(metric::process_gpu_memory, static_cast<double>(e.bytes),
          {{"gpu", std::string(gpu)},
           {"pid", std::to_string(e.pid)},
           {"comm", proc ? proc->comm : std::string()},
           {"region", e.region}});
  }
}

namespace {
constexpr std::string_view kDrmFdinfoAfter[] = {"workload"};
}  // namespace

constinit const ProbeRegistration kDrmFdinfoProbe{
    .name = "drm_fdinfo",
    .section = &kGpuSection,
    .after = kDrmFdinfoAfter,
    .make = [](const ProbeSettings& settings) -> std::unique_ptr<Probe> {
      return std::make_unique<DrmFdinfoProbe>(settings.get<GpuSettings>().process_interval);
    },
    .render =
        [](const Snapshot& snap, MetricWriter& w) {
          if (const auto* usage = snap.get(kDrmFdinfo)) render_drm_fdinfo(*usage, snap.get(kGpuAmdgpu), snap.get(kWorkload), w);
        },
};

}  // namespace tierscope

#pragma once
// Per-process GPU memory from DRM fdinfo (Documentation/gpu/drm-usage-stats.rst)
// for the watched workload only: /proc/<pid>/fdinfo/<fd> of the process's DRM
// file descriptors, de-duplicated by drm-client-id (two fds of one client are
// one client).
//
// A drm-client-id names one open DRM file (struct drm_file). Two fds of one
// process (dup) and fds of several processes (fork, SCM_RIGHTS) can share it;
// it counts once per (drm-pdev, drm-client-id) per sample and goes to the
// lowest watched PID that holds it, so summing the per-process series never
// double counts. A client without drm-client-id cannot be matched and counts
// once per fd.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "probes/probe.h"
#include "probes/snapshot.h"

namespace tierscope {

struct ProbeRegistration;

class MetricWriter;
struct GpuInventory;
struct WorkloadProcesses;

struct DrmProcessMemory {
  std::uint32_t pid = 0;
  std::string pdev;     // drm-pdev, e.g. 0000:c3:00.0 (the node, e.g. renderD128, when the driver prints none)
  std::string driver;   // drm-driver, e.g. amdgpu
  std::string region;   // vram | gtt | cpu | ...
  std::uint64_t bytes = 0;
};

struct DrmMemoryUsage {
  std::vector<DrmProcessMemory> entries;  // sorted by pid, pdev, region; bytes summed over distinct clients
  // Watched processes skipped in this sample (their partial reads discarded):
  std::uint32_t vanished_processes = 0;    // exited while being read
  std::uint32_t unreadable_processes = 0;  // fd/ or fdinfo unreadable (EACCES: needs ptrace read access)
};

// One memory region of a DRM client, bytes; absent when the key is absent or
// malformed.
struct DrmRegionMemory {
  std::string region;                       // vram, gtt, cpu, system, vram0, stolen, ...
  std::optional<std::uint64_t> total;       // drm-total-<region>
  std::optional<std::uint64_t> shared;      // drm-shared-<region>
  std::optional<std::uint64_t> resident;    // drm-resident-<region>
  std::optional<std::uint64_t> purgeable;   // drm-purgeable-<region>
  std::optional<std::uint64_t> active;      // drm-active-<region>
  std::optional<std::uint64_t> memory;      // drm-memory-<region> (legacy; amdgpu before drm-resident)
  // What the client has resident in the region: drm-resident, else the legacy
  // drm-memory (the only memory key of older amdgpu).
  std::optional<std::uint64_t> resident_bytes() const { return resident ? resident : memory; }
};

// One /proc/<pid>/fdinfo/<fd> of a DRM file. Engine keys (drm-engine-*,
// drm-cycles-*, drm-total-cycles-*) are ignored.
struct DrmFdinfo {
  std::optional<std::string> driver;        // drm-driver (absent: not a DRM client)
  std::optional<std::string> pdev;          // drm-pdev, e.g. 0000:c3:00.0
  std::optional<std::uint64_t> client_id;   // drm-client-id
  std::vector<DrmRegionMemory> regions;     // in order of first appearance, at most 64
  // amdgpu-specific (drivers/gpu/drm/amd/amdgpu/amdgpu_fdinfo.c), bytes
  std::optional<std::uint64_t> amd_memory_visible_vram, amd_evicted_vram, amd_evicted_visible_vram;
  std::optional<std::uint64_t> amd_requested_vram, amd_requested_visible_vram, amd_requested_gtt;

  const DrmRegionMemory* region(std::string_view name) const;
};

// Parses the text of an fdinfo file. Lines are "key:<whitespace>value"; keys
// with whitespace, unknown keys and malformed values are skipped; a repeated
// key keeps its first value.
DrmFdinfo parse_drm_fdinfo(std::string_view text);

// A drm-usage-stats size: "<uint>" bytes, or "<uint> KiB|MiB|GiB". nullopt on
// any other unit, garbage, or overflow of 64 bits.
std::optional<std::uint64_t> parse_drm_size(std::string_view value);

// The DRM node an fd symlink points at ("renderD128", "card1"), or nullopt
// when it is not /dev/dri/renderD<N> or /dev/dri/card<N>. `target` is the
// readlink(2) text; a relative one is resolved lexically from `link_dir`
// (where the link lives), and `devfs` is accepted besides /dev (fixture trees).
// Nothing is stat'ed.
std::optional<std::string> drm_node_of_link(std::string_view target, const std::filesystem::path& link_dir,
                                            const std::filesystem::path& devfs);

class DrmFdinfoProbe final : public Probe {
 public:
  // Which fds are DRM files is learnt by listing fd/ and reading every link
  // (readlink): microseconds per fd, and a Python workload holds hundreds,
  // where listing /proc/<pid>/fd alone costs the kernel a dentry per fd. So
  // the DRM fds of a process are discovered when it is first watched and
  // then once per rediscover_interval (0: every sample); in between, a sample
  // reads only the fdinfo of the DRM fds found, one file each. A DRM fd
  // opened later counts from the next discovery; one closed stops counting at
  // once; a DRM fd number reused for another file counts nothing (its fdinfo
  // has no drm- keys).
  explicit DrmFdinfoProbe(std::chrono::milliseconds rediscover_interval = std::chrono::seconds(5));
  std::string_view name() const override { return "drm_fdinfo"; }
  // Reads the fdinfo of the processes of the workload reading (it runs after
  // the workload probe); no_data when no process is watched. A process that exits while
  // being read or whose fd/fdinfo is unreadable is skipped and counted; the
  // probe fails (with the path and errno) only when every watched process was
  // unreadable.
  ProbeOutcome sample(ProbeContext& ctx, Snapshot& out) override;

  // The next sample discovers the DRM fds of every watched process again.
  void force_rescan() { next_rediscovery_ = {}; }

  // The DRM fds of a process: fd number -> DRM node ("renderD128").
  using DrmFds = std::map<unsigned, std::string>;

 private:
  std::chrono::milliseconds rediscover_interval_;
  std::chrono::steady_clock::time_point next_rediscovery_{};
  HostRoots roots_;
  std::map<std::uint32_t, DrmFds> known_;  // per watched pid
};

// tierscope_process_gpu_memory_bytes{gpu,pid,comm,region}; gpu is the amdgpu
// card whose PCI address is drm-pdev, else the pdev itself.
void render_drm_fdinfo(const DrmMemoryUsage& usage, const GpuInventory* amdgpu, const WorkloadProcesses* watched,
                       MetricWriter& w);

// What the drm_fdinfo probe puts in the snapshot.
inline constexpr ReadingKey<DrmMemoryUsage> kDrmFdinfo{"drm_fdinfo"};

// The registration entry (probes/registry.h): runs after `workload`; its fd
// rediscovery cadence is the gpu section's process_interval.
extern const ProbeRegistration kDrmFdinfoProbe;

}  // namespace tierscope

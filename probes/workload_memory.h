#pragma once
// Where the watched workload's memory lives, exactly: its composition by tier
// (RAM anonymous, page cache, mapped files, shmem, kernel, swap, VRAM, GTT),
// its cgroup's usage, peak, limits and memory events, the IO it caused on each
// block device, and its major faults.
//
// Two sources, never summed together:
// - cgroup: when the workload is a cgroup (config workload.cgroup, a systemd
//   unit of workload.systemd_units, or a launched engine's cgroup handed over
//   with WorkloadMemoryProbe::watch), its memory cgroup's accounting files
//   (probes/cgroup.h): v2 memory.stat, memory.current, memory.swap.current,
//   memory.peak, memory.events, io.stat and the limits; v1 memory.stat (total_*),
//   memory.usage_in_bytes, memory.max_usage_in_bytes, memory.failcnt,
//   memory.oom_control, memory.kmem.usage_in_bytes and the blkio hierarchy's
//   throttle.io_service_bytes / io_serviced. The cgroup counts every process in
//   it and below it, and page cache that no process maps any more.
// - processes: otherwise (workload.pids, process_names, or a mix of those with
//   units or cgroups), the sum over the watched processes of
//   /proc/<pid>/smaps_rollup (proportional set sizes: a page shared by two
//   watched processes counts once in the sum), falling back to
//   /proc/<pid>/status (RssAnon, RssFile, RssShmem, VmSwap: not proportional,
//   so shared pages count once per process) for kernels or processes where
//   smaps_rollup lacks them, and the major faults of /proc/<pid>/stat. A
//   process's unmapped page cache and its kernel memory are not attributable,
//   so page_cache and kernel stay absent; file_mapped is its mapped files.
// VRAM and GTT come from the GPU probes' per-process readings (NVML process
// lists, DRM fdinfo) summed over the watched PIDs; they run before this probe.
//
// Per-process Swap and SwapPss stay in the reading (WorkloadMemory::processes)
// and are not exported per process: the workload's swap tier is their sum, and
// a series per PID and field would multiply the cardinality of the per-process
// series for a figure the sum already gives.
//
// A cgroup's files are read with open/read/close (the next engine start may
// recreate a cgroup of the same path: a kept descriptor or a remembered
// absence would be wrong). A watched process's smaps_rollup and stat are kept
// open while it is watched and re-read with pread(2) at offset 0 (smaps_rollup
// costs the kernel a walk of the address space; the open's path lookup would
// add a third to that): the descriptor follows that process and no other, so
// a reused PID is never read through it; a read that fails or comes back
// empty (the process exited, or exec'd and left the address space the
// descriptor holds) closes it, and the file is opened afresh once.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/unique_fd.h"
#include "probes/cgroup.h"
#include "probes/probe.h"
#include "probes/snapshot.h"
#include "probes/workload.h"

namespace tierscope {

struct ProbeRegistration;

class MetricWriter;

// /proc/<pid>/smaps_rollup, the fields used here, bytes ("Key:  N kB" x 1024).
// Pss_Anon, Pss_File and Pss_Shmem need kernel 5.7+.
struct SmapsRollup {
  std::optional<std::uint64_t> rss, pss, pss_anon, pss_file, pss_shmem, anonymous, swap, swap_pss;
  bool operator==(const SmapsRollup&) const = default;
};
SmapsRollup parse_smaps_rollup(std::string_view text);

// /proc/<pid>/status, the memory fields used here, bytes (kB x 1024).
struct ProcStatusMemory {
  std::optional<std::uint64_t> rss_anon, rss_file, rss_shmem, vm_swap;
  bool operator==(const ProcStatusMemory&) const = default;
};
ProcStatusMemory parse_proc_status_memory(std::string_view text);

// majflt, field 12 of /proc/<pid>/stat (counted after the last ')' so that a
// comm holding spaces or parentheses cannot shift it).
std::optional<std::uint64_t> parse_proc_stat_major_faults(std::string_view text);

enum class WorkloadSource { cgroup, processes };
std::string_view to_string(WorkloadSource s);  // "cgroup" / "processes"

// One watched process's memory (processes source), bytes.
struct WorkloadProcessMemory {
  std::uint32_t pid = 0;
  std::optional<std::uint64_t> rss, pss;
  std::optional<std::uint64_t> anon;         // Pss_Anon, else Anonymous (smaps), else RssAnon (status)
  std::optional<std::uint64_t> file_mapped;  // Pss_File, else RssFile (status)
  std::optional<std::uint64_t> shmem;        // Pss_Shmem, else RssShmem (status)
  std::optional<std::uint64_t> swap;         // Swap (smaps), else VmSwap (status)
  std::optional<std::uint64_t> swap_pss;     // SwapPss (smaps)
  std::optional<std::uint64_t> major_faults;
};

// IO charged to the workload's cgroup on one block device.
struct WorkloadDeviceIo {
  std::string device;  // kernel name as in /proc/diskstats (DEVNAME of <sysfs>/dev/block/M:m/uevent), else "M:m"
  unsigned major = 0, minor = 0;
  std::optional<std::uint64_t> read_bytes, write_bytes, read_ios, write_ios;
};

// The typed composition: what the metrics show, and what the bench runner
// records per sample.
struct WorkloadMemory {
  WorkloadSource source = WorkloadSource::processes;
  std::vector<CgroupDir> cgroups;  // source cgroup: the cgroups read (nested ones of a list dropped)

  // Tiers, bytes. file_mapped is a part of page_cache + shmem (cgroup) and
  // shmem is not a part of page_cache: ram_anon + page_cache + shmem + kernel
  // (+ socket buffers) is what the cgroup charges for RAM.
  std::optional<std::uint64_t> ram_anon;     // v2 anon; v1 total_rss; processes: Pss_Anon
  std::optional<std::uint64_t> page_cache;   // v2 file - shmem; v1 total_cache - total_shmem
  std::optional<std::uint64_t> file_mapped;  // v2 file_mapped; v1 total_mapped_file; processes: Pss_File
  std::optional<std::uint64_t> shmem;        // v2 shmem; v1 total_shmem; processes: Pss_Shmem
  std::optional<std::uint64_t> kernel;       // v2 kernel (or its parts); v1 memory.kmem.usage_in_bytes
  bool kernel_from_parts = false;            // v2 kernel before 5.18: summed from its parts
  std::optional<std::uint64_t> swap;         // v2 memory.swap.current; v1 total_swap; processes: SwapPss
  std::optional<std::uint64_t> vram, gtt;    // GPU probes, summed over the watched PIDs

  std::optional<std::uint64_t> current;  // v2 memory.current; v1 memory.usage_in_bytes
  std::optional<std::uint64_t> peak;     // v2 memory.peak (5.19+); v1 memory.max_usage_in_bytes
  MemoryLimits limits;                   // one cgroup only
  CgroupMemoryEvents events;
  std::optional<bool> under_oom;                // v1 memory.oom_control
  std::optional<std::uint64_t> major_faults;    // v2 pgmajfault; v1 total_pgmajfault; processes: majflt
  std::vector<WorkloadDeviceIo> io;             // cgroup source only, sorted by device number

  std::vector<WorkloadProcessMemory> processes;  // processes source: each process read, by pid
  std::uint32_t processes_unreadable = 0;        // watched, but neither smaps_rollup nor status readable
};

// What the probe watches: cgroups (the cgroup source) or PIDs (the processes
// source). A target with cgroups ignores its pids for the composition.
struct WorkloadTarget {
  std::vector<CgroupDir> cgroups;
  std::vector<std::uint32_t> pids;
  bool empty() const { return cgroups.empty() && pids.empty(); }
  bool operator==(const WorkloadTarget&) const = default;
};

// Reads a target's composition (everything but vram/gtt). Keeps the device
// names and v1 blkio directories it resolved between calls.
class WorkloadMemoryReader {
 public:
  WorkloadMemory read(const HostRoots& roots, const WorkloadTarget& target);
  void clear() {
    devices_.clear();
    mounts_.reset();
    process_files_.clear();
  }
  // Descriptors held for watched processes (tests).
  std::size_t open_files() const;

 private:
  void read_cgroup(const HostRoots& roots, const CgroupDir& cg, WorkloadMemory& out);
  void read_processes(const HostRoots& roots, const std::vector<std::uint32_t>& pids, WorkloadMemory& out);
  const std::string& device_name(const HostRoots& roots, unsigned major, unsigned minor);
  const CgroupMounts& mounts(const HostRoots& roots);

  struct ProcessFiles {
    UniqueFd smaps_rollup, stat;
  };
  // Reads <procfs>/<pid>/<name> through `fd`, opening it when closed; false
  // when it cannot be read or is empty (fd closed then).
  bool read_kept(UniqueFd& fd, const std::filesystem::path& file);

  std::map<std::uint32_t, ProcessFiles> process_files_;  // the PIDs of the last read
  std::map<std::pair<unsigned, unsigned>, std::string> devices_;
  std::optional<CgroupMounts> mounts_;
  HostRoots mounts_roots_;
  std::optional<HostRoots> last_roots_;
  std::string buf_;
};

// vram and gtt of `pids` from the GPU readings in `snap` (NVML process lists
// region vram; DRM fdinfo regions vram*, gtt); both absent when no GPU probe
// left a reading. A process listed twice for one GPU and region counts once.
void add_gpu_memory(const Snapshot& snap, const std::vector<std::uint32_t>& pids, WorkloadMemory& out);

class WorkloadMemoryProbe final : public Probe {
 public:
  explicit WorkloadMemoryProbe(WorkloadSelection selection) : selection_(std::move(selection)) {}
  std::string_view name() const override { return "workload_memory"; }
  // no_data when nothing is watched; ok otherwise (the reading may have few
  // values when the workload's files are gone).
  ProbeOutcome sample(ProbeContext& ctx, Snapshot& out) override;

  // Watch this target instead of what the config selects (a launched engine:
  // its cgroup, or its PID); an empty target returns to the config.
  void watch(WorkloadTarget target) { override_ = std::move(target); }

 private:
  // The target the config selects, from the workload probe's reading.
  WorkloadTarget configured_target(const HostRoots& roots, const WorkloadProcesses* watched);

  WorkloadSelection selection_;
  WorkloadTarget override_;
  WorkloadMemoryReader reader_;
  std::map<std::string, CgroupDir> unit_cgroups_;  // by unit name
  HostRoots roots_;
};

void render_workload_memory(const WorkloadMemory& m, MetricWriter& w);

inline constexpr ReadingKey<WorkloadMemory> kWorkloadMemory{"workload_memory"};

// The registration entry (probes/registry.h); config section `workload`.
extern const ProbeRegistration kWorkloadMemoryProbe;

}  // namespace tierscope

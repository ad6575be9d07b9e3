#pragma once
// Control groups: which cgroup holds a process's memory, where that cgroup's
// files are, and the memory limits the kernel enforces on it.
//
// Both hierarchies are handled. cgroup v2 (unified) is found at
// <sysfs>/fs/cgroup (pure unified, cgroup.controllers at its root) or at
// <sysfs>/fs/cgroup/unified (systemd's hybrid layout); the v1 memory and blkio
// controllers at <sysfs>/fs/cgroup/{memory,blkio}. A process's memory is
// accounted by the v2 hierarchy when that has the memory controller,
// otherwise by the v1 memory hierarchy (its /proc/<pid>/cgroup line that
// lists "memory").
//
// Everything here reads with plain open/read/close (cgroups come and go with
// the workloads in them: a kept descriptor or a remembered absence would be
// wrong); a file that cannot be read leaves its value absent.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/host_roots.h"

namespace tierscope {

enum class CgroupVersion { v1, v2 };
std::string_view to_string(CgroupVersion v);  // "v1" / "v2"

// One line of /proc/<pid>/cgroup: "hierarchy-ID:controller-list:path"
// (v2: "0::/path"; v1: "4:memory:/path", "9:name=systemd:/path"). The path
// is everything after the second ':'. Lines without two ':', with a
// non-numeric ID or with a path not starting with '/' are skipped.
struct ProcCgroupLine {
  std::uint32_t hierarchy = 0;
  std::vector<std::string> controllers;  // empty for the v2 line
  std::string path;
  bool operator==(const ProcCgroupLine&) const = default;
};
std::vector<ProcCgroupLine> parse_proc_cgroup(std::string_view text);

// Where the host's cgroup hierarchies are, by the conventional systemd layout
// under HostRoots::sysfs.
struct CgroupMounts {
  std::optional<std::filesystem::path> v2;         // the v2 hierarchy's root dir, if mounted
  bool v2_memory = false;                          // "memory" is in its root cgroup.controllers
  std::optional<std::filesystem::path> v1_memory;  // the v1 memory hierarchy's root dir, if mounted
  std::optional<std::filesystem::path> v1_blkio;   // the v1 blkio hierarchy's root dir, if mounted
  bool operator==(const CgroupMounts&) const = default;
};
// v2: <sysfs>/fs/cgroup when it holds cgroup.controllers, else
// <sysfs>/fs/cgroup/unified when that does. v1 memory: <sysfs>/fs/cgroup/memory
// when it holds memory.usage_in_bytes; v1 blkio: <sysfs>/fs/cgroup/blkio when
// it holds blkio.throttle.io_service_bytes.
CgroupMounts find_cgroup_mounts(const HostRoots& roots);

// A memory cgroup: the dir whose files account a process's memory.
struct CgroupDir {
  CgroupVersion version = CgroupVersion::v2;
  std::string path;           // as /proc/<pid>/cgroup names it, e.g. "/system.slice/x.scope"
  std::filesystem::path dir;  // its directory in sysfs
  bool operator==(const CgroupDir&) const = default;
};

// The directory of cgroup `path` ("/a/b") below hierarchy root `root`;
// nullopt when the path does not start with '/' or has a "." or ".."
// component (it would leave the hierarchy).
std::optional<std::filesystem::path> cgroup_dir_below(const std::filesystem::path& root, std::string_view path);

// The memory cgroup of a /proc/<pid>/cgroup text: the v2 dir when the v2
// hierarchy has the memory controller, else the v1 memory hierarchy's dir;
// nullopt when neither (or the text has no line for it). Whether the dir
// exists is not checked.
std::optional<CgroupDir> memory_cgroup_of(const CgroupMounts& mounts, std::string_view proc_cgroup_text);
// The same for <procfs>/<pid>/cgroup; nullopt also when it cannot be read.
std::optional<CgroupDir> memory_cgroup_of_pid(const HostRoots& roots, std::uint32_t pid);
// A cgroup given by path (config `workload.cgroup`, e.g.
// "/system.slice/ollama.service"), in the same way: v2 when the v2 hierarchy
// has the memory controller, else v1 memory. nullopt when neither, or when
// the path is not absolute or leaves the hierarchy. Existence not checked.
std::optional<CgroupDir> memory_cgroup_at(const CgroupMounts& mounts, std::string_view cgroup_path);

// The v1 blkio cgroup of a /proc/<pid>/cgroup text (its line listing
// "blkio"), when the v1 blkio hierarchy is mounted.
std::optional<std::filesystem::path> blkio_cgroup_of(const CgroupMounts& mounts, std::string_view proc_cgroup_text);

// A memory limit as the kernel holds it. v2 writes "max" for no limit; v1
// writes PAGE_COUNTER_MAX x page size (2^63 - page size). Every value from
// 2^63 - 64 KiB up counts as unlimited, which covers 4, 16 and 64 KiB pages
// (no real limit is within 64 KiB of 8 EiB).
struct MemoryLimit {
  bool unlimited = false;
  std::uint64_t bytes = 0;  // 0 when unlimited
  bool operator==(const MemoryLimit&) const = default;
};
inline constexpr std::uint64_t kV1UnlimitedFrom = (std::uint64_t{1} << 63) - (std::uint64_t{64} << 10);

struct MemoryLimits {
  std::optional<MemoryLimit> max;       // v2 memory.max; v1 memory.limit_in_bytes
  std::optional<MemoryLimit> high;      // v2 memory.high; v1: absent (v1 has no such limit)
  std::optional<MemoryLimit> swap_max;  // v2 memory.swap.max; v1 memory.memsw.limit_in_bytes -
                                        // memory.limit_in_bytes (unlimited when memsw is; absent
                                        // when memsw accounting is off or either is unreadable)
  bool operator==(const MemoryLimits&) const = default;
};

// "max\n" (v2 only), "1234\n". nullopt for anything else.
std::optional<MemoryLimit> parse_memory_limit(std::string_view text, CgroupVersion v);
// Plain reads of the cgroup's limit files; each absent when unreadable.
MemoryLimits read_memory_limits(const CgroupDir& cg);


// ---- accounting files -----------------------------------------------------

// memory.stat of a memory cgroup, the fields the workload composition uses
// (bytes; pgmajfault a count). Absent when the file has no such line.
//
// v2 (hierarchical by design): anon, file (page cache including shmem and
// tmpfs), file_mapped, shmem, kernel, sock, anon_thp, pgmajfault. Kernels
// before 5.18 have no `kernel` line; then kernel is the sum of the kernel
// memory lines they do have (kernel_stack, pagetables, sec_pagetables,
// percpu, slab_reclaimable, slab_unreclaimable, vmalloc), and
// kernel_from_parts says so. swap: absent (v2 keeps it in memory.swap.current).
//
// v1: the hierarchical total_* lines (this cgroup and its descendants):
// anon = total_rss (anonymous and swap cache, THP included), file =
// total_cache (page cache including shmem), file_mapped = total_mapped_file,
// shmem = total_shmem, swap = total_swap (only with swap accounting),
// anon_thp = total_rss_huge, pgmajfault = total_pgmajfault. kernel and sock:
// absent (v1 keeps kernel memory in memory.kmem.usage_in_bytes).
struct CgroupMemoryStat {
  std::optional<std::uint64_t> anon, file, file_mapped, shmem, kernel, sock, anon_thp, swap, pgmajfault;
  bool kernel_from_parts = false;
  bool operator==(const CgroupMemoryStat&) const = default;
};
// Lines "key value"; unknown keys and malformed lines are ignored, the first
// of a repeated key wins.
CgroupMemoryStat parse_memory_stat(std::string_view text, CgroupVersion v);

// v2 memory.events (hierarchical): "low N", "high N", "max N", "oom N",
// "oom_kill N". v1 has no such file: max is memory.failcnt (times usage hit
// the limit), oom_kill comes from memory.oom_control (kernel 4.13+), low,
// high and oom stay absent.
struct CgroupMemoryEvents {
  std::optional<std::uint64_t> low, high, max, oom, oom_kill;
  bool operator==(const CgroupMemoryEvents&) const = default;
};
CgroupMemoryEvents parse_memory_events(std::string_view text);

// v1 memory.oom_control: "oom_kill_disable 0", "under_oom 0", "oom_kill N".
struct CgroupOomControl {
  std::optional<bool> under_oom;
  std::optional<std::uint64_t> oom_kill;
  bool operator==(const CgroupOomControl&) const = default;
};
CgroupOomControl parse_oom_control(std::string_view text);

// IO of one block device charged to a cgroup.
struct CgroupDeviceIo {
  unsigned major = 0, minor = 0;
  std::optional<std::uint64_t> read_bytes, write_bytes, read_ios, write_ios, discard_bytes, discard_ios;
  bool operator==(const CgroupDeviceIo&) const = default;
};
// v2 io.stat: lines "MAJ:MIN rbytes=N wbytes=N rios=N wios=N dbytes=N dios=N"
// (keys in any order, unknown keys tolerated; a line whose device or a known
// value does not parse is skipped). Sorted by device, one entry per device.
std::vector<CgroupDeviceIo> parse_io_stat(std::string_view text);
// v1 blkio.throttle.io_service_bytes / io_serviced: lines "MAJ:MIN Read N",
// "MAJ:MIN Write N" (also Sync, Async, Discard, Total) and a final "Total N".
// `ops` says which file it is: the values go to read/write_ios instead of
// read/write_bytes (and discard likewise). Sorted by device.
std::vector<CgroupDeviceIo> parse_blkio_throttle(std::string_view text, bool ops);

}  // namespace tierscope

#pragma once
// A workload under a memory budget, watched from its own cgroup, or from its
// processes when it has none (probes/workload_memory.h reads either): each sample as a JSON record (run-capped's
// samples.jsonl, the bench's workload.jsonl), and what the run came to: the
// peaks of every tier, the memory events and OOM kills during the watch, and
// the IO per block device it caused.
//
// JSON fields, every value in bytes unless named otherwise, absent when the
// kernel did not report it: memory_bytes {ram_anon, page_cache, file_mapped,
// shmem, kernel, swap, current, peak}, events {low, high, max, oom, oom_kill}
// (counts since the cgroup was made), io {DEVICE: {read_bytes, write_bytes,
// read_ios, write_ios}}, major_faults (count).
//
// Threading: one thread.

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/host_roots.h"
#include "probes/cgroup.h"
#include "probes/workload_memory.h"

namespace tierscope::workloads {

class WorkloadWatch {
 public:
  explicit WorkloadWatch(CgroupDir cgroup, HostRoots roots = {});
  explicit WorkloadWatch(WorkloadTarget target, HostRoots roots = {});

  // Reads the cgroup now; the record of this sample.
  nlohmann::json sample();
  // The last sample's reading (empty before the first).
  const WorkloadMemory& last() const { return last_; }

  // OOM kills counted in the cgroup so far (memory.events oom_kill; v1
  // memory.oom_control oom_kill).
  std::uint64_t oom_kills() const { return oom_kills_; }
  // peak_bytes {memory, swap, ram_anon, page_cache, shmem, kernel}: the largest
  // value seen in any sample (memory also takes memory.peak / max_usage_in_bytes),
  // events and io as of the last sample, samples (count), source, cgroup.
  nlohmann::json summary() const;
  // The same for people: a few indented lines.
  std::string report() const;

  // A reading as the JSON record described above.
  static nlohmann::json to_json(const WorkloadMemory& m);

 private:
  WorkloadTarget target_;
  HostRoots roots_;
  WorkloadMemoryReader reader_;
  WorkloadMemory last_;
  std::uint64_t samples_ = 0;
  std::uint64_t oom_kills_ = 0;
  std::optional<std::uint64_t> peak_memory_, peak_swap_, peak_anon_, peak_cache_, peak_shmem_, peak_kernel_;
};

}  // namespace tierscope::workloads

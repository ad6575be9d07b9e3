#pragma once
// The watched workload: the processes whose per-process series are exported
// (never every PID). Selected in the config by PID, by process name
// (/proc/<pid>/comm), by systemd unit (every PID in the unit's cgroup,
// cgroup.procs under the cgroup v2 tree in sysfs), or by cgroup path (every
// PID in that memory cgroup and below it, probes/cgroup.h). The workload
// memory probe (probes/workload_memory.h) reads the composition of the same
// selection.
//
// Resolving names and units means scanning /proc and the cgroup tree, so the
// probe does it at its own cadence (gpu.process_interval) and keeps the last
// answer in between, dropping PIDs that have exited.

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

// Config section `workload`.
struct WorkloadSelection {
  std::vector<std::uint32_t> pids;
  std::vector<std::string> process_names;  // matched against /proc/<pid>/comm
  std::vector<std::string> systemd_units;  // e.g. ollama.service
  std::vector<std::string> cgroups;        // key `cgroup`: cgroup paths, e.g. /system.slice/ollama.service

  bool empty() const { return pids.empty() && process_names.empty() && systemd_units.empty() && cgroups.empty(); }
  bool operator==(const WorkloadSelection&) const = default;
};

struct WatchedProcess {
  std::uint32_t pid = 0;
  std::string comm;        // /proc/<pid>/comm
  std::string matched_by;  // "pid", "name:<name>", "unit:<unit>" or "cgroup:<path>"
};

struct WorkloadProcesses {
  std::vector<WatchedProcess> processes;  // sorted by pid, one entry per pid

  const WatchedProcess* find(std::uint32_t pid) const;
};

// /proc/<pid>/comm without its trailing newline.
std::string_view parse_comm(std::string_view text);

// cgroup.procs: one PID per line; malformed lines are skipped.
std::vector<std::uint32_t> parse_cgroup_procs(std::string_view text);

class WorkloadProbe final : public Probe {
 public:
  // A rescan (names, units, comm) runs on the first sample, then once
  // rescan_interval has passed; an interval of 0 rescans on every sample.
  // In between, each sample only drops PIDs whose /proc/<pid> is gone.
  WorkloadProbe(WorkloadSelection selection, std::chrono::milliseconds rescan_interval);
  std::string_view name() const override { return "workload"; }
  // no_data when nothing is configured; ok (possibly with no process) otherwise.
  ProbeOutcome sample(ProbeContext& ctx, Snapshot& out) override;

  // The next sample rescans whatever the interval says (tests, config reload).
  void force_rescan() { next_scan_ = {}; }

 private:
  void rescan(ProbeContext& ctx);
  void drop_exited(const ProbeContext& ctx);
  // The unit's cgroup v2 directory, cached between scans while it exists.
  std::optional<std::filesystem::path> unit_cgroup(const HostRoots& roots, const std::string& unit);

  WorkloadSelection selection_;
  std::chrono::milliseconds rescan_interval_;
  std::chrono::steady_clock::time_point next_scan_{};
  WorkloadProcesses last_;
  HostRoots scanned_roots_;
  bool scanned_ = false;
  std::map<std::string, std::filesystem::path> unit_dirs_;
};

void render_workload(const WorkloadProcesses& w, MetricWriter& out);

// What the workload probe puts in the snapshot (the GPU probes read it).
inline constexpr ReadingKey<WorkloadProcesses> kWorkload{"workload"};

// The registration entry (probes/registry.h). Its rescan cadence is the gpu
// section's process_interval.
extern const ProbeRegistration kWorkloadProbe;

}  // namespace tierscope

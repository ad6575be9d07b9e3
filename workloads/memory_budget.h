#pragma once
// The memory budget of an experiment: scenario `limits` and `tierscope
// run-capped`. It decides where the workload's limits go, applies them before
// the workload's program runs, and reads them back from the workload's own
// cgroup, so an experiment never runs silently uncapped.
//
// Where the budget goes (BudgetRequest::backend auto):
//   - systemd is PID 1 (sd_booted): a transient scope `tierscope-<name>-engine.scope`
//     made through the system bus (StartTransientUnit with PIDs, MemoryMax,
//     MemoryHigh, MemorySwapMax), in system.slice or the slice given as
//     cgroup_parent. Where the memory controller is cgroup v1 (a hybrid
//     host), systemd applies MemoryMax= as memory.limit_in_bytes and
//     MemoryHigh=/MemorySwapMax= not at all, so memory_high and swap_max are
//     refused there, as is a v1 memory hierarchy mounted read-only (systemd
//     would not use it);
//   - else cgroup v2 with the memory controller: a directory
//     `tierscope-<name>-engine` below tierscope's own cgroup (or cgroup_parent),
//     with the memory controller enabled in the parent's cgroup.subtree_control
//     (and io, when it can be, for io.stat), and memory.max, memory.high,
//     memory.swap.max written;
//   - else the cgroup v1 memory controller: the same directory in the memory
//     hierarchy with memory.limit_in_bytes and memory.memsw.limit_in_bytes
//     (memory + swap: memory_max + swap_max). v1 has no memory.high, so a
//     memory_high there is refused.
// Everything that can be checked before the workload starts is checked in the
// constructor: the memory controller, delegation (the parent's
// cgroup.controllers and subtree_control, the no-internal-process rule),
// permissions (not root), swap accounting. Each failure names what it was.
//
// The kernel keeps limits in whole pages (it rounds a written byte count
// down), so a limit reads back as the request rounded down to the page size;
// verify() accepts exactly that and nothing else.
//
// Threading: one thread.

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/host_roots.h"
#include "probes/cgroup.h"
#include "workloads/budget_request.h"

namespace tierscope::workloads {

// Where a budget was put.
enum class BudgetKind { systemd_scope, cgroup_v2, cgroup_v1 };
std::string_view to_string(BudgetKind k);

class BudgetError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class MemoryBudget {
 public:
  // `name` makes the unit or directory name unique to the run (characters
  // other than [A-Za-z0-9_.-] become '-'). Applies nothing to any process
  // yet; makes the cgroup directory (v1, v2) with its limits. Throws
  // BudgetError.
  MemoryBudget(BudgetRequest request, std::string_view name, HostRoots roots = {});
  // Stops what is left in the budget (SIGKILL) and removes the directory or
  // the scope it made.
  ~MemoryBudget();
  MemoryBudget(const MemoryBudget&) = delete;
  MemoryBudget& operator=(const MemoryBudget&) = delete;

  // Puts `pid` (not yet running the workload's program) into the budget:
  // the scope with its limits, or the directory. Throws BudgetError.
  void attach(pid_t pid);
  // Reads `pid`'s memory cgroup from /proc/<pid>/cgroup and the limits from
  // its files; throws BudgetError when the cgroup is not the budget's or a
  // limit is not the one asked for.
  CgroupDir verify(pid_t pid);

  BudgetKind kind() const { return kind_; }
  const BudgetRequest& request() const { return request_; }
  // The unit (systemd) or cgroup path, for messages.
  std::string where() const;
  // After verify(): the cgroup and what it holds.
  const std::optional<CgroupDir>& cgroup() const { return verified_; }
  // For the manifest: backend, unit or cgroup, requested and applied limits
  // (bytes, or "max").
  nlohmann::json describe() const;

 private:
  void prepare_systemd();
  void prepare_v2(const CgroupMounts& mounts);
  void prepare_v1(const CgroupMounts& mounts);
  void remove_dir();

  BudgetRequest request_;
  HostRoots roots_;
  std::string name_;
  BudgetKind kind_ = BudgetKind::cgroup_v2;
  std::string unit_;                 // systemd scope
  std::optional<CgroupDir> made_;    // v1/v2 directory made here
  std::optional<CgroupDir> verified_;
  MemoryLimits applied_;
  bool attached_ = false;
};

// The request's limit as the kernel will hold it: rounded down to `page`.
std::uint64_t page_rounded(std::uint64_t bytes, std::uint64_t page);

}  // namespace tierscope::workloads

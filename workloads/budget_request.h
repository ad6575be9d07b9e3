#pragma once
// What a scenario's `limits` and `tierscope run-capped`'s flags ask for: the
// memory budget of the workload (memory_budget.h applies it).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tierscope::workloads {

enum class BudgetBackend { automatic, systemd, cgroup };
std::string_view to_string(BudgetBackend b);

struct BudgetRequest {
  std::optional<std::uint64_t> memory_max, memory_high, swap_max;  // bytes
  BudgetBackend backend = BudgetBackend::automatic;
  std::string cgroup_parent;  // a cgroup path (or, for systemd, a slice name); empty: tierscope's own cgroup

  bool empty() const { return !memory_max && !memory_high && !swap_max; }
  bool operator==(const BudgetRequest&) const = default;
};

// The smallest memory_max / memory_high a budget accepts: below it no engine
// starts, and a typo ("10" for "10G") fails before anything runs.
inline constexpr std::uint64_t kMinMemoryLimit = std::uint64_t{4} << 20;

}  // namespace tierscope::workloads

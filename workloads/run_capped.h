#pragma once
// `tierscope run-capped [--memory-max SIZE] [--memory-high SIZE] [--swap-max
// SIZE] [--out DIR] -- CMD ARGS…`: runs any command under a memory budget
// (memory_budget.h, the same code path as a scenario's `limits`) and watches
// where its memory lives, from its own cgroup, until it ends.

#include <chrono>
#include <string>
#include <vector>

#include "workloads/budget_request.h"

namespace tierscope::workloads {

struct RunCappedArgs {
  BudgetRequest request;
  std::string name;  // the scope/cgroup name part; empty: capped-<pid>
  std::chrono::milliseconds interval{1000};
  std::string out_dir;  // empty: no files
  std::vector<std::string> command;
};

// Exit code: the command's own status (128 + N when signal N ended it), or 1
// when the budget cannot be applied or does not read back as asked (nothing
// ran then), or the command cannot be started.
int run_capped(const RunCappedArgs& args);

}  // namespace tierscope::workloads

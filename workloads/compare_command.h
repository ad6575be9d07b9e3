#pragma once
// `tierscope compare RUN_A RUN_B [--out DIR] [--margin M] [--seed N]`: two
// existing run directories of the same scenario (`tierscope bench`), A/B
// statistics per step and metric (workloads/compare.h), written as
// comparison.json and comparison.md into DIR and the Markdown printed.
// docs/ab.md describes it.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tierscope::workloads {

struct CompareArgs {
  std::string run_a, run_b;
  std::string out_dir;  // default ./compare-<UTC timestamp>
  double margin = 0.05;
  std::uint64_t seed = 1;
};

// Exit codes: 0 written and printed (warnings about the run directories on
// stderr as "warning: …" lines), 64 the runs cannot be compared (different
// scenarios or steps, or an A/B or soak run; the reason on stderr), 65 a run
// has no usable request records, 73 DIR cannot be created or written.
int run_compare(const CompareArgs& args);

// The planned steps of a run as compare_requests matches them (step_keys()
// shape), from the run's scenario.yaml; nullopt when it is missing or does
// not parse (`why` says which), or for a scenario without steps (soak).
std::optional<std::vector<nlohmann::json>> planned_steps(const std::optional<std::string>& scenario_yaml,
                                                         std::string& why);

}  // namespace tierscope::workloads

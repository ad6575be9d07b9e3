#pragma once
// `tierscope bench SCENARIO.yaml [--url URL] [--out DIR] [--set key=value …]`.

#include <string>
#include <vector>

namespace tierscope::workloads {

struct BenchArgs {
  std::string scenario_path;
  std::string url;                // overrides engine.url when not empty
  std::string out_dir;            // default ./bench-<UTC timestamp>
  std::vector<std::string> sets;  // key=value
};

// Exit codes: 0 the run completed (also when a sweep hit its wall, or was
// interrupted with SIGINT/SIGTERM after it started), 1 runtime failure (the
// engine is down or not ready at start, the output cannot be written),
// 78 bad scenario.
int run_bench(const BenchArgs& args);

}  // namespace tierscope::workloads

#pragma once
// `tierscope soak SCENARIO.yaml [--out DIR] [--set key=value …]` (docs/soak.md).

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace tierscope::workloads {

struct SoakArgs {
  std::string scenario_path;
  std::string out_dir;            // default ./soak-<UTC timestamp>
  std::vector<std::string> sets;  // key=value
  // The service manager (daemon/service_manager.h through the caller):
  // "READY=1", "WATCHDOG=1", "STATUS=…", "STOPPING=1". Empty: none.
  std::function<void(std::string_view message)> notify;
};

// Exit codes: 0 the run ended (done, or interrupted by SIGINT/SIGTERM with the
// verdict so far written), 1 runtime failure (the engine never came up, the
// live metrics cannot listen), 64 the output directory holds a finished run or
// another scenario's, 73 the output directory cannot be created or written,
// 78 bad scenario.
int run_soak(const SoakArgs& args);

}  // namespace tierscope::workloads

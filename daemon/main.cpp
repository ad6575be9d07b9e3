// tierscope: memory-tier, swap, pressure, block-device, NVMe and GPU sampler
// and Prometheus exporter. main() only dispatches: everything else lives in
// the libraries of each folder. `bench`, `soak`, `run-capped` and `env` run in the
// helper executable tierscope-workloads (daemon/helper_exec.h) (`env`: the
// manifest reports libcurl's version from the library itself).

#include <string>
#include <vector>

#include "daemon/cli.h"
#include "daemon/commands.h"
#include "daemon/helper_exec.h"

int main(int argc, char** argv) {
  using namespace tierscope;
  std::vector<std::string> args(argv + 1, argv + argc);
  CliOptions opts;
  if (auto answered = parse_or_answer(args, opts)) return *answered;
  switch (opts.command) {
    case Command::daemon:
      return run_daemon(opts);
    case Command::probe:
      return run_probe(opts);
    case Command::recording:
      return run_recording(opts);
    case Command::bench:
    case Command::soak:
    case Command::run_capped:
    case Command::env:
    case Command::report:
      return exec_helper(kWorkloadsHelper, args);
    case Command::help:
    case Command::version:
      break;
  }
  return exit_code::failure;
}

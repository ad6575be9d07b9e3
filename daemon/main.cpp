// tierscope: memory-tier, swap, pressure, block-device, NVMe and GPU sampler
// and Prometheus exporter. main() only dispatches: everything else lives in
// the libraries of each folder. `bench` runs in the helper executable
// tierscope-workloads (daemon/helper_exec.h).

#include <iostream>
#include <string>
#include <vector>

#include "daemon/cli.h"
#include "daemon/commands.h"
#include "daemon/helper_exec.h"

int main(int argc, char** argv) {
  using namespace tierscope;
  std::vector<std::string> args(argv + 1, argv + argc);
  CliOptions opts;
  try {
    opts = parse_cli(args);
  } catch (const UsageError& e) {
    std::cerr << "tierscope: " << e.what() << " (see tierscope --help)\n";
    return exit_code::usage;
  }
  switch (opts.command) {
    case Command::help:
      return print_help(opts.help_topic);
    case Command::version:
      std::cout << version_text();
      return exit_code::ok;
    case Command::daemon:
      return run_daemon(opts);
    case Command::probe:
      return run_probe(opts);
    case Command::bench:
      return exec_helper(kWorkloadsHelper, args);
  }
  return exit_code::failure;
}

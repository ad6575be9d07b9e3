// tierscope: memory-tier, swap, pressure, block-device and NVMe sampler and
// Prometheus exporter. main() only dispatches; everything else lives in the
// tierscope_core library.

#include <iostream>
#include <string>
#include <vector>

#include "daemon/cli.h"
#include "daemon/commands.h"
#include "workloads/bench_command.h"

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
      if (!opts.help_topic.empty() && opts.help_topic != "daemon" && opts.help_topic != "probe" &&
          opts.help_topic != "bench") {
        std::cerr << "tierscope: no help for '" << opts.help_topic << "' (commands: daemon, probe, bench)\n";
        return exit_code::usage;
      }
      std::cout << usage_text(opts.help_topic);
      return exit_code::ok;
    case Command::version:
      std::cout << version_text();
      return exit_code::ok;
    case Command::daemon:
      return run_daemon(opts);
    case Command::probe:
      return run_probe(opts);
    case Command::bench:
      return workloads::run_bench({opts.scenario, opts.url.value_or(""), opts.out.value_or(""), opts.sets});
  }
  return exit_code::failure;
}

// tierscope-workloads: the commands that drive inference engines (bench).
// Users run them as `tierscope bench …`, which parses the command line and
// replaces itself with this executable (daemon/helper_exec.h); run directly,
// it takes the same arguments.

#include <iostream>
#include <string>
#include <vector>

#include "daemon/cli.h"
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
      return print_help(opts.help_topic);
    case Command::version:
      std::cout << version_text();
      return exit_code::ok;
    case Command::bench:
      return workloads::run_bench({opts.scenario, opts.url.value_or(""), opts.out.value_or(""), opts.sets});
    case Command::daemon:
    case Command::probe:
      break;
  }
  std::cerr << "tierscope-workloads: runs bench only; use tierscope " << args.front() << "\n";
  return exit_code::usage;
}

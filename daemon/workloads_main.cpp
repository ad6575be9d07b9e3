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
  if (auto answered = parse_or_answer(args, opts)) return *answered;
  if (opts.command == Command::bench)
    return workloads::run_bench({opts.scenario, opts.url.value_or(""), opts.out.value_or(""), opts.sets});
  std::cerr << "tierscope-workloads: runs bench only; use tierscope " << args.front() << "\n";
  return exit_code::usage;
}

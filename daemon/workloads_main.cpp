// tierscope-workloads: the commands that drive inference engines and
// workloads (bench, soak, run-capped) and the audit manifest (env), the ones that
// link libcurl. Users run them as `tierscope bench …`, `tierscope env …`,
// which parse the command line and replace themselves with this executable
// (daemon/helper_exec.h); run directly, it takes the same arguments.

#include <iostream>
#include <string>
#include <vector>

#include "core/logging.h"
#include "daemon/cli.h"
#include "core/byte_size.h"
#include "core/duration.h"
#include "daemon/commands.h"
#include "workloads/bench_command.h"
#include "workloads/env_command.h"
#include "daemon/service_manager.h"
#include "workloads/report_command.h"
#include "workloads/run_capped.h"
#include "workloads/soak_command.h"

namespace {

// `tierscope env`: the probe set and roots as `tierscope probe` reads them.
int env(const tierscope::CliOptions& opts) {
  using namespace tierscope;
  workloads::EnvArgs args;
  try {
    args.sampler = effective_config(opts, config_path_for(opts));
  } catch (const ConfigError& e) {
    Logger(LogLevel::warn).error(e.what());
    return exit_code::config;
  }
  args.format = opts.format;
  args.model = opts.model;
  args.os_release = opts.os_release;
  return workloads::run_env(args);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace tierscope;
  std::vector<std::string> args(argv + 1, argv + argc);
  CliOptions opts;
  if (auto answered = parse_or_answer(args, opts)) return *answered;
  if (opts.command == Command::bench)
    return workloads::run_bench({opts.scenario, opts.url.value_or(""), opts.out.value_or(""), opts.sets});
  if (opts.command == Command::soak) {
    // Under systemd (Type=notify, WatchdogSec=): the soak's readiness, watchdog and status lines.
    ServiceManager service;
    workloads::SoakArgs a{opts.scenario, opts.out.value_or(""), opts.sets, nullptr};
    if (service.notify_enabled())
      a.notify = [&service](std::string_view m) {
        if (m == "READY=1") service.ready("soak running");
        else if (m == "WATCHDOG=1" && service.watchdog_timeout()) service.watchdog_ping();  // WatchdogSec= set
        else if (m == "STOPPING=1") service.stopping("soak ending: final verdict");
        else if (m.rfind("STATUS=", 0) == 0) service.status(m.substr(7));
      };
    return workloads::run_soak(a);
  }
  if (opts.command == Command::run_capped) {
    workloads::RunCappedArgs a;
    auto size = [](const std::optional<std::string>& v) -> std::optional<std::uint64_t> {
      return v ? parse_byte_size(*v).bytes : std::nullopt;  // checked by parse_cli
    };
    a.request.memory_max = size(opts.memory_max);
    a.request.memory_high = size(opts.memory_high);
    a.request.swap_max = size(opts.swap_max);
    if (opts.backend == "systemd") a.request.backend = workloads::BudgetBackend::systemd;
    if (opts.backend == "cgroup") a.request.backend = workloads::BudgetBackend::cgroup;
    a.request.cgroup_parent = opts.cgroup_parent.value_or("");
    a.name = opts.name.value_or("");
    if (opts.interval) a.interval = parse_duration(*opts.interval).value_or(a.interval);
    a.out_dir = opts.out.value_or("");
    a.command = opts.command_line;
    return workloads::run_capped(a);
  }
  if (opts.command == Command::env) return env(opts);
  if (opts.command == Command::report)
    return workloads::run_report({opts.run_dirs, opts.out.value_or(""), opts.format.find("html") != std::string::npos,
                                  opts.format.find("md") != std::string::npos});
  std::cerr << "tierscope-workloads: runs bench, soak, run-capped, env and report only; use tierscope " << args.front() << "\n";
  return exit_code::usage;
}

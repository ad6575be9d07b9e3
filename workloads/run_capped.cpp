#include "workloads/run_capped.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>

#include <nlohmann/json.hpp>

#include "core/byte_size.h"
#include "core/exit_codes.h"
#include "core/signals.h"
#include "core/text.h"
#include "workloads/engine_launch.h"
#include "workloads/memory_budget.h"
#include "workloads/summary.h"
#include "workloads/workload_watch.h"

namespace tierscope::workloads {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", s);
  return buf;
}

int exit_code_of(const ExitInfo& e) {
  if (e.exit_status) return *e.exit_status;
  if (e.signal) return 128 + *e.signal;
  return exit_code::failure;
}

}  // namespace

int run_capped(const RunCappedArgs& args) {
  // Before any thread: SIGINT/SIGTERM stop the command, SIGCHLD wakes the watch.
  SignalWaiter signals({SIGINT, SIGTERM, SIGCHLD});
  const std::string name = args.name.empty() ? "capped-" + std::to_string(::getpid()) : args.name;
  std::unique_ptr<MemoryBudget> budget;
  try {
    budget = std::make_unique<MemoryBudget>(args.request, name);
  } catch (const BudgetError& e) {
    std::cerr << "tierscope run-capped: " << e.what() << "\n";
    return exit_code::failure;
  }
  std::ofstream samples;
  if (!args.out_dir.empty()) {
    if (::mkdir(args.out_dir.c_str(), 0755) != 0 && errno != EEXIST) {
      std::cerr << "tierscope run-capped: cannot create " << args.out_dir << ": " << std::strerror(errno) << "\n";
      return exit_code::failure;
    }
    samples.open(args.out_dir + "/samples.jsonl", std::ios::trunc);
    if (!samples) {
      std::cerr << "tierscope run-capped: cannot write " << args.out_dir << "/samples.jsonl: " << std::strerror(errno) << "\n";
      return exit_code::failure;
    }
  }

  LaunchSpec spec;
  spec.argv = args.command;
  spec.literal = true;  // a user's command line is run as given
  spec.what = "command";
  spec.ready.kind = ReadyKind::none;
  spec.stop_signal = SIGTERM;
  spec.stop_timeout = std::chrono::seconds(10);
  EngineProcess proc;
  std::string verify_error;
  std::optional<CgroupDir> cgroup;
  try {
    proc.start(spec, {}, /*log_path=*/"", [&](pid_t pid) {
      budget->attach(pid);
      cgroup = budget->verify(pid);
    });
  } catch (const std::exception& e) {
    std::cerr << "tierscope run-capped: " << e.what() << "\n";
    return exit_code::failure;
  }
  const auto t0 = Clock::now();
  std::cerr << "tierscope run-capped: " << text::quoted(args.command.front()) << " (pid " << proc.pid() << ") runs in "
            << budget->where() << " (" << to_string(budget->kind()) << ")\n";

  WorkloadWatch watch(*cgroup);
  auto take = [&] {
    nlohmann::json s = watch.sample();
    s["t_s"] = seconds_since(t0);
    if (samples.is_open()) samples << s.dump() << '\n' << std::flush;
  };
  take();
  std::optional<ExitInfo> ended;
  bool stopping = false;
  auto next = Clock::now() + args.interval;
  while (!(ended = proc.poll_exit())) {
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next - Clock::now());
    auto sig = signals.wait(std::max(wait, std::chrono::milliseconds(0)));
    if (sig && (*sig == SIGINT || *sig == SIGTERM) && !stopping) {
      stopping = true;
      std::cerr << "tierscope run-capped: " << (*sig == SIGINT ? "SIGINT" : "SIGTERM") << ": stopping the command\n";
      ended = proc.stop().exit;
      break;
    }
    if (Clock::now() >= next) {
      take();
      next += args.interval;
    }
  }
  // The last look, once the command has ended: the counters keep their totals.
  take();
  nlohmann::json summary = watch.summary();  // after the last sample
  summary["command"] = args.command;
  summary["budget"] = budget->describe();
  summary["exit"] = ended->describe();
  summary["exit_code"] = exit_code_of(*ended);
  summary["duration_s"] = seconds_since(t0);
  const bool oom = watch.oom_kills() > 0;
  summary["oom_killed"] = oom;
  std::cerr << "tierscope run-capped: the command " << (ended->signal ? "was " : "") << ended->describe() << " after "
            << seconds_text(seconds_since(t0)) << " s";
  if (oom) std::cerr << "; the kernel's OOM killer ended " << watch.oom_kills() << " process(es) in " << budget->where();
  std::cerr << "\n" << watch.report();
  if (!args.out_dir.empty()) {
    try {
      write_atomically(args.out_dir + "/run-capped.json", summary.dump(2) + "\n");
    } catch (const std::exception& e) {
      std::cerr << "tierscope run-capped: " << e.what() << "\n";
    }
  }
  return exit_code_of(*ended);
}

}  // namespace tierscope::workloads

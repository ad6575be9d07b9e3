#include "workloads/bench_command.h"

#include <prometheus/exposer.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <ctime>
#include <iostream>
#include <memory>

#include "core/exit_codes.h"
#include "exporters/prometheus_exporter.h"
#include "workloads/bench_metrics.h"
#include "workloads/runner.h"
#include "workloads/scenario.h"

namespace tierscope::workloads {

namespace {

// The signal handler's only way to reach the runner (a signal handler has no
// arguments); set while run() is running.
std::atomic<Runner*> g_runner{nullptr};

extern "C" void on_stop_signal(int) {
  if (Runner* r = g_runner.load()) r->request_stop();
  // A second signal ends the process the default way.
  ::signal(SIGINT, SIG_DFL);
  ::signal(SIGTERM, SIG_DFL);
}

std::string default_out_dir() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "bench-%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

}  // namespace

int run_bench(const BenchArgs& args) {
  Scenario sc;
  try {
    std::vector<Override> overrides;
    for (const auto& s : args.sets) overrides.push_back(parse_override(s));
    if (!args.url.empty()) overrides.push_back(Override{"engine.url", args.url});
    sc = load_scenario(args.scenario_path, overrides);
  } catch (const ScenarioError& e) {
    std::cerr << "tierscope bench: " << e.what() << "\n";
    return exit_code::config;
  }
  BenchMetrics metrics;
  std::unique_ptr<prometheus::Exposer> exposer;
  std::shared_ptr<BenchMetrics> metrics_ref(&metrics, [](BenchMetrics*) {});
  if (sc.listen != "off") {
    try {
      exposer = make_exposer(sc.listen);
      exposer->RegisterCollectable(metrics_ref);
      auto ports = exposer->GetListeningPorts();
      std::cerr << "tierscope bench: live metrics on http://" << sc.listen.substr(0, sc.listen.rfind(':')) << ":"
                << (ports.empty() ? 0 : ports.front()) << "/metrics\n";
    } catch (const std::exception& e) {
      std::cerr << "tierscope bench: " << e.what() << "\n";
      return exit_code::failure;
    }
  }
  RunOptions opts;
  opts.out_dir = args.out_dir.empty() ? default_out_dir() : args.out_dir;
  opts.progress = &std::cout;
  opts.tty = ::isatty(STDOUT_FILENO) == 1;
  opts.metrics = &metrics;
  Runner runner(sc, opts);
  struct sigaction sa{};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  struct sigaction old_int{}, old_term{};
  ::sigaction(SIGINT, &sa, &old_int);
  ::sigaction(SIGTERM, &sa, &old_term);
  g_runner.store(&runner);
  RunResult r;
  try {
    r = runner.run();
  } catch (const std::exception& e) {
    g_runner.store(nullptr);
    std::cerr << "tierscope bench: " << e.what() << "\n";
    return exit_code::failure;
  }
  g_runner.store(nullptr);
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGTERM, &old_term, nullptr);
  if (exposer) exposer->RemoveCollectable(metrics_ref);
  if (!r.started) {
    std::cerr << "tierscope bench: " << r.error << "\n";
    return exit_code::failure;
  }
  if (!r.error.empty()) std::cerr << "tierscope bench: " << r.error << "\n";
  if (r.interrupted) std::cerr << "tierscope bench: interrupted; completed requests and the summary are in " << opts.out_dir << "\n";
  if (r.deadline) std::cerr << "tierscope bench: run_deadline passed; in-flight requests recorded as timeout\n";
  return exit_code::ok;
}

}  // namespace tierscope::workloads

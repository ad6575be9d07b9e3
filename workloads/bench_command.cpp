#include "workloads/bench_command.h"

#include <unistd.h>

#include <fstream>
#include <string_view>
#include <iostream>
#include <memory>

#include "core/exit_codes.h"
#include "core/logging.h"
#include "exporters/http_server.h"
#include "exporters/listener.h"
#include "exporters/prometheus_exporter.h"
#include "workloads/bench_metrics.h"
#include "workloads/gguf.h"
#include "workloads/push.h"
#include "workloads/runner.h"
#include "workloads/scenario.h"
#include "workloads/stop_on_signal.h"
#include "workloads/summary.h"

namespace tierscope::workloads {

namespace {

// True when the file starts with the GGUF magic.
bool looks_like_gguf(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  return in.read(magic, 4) && std::string_view(magic, 4) == "GGUF";
}

// The live /metrics endpoint of the scenario's `listen`; null when off.
// Throws std::exception when it cannot listen.
std::unique_ptr<MetricsServer> start_metrics_server(const Scenario& sc, const std::shared_ptr<BenchMetrics>& metrics,
                                                    Logger& log) {
  if (sc.listen == "off") return nullptr;
  auto server = std::make_unique<MetricsServer>(bind_listener(sc.listen), WebConfig{}, collectable_body(metrics), log);
  std::cerr << "tierscope bench: live metrics on " << server->url() << "\n";
  return server;
}

// The scenario's `push`: the run's live metrics and tierscope_bench_run_info
// to the Pushgateway, once, after the summary is written; the outcome goes
// into summary.json as push: {url, job, ok, error}. A failed push is one
// warning line, never a failed run.
void push_run(const Scenario& sc, const std::shared_ptr<BenchMetrics>& metrics, RunResult& r,
              const std::string& out_dir) {
  if (!sc.push) return;
  r.summary["push"] = push_and_report(*sc.push, {metrics, run_info_collectable(r.summary)}, "tierscope bench", std::cerr);
  try {
    write_atomically(out_dir + "/summary.json",
                     r.summary.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  } catch (const std::exception& e) {
    std::cerr << "tierscope bench: warning: cannot record the push in summary.json: " << e.what() << "\n";
  }
}

}  // namespace

int run_bench(const BenchArgs& args) {
  StopOnSignal stop_on_signal;
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
  if (sc.kind == ScenarioKind::soak) {
    std::cerr << "tierscope bench: " << args.scenario_path << ": scenario: soak runs with tierscope soak\n";
    return exit_code::config;
  }
  // A launched engine's model that is a GGUF file must read as one before
  // anything starts (a truncated or hostile header is a scenario error);
  // other model files (safetensors, a vLLM directory's weights) are not read.
  if (sc.engine.launch && !sc.engine.launch->model.empty() && looks_like_gguf(sc.engine.launch->model)) {
    try {
      (void)read_gguf(sc.engine.launch->model);
    } catch (const GgufError& e) {
      std::cerr << "tierscope bench: engine.launch.model: " << e.what() << "\n";
      return exit_code::config;
    }
  }
  BenchMetrics metrics;
  std::shared_ptr<BenchMetrics> metrics_ref(&metrics, [](BenchMetrics*) {});
  Logger log(LogLevel::warn);
  std::unique_ptr<MetricsServer> server;
  try {
    server = start_metrics_server(sc, metrics_ref, log);
  } catch (const std::exception& e) {
    std::cerr << "tierscope bench: " << e.what() << "\n";
    return exit_code::failure;
  }
  RunOptions opts;
  opts.out_dir = args.out_dir.empty() ? utc_now("bench-%Y%m%dT%H%M%SZ") : args.out_dir;
  opts.progress = &std::cout;
  opts.tty = ::isatty(STDOUT_FILENO) == 1;
  opts.metrics = &metrics;
  Runner runner(sc, opts);
  RunResult r;
  stop_on_signal.set_stop([&runner] { runner.request_stop(); });
  try {
    r = runner.run();
  } catch (const std::exception& e) {
    stop_on_signal.set_stop(nullptr);
    std::cerr << "tierscope bench: " << e.what() << "\n";
    return exit_code::failure;
  }
  stop_on_signal.set_stop(nullptr);
  server.reset();  // stop serving before the metrics go away
  if (!r.started) {
    std::cerr << "tierscope bench: " << r.error << "\n";
    if (r.summary.is_object()) push_run(sc, metrics_ref, r, opts.out_dir);  // e.g. status engine_unavailable
    return exit_code::failure;
  }
  if (!r.error.empty()) std::cerr << "tierscope bench: " << r.error << "\n";
  if (r.interrupted) std::cerr << "tierscope bench: interrupted; every request (those in flight as interrupted) and the summary are in " << opts.out_dir << "\n";
  if (r.deadline) std::cerr << "tierscope bench: run_deadline passed; in-flight requests recorded as timeout\n";
  push_run(sc, metrics_ref, r, opts.out_dir);
  return exit_code::ok;
}

}  // namespace tierscope::workloads

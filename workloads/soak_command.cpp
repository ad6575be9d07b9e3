#include "workloads/soak_command.h"

#include <unistd.h>

#include <iostream>
#include <memory>
#include <mutex>

#include "core/exit_codes.h"
#include "core/logging.h"
#include "core/user_file.h"
#include "exporters/http_server.h"
#include "exporters/listener.h"
#include "exporters/prometheus_exporter.h"
#include "exporters/recorder.h"
#include "workloads/bench_metrics.h"
#include "workloads/manifest.h"
#include "workloads/push.h"
#include "workloads/scenario.h"
#include "workloads/soak.h"
#include "workloads/soak_metrics.h"
#include "workloads/stop_on_signal.h"
#include "workloads/summary.h"

namespace tierscope::workloads {

namespace {

// The soak's /metrics: its own metrics, the load's and the recorder's.
class SoakCollectables final : public prometheus::Collectable {
 public:
  void add(std::shared_ptr<prometheus::Collectable> c) {
    std::lock_guard lock(mu_);
    parts_.push_back(std::move(c));
  }
  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<std::shared_ptr<prometheus::Collectable>> parts;
    {
      std::lock_guard lock(mu_);
      parts = parts_;
    }
    std::vector<prometheus::MetricFamily> out;
    for (const auto& p : parts)
      for (auto& f : p->Collect()) out.push_back(std::move(f));
    return out;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::shared_ptr<prometheus::Collectable>> parts_;
};

// tierscope_recorder_* of the soak's recording.
class RecorderMetrics final : public prometheus::Collectable {
 public:
  explicit RecorderMetrics(std::shared_ptr<RecorderCounters> counters) : counters_(std::move(counters)) {}
  std::vector<prometheus::MetricFamily> Collect() const override {
    MetricWriter w;
    render_recorder_metrics(*counters_, w);
    return std::move(w).finish();
  }

 private:
  std::shared_ptr<RecorderCounters> counters_;
};

template <typename T>
std::shared_ptr<T> borrowed(T& t) {
  return std::shared_ptr<T>(&t, [](T*) {});
}

}  // namespace

int run_soak(const SoakArgs& args) {
  StopOnSignal stop_on_signal;
  Scenario sc;
  std::string identity;  // the scenario text and its overrides, for the resume check
  try {
    std::vector<Override> overrides;
    for (const auto& s : args.sets) overrides.push_back(parse_override(s));
    sc = load_scenario(args.scenario_path, overrides);
    std::string error;
    identity = read_user_file(args.scenario_path, error).value_or("");
    for (const auto& o : overrides) identity += "\n--set " + o.key + "=" + o.value;
  } catch (const ScenarioError& e) {
    std::cerr << "tierscope soak: " << e.what() << "\n";
    return exit_code::config;
  }
  if (sc.kind != ScenarioKind::soak) {
    std::cerr << "tierscope soak: " << args.scenario_path << ": scenario: " << to_string(sc.kind)
              << " is a benchmark (tierscope bench); a soak needs scenario: soak\n";
    return exit_code::config;
  }
  BenchMetrics bench_metrics;
  SoakMetrics soak_metrics;
  auto recorder_counters = std::make_shared<RecorderCounters>();
  auto all = std::make_shared<SoakCollectables>();
  all->add(borrowed(soak_metrics));
  if (sc.soak.load) all->add(borrowed(bench_metrics));
  all->add(std::make_shared<RecorderMetrics>(recorder_counters));
  Logger log(LogLevel::warn);
  std::unique_ptr<MetricsServer> server;
  if (sc.listen != "off") {
    try {
      server = std::make_unique<MetricsServer>(bind_listener(sc.listen), WebConfig{}, collectable_body(all), log);
      std::cerr << "tierscope soak: live metrics on " << server->url() << "\n";
    } catch (const std::exception& e) {
      std::cerr << "tierscope soak: " << e.what() << "\n";
      return exit_code::failure;
    }
  }
  SoakOptions opts;
  opts.out_dir = args.out_dir.empty() ? utc_now("soak-%Y%m%dT%H%M%SZ") : args.out_dir;
  opts.scenario_sha256 = sha256_hex(identity);
  opts.progress = &std::cout;
  opts.bench_metrics = &bench_metrics;
  opts.soak_metrics = &soak_metrics;
  opts.notify = args.notify;
  opts.recorder_counters = recorder_counters;
  SoakRun run(sc, opts);
  stop_on_signal.set_stop([&run] { run.request_stop(); });
  SoakResult r;
  try {
    r = run.run();
  } catch (const RecorderError& e) {
    stop_on_signal.set_stop(nullptr);
    std::cerr << "tierscope soak: cannot record the run: " << e.what() << "\n";
    return exit_code::cant_create;
  } catch (const std::exception& e) {
    stop_on_signal.set_stop(nullptr);
    std::cerr << "tierscope soak: " << e.what() << "\n";
    return exit_code::failure;
  }
  stop_on_signal.set_stop(nullptr);
  server.reset();  // stop serving before the metrics go away
  // The scenario's `push`, once the run ended (done, or interrupted with the
  // verdict so far): its metrics and tierscope_bench_run_info; the outcome in
  // soak.json. A failed push is a warning, never a failed run.
  if (sc.push && (r.end == SoakEnd::done || r.end == SoakEnd::interrupted) && r.soak.is_object()) {
    r.soak["push"] = push_and_report(*sc.push, {all, run_info_collectable(r.soak)}, "tierscope soak", std::cerr);
    try {
      write_atomically(opts.out_dir + "/soak.json",
                       r.soak.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
    } catch (const std::exception& e) {
      std::cerr << "tierscope soak: warning: cannot record the push in soak.json: " << e.what() << "\n";
    }
  }
  switch (r.end) {
    case SoakEnd::refused:
      std::cerr << "tierscope soak: " << r.error << "\n";
      return exit_code::usage;
    case SoakEnd::failed:
      std::cerr << "tierscope soak: " << r.error << "\n";
      return exit_code::failure;
    case SoakEnd::interrupted:
      std::cerr << "tierscope soak: interrupted; the verdict so far is in " << opts.out_dir
                << "/soak.json (the same command continues the run)\n";
      return exit_code::ok;
    case SoakEnd::done:
      break;
  }
  return exit_code::ok;
}

}  // namespace tierscope::workloads

#pragma once
// Runs a scenario: every request of every step on ONE StreamLoop thread (the
// caller's), records each request as it completes (requests.jsonl), and
// rewrites summary.json / summary.csv atomically after every step and at the
// end, interrupt or deadline. README "Benchmarks" defines every field.

#include <atomic>
#include <iosfwd>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "workloads/bench_metrics.h"
#include "workloads/http_stream.h"
#include "workloads/scenario.h"

namespace tierscope::workloads {

struct RunOptions {
  std::string out_dir;
  std::ostream* progress = nullptr;  // progress lines and the final table; null: quiet
  bool tty = false;                  // redraw the progress line in place
  BenchMetrics* metrics = nullptr;   // live metrics; null: none
};

struct RunResult {
  bool started = false;      // the engine answered and the sweep ran (false: see error)
  bool interrupted = false;  // SIGINT/SIGTERM (request_stop)
  bool deadline = false;     // run_deadline passed
  bool wall = false;         // a step failed (the sweep hit its wall)
  std::string error;         // why it did not start
  nlohmann::json summary;    // what summary.json holds
};

// The step statistics over records (counted ones: warmup false), exposed for tests.
nlohmann::json summarize_step(const std::vector<nlohmann::json>& records, double trim, double failure_threshold);
// summary.csv text of a summary.json object.
std::string summary_csv(const nlohmann::json& summary);
// Writes `text` to `path` through a temporary file and rename().
void write_atomically(const std::string& path, const std::string& text);

class Runner {
 public:
  Runner(Scenario scenario, RunOptions options);
  ~Runner();
  RunResult run();
  // Async-signal-safe: stop issuing, drop what is in flight, write the summary.
  void request_stop();
  StreamLoop& loop() { return loop_; }

 private:
  struct Impl;
  Scenario scenario_;
  RunOptions options_;
  StreamLoop loop_;
  std::atomic<bool> stop_{false};
};

}  // namespace tierscope::workloads

#pragma once
// Runs a scenario: every request of every step on ONE StreamLoop thread (the
// caller's), records each request as it completes (requests.jsonl), and
// rewrites summary.json / summary.csv atomically after every step and at the
// end, interrupt or deadline. docs/benchmarks.md defines every field.
//
// The parts: plan.h (the steps), step_driver.h (the event loop of a step),
// request_state.h (one request's stream to its record), summary.h (the typed
// records and summaries, and the files rendered from them), engine_facts.h
// (the engine's facts and metrics), prompts.h (prompts of N tokens).
//
// Threading: run() on one thread; request_stop() from any thread.

#include <atomic>
#include <iosfwd>
#include <string>

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

class Runner {
 public:
  Runner(Scenario scenario, RunOptions options);
  ~Runner();
  RunResult run();
  // Thread-safe and async-signal-safe: stop issuing, drop what is in flight,
  // write the summary.
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

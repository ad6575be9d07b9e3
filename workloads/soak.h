#pragma once
// A soak run (`tierscope soak`, scenario: soak; docs/soak.md): samples the
// workload and tierscope itself for `duration` with the sampler, records every
// sample with the recorder (exporters/recorder.h) in the output directory,
// sends steady load through the bench's StepDriver for duration − idle_tail
// (when the scenario has an engine; a launched engine that dies is recorded
// as engine_down or oom, restarted and counted), then leaves the idle tail
// without load. Every checkpoint_interval it rewrites soak.json atomically
// with the verdict so far of each subject × tier (analyze_leak,
// workloads/leak.h); at the end soak.json (status done or interrupted), soak.md
// and a table on the progress stream.
//
// Resume: an output directory holding an unfinished run of the same scenario
// (soak.json status running or interrupted, same scenario_sha256) continues it:
// the series, the sampled time and the counters are read back from the
// recording, the recorder resumes with a gap record, and the gap is listed in
// soak.json and left out of the sampled time (so of the slopes).
//
// Threading: run() on one thread (it drives the load); request_stop() from any
// thread. The sampler's thread appends the series; a checkpoint thread of its
// own analyses them.

#include <atomic>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "workloads/bench_metrics.h"
#include "workloads/scenario.h"
#include "workloads/soak_metrics.h"

namespace tierscope {
struct RecorderCounters;  // exporters/recorder.h
}

namespace tierscope::workloads {

struct SoakOptions {
  std::string out_dir;
  std::string scenario_sha256;           // identifies the scenario for a resume
  std::ostream* progress = nullptr;      // progress lines and the final table; null: quiet
  BenchMetrics* bench_metrics = nullptr;  // the load's live metrics; null: none
  SoakMetrics* soak_metrics = nullptr;    // null: none
  // The service manager (sd_notify): called with "READY=1" once sampling and
  // the load run, "WATCHDOG=1" after each sample, "STATUS=…" at each
  // checkpoint; from the run's and the sampler's threads. Empty: none.
  std::function<void(std::string_view message)> notify;
  // The recorder's counters (tierscope_recorder_*, for the caller's /metrics);
  // null: the recorder keeps its own.
  std::shared_ptr<RecorderCounters> recorder_counters;
};

enum class SoakEnd {
  done,         // ran its duration (exit 0)
  interrupted,  // request_stop() (exit 0: the verdict so far is written)
  refused,      // the directory holds a finished run or another scenario's (exit 64)
  failed,       // the engine never came up, or the budget could not be applied (exit 1)
};

struct SoakResult {
  SoakEnd end = SoakEnd::failed;
  std::string error;   // refused, failed: why
  nlohmann::json soak;  // what soak.json holds
};

class SoakRun {
 public:
  SoakRun(Scenario scenario, SoakOptions options);
  ~SoakRun();
  SoakRun(const SoakRun&) = delete;
  SoakRun& operator=(const SoakRun&) = delete;
  // Throws RecorderError (exporters/recorder.h) when the output directory
  // cannot be created or written (exit 73).
  SoakResult run();
  // Thread-safe and async-signal-safe.
  void request_stop();

 private:
  struct Impl;
  Scenario scenario_;
  SoakOptions options_;
  std::atomic<bool> stop_{false};
  std::unique_ptr<Impl> impl_;
};

}  // namespace tierscope::workloads

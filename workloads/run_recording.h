#pragma once
// The recording of a bench run (docs/benchmarks.md "Recording"): every sample
// of the host while the run goes — the daemon's probes at their defaults, and
// a launched engine as the workload (its budget's cgroup, else its process) —
// with every request record and step event, crash-safe in the run directory
// as the recorder's segments (exporters/recorder.h: samples-<seq>.jsonl).
// `tierscope recording RUN_DIR` prints it.
//
// Threading: event() and watch() from the runner's thread; the sampler's
// thread records the samples (the recorder is thread-safe).

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/logging.h"

namespace tierscope {
class Recorder;
class Sampler;
struct WorkloadSelection;
}  // namespace tierscope

namespace prometheus {
struct MetricFamily;
}

namespace tierscope::workloads {

// Called with every host sample as it is recorded (the first as the recording
// starts, then every interval on the sampler's thread, the last as it ends).
using SampleObserver =
    std::function<void(std::chrono::steady_clock::time_point taken, const std::vector<prometheus::MetricFamily>&)>;

// What to watch of a launched engine (EngineEvent::info of its launch): its
// budget's cgroup when it has one — every process the engine forks, and the
// cgroup's own memory.stat tiers (a selection with PIDs sums over processes
// instead) — else its PID.
WorkloadSelection launched_workload(const nlohmann::json& launch_info);

class RunRecording {
 public:
  // Starts sampling every `interval` into `dir`. Throws RecorderError
  // (exporters/recorder.h) when `dir` cannot be written.
  // `observer` (may be empty) sees every sample, e.g. the run's cost (workloads/cost.h).
  RunRecording(const std::string& dir, std::chrono::milliseconds interval, SampleObserver observer = {});
  ~RunRecording();  // stops the sampler; flushes and closes the recording
  RunRecording(const RunRecording&) = delete;
  RunRecording& operator=(const RunRecording&) = delete;

  // A launched engine's launch (EngineEvent::info): from the next sample on,
  // the workload is launched_workload(launch_info).
  void watch(const nlohmann::json& launch_info);
  // A record of `type` (request, step_start, step_end, engine_start, …).
  void event(std::string_view type, const nlohmann::json& body);

 private:
  Logger log_{LogLevel::warn};
  std::chrono::milliseconds interval_;
  SampleObserver observer_;
  std::unique_ptr<Recorder> recorder_;
  std::unique_ptr<Sampler> sampler_;
};

}  // namespace tierscope::workloads

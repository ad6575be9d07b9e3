#pragma once
// The sampler: one thread that runs the enabled probes at a fixed cadence on
// absolute deadlines (start + k x interval, so there is no drift), counts the
// ticks whose sampling overran the interval (their missed deadlines are
// skipped, not queued), runs the post-sample steps (offload verdict, peaks),
// and publishes each result as an immutable Snapshot.
//
// Probes run in the order their declared dependencies give (probes/registry.h),
// never in list order. A probe that throws fails for that sample only.
//
// Reconfiguration (SIGHUP) is handed over with apply() and takes effect at the
// next tick; the probes are rebuilt, while the counters and the post-sample
// steps' memory (peak history when the roots stay the same, what was logged)
// are kept.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/file_cache.h"
#include "core/logging.h"
#include "probes/probe.h"
#include "probes/registry.h"
#include "probes/sampler_config.h"
#include "probes/snapshot.h"

namespace tierscope {

// The cadence: the deadline after `deadline`, given that sampling finished at
// `now`. When `now` is already past it, the missed deadlines are skipped (the
// phase is kept) and the tick counts as an overrun.
struct NextDeadline {
  std::chrono::steady_clock::time_point at;
  bool overran = false;
};
NextDeadline next_deadline(std::chrono::steady_clock::time_point deadline, std::chrono::steady_clock::time_point now,
                           std::chrono::nanoseconds interval);

// The enabled probes of `config`, built from their registrations, in run
// order. Throws std::regex_error on a bad device regex (config parsing has
// already rejected those).
std::vector<std::unique_ptr<Probe>> make_probes(const SamplerConfig& config);

class Sampler {
 public:
  using Clock = std::chrono::steady_clock;

  Sampler(const SamplerConfig& config, Logger& log);
  ~Sampler();
  Sampler(const Sampler&) = delete;
  Sampler& operator=(const Sampler&) = delete;

  // Takes one sample on the caller's thread and publishes it. Used before
  // start() (so the first scrape has data) and by `tierscope probe`.
  std::shared_ptr<const Snapshot> sample_now();

  void start();
  void stop();

  // Thread-safe; applied at the next tick (at once when not started).
  void apply(const SamplerConfig& config);

  std::shared_ptr<const Snapshot> latest() const;

  // The configuration in force (after the last apply()), for status lines:
  // thread-safe.
  std::chrono::milliseconds interval() const { return std::chrono::milliseconds(interval_ms_.load()); }
  std::size_t probe_count() const { return probe_count_.load(); }

  // Called from the sampling thread after each tick (the systemd watchdog hooks in here).
  void on_tick(std::function<void(const Snapshot&)> fn) { on_tick_ = std::move(fn); }

 private:
  struct Step {
    const PostSampleRegistration* registration;
    std::unique_ptr<PostSampleStep> step;
  };

  void run();
  void take_locked(Clock::time_point now);  // requires state_mutex_
  void adopt_locked(const SamplerConfig& config);
  void log_transitions(const Snapshot& snap);

  Logger& log_;
  const ProbeRegistry* registry_;  // the probes and steps it was built for; fixed
  mutable std::mutex state_mutex_;  // probes, steps, files, config
  SamplerConfig config_;
  bool configured_ = false;
  std::vector<std::unique_ptr<Probe>> probes_;
  std::vector<Step> steps_;
  FileCache files_;
  std::string scratch_;
  std::uint64_t sequence_ = 0;
  std::uint64_t overruns_ = 0;
  std::map<std::string, ProbeRun> last_runs_;
  std::atomic<std::int64_t> interval_ms_{0};
  std::atomic<std::size_t> probe_count_{0};

  mutable std::mutex publish_mutex_;
  std::shared_ptr<const Snapshot> latest_;

  std::mutex wake_mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::unique_ptr<SamplerConfig> pending_;  // guarded by wake_mutex_
  std::thread thread_;
  std::function<void(const Snapshot&)> on_tick_;
};

}  // namespace tierscope

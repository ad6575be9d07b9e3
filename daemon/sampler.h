#pragma once
// The sampler: one thread that runs the enabled probes at a fixed cadence on
// absolute deadlines (start + k x interval, so there is no drift), counts the
// ticks whose sampling overran the interval (their missed deadlines are
// skipped, not queued), feeds the history ring, and publishes each result as
// an immutable Snapshot.
//
// Reconfiguration (SIGHUP) is handed over with apply() and takes effect at the
// next tick; the counters and, when the roots stay the same, the history are
// kept.

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
#include "daemon/config.h"
#include "daemon/peaks.h"
#include "probes/probe.h"
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

// Logs changes in whether each NVMe controller's admin data (Identify, health
// log) could be read: one warning when a read fails (and when the reason
// changes), one info line when it works again; nothing while it stays the
// same. Probes have no logger: the nvme probe carries the reason per
// controller in the snapshot (NvmeController::admin).
class NvmeAdminLog {
 public:
  void observe(const Snapshot& snap, Logger& log);

 private:
  std::map<std::string, std::string> last_;  // controller -> problem ("" = readable)
};

class Sampler {
 public:
  using Clock = std::chrono::steady_clock;

  Sampler(const Config& config, Logger& log);
  ~Sampler();
  Sampler(const Sampler&) = delete;
  Sampler& operator=(const Sampler&) = delete;

  // Takes one sample on the caller's thread and publishes it. Used before
  // start() (so the first scrape has data) and by `tierscope probe`.
  std::shared_ptr<const Snapshot> sample_now();

  void start();
  void stop();

  // Thread-safe; applied at the next tick.
  void apply(const Config& config);

  std::shared_ptr<const Snapshot> latest() const;

  // Called from the sampling thread after each tick (the systemd watchdog hooks in here).
  void on_tick(std::function<void(const Snapshot&)> fn) { on_tick_ = std::move(fn); }

 private:
  void run();
  void take_locked(Clock::time_point now);  // requires state_mutex_
  void adopt_locked(const Config& config);
  void log_transitions(const Snapshot& snap);

  Logger& log_;
  mutable std::mutex state_mutex_;  // probes, files, peaks, config
  Config config_;
  std::vector<std::unique_ptr<Probe>> probes_;
  FileCache files_;
  std::string scratch_;
  PeakTracker peaks_;
  std::uint64_t sequence_ = 0;
  std::uint64_t overruns_ = 0;
  std::map<std::string, ProbeRun> last_runs_;
  std::vector<std::string> last_unmatched_;
  NvmeAdminLog nvme_admin_log_;

  mutable std::mutex publish_mutex_;
  std::shared_ptr<const Snapshot> latest_;

  std::mutex wake_mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::unique_ptr<Config> pending_;  // guarded by wake_mutex_
  std::thread thread_;
  std::function<void(const Snapshot&)> on_tick_;
};

}  // namespace tierscope

#include "daemon/sampler.h"

#include "daemon/probe_set.h"

namespace tierscope {

NextDeadline next_deadline(std::chrono::steady_clock::time_point deadline, std::chrono::steady_clock::time_point now,
                           std::chrono::nanoseconds interval) {
  NextDeadline next{deadline + interval, false};
  if (now > next.at) {
    next.overran = true;
    next.at += ((now - next.at) / interval + 1) * interval;
  }
  return next;
}

void NvmeAdminLog::observe(const Snapshot& snap, Logger& log) {
  std::map<std::string, std::string> now;
  if (snap.nvme)
    for (const auto& c : snap.nvme->controllers)
      if (c.admin) now.emplace(c.name, c.admin->problem);
  for (const auto& [controller, problem] : now) {
    auto it = last_.find(controller);
    if (!problem.empty() && (it == last_.end() || it->second != problem))
      log.warn(controller + ": " + problem);
    else if (problem.empty() && it != last_.end() && !it->second.empty())
      log.info(controller + ": Identify Controller and health log readable again");
  }
  last_ = std::move(now);
}

Sampler::Sampler(const Config& config, Logger& log) : log_(log), peaks_(config.peak_window) {
  std::lock_guard lock(state_mutex_);
  adopt_locked(config);
}

Sampler::~Sampler() { stop(); }

void Sampler::adopt_locked(const Config& config) {
  bool roots_changed = !(config.roots == config_.roots);
  config_ = config;
  probes_ = make_probes(config_);
  peaks_.set_window(config_.peak_window);
  if (roots_changed) {
    // Counters from another tree must not be diffed against this one.
    peaks_.reset();
    files_.clear();
  }
}

std::shared_ptr<const Snapshot> Sampler::sample_now() {
  std::lock_guard lock(state_mutex_);
  take_locked(Clock::now());
  return latest();
}

void Sampler::take_locked(Clock::time_point now) {
  auto snap = std::make_shared<Snapshot>();
  snap->sequence = ++sequence_;
  snap->taken_steady = now;
  snap->taken_wall = std::chrono::system_clock::now();
  ProbeContext ctx{config_.roots, files_, scratch_};
  for (auto& probe : probes_) {
    auto t0 = Clock::now();
    ProbeOutcome outcome;
    try {
      outcome = probe->sample(ctx, *snap);
    } catch (const std::exception& e) {  // e.g. std::bad_alloc, filesystem_error
      outcome = ProbeOutcome::failed(e.what());
    }
    auto t1 = Clock::now();
    snap->probes.push_back({std::string(probe->name()), outcome.status,
                            std::chrono::duration<double>(t1 - t0).count(), std::move(outcome.error)});
  }
  files_.sweep();
  snap->offload = decide_offload(snap->nvme ? &*snap->nvme : nullptr, snap->swaps ? &*snap->swaps : nullptr,
                                 config_.offload);
  peaks_.add(now, snap->diskstats ? &*snap->diskstats : nullptr, snap->vmstat ? &*snap->vmstat : nullptr);
  snap->disk_peaks = peaks_.disk_peaks();
  snap->swap_peak = peaks_.swap_peak();
  snap->samples_total = sequence_;
  snap->overruns_total = overruns_;
  snap->interval_seconds = std::chrono::duration<double>(config_.sample_interval).count();
  snap->peak_window_seconds = std::chrono::duration<double>(config_.peak_window).count();
  log_transitions(*snap);
  {
    std::lock_guard lock(publish_mutex_);
    latest_ = snap;
  }
}

void Sampler::log_transitions(const Snapshot& snap) {
  for (const auto& run : snap.probes) {
    auto it = last_runs_.find(run.probe);
    bool first = it == last_runs_.end();
    bool failed = run.status == ProbeStatus::error;
    bool was_failed = !first && it->second.status == ProbeStatus::error;
    if (failed && (first || !was_failed || it->second.error != run.error))
      log_.warn("probe " + run.probe + " failed: " + run.error);
    else if (!failed && was_failed)
      log_.info("probe " + run.probe + " recovered");
    else if (first && run.status == ProbeStatus::no_data)
      log_.debug("probe " + run.probe + ": nothing to report on this host");
    last_runs_[run.probe] = run;
  }
  if (snap.offload.unmatched_names != last_unmatched_) {
    for (const auto& n : snap.offload.unmatched_names)
      log_.warn("offload_device: \"" + n + "\" matches no NVMe controller, namespace or serial");
    last_unmatched_ = snap.offload.unmatched_names;
  }
  nvme_admin_log_.observe(snap, log_);
}

std::shared_ptr<const Snapshot> Sampler::latest() const {
  std::lock_guard lock(publish_mutex_);
  return latest_;
}

void Sampler::apply(const Config& config) {
  if (!thread_.joinable()) {  // not sampling: take it now
    std::lock_guard lock(state_mutex_);
    adopt_locked(config);
    return;
  }
  std::lock_guard lock(wake_mutex_);
  pending_ = std::make_unique<Config>(config);  // the thread takes it at its next tick
}

void Sampler::start() {
  if (thread_.joinable()) return;
  {
    std::lock_guard lock(wake_mutex_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { run(); });
}

void Sampler::stop() {
  {
    std::lock_guard lock(wake_mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Sampler::run() {
  std::chrono::milliseconds interval;
  {
    std::lock_guard lock(state_mutex_);
    interval = config_.sample_interval;
  }
  auto deadline = Clock::now() + interval;
  for (;;) {
    std::unique_ptr<Config> pending;
    {
      std::unique_lock lock(wake_mutex_);
      wake_.wait_until(lock, deadline, [this] { return stopping_; });
      if (stopping_) return;
      pending = std::move(pending_);
    }
    std::lock_guard lock(state_mutex_);
    if (pending) {
      adopt_locked(*pending);
      if (config_.sample_interval != interval) {
        interval = config_.sample_interval;
        deadline = Clock::now();  // restart the cadence from now
      }
    }
    take_locked(Clock::now());
    if (on_tick_) on_tick_(*latest());
    auto next = next_deadline(deadline, Clock::now(), interval);
    deadline = next.at;
    if (next.overran) ++overruns_;
  }
}

}  // namespace tierscope

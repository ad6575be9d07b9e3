#include "probes/sampler.h"

#include <stdexcept>


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

std::vector<std::unique_ptr<Probe>> make_probes(const SamplerConfig& config) {
  std::vector<const ProbeRegistration*> enabled;
  for (const auto* p : config.registry->probes)
    if (config.probe_enabled(p->name)) enabled.push_back(p);
  std::vector<std::unique_ptr<Probe>> probes;
  for (const auto* p : run_order(std::move(enabled))) probes.push_back(p->make(config.settings));
  return probes;
}

Sampler::Sampler(const SamplerConfig& config, Logger& log) : log_(log), registry_(config.registry) {
  for (const auto* r : registry_->steps) steps_.push_back({r, r->make()});
  std::lock_guard lock(state_mutex_);
  adopt_locked(config);
}

Sampler::~Sampler() { stop(); }

void Sampler::adopt_locked(const SamplerConfig& config) {
  bool roots_changed = !configured_ || !(config.roots == config_.roots);
  config_ = config;
  configured_ = true;
  probes_ = make_probes(config_);
  for (auto& s : steps_) {
    s.step->configure(config_);
    // Counters from another tree must not be diffed against this one.
    if (roots_changed) s.step->reset();
  }
  if (roots_changed) files_.clear();
  interval_ms_.store(config_.sample_interval.count());
  probe_count_.store(config_.enabled_probe_count());
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
  snap->registry = registry_;
  // One reading per probe, up to two per step (peaks: disks and swap).
  snap->reserve_readings(probes_.size() + 2 * steps_.size());
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
  log_transitions(*snap);
  for (auto& s : steps_) s.step->run(*snap, log_);
  snap->samples_total = sequence_;
  snap->overruns_total = overruns_;
  snap->interval_seconds = std::chrono::duration<double>(config_.sample_interval).count();
  snap->peak_window_seconds = std::chrono::duration<double>(config_.peak_window).count();
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
}

std::shared_ptr<const Snapshot> Sampler::latest() const {
  std::lock_guard lock(publish_mutex_);
  return latest_;
}

void Sampler::apply(const SamplerConfig& config) {
  if (config.registry != registry_) throw std::logic_error("Sampler::apply: a config of another probe registry");
  if (!thread_.joinable()) {  // not sampling: take it now
    std::lock_guard lock(state_mutex_);
    adopt_locked(config);
    return;
  }
  {
    std::lock_guard lock(wake_mutex_);
    pending_ = std::make_unique<SamplerConfig>(config);  // the thread takes it at its next tick
  }
  interval_ms_.store(config.sample_interval.count());
  probe_count_.store(config.enabled_probe_count());
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
    std::unique_ptr<SamplerConfig> pending;
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

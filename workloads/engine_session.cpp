#include "workloads/engine_session.h"

#include <algorithm>

namespace tierscope::workloads {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

std::optional<std::uint64_t> ctx_of(const Scenario& sc, std::int64_t context_tokens) {
  if (sc.kind == ScenarioKind::protocol) return std::nullopt;
  std::uint64_t prompt = 0;
  const bool per_run = sc.engine.launch && sc.engine.launch->spec.restart == RestartPolicy::per_run;
  if (sc.kind == ScenarioKind::context_sweep) {
    if (per_run || context_tokens < 0) {
      for (auto c : sc.contexts) prompt = std::max<std::uint64_t>(prompt, c);
    } else {
      prompt = static_cast<std::uint64_t>(context_tokens);
    }
  } else {
    prompt = sc.prompt_tokens;
  }
  return prompt + sc.output_tokens;
}

EngineSession::EngineSession(const Scenario& sc, std::string out_dir, std::string run_name,
                             std::chrono::milliseconds sample_interval)
    : sc_(sc), dir_(std::move(out_dir)), run_name_(std::move(run_name)), url_template_(sc.engine.url),
      interval_(sample_interval) {
  t0_ = Clock::now();
}

EngineSession::~EngineSession() {
  stop_sampler();
  if (proc_) (void)proc_->stop();
  budget_.reset();
}

EngineEvent EngineSession::start(std::optional<std::uint64_t> ctx, std::size_t step, const std::atomic<bool>& stop) {
  if (running()) (void)this->stop();
  stop_sampler();
  proc_ = std::make_unique<EngineProcess>();
  budget_.reset();  // the previous launch's cgroup goes before the next one is made
  const LaunchConfig& launch = *sc_.engine.launch;
  if (!sc_.limits.empty()) budget_ = std::make_unique<MemoryBudget>(sc_.limits, run_name_);  // throws BudgetError
  Placeholders values;
  values.ctx = ctx;
  if (!launch.model.empty()) values.model = launch.model;
  LaunchSpec spec = launch.spec;
  spec.url = url_template_;
  std::optional<CgroupDir> cgroup;
  std::string budget_error;
  EngineEvent ev;
  ev.info["step"] = step;
  if (ctx) ev.info["ctx"] = *ctx;
  const auto t_start = Clock::now();
  try {
    proc_->start(spec, values, dir_ + "engine.log", [&](pid_t pid) {
      if (!budget_) return;
      try {
        budget_->attach(pid);
        cgroup = budget_->verify(pid);
      } catch (const BudgetError& e) {
        budget_error = e.what();
        throw;
      }
    });
  } catch (const LaunchError& e) {
    if (!budget_error.empty()) throw BudgetError(budget_error);
    ev.outcome = "engine_down";
    ev.message = e.what();
    ev.info["error"] = ev.message;
    return ev;
  }
  url_ = proc_->url();
  ev.info["argv"] = proc_->argv();
  ev.info["pid"] = proc_->pid();
  ev.info["url"] = url_;
  if (budget_) {
    budget_json_ = budget_->describe();
    ev.info["budget"] = budget_json_;
  }
  {
    std::lock_guard lock(mu_);
    if (cgroup) {
      watch_ = std::make_unique<WorkloadWatch>(*cgroup);
    } else {
      WorkloadTarget target;
      target.pids.push_back(static_cast<std::uint32_t>(proc_->pid()));
      watch_ = std::make_unique<WorkloadWatch>(target);
    }
  }
  step_.store(step);
  if (!jsonl_.is_open()) jsonl_.open(dir_ + "workload.jsonl", std::ios::app);
  quit_ = false;
  sampler_ = std::thread([this] { sampler_loop(); });

  ReadyResult ready = proc_->wait_ready(proc_->ready_deadline(), stop);
  ev.info["ready_s"] = std::chrono::duration<double>(Clock::now() - t_start).count();
  if (ready.ok()) {
    ev.ok = true;
    sample_now();  // what the engine holds once ready (its KV cache, for llama.cpp)
    {
      std::lock_guard lock(mu_);
      if (watch_) ev.info["memory_at_ready"] = WorkloadWatch::to_json(watch_->last())["memory_bytes"];
    }
    return ev;
  }
  // Not ready: the engine was stopped (or ended); say how, with the kernel's view.
  EngineEvent end = ready.exit ? end_event(*ready.exit) : EngineEvent{};
  ev.outcome = end.outcome.empty() ? "engine_down" : end.outcome;
  ev.message = ready.message;
  ev.info["error"] = ready.message;
  ev.info["log_tail"] = ready.log_tail;
  if (end.info.contains("oom_kills")) ev.info["oom_kills"] = end.info["oom_kills"];
  if (ready.exit) ev.info["exit"] = ready.exit->describe();
  stop_sampler();
  return ev;
}

EngineEvent EngineSession::end_event(const ExitInfo& exit) {
  EngineEvent ev;
  ev.outcome = "engine_down";
  ev.info["exit"] = exit.describe();
  if (proc_) ev.info["log_tail"] = log_tail(proc_->log_path());
  std::lock_guard lock(mu_);
  if (watch_) {
    watch_->sample();  // the counters after the end
    if (watch_->last().source == WorkloadSource::cgroup) {
      ev.info["oom_kills"] = watch_->oom_kills();
      if (watch_->oom_kills() > 0) ev.outcome = "oom";
    }
  }
  ev.message = "the engine " + std::string(exit.signal ? "was " : "") + exit.describe() +
               (ev.outcome == "oom" ? " (the kernel's OOM killer, in " + (budget_ ? budget_->where() : "its cgroup") + ")" : "");
  return ev;
}

std::optional<EngineEvent> EngineSession::ended(std::chrono::milliseconds grace) {
  if (!proc_ || !proc_->running()) return std::nullopt;
  // A process that is ending closes its sockets before it can be reaped: a
  // client can see the reset a moment before waitpid sees the exit.
  const auto deadline = Clock::now() + grace;
  auto exit = proc_->poll_exit();
  while (!exit && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    exit = proc_->poll_exit();
  }
  if (!exit) return std::nullopt;
  EngineEvent ev = end_event(*exit);
  stop_sampler();
  return ev;
}

json EngineSession::stop() {
  if (!proc_) return json::object();
  json out;
  const bool was_running = proc_->running();
  StopResult r = proc_->stop();
  if (was_running) out["stop"] = r.describe();
  {
    std::lock_guard lock(mu_);
    if (watch_) watch_->sample();
  }
  stop_sampler();
  budget_.reset();
  return out;
}

void EngineSession::sample_now() {
  std::lock_guard lock(mu_);
  if (!watch_) return;
  write_sample();
}

// With mu_ held.
void EngineSession::write_sample() {
  json rec = watch_->sample();
  rec["t_s"] = std::chrono::duration<double>(Clock::now() - t0_).count();
  rec["step"] = step_.load();
  if (jsonl_) jsonl_ << rec.dump(-1, ' ', false, json::error_handler_t::replace) << '\n' << std::flush;
}

json EngineSession::memory() {
  std::lock_guard lock(mu_);
  if (!watch_) return json::object();
  return watch_->summary();
}

void EngineSession::sampler_loop() {
  std::unique_lock lock(mu_);
  while (!quit_) {
    if (watch_) write_sample();
    cv_.wait_for(lock, interval_, [this] { return quit_; });
  }
}

void EngineSession::stop_sampler() {
  {
    std::lock_guard lock(mu_);
    quit_ = true;
  }
  cv_.notify_all();
  if (sampler_.joinable()) sampler_.join();
}

}  // namespace tierscope::workloads

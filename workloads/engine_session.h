#pragma once
// The engine a benchmark starts itself (scenario `engine.launch`): each
// launch under the scenario's memory budget (`limits`, memory_budget.h: a
// fresh cgroup or scope per launch, read back before the engine runs), its
// readiness, its memory composition sampled every second into
// workload.jsonl (workload_watch.h), and how it ended when it ended on its
// own — exit status or signal, the tail of engine.log, and whether the
// kernel's OOM killer ended it (memory.events oom_kill of its cgroup).
//
// An engine that does not start or dies is an outcome of the step, never a
// hang: `engine_down`, or `oom` when its cgroup counted an OOM kill.
// A budget that cannot be applied or does not read back is not an outcome:
// start() throws BudgetError and the run stops (never run uncapped).
//
// Threading: start/stop/ended/step on the runner's thread; the sampler
// thread it owns only reads the cgroup and appends to workload.jsonl.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "workloads/engine_launch.h"
#include "workloads/memory_budget.h"
#include "workloads/scenario.h"
#include "workloads/workload_watch.h"

namespace tierscope::workloads {

// How a launch went, or how a running engine ended.
struct EngineEvent {
  bool ok = false;       // ready (start), or still running (ended: never ok)
  std::string outcome;   // not ok: "engine_down" or "oom"
  std::string message;   // one line
  nlohmann::json info;   // launch: argv, pid, url, ready_s, budget; end: exit, log_tail, oom_kills
};

class EngineSession {
 public:
  // `out_dir` with a trailing '/': engine.log and workload.jsonl go there.
  // `run_name` names the budget's scope/cgroup (tierscope-<run_name>-engine).
  EngineSession(const Scenario& sc, std::string out_dir, std::string run_name,
                std::chrono::milliseconds sample_interval = std::chrono::seconds(1));
  ~EngineSession();
  EngineSession(const EngineSession&) = delete;
  EngineSession& operator=(const EngineSession&) = delete;

  // Starts an engine for a step of `ctx` tokens ({ctx}; nullopt: no value)
  // and waits until it is ready. Throws BudgetError (the run must stop).
  EngineEvent start(std::optional<std::uint64_t> ctx, std::size_t step, const std::atomic<bool>& stop);
  // How the engine ended, when it has ended since start() without being
  // stopped; nullopt while it runs. `grace`: how long to wait for an exit
  // (after requests saw the connection refused or reset).
  std::optional<EngineEvent> ended(std::chrono::milliseconds grace = std::chrono::milliseconds(0));
  // Stops the running engine (stop signal, then SIGKILL) and removes its
  // budget; how it ended. {} when none runs.
  nlohmann::json stop();

  bool running() const { return proc_ && proc_->running(); }
  const std::string& url() const { return url_; }
  // The step the sampler's records are tagged with.
  void set_step(std::size_t step) { step_.store(step); }
  // The workload's memory since the last start (peaks, events, IO), and the
  // budget as applied; {} before the first start.
  nlohmann::json memory();
  // Takes a sample now (into workload.jsonl and the peaks), e.g. at a step's end.
  void sample_now();
  // The budget's description (manifest, summary); null without limits.
  nlohmann::json budget() const { return budget_json_; }

 private:
  void sampler_loop();
  void write_sample();
  void stop_sampler();
  EngineEvent end_event(const ExitInfo& exit);

  const Scenario& sc_;
  std::string dir_, run_name_;
  std::string url_template_;  // engine.url as the scenario gives it ({port} unexpanded)
  std::chrono::milliseconds interval_;
  std::unique_ptr<EngineProcess> proc_;
  std::unique_ptr<MemoryBudget> budget_;
  nlohmann::json budget_json_;
  std::string url_;
  std::ofstream jsonl_;
  std::chrono::steady_clock::time_point t0_;
  std::atomic<std::size_t> step_{0};
  // The watch, shared with the sampler thread.
  std::mutex mu_;
  std::unique_ptr<WorkloadWatch> watch_;
  std::condition_variable cv_;
  bool quit_ = false;
  std::thread sampler_;
};

// {ctx} of a step: its prompt tokens plus the output budget; for per_run the
// largest step's. nullopt for protocol steps (prompts of unknown length).
std::optional<std::uint64_t> ctx_of(const Scenario& sc, std::int64_t context_tokens);

}  // namespace tierscope::workloads

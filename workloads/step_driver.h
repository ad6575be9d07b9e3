#pragma once
// The event loop of a step: issues the step's requests on the runner's
// StreamLoop and pumps them to completion. Warm-up requests first, one at a
// time per user, until all are done (a barrier); then the counted ones:
// closed loop (each user sends its next request when its previous one ended)
// or open loop (requests sent at seeded poisson/gamma arrival times, whatever
// is in flight). Each finished request becomes a RequestRecord handed to the
// sink as it completes. An interrupt (the `stop` flag, with a
// StreamLoop::wakeup()) ends the step at once (the runner then records what
// is in flight as interrupted); the run deadline ends it and records what is
// in flight as timeout.
//
// Units: steady-clock time; scheduled_s in seconds from the step's first arrival.
// Threading: the StreamLoop's thread (the caller's) only; `stop` may be set
// from any thread.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "workloads/bench_metrics.h"
#include "workloads/engines/engine.h"
#include "workloads/http_stream.h"
#include "workloads/plan.h"
#include "workloads/request_state.h"
#include "workloads/summary.h"

namespace tierscope::workloads {

struct DriverOptions {
  BenchMetrics* metrics = nullptr;   // live metrics; null: none
  std::ostream* progress = nullptr;  // the progress line; null: quiet
  bool tty = false;                  // redraw the progress line in place
  SteadyTime run_deadline = SteadyTime::max();
};

class StepDriver {
 public:
  // Every finished request, warm-up included, in completion order.
  using RecordSink = std::function<void(RequestRecord record)>;

  StepDriver(const Scenario& scenario, StreamLoop& loop, const std::atomic<bool>& stop, DriverOptions options,
             RecordSink sink);
  ~StepDriver();
  StepDriver(const StepDriver&) = delete;
  StepDriver& operator=(const StepDriver&) = delete;

  // Runs step `index` (of `total`) to its end: true when every request was
  // recorded, false when the run must stop (interrupt, deadline). Consumes
  // the step's queues.
  bool run_step(StepSpec& step, std::size_t index, std::size_t total);
  // After an interrupt: cancels what is still in flight and records each as
  // outcome interrupted; returns how many.
  std::size_t record_in_flight_as_interrupted();
  bool deadline_hit() const { return deadline_hit_; }

 private:
  void issue(RequestPlan plan, std::optional<double> scheduled_s = std::nullopt);
  void on_done(std::uint64_t request_id, const TransferResult& result);
  void record(InFlight& request, const TransferResult& result, Outcome outcome, std::string error);
  void pump();
  bool pump_warmup();
  void start_arrivals();
  void issue_due_arrivals(SteadyTime now);
  bool work_left() const;
  bool turn(SteadyTime now);
  void progress(bool final_line);
  void cancel_all_as_timeout();
  std::size_t cancel_all(Outcome outcome, const char* why);

  const Scenario& sc_;
  const EngineDescriptor& engine_;
  const Dialect dialect_;
  StreamLoop& loop_;
  const std::atomic<bool>& stop_;
  DriverOptions options_;
  RecordSink sink_;
  std::unordered_map<std::uint64_t, std::unique_ptr<InFlight>> active_;  // by request id
  std::unordered_map<std::uint64_t, std::uint64_t> transfer_of_;        // request id → transfer id
  std::uint64_t next_request_id_ = 1;
  bool deadline_hit_ = false;
  // The running step.
  StepSpec* step_ = nullptr;
  std::size_t step_index_ = 0, step_total_ = 0;
  int phase_ = 0;  // 0 warm-up, 1 counted
  std::vector<bool> user_busy_;
  std::vector<RequestPlan> arrivals_;  // open loop, counted phase
  std::vector<SteadyTime> arrival_times_;
  std::size_t next_arrival_ = 0;
  std::uint64_t step_done_ = 0, step_planned_ = 0, step_failures_ = 0;
  SteadyTime last_progress_{};
};

}  // namespace tierscope::workloads

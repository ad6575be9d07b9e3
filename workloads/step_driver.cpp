#include "workloads/step_driver.h"

#include <algorithm>
#include <iomanip>
#include <ostream>
#include <random>
#include <sstream>
#include <thread>

namespace tierscope::workloads {

using std::chrono::duration;

StepDriver::StepDriver(const Scenario& scenario, StreamLoop& loop, const std::atomic<bool>& stop,
                       DriverOptions options, RecordSink sink)
    : sc_(scenario),
      engine_(engine_descriptor(scenario.engine.kind)),
      dialect_(scenario.engine.dialect()),
      loop_(loop),
      stop_(stop),
      options_(options),
      sink_(std::move(sink)) {}

StepDriver::~StepDriver() = default;

void StepDriver::issue(RequestPlan plan, std::optional<double> scheduled_s) {
  auto a = std::make_unique<InFlight>(dialect_);
  a->plan = std::move(plan);
  a->request_id = next_request_id_++;
  a->step = step_index_;
  a->scheduled_s = scheduled_s;
  InFlight* ap = a.get();
  const std::uint64_t rid = a->request_id;
  auto req = make_http_request(sc_, engine_, ap->plan);
  active_.emplace(rid, std::move(a));
  if (ap->plan.user < user_busy_.size()) user_busy_[ap->plan.user] = true;
  if (options_.metrics) options_.metrics->stream_started();
  StreamCallbacks cb;
  cb.on_response_headers = [ap](long status, SteadyTime t) {
    ap->http_status = status;
    ap->t_headers = t;
  };
  const bool keep_text = sc_.kind == ScenarioKind::protocol;
  cb.on_data = [this, ap, keep_text](std::string_view bytes, SteadyTime t) {
    on_body(*ap, bytes, t, keep_text, options_.metrics);
  };
  cb.on_done = [this, rid](const TransferResult& res) { on_done(rid, res); };
  cb.stop_reason = [ap] { return stop_reading_reason(*ap); };
  ap->t_issue = SteadyClock::now();
  auto id = loop_.add(std::move(req), std::move(cb));
  transfer_of_[rid] = id;
}

void StepDriver::record(InFlight& a, const TransferResult& res, Outcome o, std::string error) {
  sink_(make_record(a, *step_, res, o, std::move(error), sc_.kind == ScenarioKind::protocol));
  if (options_.metrics) options_.metrics->stream_ended(o);
}

void StepDriver::on_done(std::uint64_t rid, const TransferResult& res) {
  auto it = active_.find(rid);
  if (it == active_.end()) return;
  std::unique_ptr<InFlight> a = std::move(it->second);
  active_.erase(it);
  transfer_of_.erase(rid);
  const bool keep_text = sc_.kind == ScenarioKind::protocol;
  a->decoder.finish([&](const StreamMessage& m) { observe(*a, m, res.t_done, keep_text, options_.metrics); });
  std::string error;
  const Outcome o = decide_outcome(*a, res, engine_, error);
  record(*a, res, o, std::move(error));
  ++step_done_;
  if (!a->plan.warmup && o != Outcome::ok) ++step_failures_;
  if (a->plan.user < user_busy_.size()) user_busy_[a->plan.user] = false;
  if (!stop_.load() && !deadline_hit_) pump();
}

// Warm-up: every idle user with warm-up requests left sends its next one;
// true once they are all done.
bool StepDriver::pump_warmup() {
  bool left = false;
  for (std::size_t u = 0; u < step_->warm.size(); ++u) {
    if (!step_->warm[u].empty()) left = true;
    if (!user_busy_[u] && !step_->warm[u].empty()) {
      RequestPlan p = std::move(step_->warm[u].front());
      step_->warm[u].pop_front();
      issue(std::move(p));
    }
  }
  return !left && active_.empty();
}

// Closed loop: every idle user with work left issues its next request.
void StepDriver::pump() {
  if (phase_ == 0) {
    if (!pump_warmup()) return;
    phase_ = 1;
    if (sc_.arrival.mode != ArrivalMode::closed) start_arrivals();
  }
  if (phase_ == 1 && sc_.arrival.mode == ArrivalMode::closed) {
    for (std::size_t u = 0; u < step_->count.size(); ++u) {
      if (user_busy_[u]) continue;
      if (!step_->count[u].empty()) {
        RequestPlan p = std::move(step_->count[u].front());
        step_->count[u].pop_front();
        issue(std::move(p));
      } else if (RequestPlan next; step_->more && step_->more(static_cast<std::uint32_t>(u), next)) {
        issue(std::move(next));
      }
    }
  }
}

void StepDriver::start_arrivals() {
  arrivals_.clear();
  arrival_times_.clear();
  next_arrival_ = 0;
  // Round-robin over users, so the order matches the closed loop's.
  bool more = true;
  while (more) {
    more = false;
    for (auto& q : step_->count)
      if (!q.empty()) {
        arrivals_.push_back(std::move(q.front()));
        q.pop_front();
        more = true;
      }
  }
  std::mt19937_64 rng(sc_.arrival.seed + step_index_);
  const double rate = sc_.arrival.rate;
  const double shape = sc_.arrival.mode == ArrivalMode::gamma ? sc_.arrival.burstiness : 1.0;
  std::gamma_distribution<double> gap(shape, 1.0 / (rate * shape));  // mean 1/rate
  SteadyTime t0 = SteadyClock::now();
  double at = 0;
  for (std::size_t i = 0; i < arrivals_.size(); ++i) {
    if (i > 0) at += gap(rng);
    arrival_times_.push_back(t0 + std::chrono::duration_cast<SteadyClock::duration>(duration<double>(at)));
  }
}

void StepDriver::issue_due_arrivals(SteadyTime now) {
  while (phase_ == 1 && next_arrival_ < arrivals_.size() && arrival_times_[next_arrival_] <= now) {
    double scheduled = duration<double>(arrival_times_[next_arrival_] - arrival_times_[0]).count();
    issue(std::move(arrivals_[next_arrival_]), scheduled);
    ++next_arrival_;
  }
}

bool StepDriver::work_left() const {
  if (!active_.empty()) return true;
  if (phase_ == 0) return true;  // pump() moves on
  if (sc_.arrival.mode != ArrivalMode::closed) return next_arrival_ < arrivals_.size();
  if (step_->more) return true;  // turn() asks it, and ends the step when it gives nothing
  for (const auto& q : step_->count)
    if (!q.empty()) return true;
  return false;
}

void StepDriver::progress(bool final_line) {
  std::ostream* os = options_.progress;
  if (!os) return;
  auto now = SteadyClock::now();
  if (!final_line) {
    auto every = options_.tty ? std::chrono::milliseconds(200) : std::chrono::milliseconds(5000);
    if (now - last_progress_ < every) return;
  }
  last_progress_ = now;
  double rate = options_.metrics ? options_.metrics->output_tokens_per_second(now) : 0.0;
  std::ostringstream line;
  line << "[step " << step_index_ + 1 << "/" << step_total_ << "] " << step_->label << ": " << step_done_ << "/"
       << step_planned_ << " requests, " << std::fixed << std::setprecision(1) << rate << " output tok/s, "
       << step_failures_ << " failures";
  if (options_.tty) {
    *os << '\r' << line.str() << "\x1b[K";
    if (final_line) *os << '\n';
  } else {
    *os << line.str() << '\n';
  }
  os->flush();
}

// One turn of the loop: runs the transfers until they are all done or the
// next wake-up (an arrival, the deadline, a progress tick); when none is in
// flight, moves the step on. False when the step has nothing left to do.
bool StepDriver::turn(SteadyTime now) {
  SteadyTime wake = std::min(options_.run_deadline, now + std::chrono::milliseconds(200));
  if (phase_ == 1 && next_arrival_ < arrival_times_.size()) wake = std::min(wake, arrival_times_[next_arrival_]);
  const bool idle = loop_.run_until_idle_or(wake);
  if (!idle || !active_.empty() || stop_.load()) return true;
  if (phase_ == 0) {
    pump();
  } else if (next_arrival_ < arrival_times_.size()) {
    auto until = std::min(arrival_times_[next_arrival_], SteadyClock::now() + std::chrono::milliseconds(50));
    std::this_thread::sleep_until(until);
  } else if (sc_.arrival.mode == ArrivalMode::closed) {
    pump();
    if (active_.empty()) return false;
  }
  return true;
}

bool StepDriver::run_step(StepSpec& step, std::size_t index, std::size_t total) {
  step_ = &step;
  step_index_ = index;
  step_total_ = total;
  phase_ = 0;
  user_busy_.assign(std::max(step.warm.size(), step.count.size()), false);
  step_done_ = step_failures_ = 0;
  step_planned_ = step.requests();
  if (options_.metrics) options_.metrics->set_step(step.context_tokens, step.users);
  pump();
  while (true) {
    if (stop_.load()) return false;
    auto now = SteadyClock::now();
    if (now >= options_.run_deadline) {
      deadline_hit_ = true;
      cancel_all_as_timeout();
      return false;
    }
    if (phase_ == 1) issue_due_arrivals(now);
    if (!work_left()) break;
    if (!turn(now)) break;
    progress(false);
  }
  progress(true);
  return true;
}

void StepDriver::cancel_all_as_timeout() { cancel_all(Outcome::timeout, "run_deadline passed: cancelled"); }

std::size_t StepDriver::cancel_all(Outcome outcome, const char* why) {
  auto now = SteadyClock::now();
  std::vector<std::uint64_t> ids;
  for (const auto& [rid, _] : active_) ids.push_back(rid);
  std::sort(ids.begin(), ids.end());
  for (auto rid : ids) {
    auto t = transfer_of_.find(rid);
    if (t != transfer_of_.end()) loop_.cancel(t->second);
    auto it = active_.find(rid);
    std::unique_ptr<InFlight> a = std::move(it->second);
    active_.erase(it);
    transfer_of_.erase(rid);
    TransferResult res;
    res.outcome = outcome == Outcome::timeout ? TransferOutcome::timeout : TransferOutcome::transport_error;
    res.t_send = a->t_issue;
    res.t_done = now;
    record(*a, res, outcome, why);
  }
  return ids.size();
}

std::size_t StepDriver::record_in_flight_as_interrupted() {
  return cancel_all(Outcome::interrupted, "interrupted (SIGINT/SIGTERM) while in flight: cancelled");
}

}  // namespace tierscope::workloads

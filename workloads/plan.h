#pragma once
// The plan of a run: the scenario turned into its steps and, per step, the
// requests each user sends, before anything is sent. make_plan() is a pure
// function of the scenario (no I/O, no clock, no randomness); the prompts of
// N tokens are built later, step by step, into RequestPlan::built (the
// tokenizer calls block), and protocol prompts carry their text already.
//
//   context_sweep      a step per contexts[] entry N, key {context_tokens: N},
//                      label "context N", `concurrency` users: `warmup`
//                      requests first (a barrier; spread over at most
//                      `concurrency` users), then `repetitions` counted ones
//                      round-robin over the users.
//   concurrency_sweep  a step per users[] entry U, key {users: U}, label
//                      "U users": every user sends warmup + repetitions
//                      requests of prompt_tokens. Closed loop: each user's
//                      warm-ups precede its counted requests on its own queue
//                      (no barrier). Open loop (poisson, gamma): warm-ups
//                      first (a barrier), then the counted ones as arrivals.
//   protocol           a step per prompt, key {prompt: name}, label the name,
//                      the prompt's own text, max_tokens and temperature
//                      (else the scenario's), warm-ups as for context_sweep.
//
// Units: tokens. Threading: plain values; a plan points into the scenario's
// prompts, so the Scenario must outlive it.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "workloads/prompts.h"
#include "workloads/scenario.h"

namespace tierscope::workloads {

// One request to send.
struct RequestPlan {
  std::uint32_t user = 0;
  bool warmup = false;
  std::uint32_t prompt_tokens = 0;   // target; 0 for protocol prompts
  const PromptSpec* prompt = nullptr;  // protocol: the prompt (in the Scenario)
  std::uint32_t max_tokens = 0;
  std::optional<double> temperature;
  BuiltPrompt built;  // the text to send (sweeps: filled in before the step runs)
};

// What identifies a step in summary.json ("steps"[] and "wall") and summary.csv.
struct StepKey {
  enum class Kind { context_tokens, users, prompt };
  Kind kind = Kind::context_tokens;
  std::uint64_t value = 0;  // context_tokens, users
  std::string prompt;       // prompt
  bool operator==(const StepKey&) const = default;
};

struct StepSpec {
  StepKey key;
  std::string label;
  std::int64_t context_tokens = -1;  // prompt tokens of every request; -1: protocol
  std::int64_t users = -1;
  std::vector<std::deque<RequestPlan>> warm;   // per user, run first (barrier)
  std::vector<std::deque<RequestPlan>> count;  // per user
  // A time-bounded step (the soak's closed loop): when set, a user whose
  // `count` queue is empty asks it for its next request (false: none now);
  // the step ends once it gives none to any user and nothing is in flight.
  // Sweeps leave it empty.
  std::function<bool(std::uint32_t user, RequestPlan& next)> more;
  // Requests in the step, warm-up included.
  std::size_t requests() const;
};

struct Plan {
  std::vector<StepSpec> steps;
};

Plan make_plan(const Scenario& scenario);

}  // namespace tierscope::workloads

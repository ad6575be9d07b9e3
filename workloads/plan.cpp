#include "workloads/plan.h"

#include <algorithm>

namespace tierscope::workloads {

namespace {

// Appends n copies of `proto` to the queues of `users` users, round-robin.
void distribute(std::vector<std::deque<RequestPlan>>& queues, std::uint32_t users, std::uint32_t n,
                const RequestPlan& proto, bool warmup) {
  if (queues.size() < users) queues.resize(users);
  for (std::uint32_t i = 0; i < n; ++i) {
    RequestPlan p = proto;
    p.user = i % users;
    p.warmup = warmup;
    queues[p.user].push_back(p);
  }
}

// Warm-ups on at most `concurrency` users (at least one), then the counted
// requests on all of them.
void warm_then_count(const Scenario& sc, const RequestPlan& proto, StepSpec& s) {
  distribute(s.warm, std::min(sc.concurrency, std::max<std::uint32_t>(sc.warmup, 1)), sc.warmup, proto, true);
  distribute(s.count, sc.concurrency, sc.repetitions, proto, false);
}

StepSpec context_step(const Scenario& sc, std::uint32_t n) {
  StepSpec s;
  s.key = {StepKey::Kind::context_tokens, n, {}};
  s.label = "context " + std::to_string(n);
  s.context_tokens = n;
  s.users = sc.concurrency;
  RequestPlan proto;
  proto.prompt_tokens = n;
  proto.max_tokens = sc.output_tokens;
  proto.temperature = sc.temperature;
  warm_then_count(sc, proto, s);
  return s;
}

StepSpec concurrency_step(const Scenario& sc, std::uint32_t u) {
  StepSpec s;
  s.key = {StepKey::Kind::users, u, {}};
  s.label = std::to_string(u) + " users";
  s.context_tokens = sc.prompt_tokens;
  s.users = u;
  RequestPlan proto;
  proto.prompt_tokens = sc.prompt_tokens;
  proto.max_tokens = sc.output_tokens;
  proto.temperature = sc.temperature;
  s.count.resize(u);
  for (std::uint32_t user = 0; user < u; ++user) {
    for (std::uint32_t i = 0; i < sc.warmup + sc.repetitions; ++i) {
      RequestPlan p = proto;
      p.user = user;
      p.warmup = i < sc.warmup;
      s.count[user].push_back(p);
    }
  }
  // Closed loop: each user's warm-up requests precede its counted ones on
  // its own queue (no barrier). Open loop: warm-up first, then arrivals.
  if (sc.arrival.mode != ArrivalMode::closed) {
    for (auto& q : s.count)
      while (!q.empty() && q.front().warmup) {
        if (s.warm.size() < s.count.size()) s.warm.resize(s.count.size());
        s.warm[q.front().user].push_back(q.front());
        q.pop_front();
      }
  }
  return s;
}

StepSpec protocol_step(const Scenario& sc, const PromptSpec& ps) {
  StepSpec s;
  s.key = {StepKey::Kind::prompt, 0, ps.name};
  s.label = ps.name;
  s.users = sc.concurrency;
  RequestPlan proto;
  proto.prompt = &ps;
  proto.max_tokens = ps.max_tokens;
  proto.temperature = ps.temperature ? ps.temperature : sc.temperature;
  proto.built.text = ps.text;
  proto.built.source = "text";
  warm_then_count(sc, proto, s);
  return s;
}

}  // namespace

std::size_t StepSpec::requests() const {
  std::size_t n = 0;
  for (const auto& q : warm) n += q.size();
  for (const auto& q : count) n += q.size();
  return n;
}

Plan make_plan(const Scenario& sc) {
  Plan plan;
  switch (sc.kind) {
    case ScenarioKind::context_sweep:
      for (auto n : sc.contexts) plan.steps.push_back(context_step(sc, n));
      break;
    case ScenarioKind::concurrency_sweep:
      for (auto u : sc.users) plan.steps.push_back(concurrency_step(sc, u));
      break;
    case ScenarioKind::protocol:
      for (const auto& ps : sc.prompts) plan.steps.push_back(protocol_step(sc, ps));
      break;
    case ScenarioKind::soak:  // time-bounded steps of its own (workloads/soak.h)
      break;
  }
  return plan;
}

}  // namespace tierscope::workloads

// The plan: a scenario turned into steps and per-user request queues, before
// anything is sent (workloads/plan.h).
#include <gtest/gtest.h>

#include <string>

#include "workloads/plan.h"
#include "workloads/scenario.h"

using namespace tierscope::workloads;

namespace {

Scenario scenario(const std::string& body) {
  return parse_scenario("engine: {kind: llamacpp, url: http://x}\n" + body, "plan.yaml");
}

std::size_t total(const std::vector<std::deque<RequestPlan>>& queues) {
  std::size_t n = 0;
  for (const auto& q : queues) n += q.size();
  return n;
}

// Every request sits on its own user's queue.
void expect_users_match_queues(const std::vector<std::deque<RequestPlan>>& queues) {
  for (std::size_t u = 0; u < queues.size(); ++u)
    for (const auto& p : queues[u]) EXPECT_EQ(p.user, u);
}

}  // namespace

TEST(Plan, ContextSweepStepPerContextWarmupsThenCounted) {
  Scenario sc = scenario("scenario: context_sweep\ncontexts: [128, 512]\nconcurrency: 2\nwarmup: 3\nrepetitions: 5\n"
                         "output_tokens: 7\ntemperature: 0.5\n");
  Plan plan = make_plan(sc);
  ASSERT_EQ(plan.steps.size(), 2u);
  const StepSpec& s = plan.steps[1];
  EXPECT_EQ(s.key, (StepKey{StepKey::Kind::context_tokens, 512, {}}));
  EXPECT_EQ(s.label, "context 512");
  EXPECT_EQ(s.context_tokens, 512);
  EXPECT_EQ(s.users, 2);
  // Warm-ups over min(concurrency, warmup) users, round-robin: 2 + 1.
  ASSERT_EQ(s.warm.size(), 2u);
  EXPECT_EQ(s.warm[0].size(), 2u);
  EXPECT_EQ(s.warm[1].size(), 1u);
  // Counted over all users: 3 + 2.
  ASSERT_EQ(s.count.size(), 2u);
  EXPECT_EQ(s.count[0].size(), 3u);
  EXPECT_EQ(s.count[1].size(), 2u);
  EXPECT_EQ(s.requests(), 8u);
  expect_users_match_queues(s.warm);
  expect_users_match_queues(s.count);
  for (const auto* queues : {&s.warm, &s.count})
    for (const auto& q : *queues)
      for (const auto& p : q) {
        EXPECT_EQ(p.warmup, queues == &s.warm);
        EXPECT_EQ(p.prompt_tokens, 512u);
        EXPECT_EQ(p.max_tokens, 7u);
        EXPECT_EQ(p.temperature, 0.5);
        EXPECT_EQ(p.prompt, nullptr);
        EXPECT_TRUE(p.built.text.empty()) << "prompts of N tokens are built when the step runs";
      }
}

TEST(Plan, NoWarmupLeavesOneEmptyWarmQueue) {
  Plan plan = make_plan(scenario("scenario: context_sweep\ncontexts: [64]\nconcurrency: 4\nwarmup: 0\nrepetitions: 6\n"));
  ASSERT_EQ(plan.steps.size(), 1u);
  EXPECT_EQ(total(plan.steps[0].warm), 0u);
  EXPECT_EQ(plan.steps[0].count.size(), 4u);
  EXPECT_EQ(total(plan.steps[0].count), 6u);
}

TEST(Plan, ConcurrencySweepClosedLoopKeepsWarmupsOnEachUsersQueue) {
  Plan plan = make_plan(scenario("scenario: concurrency_sweep\nusers: [1, 3]\nprompt_tokens: 100\nwarmup: 1\n"
                                 "repetitions: 2\noutput_tokens: 9\n"));
  ASSERT_EQ(plan.steps.size(), 2u);
  const StepSpec& s = plan.steps[1];
  EXPECT_EQ(s.key, (StepKey{StepKey::Kind::users, 3, {}}));
  EXPECT_EQ(s.label, "3 users");
  EXPECT_EQ(s.context_tokens, 100);
  EXPECT_EQ(s.users, 3);
  EXPECT_EQ(total(s.warm), 0u) << "closed loop: no barrier";
  ASSERT_EQ(s.count.size(), 3u);
  for (const auto& q : s.count) {
    ASSERT_EQ(q.size(), 3u);
    EXPECT_TRUE(q[0].warmup);
    EXPECT_FALSE(q[1].warmup);
    EXPECT_FALSE(q[2].warmup);
    EXPECT_EQ(q[0].prompt_tokens, 100u);
    EXPECT_EQ(q[0].max_tokens, 9u);
  }
  expect_users_match_queues(s.count);
}

TEST(Plan, ConcurrencySweepOpenLoopMovesWarmupsBeforeTheArrivals) {
  Plan plan = make_plan(scenario("scenario: concurrency_sweep\nusers: [2]\nwarmup: 2\nrepetitions: 3\n"
                                 "arrival: {mode: poisson, rate: 5}\n"));
  ASSERT_EQ(plan.steps.size(), 1u);
  const StepSpec& s = plan.steps[0];
  ASSERT_EQ(s.warm.size(), 2u);
  ASSERT_EQ(s.count.size(), 2u);
  for (std::size_t u = 0; u < 2; ++u) {
    EXPECT_EQ(s.warm[u].size(), 2u);
    EXPECT_EQ(s.count[u].size(), 3u);
    for (const auto& p : s.warm[u]) EXPECT_TRUE(p.warmup);
    for (const auto& p : s.count[u]) EXPECT_FALSE(p.warmup);
  }
  expect_users_match_queues(s.warm);
  expect_users_match_queues(s.count);
}

TEST(Plan, ProtocolStepPerPromptWithItsTextAndSettings) {
  Scenario sc = parse_scenario("engine: {kind: ollama, url: http://x, model: m}\nscenario: protocol\nwarmup: 1\n"
                               "repetitions: 2\ntemperature: 0.9\nprompts:\n"
                               "  - {name: a, text: hello there, max_tokens: 11, temperature: 0.1}\n"
                               "  - {name: b, text: again}\n",
                               "plan.yaml");
  Plan plan = make_plan(sc);
  ASSERT_EQ(plan.steps.size(), 2u);
  const StepSpec& a = plan.steps[0];
  const StepSpec& b = plan.steps[1];
  EXPECT_EQ(a.key, (StepKey{StepKey::Kind::prompt, 0, "a"}));
  EXPECT_EQ(a.label, "a");
  EXPECT_EQ(a.context_tokens, -1);
  EXPECT_EQ(a.users, 1);
  EXPECT_EQ(total(a.warm), 1u);
  EXPECT_EQ(total(a.count), 2u);
  const RequestPlan& p = a.count[0].front();
  EXPECT_EQ(p.prompt, &sc.prompts[0]) << "points into the scenario";
  EXPECT_EQ(p.prompt_tokens, 0u);
  EXPECT_EQ(p.built.text, "hello there");
  EXPECT_EQ(p.built.source, "text");
  EXPECT_EQ(p.max_tokens, 11u);
  EXPECT_EQ(p.temperature, 0.1);
  EXPECT_EQ(b.count[0].front().temperature, 0.9) << "the scenario's temperature when the prompt has none";
  EXPECT_EQ(b.count[0].front().max_tokens, sc.output_tokens);
}

TEST(Plan, IsAPureFunctionOfTheScenario) {
  Scenario sc = scenario("scenario: concurrency_sweep\nusers: [2, 4]\nwarmup: 1\nrepetitions: 2\n"
                         "arrival: {mode: gamma, rate: 3, burstiness: 0.5}\n");
  Plan one = make_plan(sc), two = make_plan(sc);
  ASSERT_EQ(one.steps.size(), two.steps.size());
  for (std::size_t i = 0; i < one.steps.size(); ++i) {
    EXPECT_EQ(one.steps[i].key, two.steps[i].key);
    EXPECT_EQ(one.steps[i].label, two.steps[i].label);
    EXPECT_EQ(one.steps[i].requests(), two.steps[i].requests());
    EXPECT_EQ(one.steps[i].requests(), static_cast<std::size_t>(one.steps[i].users) * 3);
  }
}

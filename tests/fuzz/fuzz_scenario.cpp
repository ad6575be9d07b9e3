// The scenario YAML parser of `tierscope bench`: parse_scenario either returns
// a Scenario within the documented limits or throws ScenarioError; nothing
// else may escape it. A returned Scenario, written back as YAML (the
// effective scenario.yaml), parses to the same text.
#include <algorithm>
#include <cstdint>
#include <exception>
#include <string>

#include "tests/fuzz/fuzz_common.h"
#include "workloads/scenario.h"

using namespace tierscope::workloads;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = tierscope::fuzz::as_text(data, size);
  Scenario s;
  try {
    s = parse_scenario(text, "fuzz.yaml");
  } catch (const ScenarioError&) {
    return 0;
  }
  // Every scenario names its engine, except a soak that only observes.
  FUZZ_CHECK(!s.engine.url.empty() || s.kind == ScenarioKind::soak);
  FUZZ_CHECK(s.trim >= 0 && s.trim < 0.5);
  FUZZ_CHECK(s.failure_threshold > 0 && s.failure_threshold <= 1);
  FUZZ_CHECK(s.repetitions >= 1);
  FUZZ_CHECK(s.kind != ScenarioKind::context_sweep || !s.contexts.empty());
  FUZZ_CHECK(s.kind != ScenarioKind::concurrency_sweep || !s.users.empty());
  FUZZ_CHECK(s.kind != ScenarioKind::protocol || !s.prompts.empty());
  // scenario: ab: a sweep, two named arms with an engine each, both in the schedule.
  if (s.ab) {
    FUZZ_CHECK(s.kind == ScenarioKind::context_sweep || s.kind == ScenarioKind::concurrency_sweep);
    FUZZ_CHECK(!s.ab->arms[0].name.empty() && s.ab->arms[0].name != s.ab->arms[1].name);
    FUZZ_CHECK(!s.ab->arms[0].engine.url.empty() && !s.ab->arms[1].engine.url.empty());
    const auto schedule = ab_schedule(s.ab->order, s.ab->blocks);
    FUZZ_CHECK(schedule.size() == s.ab->blocks);
    FUZZ_CHECK(std::count(schedule.begin(), schedule.end(), 0u) > 0 && std::count(schedule.begin(), schedule.end(), 1u) > 0);
  }
  const std::string yaml = to_yaml(s);
  Scenario again;
  try {
    again = parse_scenario(yaml, "effective.yaml");
  } catch (const ScenarioError& e) {
    // Strings with bytes the emitter cannot round-trip are allowed to fail.
    return 0;
  }
  FUZZ_CHECK(to_yaml(again) == yaml, yaml);
  return 0;
}

#pragma once
// The scenario file of `tierscope bench` (docs/benchmarks.md): which engine,
// which sweep, how many requests. Parsed as strictly as the daemon config:
// unknown keys, wrong types and out-of-range values are errors naming
// "file:line:col: key: expected …", with a did-you-mean for misspelt keys.
// `--set key=value` overrides are applied to the YAML tree (dotted keys,
// values read as YAML, e.g. contexts=[1024,2048]) before validation.

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "probes/workload.h"
#include "workloads/budget_request.h"
#include "workloads/cost.h"
#include "workloads/engine_launch.h"
#include "workloads/engines/dialect.h"
#include "workloads/push.h"

namespace tierscope {
struct RecorderOptions;  // exporters/recorder.h
}

namespace tierscope::workloads {

class ScenarioError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class EngineKind { llamacpp, ollama, vllm, openai };
enum class ScenarioKind { context_sweep, concurrency_sweep, protocol, soak };
enum class ArrivalMode { closed, poisson, gamma };

std::string_view to_string(EngineKind k);
std::string_view to_string(ScenarioKind k);
std::string_view to_string(ArrivalMode m);

// engine.launch: tierscope starts the engine itself (workloads/engine_launch.h).
struct LaunchConfig {
  LaunchSpec spec;    // spec.url is engine.url; spec.ready defaults to the engine kind's check
  std::string model;  // engine.launch.model: what {model} expands to, an absolute path to a regular file; "" when not given
};

struct EngineConfig {
  EngineKind kind = EngineKind::llamacpp;
  // Base URL, e.g. http://127.0.0.1:8080 (no trailing slash after parsing).
  // With engine.launch it may hold {port} and defaults to http://127.0.0.1:{port};
  // without, it holds no placeholder.
  std::string url;
  std::string model;  // sent as "model"; may be empty for llama.cpp
  std::string api;    // llamacpp: completion|chat|completions; openai/vllm: chat|completions; ollama: generate|chat
  std::string api_key;                 // sent as "Authorization: Bearer …"; empty: none
  std::optional<std::uint32_t> num_ctx;  // Ollama options.num_ctx; default prompt + output tokens + 64
  std::optional<LaunchConfig> launch;    // absent: the engine is already running at url
  Dialect dialect() const;
};

struct ArrivalConfig {
  ArrivalMode mode = ArrivalMode::closed;
  double rate = 1.0;        // requests per second (poisson, gamma)
  double burstiness = 1.0;  // gamma shape; 1 = Poisson, < 1 burstier, > 1 more regular
  std::uint64_t seed = 1;
};

struct PromptSpec {
  std::string name;
  std::string text;
  std::uint32_t max_tokens = 128;
  std::optional<double> temperature;
};

// scenario: soak — the leak thresholds (`leak:`), passed to analyze_leak's
// LeakOptions (workloads/leak.h); absent: its defaults.
struct SoakLeakSettings {
  std::optional<std::chrono::milliseconds> min_duration;
  std::optional<std::uint32_t> min_points;
  std::optional<double> confidence;
  std::optional<std::uint64_t> noise_floor;  // bytes, for the byte tiers
  std::optional<double> noise_floor_count;   // fds, threads (default 2)
  std::optional<std::uint32_t> max_points;
  std::optional<std::uint32_t> blocks;
};

// scenario: soak (docs/soak.md). The load comes from the bench keys: users
// (closed loop; one number), arrival (open loop), prompt_tokens,
// output_tokens, request_timeout, engine (absent: no load, observe only).
struct SoakConfig {
  std::chrono::milliseconds duration{0};  // the whole run, idle tail included
  std::chrono::milliseconds idle_tail{std::chrono::minutes(10)};
  std::chrono::milliseconds checkpoint_interval{std::chrono::minutes(1)};
  std::chrono::milliseconds sample_interval{std::chrono::seconds(1)};
  bool load = false;                    // an engine section was given: send requests
  WorkloadSelection workload;           // `workload:` (the daemon config's keys); empty: none (or the launched engine)
  SoakLeakSettings leak;
  std::shared_ptr<const RecorderOptions> record;  // `record:`; null: the defaults, in the run directory
  // The load phase: duration - idle_tail.
  std::chrono::milliseconds load_duration() const { return duration - idle_tail; }
};

// scenario: ab (docs/benchmarks.md "A/B runs"): two arms over the same sweep,
// in interleaved blocks. Each arm is the scenario's engine and limits with
// the arm's overrides merged over them (mappings key by key, a null value
// removes the key), validated as the scenario's own are.
struct AbArm {
  std::string name;      // arms.X.name; default "a" or "b"
  EngineConfig engine;   // engine with arms.X.engine merged over it
  BudgetRequest limits;  // limits with arms.X.limits merged over them
};

struct AbConfig {
  ScenarioKind sweep = ScenarioKind::context_sweep;  // context_sweep or concurrency_sweep
  std::string order = "ABBA";                       // A and B, repeated to `blocks`
  std::uint32_t blocks = 4;
  std::chrono::milliseconds cooldown{std::chrono::seconds(10)};  // between blocks
  double margin = 0.05;    // equivalence margin of the comparison (relative)
  std::uint64_t seed = 1;  // the bootstrap's seed
  std::string unit = "auto";  // auto | requests | blocks
  std::array<AbArm, 2> arms;
};

// The arms in block order: `order` repeated (and cut) to `blocks` entries,
// 0 for arm a, 1 for arm b; e.g. ABBA, 6 -> a b b a a b. Pure.
std::vector<std::size_t> ab_schedule(std::string_view order, std::uint32_t blocks);

struct Scenario {
  EngineConfig engine;
  ScenarioKind kind = ScenarioKind::context_sweep;
  std::vector<std::uint32_t> contexts;  // context_sweep: prompt tokens per step
  std::vector<std::uint32_t> users;     // concurrency_sweep: concurrent users per step; soak: one entry, the closed loop's users
  std::uint32_t prompt_tokens = 512;    // concurrency_sweep: prompt tokens of every request
  std::uint32_t concurrency = 1;        // context_sweep, protocol: requests in flight
  std::uint32_t output_tokens = 128;
  std::uint32_t warmup = 1;
  std::uint32_t repetitions = 5;
  bool stop_on_failure = true;
  double failure_threshold = 0.5;  // share of a step's counted requests failing that fails the step
  std::optional<double> temperature;
  std::optional<bool> ignore_eos;  // default: true for llamacpp and vllm, false otherwise
  std::chrono::milliseconds request_timeout{std::chrono::seconds(300)};
  std::chrono::milliseconds run_deadline{0};  // 0: none
  std::chrono::milliseconds health_timeout{std::chrono::seconds(120)};
  double trim = 0.10;
  ArrivalConfig arrival;
  std::vector<PromptSpec> prompts;  // protocol
  std::string listen = "off";       // live /metrics address HOST:PORT, or off
  BudgetRequest limits;             // the engine's memory budget (needs engine.launch); empty: none
  std::optional<PushConfig> push;   // push the run's metrics to a Pushgateway at the end; absent: no push
  SoakConfig soak;                  // scenario: soak
  std::optional<CostConfig> cost;   // `cost:` (docs/cost.md); absent or enabled: false: no cost figures
  // `slo: {ttft_ms, tpot_ms}`: the latency objective the report's goodput is
  // counted against (milliseconds); written to summary.json as given.
  struct Slo {
    std::optional<double> ttft_ms, tpot_ms;
  };
  std::optional<Slo> slo;
  // scenario: ab; `kind` is then ab->sweep, `engine` and `limits` the base
  // the arms' overrides were merged over.
  std::optional<AbConfig> ab;

  bool effective_ignore_eos() const;
};

struct Override {
  std::string key;    // dotted, e.g. engine.url
  std::string value;  // YAML text
};

// Parses "key=value" (--set). Throws ScenarioError.
Override parse_override(std::string_view text);

// `file` names the source in messages. Throws ScenarioError.
Scenario parse_scenario(std::string_view yaml, const std::string& file, const std::vector<Override>& overrides = {});
Scenario load_scenario(const std::string& path, const std::vector<Override>& overrides = {});

// The scenario one arm of an A/B run runs: the sweep with the arm's engine
// and limits, without `ab`.
Scenario arm_scenario(const Scenario& ab, std::size_t arm);

// The scenario as YAML, every key explicit; parse_scenario() reads it back to
// the same Scenario.
std::string to_yaml(const Scenario& s);

// The nine-prompt protocol set (config/scenarios/protocol.yaml ships the same).
std::vector<PromptSpec> default_protocol_prompts();

}  // namespace tierscope::workloads

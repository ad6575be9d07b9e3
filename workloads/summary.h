#pragma once
// What a run produces, as typed values: a RequestRecord per request (one line
// of requests.jsonl), a StepSummary per step (the step's statistics), the
// step results with the wall, and the RunSummary (summary.json). The files
// and the console table are rendered from these values; nothing is read back
// from JSON. docs/benchmarks.md defines every field.
//
// Units: *_ms milliseconds; t_send Unix time in seconds; scheduled_s and
// wall_s seconds; *_per_s per second over the step's wall time (first send
// to last end of its counted requests); tokens are tokens.
// Threading: plain values and pure functions, except write_atomically (file I/O).

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "workloads/engine_stream.h"
#include "workloads/http_stream.h"
#include "workloads/plan.h"
#include "workloads/scenario.h"
#include "workloads/stats.h"

namespace tierscope::workloads {

// One request, as requests.jsonl records it.
struct RequestRecord {
  std::size_t step = 0;
  std::optional<std::int64_t> context_tokens;  // the step's prompt tokens (sweeps)
  std::optional<std::int64_t> users;           // the step's users
  std::optional<std::string> prompt;           // protocol: the prompt's name
  std::uint64_t request_id = 0;
  std::uint32_t user = 0;
  bool warmup = false;
  double t_send = 0;                 // Unix time the request went to the transport
  std::optional<double> scheduled_s;  // open loop: the arrival time, from the step's first arrival
  std::optional<double> t_headers_ms;
  std::optional<double> ttft_ms;  // first content chunk
  std::vector<double> itl_ms;     // gaps between content chunks
  double e2e_ms = 0;
  std::optional<std::uint64_t> prompt_tokens;         // usage, else engine timings, else the tokenizer's count
  std::optional<std::uint32_t> prompt_tokens_target;  // sweeps
  std::string prompt_source;                          // tokenizer | calibrated | estimated | text
  std::uint64_t output_tokens = 0;
  std::string tokens_source;  // usage | engine_timings | chunks
  std::uint64_t content_chunks = 0;
  long http_status = 0;
  Outcome outcome = Outcome::ok;
  std::string error;
  std::optional<std::string> finish_reason;
  std::optional<bool> truncated;
  std::optional<EngineTimings> engine_timings;
  std::uint64_t body_bytes = 0;
  TransferOutcome transport = TransferOutcome::ok;
  std::optional<double> repetition_score;  // protocol
  // scenario: ab: the arm ("a" or "b") and the block (0-based) that sent it.
  std::optional<std::string> arm;
  std::optional<std::uint32_t> block;
  // scenario: ab: false for a counted request of a step whose engine did not
  // start (outcome the engine's: oom, engine_down); absent for a request sent.
  std::optional<bool> sent;
};

nlohmann::json to_json(const RequestRecord& record);

// A step's statistics over its counted (non-warm-up) requests; the latency
// statistics over the ok ones.
struct StepSummary {
  std::uint64_t requests = 0;
  std::uint64_t ok = 0;
  std::map<std::string, std::uint64_t> failures;  // outcome name → requests
  bool failed = false;  // (requests − ok) / requests ≥ failure_threshold
  Summary ttft_ms, tpot_ms, itl_ms, e2e_ms;
  Summary output_tokens_per_s;  // per request: (output tokens − 1) / (e2e − ttft)
  double wall_s = 0;
  std::uint64_t input_tokens = 0, output_tokens = 0;  // of the ok requests
  std::optional<double> total_tokens_per_s;             // absent when wall_s is 0
  std::optional<double> output_tokens_per_s_aggregate;  // absent when wall_s is 0
  std::optional<double> requests_per_s;                 // ok requests; absent when wall_s is 0
  std::optional<double> completion_rate;                // ok / requests; absent without requests
  std::optional<double> finished_stop_rate;             // finish_reason "stop" / ok; absent without ok
  std::optional<Summary> repetition_score;              // protocol
};

StepSummary summarize_step(std::span<const RequestRecord> records, double trim, double failure_threshold);

// One entry of summary.json "steps".
struct StepResult {
  std::size_t step = 0;
  StepKey key;
  std::string label;
  std::int64_t users = -1;  // -1: none
  StepSummary stats;
  bool complete = false;  // every planned request ran (false: interrupt, deadline)
  nlohmann::json engine_metrics;  // the engine's own figures (engine_facts.h), as it reported them
  // engine.launch: "engine_down" or "oom" when the engine did not start for
  // this step or ended during it (the step then failed); absent otherwise.
  std::optional<std::string> engine_outcome;
  std::optional<nlohmann::json> engine_run;  // engine.launch: the launch, and how it ended
  std::optional<nlohmann::json> memory;      // engine.launch: the workload's memory (workload_watch.h summary)
  // scenario: ab: the arm; `block` for the step as one block ran it, `blocks`
  // (one entry per block: block, complete, requests, ok, engine_outcome) for
  // the arm's step over every block (summary.json's entries).
  std::optional<std::string> arm;
  std::optional<std::uint32_t> block;
  std::optional<nlohmann::json> blocks;
};

// Where the sweep hit its wall: the first failed step and its most frequent
// failure (the first in name order on a tie).
struct Wall {
  StepKey key;
  std::size_t step = 0;
  std::string outcome;
};

// The wall a step marks; nullopt when it did not fail.
std::optional<Wall> wall_of(const StepResult& step);

// summary.json.
struct RunSummary {
  std::string scenario;  // context_sweep | concurrency_sweep | protocol
  std::string started, updated;
  std::optional<std::string> finished;
  std::string status = "running";  // running | engine_unavailable | complete | interrupted | deadline
  std::vector<StepResult> steps;
  std::optional<Wall> wall;
  double failure_threshold = 0, trim = 0;
  ArrivalConfig arrival;
  std::optional<nlohmann::json> engine;   // describe_engine()
  std::optional<nlohmann::json> prompts;  // PromptBuilder::facts()
  std::optional<std::string> error;
  std::optional<std::uint64_t> in_flight_interrupted;  // requests in flight at SIGINT/SIGTERM, recorded as interrupted
  std::optional<nlohmann::json> limits;          // the memory budget as applied (memory_budget.h describe())
  std::optional<nlohmann::json> predicted_wall;  // from the model file (memory_wall.h), beside `wall`
  std::optional<std::string> manifest_sha256;  // of the run's manifest.json (workloads/manifest.h)
  std::optional<nlohmann::json> slo;           // scenario key slo, as given ({ttft_ms, tpot_ms})
  std::optional<nlohmann::json> cost;          // scenario key cost (workloads/cost.h CostMeter::summary)
  // scenario: ab (docs/benchmarks.md "A/B runs"): the settings as applied
  // with the order realised, each arm (name, engine, limits), each arm's wall
  // ({a: Wall|null, b: …}) and the comparison (ab_stats.h compare_requests).
  std::optional<nlohmann::json> ab, arms, walls, comparison;
};

nlohmann::json to_json(const StepKey& key);
nlohmann::json to_json(const Wall& wall);
nlohmann::json to_json(const StepSummary& stats);  // the statistics fields of a step entry
nlohmann::json to_json(const StepResult& step);
nlohmann::json to_json(const RunSummary& summary);
// summary.csv: a header, then one row per step.
std::string summary_csv(const RunSummary& summary);
// The table printed at the end of a run, the wall and where the results are.
void print_table(std::ostream& os, const RunSummary& summary, const std::string& out_dir);

// Writes `text` to `path` through a temporary file and rename().
void write_atomically(const std::string& path, const std::string& text);

// The time now in UTC through strftime(3) `format`: by default
// 2026-12-02T10:00:00Z (summary.json, soak.json); "bench-%Y%m%dT%H%M%SZ"
// names a run directory.
std::string utc_now(const char* format = "%Y-%m-%dT%H:%M:%SZ");

}  // namespace tierscope::workloads

#pragma once
// Comparing two sets of request records (requests.jsonl objects, arm a and
// arm b) step by step: the statistics of workloads/ab_stats.h per step and
// metric, the verdict, the "OOM vs success" headline, and their Markdown.
// docs/ab.md describes the result for users.
//
// Steps are matched by their key: the records' context_tokens, users and
// prompt together (whichever are present). Warm-up records are left out.
// Per step and arm: requests, outcomes ({"ok": 5} / {"oom": 5}), completion
// (ok / requests). Per metric, over the ok requests:
//   ttft_ms              the record's ttft_ms (lower is better);
//   tpot_ms              (e2e_ms − ttft_ms)/(output_tokens − 1), records with
//                        ≥ 2 output tokens and e2e > ttft (lower is better);
//   e2e_ms               the record's e2e_ms (lower is better);
//   output_tokens_per_s  (output_tokens − 1)/((e2e_ms − ttft_ms)/1000), the
//                        same records as tpot (higher is better).
// (summary.json computes them the same way: workloads/summary.h.)
//
// The unit of the statistics ("unit"):
//   requests  when every request of the step ran alone in both arms: no
//             record says users > 1 and no two requests of one arm overlap in
//             time (send = t_send, end = t_send + e2e_ms; an overlap under
//             0.1 ms is not counted);
//   blocks    otherwise, when the records carry `block` and each arm has ≥ 3
//             blocks with values: a block's value is the median of its
//             requests, and the statistics run over the block values;
//   requests  otherwise, with a `caveat`: the requests ran concurrently and
//             may be correlated by batching, so the intervals may be too narrow.
// CompareOptions::unit "requests" or "blocks" forces the unit ("blocks"
// falls back to requests with a caveat when there are not 3 blocks per arm).
//
// Threading: pure functions.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "workloads/ab_stats.h"

namespace tierscope::workloads {

struct CompareOptions {
  double margin = 0.05;  // TOST equivalence margin: b/a within [1/(1+margin), 1+margin]
  BootstrapOptions bootstrap;
  std::string unit = "auto";         // auto | requests | blocks
  std::vector<MetricSpec> metrics;   // empty = default_metrics()
  // Optional: the planned step keys in order (as step_keys() gives them): the
  // steps come in this order, and a planned step no arm ran is listed.
  std::vector<nlohmann::json> planned;
  // Optional: summary.json "steps" of each arm. A step there with an
  // engine_outcome ("oom", "engine_down": the engine did not start for it, or
  // ended during it) shows it as the arm's "engine_outcome", also when the step
  // has no records; matched to the records' step by the key fields both have.
  nlohmann::json steps_a, steps_b;
};

// ttft_ms, tpot_ms, e2e_ms (lower is better), output_tokens_per_s (higher is better).
std::vector<MetricSpec> default_metrics();

// The comparison (docs/ab.md "comparison.json"):
// {"a": {"name"}, "b": {"name"}, "margin", "confidence", "bootstrap": {resamples, seed, method},
//  "unit_option", "steps": [{"key": {context_tokens?, users?, prompt?}, "label",
//    "a"/"b": {"requests", "ok", "outcomes": {outcome: n}, "completion" (null without requests), "blocks",
//              "engine_outcome"?},
//    "unit", "caveat"?, "headline",
//    "metrics": {name: {"lower_is_better", "unit", "n_a", "n_b", "median_a", "median_b",
//                       "ratio": {value, low, high} | null, "welch": {diff, low, high, t, dof, p} | null,
//                       "mann_whitney": {u, z, p, exact} | null, "tost": {margin, p, equivalent} | null,
//                       "verdict": better|worse|equivalent|inconclusive, "word": faster|slower|…}}}]}
// Steps are ordered as `planned`, then as they first appear in a, then in b. A
// step one arm did not run has that arm's requests 0 and completion null; its
// outcomes read "not run", or "engine oom, no request ran" with an
// engine_outcome.
nlohmann::json compare_requests(const std::vector<nlohmann::json>& a, const std::vector<nlohmann::json>& b,
                                const std::string& a_name, const std::string& b_name, const CompareOptions& o = {});

// The tables: the OOM vs success table (outcomes per arm and the headline)
// first, then one table per metric, then the caveats and the method.
std::string comparison_markdown(const nlohmann::json& comparison);

// The step keys of a set of records in first-appearance order, warm-ups
// left out (as compare_requests matches them), e.g. {"context_tokens":4096,"users":1}.
std::vector<nlohmann::json> step_keys(const std::vector<nlohmann::json>& records);

}  // namespace tierscope::workloads

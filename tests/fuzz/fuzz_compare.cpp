// What `tierscope compare` and the A/B runner read from outside: request
// records (requests.jsonl lines, one JSON object a line; "arm": "b" sends a
// record to arm b, any other to arm a) through compare_requests, and any JSON
// as a comparison through comparison_markdown. Neither throws; every request
// that is not a warm-up is counted in exactly one step; outcomes add up to
// the requests; completion, p-values and intervals are in range.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/fuzz/fuzz_common.h"
#include "workloads/compare.h"

using namespace tierscope;
using namespace tierscope::workloads;
using nlohmann::json;

namespace {

bool probability(const json& v) { return v.is_number() && v.get<double>() >= 0 && v.get<double>() <= 1; }

std::uint64_t counted(const std::vector<json>& records) {
  std::uint64_t n = 0;
  for (const json& r : records) {
    if (!r.is_object()) continue;
    const auto w = r.find("warmup");
    if (w != r.end() && w->is_boolean() && w->get<bool>()) continue;
    ++n;
  }
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = fuzz::as_text(data, size);
  const json whole = json::parse(text, nullptr, false);
  if (!whole.is_discarded()) (void)comparison_markdown(whole);

  std::vector<json> a, b;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const json r = json::parse(text.substr(start, end - start), nullptr, false);
    start = end + 1;
    if (r.is_discarded()) continue;
    const bool to_b = r.is_object() && r.contains("arm") && r["arm"] == "b";
    (to_b ? b : a).push_back(r);
  }
  CompareOptions o;
  o.bootstrap.resamples = 200;
  const json c = compare_requests(a, b, "a", "b", o);
  std::uint64_t requests_a = 0, requests_b = 0;
  for (const json& step : c["steps"]) {
    for (const char* arm : {"a", "b"}) {
      const json& s = step[arm];
      std::uint64_t sum = 0;
      for (const auto& [name, n] : s["outcomes"].items()) sum += n.get<std::uint64_t>();
      FUZZ_CHECK(sum == s["requests"].get<std::uint64_t>());
      FUZZ_CHECK(s["ok"].get<std::uint64_t>() <= sum);
      FUZZ_CHECK(s["completion"].is_null() ? sum == 0 : probability(s["completion"]));
    }
    requests_a += step["a"]["requests"].get<std::uint64_t>();
    requests_b += step["b"]["requests"].get<std::uint64_t>();
    for (const auto& [name, m] : step["metrics"].items()) {
      FUZZ_CHECK(m["n_a"].get<std::uint64_t>() <= step["a"]["ok"].get<std::uint64_t>() || step["unit"] == "blocks");
      if (m["ratio"].is_object()) FUZZ_CHECK(m["ratio"]["low"].get<double>() <= m["ratio"]["high"].get<double>());
      if (m["welch"].is_object()) FUZZ_CHECK(probability(m["welch"]["p"]));
      if (m["mann_whitney"].is_object()) FUZZ_CHECK(probability(m["mann_whitney"]["p"]));
      if (m["tost"].is_object()) FUZZ_CHECK(probability(m["tost"]["p"]));
      const std::string verdict = m["verdict"].get<std::string>();
      FUZZ_CHECK(verdict == "better" || verdict == "worse" || verdict == "equivalent" || verdict == "inconclusive");
    }
  }
  FUZZ_CHECK(requests_a == counted(a));
  FUZZ_CHECK(requests_b == counted(b));
  const std::string md = comparison_markdown(c);
  FUZZ_CHECK(md.find("### Outcomes (OOM vs success)") != std::string::npos);
  return 0;
}

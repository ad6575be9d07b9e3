// compare_requests / comparison_markdown (workloads/compare.h) on literal
// request records: steps matched by key, warm-ups left out, outcomes per arm,
// the metrics derived from the records, the unit (requests or blocks) and its
// caveat, the verdict and the OOM vs success headline.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "workloads/compare.h"

using namespace tierscope::workloads;
using nlohmann::json;

namespace {

struct Rec {
  std::int64_t context = 1024;
  std::int64_t users = 1;
  std::string outcome = "ok";
  double ttft = 20, e2e = 100;
  std::uint64_t tokens = 9;
  double t_send = 0;
  std::optional<int> block;
  bool warmup = false;
};

json record(const Rec& r) {
  json j = {{"step", 0},          {"context_tokens", r.context}, {"users", r.users},   {"warmup", r.warmup},
            {"t_send", r.t_send}, {"ttft_ms", r.ttft},           {"e2e_ms", r.e2e},     {"output_tokens", r.tokens},
            {"outcome", r.outcome}};
  if (r.block) j["block"] = *r.block;
  return j;
}

// n sequential ok requests (1 s apart, each well under 1 s): TTFT base − 2 … base + 2 (median base),
// e2e − ttft 80, 81 or 82 ms; whole numbers, so derived figures are exact.
std::vector<json> sequential(std::int64_t context, int n, double ttft_base, double start = 1000) {
  std::vector<json> out;
  for (int i = 0; i < n; ++i) {
    Rec r;
    r.context = context;
    r.ttft = ttft_base + ((i * 7) % 5 - 2);
    r.e2e = r.ttft + 80 + (i % 3);
    r.t_send = start + i;
    out.push_back(record(r));
  }
  return out;
}

std::vector<json> failing(std::int64_t context, int n, const std::string& outcome, double start = 2000) {
  std::vector<json> out;
  for (int i = 0; i < n; ++i) {
    Rec r;
    r.context = context;
    r.outcome = outcome;
    r.e2e = 5;
    r.t_send = start + i;
    out.push_back(record(r));
  }
  return out;
}

void append(std::vector<json>& to, const std::vector<json>& more) { to.insert(to.end(), more.begin(), more.end()); }

}  // namespace

TEST(Compare, SlowerArmAndTheOomVsSuccessHeadline) {
  std::vector<json> a = sequential(1024, 10, 20);
  std::vector<json> b = sequential(1024, 10, 40);
  append(a, failing(32768, 5, "oom"));
  append(b, sequential(32768, 5, 400, 3000));
  // A warm-up with an absurd TTFT: left out everywhere.
  Rec warm;
  warm.warmup = true;
  warm.ttft = 1e6;
  warm.e2e = 2e6;
  a.insert(a.begin(), record(warm));

  json c = compare_requests(a, b, "offload-off", "offload-on");
  ASSERT_EQ(c["steps"].size(), 2u);
  const json& small = c["steps"][0];
  EXPECT_EQ(small["key"], json::parse(R"({"context_tokens":1024,"users":1})"));
  EXPECT_EQ(small["label"], "1024 context");
  EXPECT_EQ(small["a"]["requests"], 10);
  EXPECT_EQ(small["a"]["outcomes"], json::parse(R"({"ok":10})"));
  EXPECT_EQ(small["a"]["completion"], 1.0);
  EXPECT_EQ(small["unit"], "requests");
  EXPECT_FALSE(small.contains("caveat"));
  const json& ttft = small["metrics"]["ttft_ms"];
  EXPECT_EQ(ttft["n_a"], 10);
  EXPECT_EQ(ttft["verdict"], "worse");
  EXPECT_EQ(ttft["word"], "slower");
  EXPECT_NEAR(ttft["ratio"]["value"].get<double>(), 2.0, 1e-12);
  EXPECT_LE(ttft["ratio"]["low"].get<double>(), 2.0);
  EXPECT_GE(ttft["ratio"]["high"].get<double>(), 2.0);
  EXPECT_NEAR(ttft["welch"]["diff"].get<double>(), 20.0, 0.5);
  EXPECT_LT(ttft["mann_whitney"]["p"].get<double>(), 0.001);
  EXPECT_FALSE(ttft["mann_whitney"]["exact"].get<bool>());  // tied values: the normal approximation
  EXPECT_FALSE(ttft["tost"]["equivalent"].get<bool>());
  // Decode is the same in both arms (e2e − ttft ≈ 80 ms over 8 gaps): not slower, not faster.
  const json& tpot = small["metrics"]["tpot_ms"];
  EXPECT_NEAR(tpot["median_a"].get<double>(), 81.0 / 8.0, 1e-12);
  EXPECT_NE(tpot["verdict"], "worse");
  EXPECT_NE(tpot["verdict"], "better");
  EXPECT_NEAR(small["metrics"]["output_tokens_per_s"]["median_a"].get<double>(), 8.0 / 0.081, 1e-9);
  EXPECT_FALSE(small["metrics"]["output_tokens_per_s"]["lower_is_better"].get<bool>());
  EXPECT_EQ(small["headline"].get<std::string>().rfind(
                "at 1024 context: offload-off 10/10 ok; offload-on 10/10 ok, 2.00× slower TTFT [", 0),
            0u)
      << small["headline"];

  const json& wall = c["steps"][1];
  EXPECT_EQ(wall["label"], "32768 context");
  EXPECT_EQ(wall["a"]["outcomes"], json::parse(R"({"oom":5})"));
  EXPECT_EQ(wall["a"]["completion"], 0.0);
  EXPECT_EQ(wall["b"]["ok"], 5);
  EXPECT_TRUE(wall["metrics"]["ttft_ms"]["ratio"].is_null());
  EXPECT_TRUE(wall["metrics"]["ttft_ms"]["median_a"].is_null());
  EXPECT_EQ(wall["metrics"]["ttft_ms"]["verdict"], "inconclusive");
  EXPECT_EQ(wall["headline"], "at 32768 context: offload-off 5/5 oom; offload-on 5/5 ok");
  EXPECT_EQ(c["bootstrap"]["seed"], 1);
  EXPECT_EQ(c["bootstrap"]["resamples"], 10000);

  const std::string md = comparison_markdown(c);
  const auto outcomes = md.find("### Outcomes (OOM vs success)");
  const auto ttft_table = md.find("### TTFT (ms, lower is better)");
  ASSERT_NE(outcomes, std::string::npos) << md;
  ASSERT_NE(ttft_table, std::string::npos) << md;
  EXPECT_LT(outcomes, ttft_table);
  EXPECT_NE(md.find("| 32768 context | 5/5 oom | 5/5 ok | - |"), std::string::npos) << md;
  EXPECT_NE(md.find("| 1024 context | 10/10 ok | 10/10 ok | 2.00× slower TTFT ["), std::string::npos) << md;
  EXPECT_NE(md.find("| 1024 context | requests | 10 | 10 | "), std::string::npos) << md;
  EXPECT_NE(md.find("### decode tokens/s (tokens/s, higher is better)"), std::string::npos) << md;
  EXPECT_EQ(md.find("Caveats"), std::string::npos);
}

TEST(Compare, FasterAndEquivalentAndMixedOutcomes) {
  std::vector<json> a = sequential(1024, 12, 40);
  std::vector<json> b = sequential(1024, 12, 20);
  json c = compare_requests(a, b, "A", "B");
  EXPECT_EQ(c["steps"][0]["metrics"]["ttft_ms"]["verdict"], "better");
  EXPECT_NE(c["steps"][0]["headline"].get<std::string>().find("2.00× faster TTFT ["), std::string::npos)
      << c["steps"][0]["headline"];

  // The same values in both arms, 60 requests: equivalent within 5 %.
  a = sequential(2048, 60, 30);
  b = sequential(2048, 60, 30, 5000);
  c = compare_requests(a, b, "A", "B");
  EXPECT_EQ(c["steps"][0]["metrics"]["ttft_ms"]["verdict"], "equivalent");
  EXPECT_NE(c["steps"][0]["headline"].get<std::string>().find("TTFT equivalent within ±5 %"), std::string::npos);

  // 3 ok + 2 timeouts against 5 ok.
  a = sequential(4096, 3, 30);
  append(a, failing(4096, 2, "timeout"));
  b = sequential(4096, 5, 30);
  c = compare_requests(a, b, "A", "B");
  EXPECT_EQ(c["steps"][0]["a"]["completion"], 0.6);
  EXPECT_EQ(c["steps"][0]["headline"].get<std::string>().rfind("at 4096 context, 1 user: A 3/5 ok, 2/5 timeout; B 5/5 ok", 0),
            0u);
  // A step only one arm ran: "not run" for the other.
  c = compare_requests(a, {}, "A", "B");
  EXPECT_EQ(c["steps"][0]["b"]["requests"], 0);
  EXPECT_TRUE(c["steps"][0]["b"]["completion"].is_null());
  EXPECT_NE(c["steps"][0]["headline"].get<std::string>().find("B not run"), std::string::npos);
}

TEST(Compare, ConcurrentRequestsUseBlocksOrSayTheyMayBeCorrelated) {
  // 4 users at once: every request overlaps the others of its round.
  auto concurrent = [](double ttft, bool blocks, double start) {
    std::vector<json> out;
    for (int block = 0; block < 4; ++block)
      for (int u = 0; u < 4; ++u) {
        Rec r;
        r.users = 4;
        r.ttft = ttft + u + block;
        r.e2e = r.ttft + 100;
        r.t_send = start + block * 10 + 0.001 * u;
        if (blocks) r.block = block;
        out.push_back(record(r));
      }
    return out;
  };
  json c = compare_requests(concurrent(20, true, 0), concurrent(40, true, 100), "A", "B");
  const json& st = c["steps"][0];
  EXPECT_EQ(st["unit"], "blocks");
  EXPECT_FALSE(st.contains("caveat"));
  EXPECT_EQ(st["a"]["blocks"], 4);
  EXPECT_EQ(st["metrics"]["ttft_ms"]["n_a"], 4);  // one value per block: the block's median
  EXPECT_DOUBLE_EQ(st["metrics"]["ttft_ms"]["median_a"].get<double>(), 23.0);  // blocks 21.5, 22.5, 23.5, 24.5
  EXPECT_EQ(st["label"], "1024 context, 4 users");

  c = compare_requests(concurrent(20, false, 0), concurrent(40, false, 100), "A", "B");
  EXPECT_EQ(c["steps"][0]["unit"], "requests");
  EXPECT_NE(c["steps"][0]["caveat"].get<std::string>().find("concurrently"), std::string::npos);
  EXPECT_EQ(c["steps"][0]["metrics"]["ttft_ms"]["n_a"], 16);
  EXPECT_NE(comparison_markdown(c).find("### Caveats"), std::string::npos);

  CompareOptions forced;
  forced.unit = "requests";
  c = compare_requests(concurrent(20, true, 0), concurrent(40, true, 100), "A", "B", forced);
  EXPECT_EQ(c["steps"][0]["unit"], "requests");
  EXPECT_TRUE(c["steps"][0].contains("caveat"));
  forced.unit = "blocks";
  c = compare_requests(sequential(1024, 6, 20), sequential(1024, 6, 30), "A", "B", forced);
  EXPECT_EQ(c["steps"][0]["unit"], "requests");
  EXPECT_NE(c["steps"][0]["caveat"].get<std::string>().find("fewer than 3 blocks"), std::string::npos);
  forced.unit = "pairs";
  EXPECT_THROW(compare_requests({}, {}, "A", "B", forced), std::invalid_argument);

  // Overlap in time alone (users 1 but an open-loop arrival) is concurrency too.
  std::vector<json> overlapping = sequential(1024, 6, 20);
  overlapping[1]["t_send"] = overlapping[0]["t_send"].get<double>() + 0.05;  // inside the first's 100 ms
  c = compare_requests(overlapping, sequential(1024, 6, 20), "A", "B");
  EXPECT_TRUE(c["steps"][0].contains("caveat"));
}

TEST(Compare, StepKeysAndOptions) {
  std::vector<json> a = sequential(1024, 2, 20);
  append(a, sequential(2048, 2, 20));
  Rec warm;
  warm.context = 512;
  warm.warmup = true;
  a.push_back(record(warm));
  const auto keys = step_keys(a);
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0]["context_tokens"], 1024);
  EXPECT_EQ(keys[1]["context_tokens"], 2048);

  CompareOptions o;
  o.margin = 0.1;
  o.bootstrap.seed = 9;
  o.bootstrap.resamples = 500;
  o.metrics = {{"e2e_ms", true}};
  json c = compare_requests(sequential(1024, 5, 20), sequential(1024, 5, 20), "A", "B", o);
  EXPECT_EQ(c["margin"], 0.1);
  EXPECT_EQ(c["bootstrap"]["seed"], 9);
  EXPECT_EQ(c["metrics"], json::array({"e2e_ms"}));
  EXPECT_EQ(c["steps"][0]["metrics"].size(), 1u);
  EXPECT_EQ(c["steps"][0]["metrics"]["e2e_ms"]["tost"]["margin"], 0.1);
  // The same seed, the same interval.
  EXPECT_EQ(c, compare_requests(sequential(1024, 5, 20), sequential(1024, 5, 20), "A", "B", o));
}

TEST(Compare, MarkdownOfAnyJsonDoesNotThrow) {
  for (const char* text : {"null", "[]", "{}", R"({"steps":5})", R"({"steps":[1,{"a":3,"metrics":[]}]})",
                           R"({"metrics":["ttft_ms",3],"steps":[{"metrics":{"ttft_ms":{"ratio":{"value":"x"}}}}]})",
                           R"({"a":{"name":"x|y"},"steps":[{"a":{"requests":-1,"outcomes":{"ok":"5"}}}]})"}) {
    std::string md;
    EXPECT_NO_THROW(md = comparison_markdown(json::parse(text))) << text;
    EXPECT_NE(md.find("### Outcomes"), std::string::npos) << text;
  }
  EXPECT_NE(comparison_markdown(json::parse(R"({"a":{"name":"x|y"}})")).find("x\\|y"), std::string::npos);
  // Records of odd shapes: skipped or counted as what they say, never a throw.
  std::vector<json> odd = {json(3), json::parse(R"({"outcome":5,"ttft_ms":"x"})"), json::parse(R"({"warmup":"yes"})")};
  json c;
  EXPECT_NO_THROW(c = compare_requests(odd, odd, "A", "B"));
  EXPECT_EQ(c["steps"][0]["a"]["outcomes"]["unknown"], 2);
}

TEST(Compare, PlannedStepsAndTheEngineOutcomeOfStepsWithoutRecords) {
  // Arm a's engine ran out of memory while loading for 32768 (summary.json says so; no request ran),
  // and neither arm reached 65536. A concurrency-sweep summary names steps by users alone.
  CompareOptions o;
  o.planned = {json::parse(R"({"context_tokens":1024,"users":1})"), json::parse(R"({"context_tokens":32768,"users":1})"),
               json::parse(R"({"context_tokens":65536,"users":1})")};
  o.steps_a = json::parse(R"([{"context_tokens":1024,"users":1},
                              {"context_tokens":32768,"users":1,"engine_outcome":"oom","failed":true}])");
  std::vector<json> b = sequential(1024, 5, 20);
  append(b, sequential(32768, 5, 200, 3000));
  json c = compare_requests(sequential(1024, 5, 20), b, "off", "on", o);
  ASSERT_EQ(c["steps"].size(), 3u);
  EXPECT_EQ(c["steps"][1]["a"]["engine_outcome"], "oom");
  EXPECT_EQ(c["steps"][1]["a"]["requests"], 0);
  EXPECT_EQ(c["steps"][1]["headline"], "at 32768 context: off engine oom, no request ran; on 5/5 ok");
  EXPECT_EQ(c["steps"][2]["headline"], "at 65536 context: off not run; on not run");
  EXPECT_NE(comparison_markdown(c).find("| 32768 context | engine oom, no request ran | 5/5 ok | - |"),
            std::string::npos);

  CompareOptions users;
  users.steps_b = json::parse(R"([{"users":4,"engine_outcome":"engine_down"}])");
  Rec r;
  r.users = 4;
  r.context = 512;
  c = compare_requests({record(r)}, {record(r)}, "A", "B", users);
  ASSERT_EQ(c["steps"].size(), 1u);
  EXPECT_EQ(c["steps"][0]["b"]["engine_outcome"], "engine_down");
  EXPECT_EQ(c["steps"][0]["b"]["requests"], 1);
  EXPECT_NE(c["steps"][0]["headline"].get<std::string>().find("B 1/1 ok (engine engine_down)"), std::string::npos)
      << c["steps"][0]["headline"];
}

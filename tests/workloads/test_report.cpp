// The run report (workloads/report.h): the golden Markdown and charts of the
// fixed run directory tests/workloads/report_run (TIERSCOPE_UPDATE_GOLDEN=1
// rewrites them), the HTML's self-containment, and what the report says
// for rebuilt, A/B, soak and several runs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "test_util.h"
#include "workloads/compare.h"
#include "workloads/report.h"
#include "workloads/run_dir.h"

using namespace tierscope::workloads;
using tierscope::testing::TempDir;
namespace fs = std::filesystem;

namespace {

const fs::path kRun = fs::path(TIERSCOPE_SOURCE_DIR) / "tests/workloads/report_run";
const fs::path kGolden = fs::path(TIERSCOPE_SOURCE_DIR) / "tests/workloads/golden/report";

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

bool update_golden() {
  const char* v = std::getenv("TIERSCOPE_UPDATE_GOLDEN");
  return v && std::string(v) == "1";
}

void compare_golden(const fs::path& p, const std::string& actual) {
  if (update_golden()) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << actual;
    return;
  }
  ASSERT_TRUE(fs::exists(p)) << p << " missing; TIERSCOPE_UPDATE_GOLDEN=1 writes it";
  const std::string expected = slurp(p);
  if (expected == actual) return;
  std::size_t i = 0;
  while (i < expected.size() && i < actual.size() && expected[i] == actual[i]) ++i;
  const std::size_t from = i > 80 ? i - 80 : 0;
  ADD_FAILURE() << p << " differs at byte " << i << " (TIERSCOPE_UPDATE_GOLDEN=1 rewrites it)\nexpected: …"
                << expected.substr(from, 200) << "\nactual:   …" << actual.substr(from, 200);
}

bool contains(const std::string& h, const std::string& n) { return h.find(n) != std::string::npos; }

std::set<std::string> chart_ids(const Report& r) {
  std::set<std::string> ids;
  for (const auto& c : r.charts()) ids.insert(c.id);
  return ids;
}

}  // namespace

TEST(ReportGolden, MarkdownAndChartsOfTheFixedRun) {
  const RunDir run = load_run_dir(kRun.string());
  ASSERT_EQ(run.warnings, std::vector<std::string>{"requests.jsonl: last line torn (skipped)"});
  const Report r = build_report({run});
  compare_golden(kGolden / "report.md", render_markdown(r));
  std::set<std::string> files;
  for (const auto& c : r.charts()) {
    compare_golden(kGolden / "charts" / (c.id + ".svg"), c.svg);
    files.insert(c.id + ".svg");
  }
  // No stale golden chart: every file there is one the report draws.
  for (const auto& e : fs::directory_iterator(kGolden / "charts")) EXPECT_TRUE(files.count(e.path().filename().string())) << e.path();
  EXPECT_EQ(chart_ids(r), (std::set<std::string>{"memory-wall", "outcome-grid", "ttft-cdf", "itl-cdf", "memory-composition", "ssd-iops"}));
}

TEST(ReportGolden, TheSameRunGivesTheSameBytes) {
  const RunDir run = load_run_dir(kRun.string());
  EXPECT_EQ(render_html(build_report({run})), render_html(build_report({run})));
}

TEST(ReportHtml, SelfContainedWithTheChartsInlineAndTheFilesEmbedded) {
  const RunDir run = load_run_dir(kRun.string());
  const Report r = build_report({run});
  const std::string html = render_html(r);
  EXPECT_TRUE(contains(html, "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                             "style-src 'unsafe-inline'; img-src data:\">"));
  EXPECT_FALSE(contains(html, "<script"));
  EXPECT_FALSE(contains(html, "<link"));
  EXPECT_FALSE(contains(html, "@import"));
  EXPECT_FALSE(contains(html, "url("));
  EXPECT_FALSE(std::regex_search(html, std::regex(R"(\s(src|srcset|action)=)")));
  // Links only within the page (an xmlns is a name, not a request).
  const std::regex href(R"(href="([^"]*)\")");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), href); it != std::sregex_iterator(); ++it)
    EXPECT_EQ((*it)[1].str().rfind('#', 0), 0u) << (*it)[0];
  for (const auto& c : r.charts()) EXPECT_TRUE(contains(html, "data-chart=\"" + c.id + "\"")) << c.id;
  EXPECT_TRUE(contains(html, "@media print"));
  // The manifest and summary, escaped, in <details>.
  EXPECT_TRUE(contains(html, "<details><summary>manifest.json</summary><pre>{\n  &quot;machine&quot;"));
  EXPECT_TRUE(contains(html, "<details><summary>summary.json</summary><pre>"));
  EXPECT_TRUE(contains(html, "&quot;manifest_sha256&quot;: &quot;749ccd29727d4b2310c1bceebea2965a6cd1528d0ab1289eead7eb4ead66bc2e&quot;"));
}

TEST(Report, WithoutSummaryTheStatisticsAreRebuiltFromTheRequests) {
  TempDir d;
  fs::copy_file(kRun / "requests.jsonl", d.path() / "requests.jsonl");
  fs::copy_file(kRun / "manifest.json", d.path() / "manifest.json");
  const RunDir run = load_run_dir(d.path().string());
  const std::string md = render_markdown(build_report({run}));
  EXPECT_TRUE(contains(md, "summary.json is missing: these tables are rebuilt from requests.jsonl")) << md;
  EXPECT_TRUE(contains(md, "| summary.json missing: the statistics tables are rebuilt from requests.jsonl |")) << md;
  EXPECT_TRUE(contains(md, "| status | unknown (summary.json missing) |")) << md;
  // The rebuilt figures are those summary.json has (computed independently when the fixture was made; its
  // summary.json predates p95, which the report then computes from requests.jsonl: marked *).
  const std::string full = render_markdown(build_report({load_run_dir(kRun.string())}));
  auto row_of = [](const std::string& text, const std::string& start) {
    auto p = text.find(start);
    return p == std::string::npos ? std::string() : text.substr(p, text.find('\n', p) - p);
  };
  for (const char* step : {"| 512 tokens | 8 / 8 | 80.3 | 81.3 | 81.5 | 79.9 [78.9, 80.9] | 12.23 | 11.36 | 37.69 | 849.6 | 82.1 [80.4, 83.7] |",
                           "| 4096 tokens | 8 / 8 | 539.1 | 570.6 | 578.3 | 532.5 [507.1, 558.0] | 14.76 | 14.07 | 40.45 | 1439.3 | 67.9 [65.5, 70.3] |"})
    EXPECT_TRUE(contains(md, step)) << step << "\n" << md;
  EXPECT_TRUE(contains(full, "| context 512 | 8 / 8 | 80.3 | 81.3 * | 81.5 | 79.9 [78.9, 80.9] | 12.23 | 11.36 | 37.69 | 849.6 | 82.1 [80.4, 83.7] |"))
      << row_of(full, "| context 512");
  // The failed step: no ok request, failed by the default threshold.
  EXPECT_TRUE(contains(md, "| 8192 tokens | 8 | 0 | 8 | 0.0 % | yes | — |")) << md;
}

TEST(Report, ADifferentScenarioVersionIsSaidAndTheRestShown) {
  TempDir d;
  for (const char* f : {"requests.jsonl", "manifest.json", "samples-000001.jsonl"}) fs::copy_file(kRun / f, d.path() / f);
  std::string summary = slurp(kRun / "summary.json");
  summary.replace(summary.find("\"scenario\": \"context_sweep\""), 27, "\"scenario\": \"context_sweep\", \"scenario_version\": 2");
  d.write("summary.json", summary);
  const RunDir run = load_run_dir(d.path().string());
  const std::string md = render_markdown(build_report({run}));
  EXPECT_TRUE(contains(md, "summary.json: scenario_version \"2\" is not the 1 this tierscope reads")) << md;
  EXPECT_TRUE(contains(md, "| context 512 | 8 / 8 | 80.3 |")) << md;
}

TEST(Report, AbRunHasAColumnPerArmAndTheComparisonTables) {
  TempDir d;
  nlohmann::json steps = nlohmann::json::array();
  for (const char* arm : {"a", "b"})
    for (int ctx : {1024, 4096}) {
      const bool oom = std::string(arm) == "a" && ctx == 4096;
      steps.push_back({{"arm", arm}, {"step", ctx == 1024 ? 0 : 1}, {"context_tokens", ctx}, {"label", "context " + std::to_string(ctx)},
                       {"requests", 5}, {"ok", oom ? 0 : 5}, {"failed", oom},
                       {"failures", oom ? nlohmann::json{{"oom", 5}} : nlohmann::json::object()},
                       {"ttft_ms", {{"median", ctx / 10.0}, {"p99", ctx / 8.0}, {"mean", ctx / 10.0}}}});
    }
  nlohmann::json summary = {{"scenario", "ab"}, {"status", "complete"}, {"steps", steps}};
  summary["arms"]["a"]["name"] = "offload off";
  summary["arms"]["b"]["name"] = "offload on";
  // The comparison as compare_requests writes it: at 4096 tokens arm a failed, at 1024 b is twice as slow.
  std::vector<nlohmann::json> ra, rb;
  for (int i = 0; i < 5; ++i) {
    ra.push_back({{"step", 0}, {"context_tokens", 1024}, {"outcome", "ok"}, {"ttft_ms", 100.0 + i}, {"e2e_ms", 900.0 + i},
                  {"output_tokens", 64}, {"warmup", false}, {"t_send", 10.0 + i}});
    rb.push_back({{"step", 0}, {"context_tokens", 1024}, {"outcome", "ok"}, {"ttft_ms", 200.0 + 2 * i}, {"e2e_ms", 1800.0 + i},
                  {"output_tokens", 64}, {"warmup", false}, {"t_send", 10.0 + i}});
    ra.push_back({{"step", 1}, {"context_tokens", 4096}, {"outcome", "oom"}, {"ttft_ms", nullptr}, {"e2e_ms", 5.0},
                  {"output_tokens", 0}, {"warmup", false}, {"t_send", 20.0 + i}});
    rb.push_back({{"step", 1}, {"context_tokens", 4096}, {"outcome", "ok"}, {"ttft_ms", 400.0 + i}, {"e2e_ms", 2000.0 + i},
                  {"output_tokens", 64}, {"warmup", false}, {"t_send", 20.0 + i}});
  }
  summary["comparison"] = compare_requests(ra, rb, "offload off", "offload on");
  // cost as workloads/cost.h writes it (a subset of its fields).
  summary["cost"]["lines"]["local_hardware"] = {{"usd", 0.0125}, {"usd_per_1m_output_tokens", 19.53125}, {"formula", "purchase_usd × …"}};
  summary["cost"]["lines"]["api"]["mini"] = {{"usd", 0.000384}, {"usd_per_1m_output_tokens", 0.6}, {"formula", "output_tokens × …"}};
  summary["cost"]["inputs"]["local"] = {{"name", "workstation"}, {"purchase_usd", 5000}};
  summary["cost"]["inputs"]["api"]["mini"] = {{"usd_per_1m_output", 0.6}, {"source", "https://example.invalid/prices"}, {"date", "2026-11-01"}};
  summary["cost"]["absent"]["ssd_wear"] = "no SSD chosen (cost.ssd)";
  d.write("summary.json", summary.dump());
  const Report r = build_report({load_run_dir(d.path().string())});
  const std::string md = render_markdown(r);
  EXPECT_TRUE(contains(md, "| context 4096 | offload off |")) << md;
  EXPECT_TRUE(contains(md, "### A/B comparison")) << md;
  EXPECT_TRUE(contains(md, "**OOM vs success, A/B**")) << md;
  EXPECT_TRUE(contains(md, "| 0 / 5 | 5 / 5 | requests |")) << md;
  EXPECT_TRUE(contains(md, "**ttft_ms, B against A**")) << md;
  // 1024 tokens: medians 102 and 204, ratio 2 (its CI from the seeded bootstrap).
  EXPECT_TRUE(contains(md, "| 5 | 5 | 102.00 | 204.00 | 2.000 [")) << md;
  EXPECT_TRUE(contains(md, "| api mini | 0.000384 | 0.6000 | — | output_tokens × … | https://example.invalid/prices (2026-11-01) |")) << md;
  EXPECT_TRUE(contains(md, "| local_hardware | 0.012500 | 19.5312 | — | purchase_usd × … | — |")) << md;
  EXPECT_TRUE(contains(md, "| ssd_wear | no SSD chosen (cost.ssd) |")) << md;
  std::string grid;
  for (const auto& c : r.charts())
    if (c.id == "outcome-grid") grid = c.svg;
  EXPECT_TRUE(contains(grid, "offload off")) << grid;
  EXPECT_TRUE(contains(grid, "offload on")) << grid;
  EXPECT_TRUE(contains(grid, "0/5 ok, oom")) << grid;
}

TEST(Report, SoakVerdictsWithTheSeriesAndItsFittedLine) {
  TempDir d;
  d.write("soak.json", R"({"scenario":"soak","status":"done","elapsed_s":600,"duration_s":600,"samples":61,
    "series":[{"subject":"engine","tier":"ram_anon","unit":"bytes","verdict":"LEAK","slope_per_s":1000,
               "slope_low_per_s":900,"slope_high_per_s":1100,"samples":61,"reasons":["grows 3.4 MiB/h"]}]})");
  std::string rec = R"({"type":"header","format":1,"segment":1,"start_wall":1000,"start_mono":1})" "\n";
  for (int t = 0; t <= 600; t += 10)
    rec += R"({"type":"soak_point","wall":)" + std::to_string(1000 + t) + R"(,"mono":1,"t":)" + std::to_string(t) +
           R"(,"values":{"engine/ram_anon":)" + std::to_string(5000000 + 1000 * t + (t % 20 ? 3000 : -3000)) + "}}\n";
  d.write("samples-000001.jsonl", rec);
  const Report r = build_report({load_run_dir(d.path().string())});
  const std::string md = render_markdown(r);
  EXPECT_TRUE(contains(md, "| engine | ram_anon | LEAK |")) << md;
  std::string chart;
  for (const auto& c : r.charts())
    if (c.id == "soak-1") chart = c.svg;
  ASSERT_FALSE(chart.empty()) << md;
  EXPECT_TRUE(contains(chart, "fit: ")) << chart;
  EXPECT_TRUE(contains(chart, "engine/ram_anon: LEAK")) << chart;
}

TEST(Report, SeveralRunsGetASectionEachAndACrossRunGrid) {
  const RunDir run = load_run_dir(kRun.string());
  TempDir empty;
  const Report r = build_report({run, run, load_run_dir(empty.path().string())});
  const auto ids = chart_ids(r);
  EXPECT_TRUE(ids.count("run1-memory-wall"));
  EXPECT_TRUE(ids.count("run2-memory-wall"));
  EXPECT_TRUE(ids.count("runs-outcome-grid"));
  EXPECT_EQ(ids.size(), 2 * 6 + 1u);
  const std::string md = render_markdown(r);
  EXPECT_TRUE(contains(md, "## Across runs"));
  EXPECT_TRUE(contains(md, empty.path().string() + ": nothing usable, left out of the report."));
}

TEST(QuantileCi, OrderStatisticsOfTheBinomial) {
  std::vector<double> v;
  for (int i = 1; i <= 20; ++i) v.push_back(21 - i);  // 20 … 1, unsorted on purpose
  auto ci = quantile_ci(v, 0.5);
  ASSERT_TRUE(ci);
  EXPECT_EQ(*ci, std::pair(6.0, 15.0));  // the textbook x(6), x(15) for n = 20
  auto eight = quantile_ci({1, 2, 3, 4, 5, 6, 7, 8}, 0.5);
  ASSERT_TRUE(eight);
  EXPECT_EQ(*eight, std::pair(1.0, 8.0));
  EXPECT_FALSE(quantile_ci({1, 2, 3, 4, 5}, 0.5));  // 93.75 % at most
  std::vector<double> many(367, 1.0);
  EXPECT_FALSE(quantile_ci(many, 0.99));
  many.push_back(2.0);
  EXPECT_TRUE(quantile_ci(many, 0.99));
  EXPECT_FALSE(quantile_ci({}, 0.5));
  EXPECT_FALSE(quantile_ci({1, 2, 3}, 1.0));
}

TEST(Report, ConcurrencyStepsGetThroughputAgainstP99AndGoodputAtTheScenarioSlo) {
  TempDir d;
  // Two users steps of 4 ok requests over 2 s of wall each; at 8 users two requests miss the TTFT SLO of 1500 ms
  // and one misses TPOT 60 ms: goodput = tokens of the requests within both / wall_s.
  nlohmann::json steps = nlohmann::json::array();
  std::string requests;
  const double ttft[2][4] = {{200, 300, 400, 500}, {900, 1400, 1600, 2500}};
  const double e2e[2][4] = {{1460, 1560, 1660, 1760}, {2160, 5500, 2860, 3760}};  // TPOT (e2e − ttft)/63: 20 ms, except 65 ms
  for (int i = 0; i < 2; ++i) {
    const int users = i == 0 ? 2 : 8;
    nlohmann::json ttft_stats = {{"median", 450.0}, {"p99", ttft[i][3]}};
    steps.push_back({{"step", i}, {"users", users}, {"label", std::to_string(users) + " users"}, {"requests", 4}, {"ok", 4},
                     {"failed", false}, {"failures", nlohmann::json::object()}, {"ttft_ms", ttft_stats},
                     {"output_tokens_per_s_aggregate", 128.0 * (i + 1)}, {"wall_s", 2.0}});
    for (int k = 0; k < 4; ++k)
      requests += nlohmann::json{{"step", i}, {"users", users}, {"warmup", false}, {"outcome", "ok"}, {"ttft_ms", ttft[i][k]},
                                 {"e2e_ms", e2e[i][k]}, {"output_tokens", 64}, {"itl_ms", {20.0, 20.0}}}
                      .dump() +
                  "\n";
  }
  d.write("summary.json", nlohmann::json{{"scenario", "concurrency_sweep"}, {"status", "complete"}, {"steps", steps}}.dump());
  d.write("requests.jsonl", requests);
  d.write("scenario.yaml", "scenario: concurrency_sweep\nusers: [2, 8]\nslo:\n  ttft_ms: 1500\n  tpot_ms: 60\n");
  const Report r = build_report({load_run_dir(d.path().string())});
  const std::string md = render_markdown(r);
  EXPECT_TRUE(chart_ids(r).count("concurrency")) << md;
  EXPECT_FALSE(chart_ids(r).count("memory-wall")) << md;
  // 2 users: all 4 within the SLO, 4 × 64 tokens / 2 s = 128; 8 users: 900 ms only (1400 ms has TPOT 65 ms) = 32.
  EXPECT_TRUE(contains(md, "| 2 | 128.0 | 500.0 | 128.0 | 4 / 4 |")) << md;
  EXPECT_TRUE(contains(md, "| 8 | 256.0 | 2500.0 | 32.0 | 1 / 4 |")) << md;
  EXPECT_TRUE(contains(md, "TTFT ≤ 1500 ms and TPOT ≤ 60 ms (scenario.yaml slo)")) << md;
}

TEST(Report, WithoutWorkloadSeriesTheMemoryChartShowsTheHostTiers) {
  TempDir d;
  d.write("soak.json", R"({"scenario":"soak","status":"done","series":[]})");
  std::string rec = R"({"type":"header","format":1,"segment":1,"start_wall":1000,"start_mono":1})" "\n"
                    R"({"type":"series","id":1,"series":[{"name":"tierscope_memory_anon_bytes","labels":{},"type":"gauge"},)"
                    R"({"name":"tierscope_memory_page_cache_bytes","labels":{},"type":"gauge"},)"
                    R"({"name":"tierscope_memory_used_bytes","labels":{"device":"/dev/nvme0n1p3","tier":"swap"},"type":"gauge"},)"
                    R"({"name":"tierscope_memory_used_bytes","labels":{"device":"card0","tier":"vram"},"type":"gauge"}]})" "\n";
  for (int t = 0; t < 30; ++t)
    rec += R"({"type":"sample","seq":)" + std::to_string(t) + R"(,"wall":)" + std::to_string(1000 + t) +
           R"(,"mono":1,"schema":1,"values":[)" + std::to_string(1000 + t) + ",2000,3000," + (t == 10 ? "\"NaN\"" : "4000") + "]}\n";
  d.write("samples-000001.jsonl", rec);
  const Report r = build_report({load_run_dir(d.path().string())});
  std::string chart;
  for (const auto& c : r.charts())
    if (c.id == "memory-composition") chart = c.svg;
  ASSERT_FALSE(chart.empty());
  for (const char* layer : {"VRAM card0", "RAM anon", "page cache", "swap /dev/nvme0n1p3"}) EXPECT_TRUE(contains(chart, layer)) << layer;
  EXPECT_TRUE(contains(chart, "Host memory over the run"));
  EXPECT_TRUE(contains(render_markdown(r), "30 samples, 0 gap(s), 0 torn and 0 corrupt line(s) skipped")) << render_markdown(r);
}

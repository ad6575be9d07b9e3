// A run directory as the report and compare read it (workloads/run_dir.h):
// what is there is read, what is missing or broken is a warning naming the
// file, never an exception.
#include <gtest/gtest.h>

#include <algorithm>

#include "test_util.h"
#include "workloads/run_dir.h"

using namespace tierscope::workloads;
using tierscope::testing::TempDir;

namespace {

bool has_warning(const RunDir& r, const std::string& needle) {
  return std::any_of(r.warnings.begin(), r.warnings.end(),
                     [&](const std::string& w) { return w.find(needle) != std::string::npos; });
}

std::string warnings_of(const RunDir& r) {
  std::string all;
  for (const auto& w : r.warnings) all += w + "\n";
  return all;
}

constexpr const char* kSummary = R"({"scenario":"context_sweep","status":"complete","steps":[{"step":0}]})";
constexpr const char* kManifest = R"({"manifest_version":1,"machine":{}})";

// A bench run directory with this requests.jsonl.
RunDir bench_run(const TempDir& d, std::string_view requests) {
  d.write("summary.json", kSummary);
  d.write("manifest.json", kManifest);
  d.write("requests.jsonl", requests);
  return load_run_dir(d.path().string());
}

}  // namespace

TEST(JsonLines, KeepsObjectsCountsTornLastLineAndCorruptLines) {
  auto l = parse_json_lines("{\"a\":1}\nnot json\n[1]\n\n{\"a\":2}\n{\"a\":");
  ASSERT_EQ(l.records.size(), 2u);
  EXPECT_EQ(l.records[1]["a"], 2);
  EXPECT_EQ(l.torn, 1u);
  EXPECT_EQ(l.corrupt, 3u);  // "not json", an array, an empty line
  EXPECT_EQ(l.first_corrupt_line, 2u);
}

TEST(JsonLines, AWholeLastLineWithoutItsNewlineIsKept) {
  auto l = parse_json_lines("{\"a\":1}\n{\"a\":2}");
  EXPECT_EQ(l.records.size(), 2u);
  EXPECT_EQ(l.torn, 0u);
  EXPECT_EQ(l.corrupt, 0u);
}

TEST(JsonLines, ABrokenLineFollowedByANewlineIsCorruptNotTorn) {
  auto l = parse_json_lines("{\"a\":1}\n{\"a\":\n");
  EXPECT_EQ(l.records.size(), 1u);
  EXPECT_EQ(l.torn, 0u);
  EXPECT_EQ(l.corrupt, 1u);
  EXPECT_TRUE(parse_json_lines("").records.empty());
}

TEST(RunDir, ReadsACompleteBenchRun) {
  TempDir d;
  d.write("summary.json", kSummary);
  d.write("manifest.json", kManifest);
  d.write("scenario.yaml", "scenario: context_sweep\ncontexts: [512]\n");
  d.write("requests.jsonl", "{\"step\":0,\"outcome\":\"ok\"}\n{\"step\":0,\"outcome\":\"oom\"}\n");
  d.write("samples-000001.jsonl", "{\"type\":\"header\",\"format\":1}\n");
  auto r = load_run_dir(d.path().string());
  EXPECT_TRUE(r.warnings.empty()) << warnings_of(r);
  ASSERT_TRUE(r.summary);
  EXPECT_EQ((*r.summary)["status"], "complete");
  ASSERT_TRUE(r.manifest);
  EXPECT_FALSE(r.soak);
  ASSERT_TRUE(r.scenario_yaml);
  EXPECT_EQ(r.requests.size(), 2u);
  EXPECT_TRUE(r.has_recording);
  EXPECT_EQ(r.kind(), "bench");
  EXPECT_TRUE(r.usable());
}

TEST(RunDir, TornLastLineIsSkippedAndCountedWithAWarning) {
  TempDir d;
  auto r = bench_run(d, "{\"step\":0}\n{\"step\":0}\n{\"step\":1,\"ttft");
  EXPECT_EQ(r.requests.size(), 2u);
  EXPECT_EQ(r.requests_torn, 1u);
  EXPECT_EQ(r.requests_corrupt, 0u);
  EXPECT_TRUE(has_warning(r, "requests.jsonl: last line torn (skipped)")) << warnings_of(r);
  EXPECT_EQ(r.warnings.size(), 1u) << warnings_of(r);
}

TEST(RunDir, CorruptLinesAreCountedAndTheFirstNamed) {
  TempDir d;
  auto r = bench_run(d, "{\"step\":0}\ngarbage\n{\"step\":0}\n\x01\x02\n");
  EXPECT_EQ(r.requests.size(), 2u);
  EXPECT_EQ(r.requests_corrupt, 2u);
  EXPECT_TRUE(has_warning(r, "requests.jsonl: 2 corrupt lines skipped (the first is line 2)")) << warnings_of(r);
}

TEST(RunDir, MissingSummaryIsRebuiltFromRequestsWithAWarning) {
  TempDir d;
  d.write("manifest.json", kManifest);
  d.write("requests.jsonl", "{\"step\":0,\"outcome\":\"ok\"}\n");
  auto r = load_run_dir(d.path().string());
  EXPECT_FALSE(r.summary);
  EXPECT_EQ(r.kind(), "bench");
  EXPECT_TRUE(r.usable());
  EXPECT_TRUE(has_warning(r, "summary.json missing: the statistics tables are rebuilt from requests.jsonl")) << warnings_of(r);
}

TEST(RunDir, BrokenJsonFilesAreWarningsNotFailures) {
  TempDir d;
  d.write("summary.json", "{\"scenario\":\"context_sw");
  d.write("manifest.json", "[1,2,3]");
  d.write("requests.jsonl", "{\"step\":0}\n");
  auto r = load_run_dir(d.path().string());
  EXPECT_FALSE(r.summary);
  EXPECT_FALSE(r.manifest);
  EXPECT_TRUE(has_warning(r, "summary.json: not valid JSON")) << warnings_of(r);
  EXPECT_TRUE(has_warning(r, "manifest.json: not a JSON object")) << warnings_of(r);
  EXPECT_TRUE(has_warning(r, "summary.json unusable: the statistics tables are rebuilt from requests.jsonl")) << warnings_of(r);
  EXPECT_TRUE(r.usable());
}

TEST(RunDir, UnknownVersionsAndScenariosAreWarnings) {
  TempDir d;
  d.write("summary.json", R"({"scenario":"context_sweep_v9","scenario_version":2,"steps":[]})");
  d.write("manifest.json", R"({"manifest_version":7})");
  d.write("scenario.yaml", "scenario: context_sweep_v9\nscenario_version: 2\n");
  auto r = load_run_dir(d.path().string());
  ASSERT_TRUE(r.summary);  // still read
  ASSERT_TRUE(r.manifest);
  EXPECT_TRUE(has_warning(r, "summary.json: scenario \"context_sweep_v9\" is not one this tierscope knows")) << warnings_of(r);
  EXPECT_TRUE(has_warning(r, "summary.json: scenario_version \"2\" is not the 1")) << warnings_of(r);
  EXPECT_TRUE(has_warning(r, "manifest.json: manifest_version \"7\" is not the 1")) << warnings_of(r);
  EXPECT_TRUE(has_warning(r, "scenario.yaml: scenario \"context_sweep_v9\"")) << warnings_of(r);
  EXPECT_TRUE(has_warning(r, "scenario.yaml: scenario_version \"2\"")) << warnings_of(r);
  EXPECT_EQ(r.kind(), "bench");
}

TEST(RunDir, SoakAndAbKinds) {
  TempDir soak;
  soak.write("soak.json", R"({"scenario":"soak","status":"done","series":[]})");
  soak.write("manifest.json", kManifest);
  auto s = load_run_dir(soak.path().string());
  EXPECT_EQ(s.kind(), "soak");
  EXPECT_TRUE(s.warnings.empty()) << warnings_of(s);  // a soak has no summary.json: not worth a warning

  TempDir ab;
  ab.write("summary.json", R"({"scenario":"ab","arms":{"a":{"name":"off"},"b":{"name":"on"}},"steps":[]})");
  EXPECT_EQ(load_run_dir(ab.path().string()).kind(), "ab");
}

TEST(RunDir, EmptyOrMissingDirectoryIsNotUsable) {
  TempDir d;
  auto empty = load_run_dir(d.path().string());
  EXPECT_FALSE(empty.usable());
  EXPECT_EQ(empty.kind(), "");
  EXPECT_TRUE(has_warning(empty, "nothing usable")) << warnings_of(empty);

  auto missing = load_run_dir((d.path() / "nope").string());
  EXPECT_FALSE(missing.usable());
  EXPECT_TRUE(has_warning(missing, "no such directory")) << warnings_of(missing);

  auto file = load_run_dir(d.write("plain", "x").string());
  EXPECT_FALSE(file.usable());
  EXPECT_TRUE(has_warning(file, "not a directory")) << warnings_of(file);
}

TEST(RunDir, AManifestAloneIsNotUsableButARecordingIs) {
  TempDir d;
  d.write("manifest.json", kManifest);
  EXPECT_FALSE(load_run_dir(d.path().string()).usable());
  d.write("samples-000001.jsonl.zst", "");
  auto r = load_run_dir(d.path().string());
  EXPECT_TRUE(r.has_recording);
  EXPECT_TRUE(r.usable());
}

TEST(RunDir, AnUnreadableFileIsAWarningNamingIt) {
  TempDir d;
  d.write("summary.json", kSummary);
  std::filesystem::create_directory(d.path() / "manifest.json");  // a directory where a file belongs
  auto r = load_run_dir(d.path().string());
  EXPECT_FALSE(r.manifest);
  EXPECT_TRUE(has_warning(r, "manifest.json: not a regular file")) << warnings_of(r);
}

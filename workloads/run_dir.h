#pragma once
// One run directory (what `tierscope bench` and `tierscope soak` write) as
// `tierscope report` and `tierscope compare` read it: summary.json,
// soak.json, manifest.json, scenario.yaml, requests.jsonl and whether a
// recording (samples-*.jsonl[.zst]) is there.
//
// Never throws on bad content: a file that is missing, unreadable or broken
// becomes a warning, one sentence naming the file and what is wrong
// ("requests.jsonl: last line torn (skipped)"), and the rest is still read.
// A layout version it does not know (manifest_version, summary.json's
// scenario, scenario.yaml's scenario) is a warning too, never a failure.
// Threading: plain values; load_run_dir does file I/O.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace tierscope::workloads {

struct RunDir {
  std::string path;
  std::optional<nlohmann::json> summary;     // summary.json (bench / ab) — nullopt when missing or unparseable
  std::optional<nlohmann::json> soak;        // soak.json
  std::optional<nlohmann::json> manifest;    // manifest.json
  std::optional<std::string> scenario_yaml;  // scenario.yaml text
  std::vector<nlohmann::json> requests;      // requests.jsonl, every whole parseable line (torn last line skipped)
  std::size_t requests_torn = 0, requests_corrupt = 0;
  bool has_recording = false;                // samples-*.jsonl[.zst] present (read lazily with exporters/recording.h read_recording)
  std::vector<std::string> warnings;
  std::string kind() const;                  // "bench" (summary.scenario), "ab", "soak", or "" when nothing usable
  bool usable() const;                       // anything at all to report
};

RunDir load_run_dir(const std::string& path);

// The largest file read: JSON files and scenario.yaml (a file over it is a warning, not read).
inline constexpr std::size_t kMaxRunJsonBytes = std::size_t{64} << 20;
// requests.jsonl (a longer file: its first kMaxRequestsBytes are read, and a warning says so).
inline constexpr std::size_t kMaxRequestsBytes = std::size_t{1} << 30;

// The lines of a JSON-lines text, as load_run_dir reads requests.jsonl:
// every line that is a JSON object is kept; a last line without its newline
// that does not parse is torn (what a killed writer leaves: skipped and
// counted); any other line that is not a JSON object (or an empty line) is
// corrupt (skipped and counted). Pure; the fuzz target fuzz_run_dir checks it.
struct JsonLines {
  std::vector<nlohmann::json> records;
  std::size_t torn = 0, corrupt = 0;
  std::size_t first_corrupt_line = 0;  // 1-based; 0 when none
};
JsonLines parse_json_lines(std::string_view text);

}  // namespace tierscope::workloads

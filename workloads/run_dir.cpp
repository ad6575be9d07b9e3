#include "workloads/run_dir.h"

#include <cerrno>
#include <filesystem>
#include <system_error>

#include <yaml-cpp/yaml.h>

#include "core/file_cache.h"
#include "core/text.h"
#include "exporters/recording.h"

namespace tierscope::workloads {

using nlohmann::json;

namespace {

// The summary.json "scenario" values (and scenario.yaml's) this build knows.
constexpr std::string_view kKnownScenarios[] = {"context_sweep", "concurrency_sweep", "protocol", "ab", "soak"};
// manifest_version (docs/manifest.md) and a summary's or soak's optional scenario_version this build reads.
constexpr int kKnownLayout = 1;

bool known_scenario(std::string_view s) {
  for (auto k : kKnownScenarios)
    if (k == s) return true;
  return false;
}

// Reads `name` in the directory. nullopt when it does not exist (no warning:
// the caller decides whether missing matters) or cannot be read (a warning).
std::optional<std::string> read_file(const std::filesystem::path& dir, const std::string& name, std::size_t max_bytes,
                                     std::vector<std::string>& warnings, bool& truncated, bool* exists = nullptr) {
  truncated = false;
  if (exists) *exists = false;
  std::string buf;
  // One byte more than the cap tells a file at the cap from a longer one.
  const int err = read_uncached(dir / name, buf, max_bytes + 1);
  if (err == ENOENT) return std::nullopt;
  if (exists) *exists = true;
  if (err != 0) {
    std::string why = describe_errno(name, err);
    if (why.find("not read") == std::string::npos) why += " (not read)";
    warnings.push_back(why);
    return std::nullopt;
  }
  if (buf.size() > max_bytes) {
    buf.resize(max_bytes);
    truncated = true;
  }
  return buf;
}

// A JSON object file: nullopt with a warning when it is not one.
std::optional<json> read_json_object(const std::filesystem::path& dir, const std::string& name,
                                     std::vector<std::string>& warnings, bool& present) {
  bool truncated = false;
  auto text = read_file(dir, name, kMaxRunJsonBytes, warnings, truncated, &present);
  if (!text) return std::nullopt;
  if (truncated) {
    warnings.push_back(name + ": larger than " + text::size_words(kMaxRunJsonBytes) + " (not read)");
    return std::nullopt;
  }
  json j = json::parse(*text, nullptr, false);
  if (j.is_discarded()) {
    warnings.push_back(name + ": not valid JSON (a run killed while it was written?); left out");
    return std::nullopt;
  }
  if (!j.is_object()) {
    warnings.push_back(name + ": not a JSON object; left out");
    return std::nullopt;
  }
  return j;
}

void check_layout(const json& j, const char* file, const char* key, std::vector<std::string>& warnings) {
  auto it = j.find(key);
  if (it == j.end()) return;
  if (!it->is_number_integer() || it->get<std::int64_t>() != kKnownLayout)
    warnings.push_back(std::string(file) + ": " + key + " " + text::quoted(it->dump()) + " is not the " +
                       std::to_string(kKnownLayout) + " this tierscope reads; what it knows of the file is shown");
}

void check_scenario_name(const json& j, const char* file, std::vector<std::string>& warnings) {
  auto it = j.find("scenario");
  if (it == j.end()) return;
  if (!it->is_string() || !known_scenario(it->get_ref<const std::string&>()))
    warnings.push_back(std::string(file) + ": scenario " + text::quoted(it->is_string() ? it->get<std::string>() : it->dump()) +
                       " is not one this tierscope knows (context_sweep, concurrency_sweep, protocol, ab, soak); "
                       "what it knows of the file is shown");
}

void check_scenario_yaml(const std::string& text, std::vector<std::string>& warnings) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    warnings.push_back("scenario.yaml: not valid YAML (line " + std::to_string(e.mark.line + 1) + "); shown as text");
    return;
  }
  if (!root.IsMap()) {
    warnings.push_back("scenario.yaml: not a YAML mapping; shown as text");
    return;
  }
  try {
    if (auto s = root["scenario"]; s && s.IsScalar() && !known_scenario(s.Scalar()))
      warnings.push_back("scenario.yaml: scenario " + text::quoted(s.Scalar()) + " is not one this tierscope knows");
    if (auto v = root["scenario_version"]; v && (!v.IsScalar() || v.Scalar() != std::to_string(kKnownLayout)))
      warnings.push_back("scenario.yaml: scenario_version " + text::quoted(v.IsScalar() ? v.Scalar() : "(not a number)") +
                         " is not the " + std::to_string(kKnownLayout) + " this tierscope reads; shown as text");
  } catch (const YAML::Exception&) {
    warnings.push_back("scenario.yaml: unexpected structure; shown as text");
  }
}

}  // namespace

JsonLines parse_json_lines(std::string_view text) {
  JsonLines out;
  text::Lines lines(text);
  std::string_view line;
  std::size_t number = 0;
  std::size_t consumed = 0;
  while (lines.next(line)) {
    ++number;
    consumed += line.size();
    const bool last_without_newline = consumed >= text.size();  // Lines gave the rest: no '\n' after it
    if (!last_without_newline) ++consumed;                     // the '\n'
    json j = json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.is_object()) {
      out.records.push_back(std::move(j));
      continue;
    }
    if (last_without_newline) {
      ++out.torn;
      continue;
    }
    ++out.corrupt;
    if (out.first_corrupt_line == 0) out.first_corrupt_line = number;
  }
  return out;
}

std::string RunDir::kind() const {
  if (summary) {
    const auto* s = summary->is_object() && summary->contains("scenario") && (*summary)["scenario"].is_string()
                        ? (*summary)["scenario"].get_ptr<const std::string*>()
                        : nullptr;
    if (s && *s == "ab") return "ab";
    if (s && *s == "soak") return "soak";
    return "bench";
  }
  if (soak) return "soak";
  if (!requests.empty()) return "bench";
  return "";
}

bool RunDir::usable() const { return summary || soak || !requests.empty() || has_recording; }

RunDir load_run_dir(const std::string& path) {
  RunDir r;
  r.path = path;
  const std::filesystem::path dir(path);
  std::error_code ec;
  const auto st = std::filesystem::status(dir, ec);
  if (ec || !std::filesystem::exists(st)) {
    r.warnings.push_back(path + ": no such directory");
    return r;
  }
  if (!std::filesystem::is_directory(st)) {
    r.warnings.push_back(path + ": not a directory");
    return r;
  }

  bool present = false;
  r.summary = read_json_object(dir, "summary.json", r.warnings, present);
  const bool summary_present = present;
  r.soak = read_json_object(dir, "soak.json", r.warnings, present);
  r.manifest = read_json_object(dir, "manifest.json", r.warnings, present);
  if (!present) r.warnings.push_back("manifest.json missing: the report has no host or environment section");

  bool truncated = false;
  if (auto y = read_file(dir, "scenario.yaml", kMaxRunJsonBytes, r.warnings, truncated)) {
    if (truncated) {
      r.warnings.push_back("scenario.yaml: larger than " + text::size_words(kMaxRunJsonBytes) + " (not read)");
    } else {
      check_scenario_yaml(*y, r.warnings);
      r.scenario_yaml = std::move(*y);
    }
  }

  if (auto text = read_file(dir, "requests.jsonl", kMaxRequestsBytes, r.warnings, truncated)) {
    if (truncated)
      r.warnings.push_back("requests.jsonl: larger than " + text::size_words(kMaxRequestsBytes) +
                           ": only its first " + text::size_words(kMaxRequestsBytes) + " are read");
    JsonLines lines = parse_json_lines(*text);
    r.requests = std::move(lines.records);
    r.requests_torn = truncated ? 0 : lines.torn;
    r.requests_corrupt = lines.corrupt;
    if (r.requests_torn) r.warnings.push_back("requests.jsonl: last line torn (skipped)");
    if (lines.corrupt)
      r.warnings.push_back("requests.jsonl: " + std::to_string(lines.corrupt) + " corrupt line" +
                           (lines.corrupt == 1 ? "" : "s") + " skipped (the first is line " +
                           std::to_string(lines.first_corrupt_line) + ")");
  }

  r.has_recording = !list_segments(path).empty();

  if (r.summary) {
    check_scenario_name(*r.summary, "summary.json", r.warnings);
    check_layout(*r.summary, "summary.json", "scenario_version", r.warnings);
  }
  if (r.soak) check_layout(*r.soak, "soak.json", "scenario_version", r.warnings);
  if (r.manifest) check_layout(*r.manifest, "manifest.json", "manifest_version", r.warnings);

  if (!r.summary && !r.soak) {
    if (!r.requests.empty())
      r.warnings.push_back(std::string("summary.json ") + (summary_present ? "unusable" : "missing") +
                           ": the statistics tables are rebuilt from requests.jsonl");
    else if (!summary_present)
      r.warnings.push_back("summary.json missing, and no soak.json or request records: no statistics to report");
  }
  if (!r.usable()) r.warnings.push_back(path + ": nothing usable (no summary.json, soak.json, requests.jsonl or recording)");
  return r;
}

}  // namespace tierscope::workloads

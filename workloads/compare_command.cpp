#include "workloads/compare_command.h"

#include <filesystem>
#include <iostream>
#include <set>
#include <system_error>

#include "core/exit_codes.h"
#include "workloads/compare.h"
#include "workloads/plan.h"
#include "workloads/run_dir.h"
#include "workloads/scenario.h"
#include "workloads/summary.h"

namespace tierscope::workloads {

using nlohmann::json;

namespace {

constexpr const char* kPrefix = "tierscope compare: ";

json key_of(const StepSpec& s) {
  json key = json::object();
  if (s.context_tokens >= 0) key["context_tokens"] = s.context_tokens;
  if (s.users >= 0) key["users"] = s.users;
  if (s.key.kind == StepKey::Kind::prompt) key["prompt"] = s.key.prompt;
  return key;
}

// "1024, 2048 tokens" style list of step keys for a message (at most 12).
std::string describe(const std::vector<json>& keys) {
  std::string out;
  std::size_t shown = 0;
  for (const json& k : keys) {
    if (shown == 12) {
      out += ", … (" + std::to_string(keys.size()) + " in all)";
      break;
    }
    out += (out.empty() ? "" : ", ") + k.dump();
    ++shown;
  }
  return out.empty() ? "none" : out;
}

std::string scenario_of(const RunDir& run) {
  if (run.summary && run.summary->is_object()) {
    auto it = run.summary->find("scenario");
    if (it != run.summary->end() && it->is_string()) return it->get<std::string>();
  }
  return "";
}

// The steps a run planned: its scenario.yaml, else the steps it recorded (a warning says so).
std::vector<json> steps_of(const RunDir& run, const std::string& name) {
  std::string why;
  if (auto planned = planned_steps(run.scenario_yaml, why)) return *planned;
  std::cerr << "warning: " << name << ": " << why << ": the steps compared are those the run recorded\n";
  std::vector<json> keys = step_keys(run.requests);
  return keys;
}

}  // namespace

std::optional<std::vector<json>> planned_steps(const std::optional<std::string>& scenario_yaml, std::string& why) {
  if (!scenario_yaml) {
    why = "scenario.yaml missing";
    return std::nullopt;
  }
  try {
    const Scenario sc = parse_scenario(*scenario_yaml, "scenario.yaml");
    if (sc.kind == ScenarioKind::soak) {
      why = "scenario.yaml is a soak (no steps)";
      return std::nullopt;
    }
    std::vector<json> keys;
    for (const StepSpec& s : make_plan(sc).steps) keys.push_back(key_of(s));
    return keys;
  } catch (const std::exception& e) {
    why = std::string("scenario.yaml does not parse: ") + e.what();
    return std::nullopt;
  }
}

int run_compare(const CompareArgs& args) {
  const RunDir a = load_run_dir(args.run_a);
  const RunDir b = load_run_dir(args.run_b);
  for (const RunDir* run : {&a, &b})
    for (const std::string& w : run->warnings) std::cerr << "warning: " << run->path << ": " << w << "\n";

  for (const RunDir* run : {&a, &b}) {
    const std::string kind = run->kind();
    if (kind == "ab" || kind == "soak") {
      std::cerr << kPrefix << run->path << " is a " << (kind == "ab" ? "scenario: ab run (its comparison is its own comparison.json)" : "soak run (no steps to compare)")
                << "; compare takes two bench runs\n";
      return exit_code::usage;
    }
  }
  const std::string scenario_a = scenario_of(a), scenario_b = scenario_of(b);
  if (!scenario_a.empty() && !scenario_b.empty() && scenario_a != scenario_b) {
    std::cerr << kPrefix << "the runs are of different scenarios: " << args.run_a << " is " << scenario_a << ", "
              << args.run_b << " is " << scenario_b << "\n";
    return exit_code::usage;
  }
  for (const RunDir* run : {&a, &b}) {
    if (step_keys(run->requests).empty()) {
      std::cerr << kPrefix << run->path << ": no usable request records (requests.jsonl missing, empty or only warm-ups)\n";
      return exit_code::data_err;
    }
  }
  const std::vector<json> steps_a = steps_of(a, args.run_a);
  const std::vector<json> steps_b = steps_of(b, args.run_b);
  if (steps_a != steps_b) {
    std::cerr << kPrefix << "the runs' steps differ: " << args.run_a << " has " << describe(steps_a) << "; "
              << args.run_b << " has " << describe(steps_b) << "\n";
    return exit_code::usage;
  }

  CompareOptions o;
  o.margin = args.margin;
  o.bootstrap.seed = args.seed;
  o.planned = steps_a;
  if (a.summary && a.summary->is_object() && a.summary->contains("steps")) o.steps_a = (*a.summary)["steps"];
  if (b.summary && b.summary->is_object() && b.summary->contains("steps")) o.steps_b = (*b.summary)["steps"];
  // The arms are named by the directories' base names (the paths when those are the same).
  auto base = [](const std::string& path) {
    std::filesystem::path p = std::filesystem::path(path).lexically_normal();
    if (p.filename().empty()) p = p.parent_path();
    return p.filename().string();
  };
  std::string name_a = base(args.run_a), name_b = base(args.run_b);
  if (name_a.empty() || name_b.empty() || name_a == name_b) {
    name_a = args.run_a;
    name_b = args.run_b;
  }
  json comparison = compare_requests(a.requests, b.requests, name_a, name_b, o);
  comparison["runs"] = {{"a", args.run_a}, {"b", args.run_b}};
  if (!scenario_a.empty()) comparison["scenario"] = scenario_a;
  const std::string md = comparison_markdown(comparison);

  const std::string out = args.out_dir.empty() ? utc_now("compare-%Y%m%dT%H%M%SZ") : args.out_dir;
  try {
    std::error_code ec;
    std::filesystem::create_directories(out, ec);
    if (ec) throw std::runtime_error("cannot create " + out + ": " + ec.message());
    write_atomically(out + "/comparison.json",
                     comparison.dump(2, ' ', false, json::error_handler_t::replace) + "\n");
    write_atomically(out + "/comparison.md", md);
  } catch (const std::exception& e) {
    std::cerr << kPrefix << e.what() << "\n";
    return exit_code::cant_create;
  }
  std::cout << md << "\nresults: " << out << "\n";
  return exit_code::ok;
}

}  // namespace tierscope::workloads

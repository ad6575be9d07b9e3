#include "workloads/compare.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string_view>
#include <utility>

#include "workloads/json_fields.h"
#include "workloads/stats.h"

namespace tierscope::workloads {

using nlohmann::json;
namespace jf = json_fields;

namespace {

// Two requests of one arm closer than this are not counted as overlapping
// (t_send and e2e_ms are rounded figures).
constexpr double kOverlapToleranceS = 1e-4;
constexpr std::size_t kMinBlocks = 3;

struct Request {
  const json* record = nullptr;
  std::optional<std::uint64_t> block;
};

struct ArmStep {
  std::uint64_t requests = 0, ok = 0;
  std::map<std::string, std::uint64_t> outcomes;
  std::vector<Request> ok_requests;
  std::vector<std::pair<double, double>> spans;  // [send, end] in seconds
  bool users_above_one = false;
  bool present = false;
  std::optional<std::string> engine_outcome;  // summary.json: the engine did not start, or ended, at this step

  bool concurrent() const {
    if (users_above_one) return true;
    std::vector<std::pair<double, double>> s = spans;
    std::sort(s.begin(), s.end());
    double end = -INFINITY;
    for (const auto& [start, stop] : s) {
      if (start < end - kOverlapToleranceS) return true;
      end = std::max(end, stop);
    }
    return false;
  }
  std::size_t blocks() const {
    std::set<std::uint64_t> ids;
    for (const Request& r : ok_requests)
      if (r.block) ids.insert(*r.block);
    return ids.size();
  }
};

json key_of(const json& record) {
  json key = json::object();
  if (auto c = jf::count_member(record, "context_tokens")) key["context_tokens"] = *c;
  if (auto u = jf::count_member(record, "users")) key["users"] = *u;
  if (const std::string* p = jf::string_member(record, "prompt")) key["prompt"] = *p;
  return key;
}

bool is_warmup(const json& record) {
  const json* w = jf::member(record, "warmup");
  return w && w->is_boolean() && w->get<bool>();
}

std::string outcome_of(const json& record) {
  const std::string* o = jf::string_member(record, "outcome");
  return o && !o->empty() ? *o : "unknown";
}

struct Steps {
  std::vector<std::string> order;  // key dumps in first-appearance order
  std::map<std::string, json> keys;
  std::map<std::string, std::pair<ArmStep, ArmStep>> arms;

  // The step of `key` (added at the end when new).
  std::pair<ArmStep, ArmStep>& step(json key) {
    const std::string id = key.dump();
    if (!keys.contains(id)) {
      order.push_back(id);
      keys.emplace(id, std::move(key));
    }
    return arms[id];
  }
  // The step whose key agrees with `partial` on every field both have (summary.json names a
  // concurrency step by users alone, its records add context_tokens); nullptr when none.
  std::pair<ArmStep, ArmStep>* matching(const json& partial) {
    for (const std::string& id : order) {
      const json& key = keys.at(id);
      bool shared = false, agree = true;
      for (const auto& [field, value] : partial.items()) {
        if (!key.contains(field)) continue;
        shared = true;
        agree = agree && key[field] == value;
      }
      if (shared && agree) return &arms[id];
    }
    return nullptr;
  }
};

void collect(Steps& steps, const std::vector<json>& records, bool arm_b) {
  for (const json& r : records) {
    if (!r.is_object() || is_warmup(r)) continue;
    auto& both = steps.step(key_of(r));
    ArmStep& s = arm_b ? both.second : both.first;
    s.present = true;
    ++s.requests;
    const std::string outcome = outcome_of(r);
    ++s.outcomes[outcome];
    if (auto users = jf::count_member(r, "users"); users && *users > 1) s.users_above_one = true;
    const auto send = jf::number_member(r, "t_send");
    const auto e2e = jf::number_member(r, "e2e_ms");
    if (send && e2e) s.spans.emplace_back(*send, *send + *e2e / 1000.0);
    if (outcome == "ok") {
      ++s.ok;
      s.ok_requests.push_back({&r, jf::count_member(r, "block")});
    }
  }
}

// summary.json "steps": the engine's outcome of a step (engine_outcome), also of
// a step that has no records (the engine did not start for it).
void collect_summary_steps(Steps& steps, const json& summary_steps, bool arm_b) {
  if (!summary_steps.is_array()) return;
  for (const json& st : summary_steps) {
    const std::string* outcome = jf::string_member(st, "engine_outcome");
    if (!outcome) continue;
    const json key = key_of(st);
    if (key.empty()) continue;
    auto* both = steps.matching(key);
    if (!both) both = &steps.step(key);
    ArmStep& s = arm_b ? both->second : both->first;
    s.engine_outcome = *outcome;
    s.present = true;
  }
}

// A metric of one ok record; absent when the record does not have it.
std::optional<double> metric_of(const std::string& name, const json& r) {
  if (name == "tpot_ms" || name == "output_tokens_per_s") {
    const auto ttft = jf::number_member(r, "ttft_ms");
    const auto e2e = jf::number_member(r, "e2e_ms");
    const auto tokens = jf::count_member(r, "output_tokens");
    if (!ttft || !e2e || !tokens || *tokens < 2 || !(*e2e > *ttft)) return std::nullopt;
    const double decode_ms = *e2e - *ttft;
    const auto gaps = static_cast<double>(*tokens - 1);
    return name == "tpot_ms" ? decode_ms / gaps : gaps / (decode_ms / 1000.0);
  }
  return jf::number_member(r, name);
}

std::vector<double> request_values(const ArmStep& s, const std::string& metric) {
  std::vector<double> v;
  for (const Request& r : s.ok_requests)
    if (auto x = metric_of(metric, *r.record)) v.push_back(*x);
  return v;
}

std::vector<double> block_values(const ArmStep& s, const std::string& metric) {
  std::map<std::uint64_t, std::vector<double>> by_block;
  for (const Request& r : s.ok_requests)
    if (r.block)
      if (auto x = metric_of(metric, *r.record)) by_block[*r.block].push_back(*x);
  std::vector<double> v;
  for (const auto& [block, values] : by_block) v.push_back(*percentile(values, 0.5));
  return v;
}

std::string metric_unit(const std::string& name) {
  if (name.ends_with("_ms")) return "ms";
  if (name.ends_with("_per_s")) return name == "output_tokens_per_s" ? "tokens/s" : "1/s";
  return "";
}

std::string metric_title(const std::string& name) {
  if (name == "ttft_ms") return "TTFT";
  if (name == "tpot_ms") return "TPOT";
  if (name == "e2e_ms") return "E2E";
  if (name == "output_tokens_per_s") return "decode tokens/s";
  return name;
}

// Members of a comparison read back (it may come from a file): a missing
// member or one of another type reads as null / 0 / "".
const json& at(const json& j, std::string_view key) {
  static const json null;
  const json* v = jf::member(j, key);
  return v ? *v : null;
}

std::string text_of(const json& j, std::string_view key) {
  const std::string* v = jf::string_member(j, key);
  return v ? *v : std::string();
}

json or_null(const std::optional<double>& v) { return v && std::isfinite(*v) ? json(*v) : json(nullptr); }

json metric_json(const MetricSpec& spec, const std::vector<double>& a, const std::vector<double>& b,
                 const CompareOptions& o) {
  const auto ratio = bootstrap_ratio_of_medians(a, b, o.bootstrap);
  const auto welch = welch_t(a, b, o.bootstrap.confidence);
  const auto mw = mann_whitney_u(a, b);
  const auto tost = tost_ratio(a, b, o.margin);
  const AbVerdict verdict = ab_verdict(ratio, mw, tost, spec.lower_is_better);
  json m;
  m["lower_is_better"] = spec.lower_is_better;
  m["unit"] = metric_unit(spec.name);
  m["n_a"] = a.size();
  m["n_b"] = b.size();
  m["median_a"] = or_null(percentile(a, 0.5));
  m["median_b"] = or_null(percentile(b, 0.5));
  m["ratio"] = ratio ? json{{"value", ratio->ratio}, {"low", ratio->low}, {"high", ratio->high}} : json(nullptr);
  m["welch"] = welch ? json{{"diff", welch->diff}, {"low", welch->low}, {"high", welch->high},
                            {"t", welch->t},       {"dof", welch->dof}, {"p", welch->p}}
                     : json(nullptr);
  m["mann_whitney"] =
      mw ? json{{"u", mw->u}, {"z", mw->z}, {"p", mw->p}, {"exact", mw->exact}} : json(nullptr);
  m["tost"] = tost ? json{{"margin", tost->margin}, {"p", tost->p}, {"equivalent", tost->equivalent}}
                   : json(nullptr);
  m["verdict"] = std::string(to_string(verdict));
  m["word"] = std::string(verdict_word(verdict));
  return m;
}

std::string format(const char* pattern, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, pattern, v);
  return buf;
}

// A figure for the tables: 1 decimal from 100, 2 from 1, else 3 significant digits.
std::string figure(double v) {
  if (!std::isfinite(v)) return "-";
  const double m = std::fabs(v);
  if (m >= 100) return format("%.1f", v);
  if (m >= 1) return format("%.2f", v);
  return format("%.3g", v);
}

std::string figure(const json& v) { return v.is_number() ? figure(v.get<double>()) : "-"; }

std::string p_value(const json& v) { return v.is_number() ? format("%.3g", v.get<double>()) : "-"; }

std::string step_label(const json& key, const std::set<std::string>& varying) {
  std::string out;
  auto add = [&out](const std::string& part) { out += (out.empty() ? "" : ", ") + part; };
  const bool any_varying = !varying.empty();
  for (const auto& [field, value] : key.items()) {
    if (any_varying && !varying.contains(field)) continue;
    if (field == "context_tokens") add(std::to_string(value.get<std::uint64_t>()) + " context");
    if (field == "users") {
      const auto u = value.get<std::uint64_t>();
      add(std::to_string(u) + (u == 1 ? " user" : " users"));
    }
    if (field == "prompt") add("prompt " + value.get<std::string>());
  }
  return out.empty() ? "all requests" : out;
}

std::string outcomes_text(const json& arm) {
  const std::uint64_t requests = jf::count_member(arm, "requests").value_or(0);
  const std::string engine = text_of(arm, "engine_outcome");
  if (requests == 0) return engine.empty() ? "not run" : "engine " + engine + ", no request ran";
  const std::string total = std::to_string(requests);
  std::string out;
  auto add = [&](const std::string& name, std::uint64_t n) {
    out += (out.empty() ? "" : ", ") + std::to_string(n) + "/" + total + " " + name;
  };
  const json& outcomes = at(arm, "outcomes");
  if (auto ok = jf::count_member(outcomes, "ok")) add("ok", *ok);
  if (outcomes.is_object())
    for (const auto& [name, n] : outcomes.items())
      if (name != "ok")
        if (auto count = jf::count_member(outcomes, name)) add(name, *count);
  if (!engine.empty()) out += " (engine " + engine + ")";
  return out;
}

// "2.10× slower TTFT [1.90, 2.30]": b relative to a, from the ratio and the verdict.
std::string ratio_phrase(const std::string& name, double value, double low, double high, const std::string& verdict,
                         const std::string& word, double margin) {
  const std::string title = metric_title(name);
  auto interval = [](double x, double lo, double hi) {
    return format("%.2f", x) + "× [" + format("%.2f", lo) + ", " + format("%.2f", hi) + "]";
  };
  if (verdict == "better" || verdict == "worse") {
    // Stated as a factor ≥ 1: 0.5× the TTFT reads "2.00× faster".
    const bool above = value >= 1;
    const double x = above ? value : 1 / value, lo = above ? low : 1 / high, hi = above ? high : 1 / low;
    return format("%.2f", x) + "× " + word + " " + title + " [" + format("%.2f", lo) + ", " + format("%.2f", hi) + "]";
  }
  if (verdict == "equivalent")
    return title + " equivalent within ±" + format("%g", margin * 100) + " % (ratio " + interval(value, low, high) + ")";
  return title + " ratio " + interval(value, low, high) + ", inconclusive";
}

// The same from a metric's JSON; "" without a ratio.
std::string ratio_phrase(const std::string& name, const json& m, double margin) {
  const json& r = at(m, "ratio");
  const auto value = jf::number_member(r, "value"), low = jf::number_member(r, "low"),
             high = jf::number_member(r, "high");
  if (!value || !low || !high) return "";
  return ratio_phrase(name, *value, *low, *high, text_of(m, "verdict"), text_of(m, "word"), margin);
}

std::string escape_cell(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += "\\|";
    else if (c == '\n' || c == '\r') out += ' ';
    else out += c;
  }
  return out;
}

}  // namespace

std::vector<MetricSpec> default_metrics() {
  return {{"ttft_ms", true}, {"tpot_ms", true}, {"e2e_ms", true}, {"output_tokens_per_s", false}};
}

std::vector<json> step_keys(const std::vector<json>& records) {
  Steps steps;
  collect(steps, records, false);
  std::vector<json> out;
  for (const std::string& id : steps.order) out.push_back(steps.keys.at(id));
  return out;
}

json compare_requests(const std::vector<json>& a, const std::vector<json>& b, const std::string& a_name,
                      const std::string& b_name, const CompareOptions& o) {
  if (o.unit != "auto" && o.unit != "requests" && o.unit != "blocks")
    throw std::invalid_argument("unit must be auto, requests or blocks, not " + o.unit);
  const std::vector<MetricSpec> metrics = o.metrics.empty() ? default_metrics() : o.metrics;
  Steps steps;
  for (const json& key : o.planned)
    if (key.is_object()) steps.step(key);
  collect(steps, a, false);
  collect(steps, b, true);
  collect_summary_steps(steps, o.steps_a, false);
  collect_summary_steps(steps, o.steps_b, true);

  // The key fields whose value differs between steps name the steps.
  std::set<std::string> varying;
  for (const char* field : {"context_tokens", "users", "prompt"}) {
    std::set<std::string> values;
    for (const auto& [id, key] : steps.keys) values.insert(key.contains(field) ? key[field].dump() : "");
    if (values.size() > 1) varying.insert(field);
  }

  json out;
  out["a"] = {{"name", a_name}};
  out["b"] = {{"name", b_name}};
  out["margin"] = o.margin;
  out["confidence"] = o.bootstrap.confidence;
  out["bootstrap"] = {{"resamples", o.bootstrap.resamples},
                      {"seed", o.bootstrap.seed},
                      {"method", "percentile bootstrap of median(b)/median(a), arms resampled independently, "
                                 "std::mt19937_64"}};
  out["unit_option"] = o.unit;
  out["metrics"] = json::array();
  for (const MetricSpec& m : metrics) out["metrics"].push_back(m.name);
  out["steps"] = json::array();

  for (const std::string& id : steps.order) {
    const auto& [sa, sb] = steps.arms.at(id);
    json step;
    step["key"] = steps.keys.at(id);
    step["label"] = step_label(step["key"], varying);
    auto arm_json = [](const ArmStep& s) {
      json j;
      j["requests"] = s.requests;
      j["ok"] = s.ok;
      j["outcomes"] = json::object();
      for (const auto& [name, n] : s.outcomes) j["outcomes"][name] = n;
      j["completion"] = s.requests ? json(static_cast<double>(s.ok) / static_cast<double>(s.requests)) : json(nullptr);
      j["blocks"] = s.blocks();
      if (s.engine_outcome) j["engine_outcome"] = *s.engine_outcome;
      return j;
    };
    step["a"] = arm_json(sa);
    step["b"] = arm_json(sb);

    const bool concurrent = sa.concurrent() || sb.concurrent();
    const bool blocks_available = sa.blocks() >= kMinBlocks && sb.blocks() >= kMinBlocks;
    std::string unit = "requests";
    std::string caveat;
    const std::string concurrent_caveat =
        "requests ran concurrently and may be correlated by batching: the intervals and p-values treat them as "
        "independent and may be too narrow";
    if (o.unit == "blocks" || (o.unit == "auto" && concurrent)) {
      if (blocks_available) {
        unit = "blocks";
      } else if (o.unit == "blocks") {
        caveat = "fewer than 3 blocks per arm with ok requests: requests used as the unit";
        if (concurrent) caveat += "; " + concurrent_caveat;
      } else {
        caveat = concurrent_caveat;
      }
    } else if (concurrent) {
      caveat = concurrent_caveat;
    }
    step["unit"] = unit;
    if (!caveat.empty()) step["caveat"] = caveat;

    step["metrics"] = json::object();
    for (const MetricSpec& m : metrics) {
      const std::vector<double> va = unit == "blocks" ? block_values(sa, m.name) : request_values(sa, m.name);
      const std::vector<double> vb = unit == "blocks" ? block_values(sb, m.name) : request_values(sb, m.name);
      step["metrics"][m.name] = metric_json(m, va, vb, o);
    }

    const std::string phrase =
        metrics.empty() ? "" : ratio_phrase(metrics.front().name, step["metrics"][metrics.front().name], o.margin);
    step["headline_ratio"] = phrase.empty() ? json(nullptr) : json(phrase);
    step["headline"] = "at " + step["label"].get<std::string>() + ": " + a_name + " " + outcomes_text(step["a"]) +
                       "; " + b_name + " " + outcomes_text(step["b"]) + (phrase.empty() ? "" : ", " + phrase);
    out["steps"].push_back(std::move(step));
  }
  return out;
}

std::string comparison_markdown(const json& c) {
  const std::string a_name = escape_cell(text_of(at(c, "a"), "name"));
  const std::string b_name = escape_cell(text_of(at(c, "b"), "name"));
  const json& steps = at(c, "steps");
  const double margin = jf::number_member(c, "margin").value_or(0);
  const double confidence = jf::number_member(c, "confidence").value_or(0.95);
  const json& bootstrap = at(c, "bootstrap");
  std::string md;
  md += "## A/B comparison: A = " + a_name + ", B = " + b_name + "\n\n";
  md += "B relative to A. Ratio: median(B) / median(A) with a " + format("%g", confidence * 100) +
        " % bootstrap interval (percentile method, " +
        std::to_string(jf::count_member(bootstrap, "resamples").value_or(0)) + " resamples, seed " +
        std::to_string(jf::count_member(bootstrap, "seed").value_or(0)) +
        "); Δ mean: mean(B) − mean(A) with Welch's t interval; p MW: Mann–Whitney U, two-sided; p TOST: two "
        "one-sided tests of the ratio within ±" +
        format("%g", margin * 100) +
        " %. Verdict: faster/slower when the ratio interval excludes 1 and p MW < 0.05; equivalent when TOST "
        "shows the ratio within the margin; otherwise inconclusive (not \"no difference\").\n\n";

  md += "### Outcomes (OOM vs success)\n\n";
  md += "| step | " + a_name + " | " + b_name + " | B vs A |\n|---|---|---|---|\n";
  if (steps.is_array())
    for (const json& s : steps) {
      const std::string ratio = text_of(s, "headline_ratio");
      md += "| " + escape_cell(text_of(s, "label")) + " | " + outcomes_text(at(s, "a")) + " | " +
            outcomes_text(at(s, "b")) + " | " + (ratio.empty() ? "-" : escape_cell(ratio)) + " |\n";
    }

  const json& metrics = at(c, "metrics");
  if (metrics.is_array())
    for (const json& name : metrics) {
      if (!name.is_string()) continue;
      const std::string metric = name.get<std::string>();
      bool lower = true;
      std::string unit;
      if (steps.is_array())
        for (const json& s : steps)
          if (const json& m = at(at(s, "metrics"), metric); m.is_object()) {
            const json& l = at(m, "lower_is_better");
            lower = !l.is_boolean() || l.get<bool>();
            unit = text_of(m, "unit");
            break;
          }
      md += "\n### " + escape_cell(metric_title(metric)) + " (" + escape_cell(unit.empty() ? metric : unit) + ", " +
            (lower ? "lower" : "higher") + " is better)\n\n";
      md += "| step | unit | n A | n B | median A | median B | B/A [CI] | Δ mean [CI] | p Welch | p MW | p TOST | "
            "verdict |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n";
      if (!steps.is_array()) continue;
      for (const json& s : steps) {
        const json& m = at(at(s, "metrics"), metric);
        if (!m.is_object()) continue;
        std::string ratio = "-", diff = "-", p_welch = "-", p_mw = "-", p_tost = "-";
        const json& r = at(m, "ratio");
        if (r.is_object())
          ratio = figure(at(r, "value")) + " [" + figure(at(r, "low")) + ", " + figure(at(r, "high")) + "]";
        const json& w = at(m, "welch");
        if (w.is_object()) {
          diff = figure(at(w, "diff")) + " [" + figure(at(w, "low")) + ", " + figure(at(w, "high")) + "]";
          p_welch = p_value(at(w, "p"));
        }
        const json& mw = at(m, "mann_whitney");
        if (mw.is_object()) {
          const json& exact = at(mw, "exact");
          p_mw = p_value(at(mw, "p")) + (exact.is_boolean() && exact.get<bool>() ? " (exact)" : "");
        }
        const json& t = at(m, "tost");
        if (t.is_object()) p_tost = p_value(at(t, "p"));
        auto count = [&m](const char* key) {
          const auto n = jf::count_member(m, key);
          return n ? std::to_string(*n) : std::string("-");
        };
        md += "| " + escape_cell(text_of(s, "label")) + " | " + escape_cell(text_of(s, "unit")) + " | " +
              count("n_a") + " | " + count("n_b") + " | " + figure(at(m, "median_a")) + " | " +
              figure(at(m, "median_b")) + " | " + ratio + " | " + diff + " | " + p_welch + " | " + p_mw + " | " +
              p_tost + " | " + escape_cell(text_of(m, "word")) + " |\n";
      }
    }

  std::string caveats;
  if (steps.is_array())
    for (const json& s : steps)
      if (const std::string caveat = text_of(s, "caveat"); !caveat.empty())
        caveats += "- " + escape_cell(text_of(s, "label")) + ": " + escape_cell(caveat) + "\n";
  if (!caveats.empty()) md += "\n### Caveats\n\n" + caveats;
  return md;
}

}  // namespace tierscope::workloads

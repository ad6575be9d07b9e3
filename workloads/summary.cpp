#include "workloads/summary.h"

#include "workloads/cost.h"

#include <ctime>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <ostream>
#include <sstream>
#include <stdexcept>

namespace tierscope::workloads {

using nlohmann::json;

namespace {

template <typename T>
json or_null(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

json to_json(const EngineTimings& t) {
  json j = json::object();
  if (t.prompt_tokens) j["prompt_tokens"] = *t.prompt_tokens;
  if (t.prompt_ms) j["prompt_ms"] = *t.prompt_ms;
  if (t.generated_tokens) j["generated_tokens"] = *t.generated_tokens;
  if (t.generation_ms) j["generation_ms"] = *t.generation_ms;
  if (t.load_ms) j["load_ms"] = *t.load_ms;
  if (t.total_ms) j["total_ms"] = *t.total_ms;
  return j;
}

// What summary.json holds for a statistic: the value when it is finite (as
// stats.h to_json()).
std::optional<double> finite(const std::optional<double>& v) {
  return v && std::isfinite(*v) ? v : std::nullopt;
}

}  // namespace

json to_json(const RequestRecord& r) {
  json j;
  j["step"] = r.step;
  if (r.context_tokens) j["context_tokens"] = *r.context_tokens;
  if (r.users) j["users"] = *r.users;
  if (r.prompt) j["prompt"] = *r.prompt;
  j["request_id"] = r.request_id;
  j["user"] = r.user;
  j["warmup"] = r.warmup;
  j["t_send"] = r.t_send;
  if (r.scheduled_s) j["scheduled_s"] = *r.scheduled_s;
  j["t_headers_ms"] = or_null(r.t_headers_ms);
  j["ttft_ms"] = or_null(r.ttft_ms);
  j["itl_ms"] = r.itl_ms;
  j["e2e_ms"] = r.e2e_ms;
  j["prompt_tokens"] = or_null(r.prompt_tokens);
  j["prompt_tokens_target"] = or_null(r.prompt_tokens_target);
  j["prompt_source"] = r.prompt_source;
  j["output_tokens"] = r.output_tokens;
  j["tokens_source"] = r.tokens_source;
  j["content_chunks"] = r.content_chunks;
  j["http_status"] = r.http_status;
  j["outcome"] = std::string(to_string(r.outcome));
  j["error"] = r.error;
  j["finish_reason"] = or_null(r.finish_reason);
  j["truncated"] = or_null(r.truncated);
  if (r.engine_timings) j["engine_timings"] = to_json(*r.engine_timings);
  j["body_bytes"] = r.body_bytes;
  j["transport"] = std::string(to_string(r.transport));
  if (r.repetition_score) j["repetition_score"] = *r.repetition_score;
  if (r.arm) j["arm"] = *r.arm;
  if (r.block) j["block"] = *r.block;
  if (r.sent) j["sent"] = *r.sent;
  return j;
}

StepSummary summarize_step(std::span<const RequestRecord> records, double trim, double failure_threshold) {
  std::vector<double> ttft, tpot, itl, e2e, rate, rep;
  StepSummary s;
  std::uint64_t finished_stop = 0, interrupted = 0;
  double first = INFINITY, last = -INFINITY;
  for (const RequestRecord& r : records) {
    if (r.warmup) continue;
    ++s.requests;
    first = std::min(first, r.t_send);
    last = std::max(last, r.t_send + r.e2e_ms / 1000.0);
    if (r.outcome != Outcome::ok) {
      ++s.failures[std::string(to_string(r.outcome))];
      if (r.outcome == Outcome::interrupted) ++interrupted;
      continue;
    }
    ++s.ok;
    const double e = r.e2e_ms;
    e2e.push_back(e);
    const std::uint64_t n = r.output_tokens;
    s.output_tokens += n;
    if (r.prompt_tokens) s.input_tokens += *r.prompt_tokens;
    if (r.finish_reason == "stop") ++finished_stop;
    if (r.ttft_ms) {
      const double t = *r.ttft_ms;
      ttft.push_back(t);
      if (n >= 2 && e > t) {
        tpot.push_back((e - t) / static_cast<double>(n - 1));
        rate.push_back(static_cast<double>(n - 1) / ((e - t) / 1000.0));
      }
    }
    itl.insert(itl.end(), r.itl_ms.begin(), r.itl_ms.end());
    if (r.repetition_score) rep.push_back(*r.repetition_score);
  }
  // Requests cut short by an interrupt say nothing about the engine: not in the failure rate.
  const std::uint64_t judged = s.requests - interrupted;
  s.failed = judged > 0 && static_cast<double>(judged - s.ok) / static_cast<double>(judged) >= failure_threshold;
  s.ttft_ms = summarize(ttft, trim);
  s.tpot_ms = summarize(tpot, trim);
  s.itl_ms = summarize(itl, trim);
  s.e2e_ms = summarize(e2e, trim);
  s.output_tokens_per_s = summarize(rate, trim);
  s.wall_s = s.requests > 0 ? last - first : 0;
  if (s.wall_s > 0) {
    s.total_tokens_per_s = static_cast<double>(s.input_tokens + s.output_tokens) / s.wall_s;
    s.output_tokens_per_s_aggregate = static_cast<double>(s.output_tokens) / s.wall_s;
    s.requests_per_s = static_cast<double>(s.ok) / s.wall_s;
  }
  if (s.requests > 0) s.completion_rate = static_cast<double>(s.ok) / static_cast<double>(s.requests);
  if (s.ok > 0) s.finished_stop_rate = static_cast<double>(finished_stop) / static_cast<double>(s.ok);
  if (!rep.empty()) s.repetition_score = summarize(rep, trim);
  return s;
}

std::optional<Wall> wall_of(const StepResult& step) {
  if (!step.stats.failed && !step.engine_outcome) return std::nullopt;
  // A launched engine that ended (engine_down, or oom: the kernel's OOM
  // killer) names the wall, whatever its requests saw (connection refused,
  // reset): that is the cause, they are the symptom.
  if (step.engine_outcome) return Wall{step.key, step.step, *step.engine_outcome};
  std::string worst;
  std::uint64_t most = 0;
  for (const auto& [outcome, n] : step.stats.failures)
    if (n > most) most = n, worst = outcome;
  return Wall{step.key, step.step, worst};
}

json to_json(const StepKey& key) {
  switch (key.kind) {
    case StepKey::Kind::context_tokens: return {{"context_tokens", key.value}};
    case StepKey::Kind::users: return {{"users", key.value}};
    case StepKey::Kind::prompt: return {{"prompt", key.prompt}};
  }
  return json::object();
}

json to_json(const Wall& wall) {
  json j = to_json(wall.key);
  j["step"] = wall.step;
  j["outcome"] = wall.outcome;
  return j;
}

json to_json(const StepSummary& st) {
  json s;
  s["requests"] = st.requests;
  s["ok"] = st.ok;
  s["failures"] = json::object();
  for (const auto& [k, v] : st.failures) s["failures"][k] = v;
  s["failed"] = st.failed;
  s["ttft_ms"] = to_json(st.ttft_ms);
  s["tpot_ms"] = to_json(st.tpot_ms);
  s["itl_ms"] = to_json(st.itl_ms);
  s["e2e_ms"] = to_json(st.e2e_ms);
  s["output_tokens_per_s"] = to_json(st.output_tokens_per_s);
  s["wall_s"] = st.wall_s;
  s["input_tokens"] = st.input_tokens;
  s["output_tokens"] = st.output_tokens;
  s["total_tokens_per_s"] = or_null(st.total_tokens_per_s);
  s["output_tokens_per_s_aggregate"] = or_null(st.output_tokens_per_s_aggregate);
  s["requests_per_s"] = or_null(st.requests_per_s);
  s["completion_rate"] = or_null(st.completion_rate);
  s["finished_stop_rate"] = or_null(st.finished_stop_rate);
  if (st.repetition_score) s["repetition_score"] = to_json(*st.repetition_score);
  return s;
}

json to_json(const StepResult& step) {
  json st = to_json(step.key);
  if (step.arm) st["arm"] = *step.arm;
  if (step.block) st["block"] = *step.block;
  st["step"] = step.step;
  st["label"] = step.label;
  if (step.users >= 0 && !st.contains("users")) st["users"] = step.users;
  st.update(to_json(step.stats));
  st["complete"] = step.complete;
  st["engine_metrics"] = step.engine_metrics;
  if (step.engine_outcome) st["engine_outcome"] = *step.engine_outcome;
  if (step.engine_run) st["engine_run"] = *step.engine_run;
  if (step.memory) st["memory"] = *step.memory;
  if (step.blocks) st["blocks"] = *step.blocks;
  return st;
}

json to_json(const RunSummary& s) {
  json j;
  j["tool"] = "tierscope bench";
  j["scenario"] = s.scenario;
  j["started"] = s.started;
  j["updated"] = s.updated;
  if (s.finished) j["finished"] = *s.finished;
  j["status"] = s.status;
  j["steps"] = json::array();
  for (const StepResult& st : s.steps) j["steps"].push_back(to_json(st));
  j["wall"] = s.wall ? to_json(*s.wall) : json(nullptr);
  j["failure_threshold"] = s.failure_threshold;
  j["trim"] = s.trim;
  j["arrival"] = {{"mode", to_string(s.arrival.mode)}, {"rate", s.arrival.rate},
                  {"burstiness", s.arrival.burstiness}, {"seed", s.arrival.seed}};
  if (s.engine) j["engine"] = *s.engine;
  if (s.prompts) j["prompts"] = *s.prompts;
  if (s.error) j["error"] = *s.error;
  if (s.in_flight_interrupted) j["in_flight_interrupted"] = *s.in_flight_interrupted;
  if (s.limits) j["limits"] = *s.limits;
  if (s.predicted_wall) j["predicted_wall"] = *s.predicted_wall;
  if (s.manifest_sha256) j["manifest_sha256"] = *s.manifest_sha256;
  if (s.slo) j["slo"] = *s.slo;
  if (s.cost) j["cost"] = *s.cost;
  if (s.ab) j["ab"] = *s.ab;
  if (s.arms) j["arms"] = *s.arms;
  if (s.walls) j["walls"] = *s.walls;
  if (s.comparison) j["comparison"] = *s.comparison;
  return j;
}

namespace {

// summary.csv's statistics columns, per metric: the eleven below, then ci95_low, ci95_high.
constexpr const char* kCsvMetrics[] = {"ttft_ms", "tpot_ms", "itl_ms", "e2e_ms", "output_tokens_per_s"};
constexpr const char* kCsvStats[] = {"count", "mean", "median", "p90", "p95", "p99", "min", "max", "std", "cv", "trimmed_mean"};

const Summary& metric(const StepSummary& s, std::size_t i) {
  const Summary* all[] = {&s.ttft_ms, &s.tpot_ms, &s.itl_ms, &s.e2e_ms, &s.output_tokens_per_s};
  return *all[i];
}

void csv_cell(std::ostream& os, const std::optional<double>& v) {
  if (v) os << *v;
}

void csv_summary(std::ostream& os, const Summary& m) {
  const std::optional<double> stats[] = {static_cast<double>(m.count), m.mean, m.median, m.p90, m.p95, m.p99,
                                         m.min,    m.max, m.stddev, m.cv, m.trimmed_mean};
  for (const auto& v : stats) {
    os << ',';
    csv_cell(os, finite(v));
  }
  os << ',';
  if (m.ci95) os << m.ci95->first;
  os << ',';
  if (m.ci95) os << m.ci95->second;
}

void csv_row(std::ostream& os, const StepResult& st, bool ab) {
  if (ab) os << st.arm.value_or("") << ',';
  os << st.step << ',';
  if (st.key.kind == StepKey::Kind::context_tokens) os << static_cast<double>(st.key.value);
  os << ',';
  if (st.key.kind == StepKey::Kind::users) os << static_cast<double>(st.key.value);
  else if (st.users >= 0) os << static_cast<double>(st.users);
  os << ',';
  if (st.key.kind == StepKey::Kind::prompt) os << st.key.prompt;
  os << ',' << st.stats.requests << ',' << st.stats.ok << ',' << (st.stats.failed ? "true" : "false") << ',';
  bool first = true;
  for (const auto& [k, v] : st.stats.failures) {
    os << (first ? "" : ";") << k << ':' << v;
    first = false;
  }
  for (std::size_t i = 0; i < std::size(kCsvMetrics); ++i) csv_summary(os, metric(st.stats, i));
  for (const auto& v : {st.stats.total_tokens_per_s, st.stats.output_tokens_per_s_aggregate, st.stats.requests_per_s,
                        std::optional<double>(st.stats.wall_s)}) {
    os << ',';
    csv_cell(os, v);
  }
  os << '\n';
}

}  // namespace

std::string summary_csv(const RunSummary& summary) {
  std::ostringstream os;
  os.precision(10);
  const bool ab = summary.ab.has_value();  // scenario: ab: the arm first
  os << (ab ? "arm," : "") << "step,context_tokens,users,prompt,requests,ok,failed,failures";
  for (auto m : kCsvMetrics) {
    for (auto st : kCsvStats) os << ',' << m << '_' << st;
    os << ',' << m << "_ci95_low," << m << "_ci95_high";
  }
  os << ",total_tokens_per_s,output_tokens_per_s_aggregate,requests_per_s,wall_s\n";
  for (const StepResult& st : summary.steps) csv_row(os, st, ab);
  return os.str();
}

namespace {

std::string fixed(const std::optional<double>& v, int precision = 1) {
  if (!v) return "-";
  std::ostringstream o;
  o << std::fixed << std::setprecision(precision) << *v;
  return o.str();
}

void print_row(std::ostream& os, const StepResult& st) {
  const StepSummary& s = st.stats;
  std::string fails;
  for (const auto& [k, v] : s.failures) fails += (fails.empty() ? "" : " ") + k + ":" + std::to_string(v);
  os << std::left << std::setw(22) << st.label << std::right << std::setw(6) << s.requests << std::setw(6) << s.ok
     << std::setw(10) << fixed(finite(s.ttft_ms.median)) << std::setw(10) << fixed(finite(s.ttft_ms.p95))
     << std::setw(10) << fixed(finite(s.ttft_ms.p99))
     << std::setw(10) << fixed(finite(s.tpot_ms.median), 2) << std::setw(10) << fixed(finite(s.e2e_ms.median))
     << std::setw(11) << fixed(s.output_tokens_per_s_aggregate) << std::setw(12) << fixed(s.total_tokens_per_s)
     << "  " << (fails.empty() ? "-" : fails) << (s.failed ? "  FAILED" : "") << "\n";
}

}  // namespace

void print_table(std::ostream& os, const RunSummary& summary, const std::string& out_dir) {
  os << "\n" << std::left << std::setw(22) << "step" << std::right << std::setw(6) << "reqs" << std::setw(6) << "ok"
     << std::setw(10) << "ttft p50" << std::setw(10) << "ttft p95" << std::setw(10) << "ttft p99" << std::setw(10) << "tpot p50" << std::setw(10)
     << "e2e p50" << std::setw(11) << "out tok/s" << std::setw(12) << "total tok/s" << "  failures\n";
  if (!summary.ab) {
    for (const StepResult& st : summary.steps) print_row(os, st);
  } else {
    // scenario: ab: the steps of each arm under its name, then each arm's wall.
    for (const char* arm : {"a", "b"}) {
      const nlohmann::json name = summary.arms ? summary.arms->value(arm, json::object()).value("name", json(arm)) : json(arm);
      os << "arm " << arm << " (" << name.get<std::string>() << ")\n";
      for (const StepResult& st : summary.steps)
        if (st.arm == arm) print_row(os, st);
    }
  }
  os << "(ms; tok/s aggregate over the step's wall time)";
  if (summary.wall) os << "\nwall: " << to_json(*summary.wall).dump();
  if (summary.walls)
    for (const auto& [arm, wall] : summary.walls->items()) os << "\nwall of arm " << arm << ": " << wall.dump();
  os << "\n";
  if (summary.cost) print_cost(os, *summary.cost);
  os << "results: " << out_dir << "\n";
  os.flush();
}

std::string utc_now(const char* format) {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[64];
  std::size_t n = std::strftime(buf, sizeof buf, format, &tm);
  return std::string(buf, n);
}

void write_atomically(const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc | std::ios::binary);
    out << text;
    out.flush();
    if (!out) throw std::runtime_error("cannot write " + tmp);
  }
  std::filesystem::rename(tmp, path);
}

}  // namespace tierscope::workloads

#include "workloads/runner.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <random>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "workloads/engine_facts.h"
#include "workloads/engine_stream.h"
#include "workloads/engines/engine.h"
#include "workloads/prompts.h"
#include "workloads/stats.h"

namespace tierscope::workloads {

using nlohmann::json;
using std::chrono::duration;
using Ms = duration<double, std::milli>;

namespace {

constexpr std::size_t kMaxErrorBody = 64 * 1024;
constexpr std::size_t kMaxKeptText = 256 * 1024;

double ms_between(SteadyTime a, SteadyTime b) { return Ms(b - a).count(); }

double unix_time(SteadyTime t) {
  auto now_sys = std::chrono::system_clock::now();
  auto now_steady = SteadyClock::now();
  auto sys = now_sys + std::chrono::duration_cast<std::chrono::system_clock::duration>(t - now_steady);
  return duration<double>(sys.time_since_epoch()).count();
}

std::string utc_stamp() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

struct Plan {
  std::uint32_t user = 0;
  bool warmup = false;
  std::uint32_t prompt_tokens = 0;  // target; 0 for protocol prompts
  const PromptSpec* prompt = nullptr;
  std::uint32_t max_tokens = 0;
  std::optional<double> temperature;
  BuiltPrompt built;
};

struct StepSpec {
  json key;  // {"context_tokens": N} / {"users": N} / {"prompt": name}
  std::string label;
  std::int64_t context_tokens = -1, users = -1;
  std::vector<std::deque<Plan>> warm;   // per user, run first (barrier)
  std::vector<std::deque<Plan>> count;  // per user
};

struct Active {
  explicit Active(Dialect d) : decoder(d) {}
  Plan plan;
  std::uint64_t request_id = 0;
  std::size_t step = 0;
  StreamDecoder decoder;
  long http_status = 0;
  SteadyTime t_headers{};
  std::optional<SteadyTime> first_content, last_content;
  std::vector<double> itl;
  std::uint64_t content_chunks = 0;
  std::string text;
  std::string error_body;
  std::optional<std::uint64_t> usage_prompt, usage_output;
  EngineTimings timings;
  std::optional<bool> truncated;
  std::optional<EngineError> stream_error;
  bool saw_done = false;
  std::string finish_reason;
  std::optional<double> scheduled_s;
  SteadyTime t_issue{};  // just before StreamLoop::add (the loop's own t_send is in TransferResult)
};

}  // namespace

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

json summarize_step(const std::vector<json>& records, double trim, double failure_threshold) {
  std::vector<double> ttft, tpot, itl, e2e, rate, rep;
  std::map<std::string, std::uint64_t> failures;
  std::uint64_t requests = 0, ok = 0, in_tokens = 0, out_tokens = 0, finished_stop = 0;
  double first = INFINITY, last = -INFINITY;
  for (const auto& r : records) {
    if (r.value("warmup", false)) continue;
    ++requests;
    double t0 = r["t_send"].get<double>();
    first = std::min(first, t0);
    last = std::max(last, t0 + r["e2e_ms"].get<double>() / 1000.0);
    const std::string outcome = r["outcome"].get<std::string>();
    if (outcome != "ok") {
      ++failures[outcome];
      continue;
    }
    ++ok;
    const double e = r["e2e_ms"].get<double>();
    e2e.push_back(e);
    const std::uint64_t n = r["output_tokens"].is_number() ? r["output_tokens"].get<std::uint64_t>() : 0;
    out_tokens += n;
    if (r["prompt_tokens"].is_number()) in_tokens += r["prompt_tokens"].get<std::uint64_t>();
    if (r.value("finish_reason", std::string()) == "stop") ++finished_stop;
    if (r["ttft_ms"].is_number()) {
      const double t = r["ttft_ms"].get<double>();
      ttft.push_back(t);
      if (n >= 2 && e > t) {
        tpot.push_back((e - t) / static_cast<double>(n - 1));
        rate.push_back(static_cast<double>(n - 1) / ((e - t) / 1000.0));
      }
    }
    for (const auto& g : r["itl_ms"]) itl.push_back(g.get<double>());
    if (r.contains("repetition_score")) rep.push_back(r["repetition_score"].get<double>());
  }
  json s;
  s["requests"] = requests;
  s["ok"] = ok;
  s["failures"] = json::object();
  for (const auto& [k, v] : failures) s["failures"][k] = v;
  s["failed"] = requests > 0 && static_cast<double>(requests - ok) / static_cast<double>(requests) >= failure_threshold;
  s["ttft_ms"] = to_json(summarize(ttft, trim));
  s["tpot_ms"] = to_json(summarize(tpot, trim));
  s["itl_ms"] = to_json(summarize(itl, trim));
  s["e2e_ms"] = to_json(summarize(e2e, trim));
  s["output_tokens_per_s"] = to_json(summarize(rate, trim));
  const double wall = requests > 0 ? last - first : 0;
  s["wall_s"] = wall;
  s["input_tokens"] = in_tokens;
  s["output_tokens"] = out_tokens;
  if (wall > 0) {
    s["total_tokens_per_s"] = static_cast<double>(in_tokens + out_tokens) / wall;
    s["output_tokens_per_s_aggregate"] = static_cast<double>(out_tokens) / wall;
    s["requests_per_s"] = static_cast<double>(ok) / wall;
  } else {
    s["total_tokens_per_s"] = nullptr;
    s["output_tokens_per_s_aggregate"] = nullptr;
    s["requests_per_s"] = nullptr;
  }
  s["completion_rate"] = requests > 0 ? json(static_cast<double>(ok) / static_cast<double>(requests)) : json(nullptr);
  s["finished_stop_rate"] = ok > 0 ? json(static_cast<double>(finished_stop) / static_cast<double>(ok)) : json(nullptr);
  if (!rep.empty()) s["repetition_score"] = to_json(summarize(rep, trim));
  return s;
}

std::string summary_csv(const json& summary) {
  static const char* kMetrics[] = {"ttft_ms", "tpot_ms", "itl_ms", "e2e_ms", "output_tokens_per_s"};
  static const char* kStats[] = {"count", "mean", "median", "p90", "p99", "min", "max", "std", "cv", "trimmed_mean"};
  std::ostringstream os;
  os.precision(10);
  os << "step,context_tokens,users,prompt,requests,ok,failed,failures";
  for (auto m : kMetrics) {
    for (auto st : kStats) os << ',' << m << '_' << st;
    os << ',' << m << "_ci95_low," << m << "_ci95_high";
  }
  os << ",total_tokens_per_s,output_tokens_per_s_aggregate,requests_per_s,wall_s\n";
  auto cell = [&](const json& v) {
    if (v.is_number()) os << v.get<double>();
  };
  if (!summary.contains("steps")) return os.str();
  for (const auto& st : summary["steps"]) {
    os << st["step"].get<std::size_t>() << ',';
    if (st.contains("context_tokens")) cell(st["context_tokens"]);
    os << ',';
    if (st.contains("users")) cell(st["users"]);
    os << ',';
    if (st.contains("prompt")) os << st["prompt"].get<std::string>();
    os << ',' << st["requests"].get<std::uint64_t>() << ',' << st["ok"].get<std::uint64_t>() << ','
       << (st["failed"].get<bool>() ? "true" : "false") << ',';
    bool firstf = true;
    for (const auto& [k, v] : st["failures"].items()) {
      os << (firstf ? "" : ";") << k << ':' << v.get<std::uint64_t>();
      firstf = false;
    }
    for (auto m : kMetrics) {
      for (auto stn : kStats) {
        os << ',';
        cell(st[m][stn]);
      }
      os << ',';
      if (st[m]["ci95"].is_array()) cell(st[m]["ci95"][0]);
      os << ',';
      if (st[m]["ci95"].is_array()) cell(st[m]["ci95"][1]);
    }
    for (auto k : {"total_tokens_per_s", "output_tokens_per_s_aggregate", "requests_per_s", "wall_s"}) {
      os << ',';
      cell(st[k]);
    }
    os << '\n';
  }
  return os.str();
}

// --------------------------------------------------------------------------

struct Runner::Impl {
  Runner& r;
  const Scenario& sc;
  const EngineDescriptor& engine;
  Dialect dialect;
  PromptBuilder prompts;
  std::ofstream jsonl;
  json summary;
  std::vector<json> step_records;  // records of the running step
  std::unordered_map<std::uint64_t, std::unique_ptr<Active>> active;  // by request id
  std::unordered_map<std::uint64_t, std::uint64_t> transfer_of;       // request id → transfer id
  std::uint64_t next_request_id = 1;
  std::uint64_t nonce_base = 0, nonce_counter = 0;
  SteadyTime run_deadline = SteadyTime::max();
  bool deadline_hit = false;
  // Step state.
  std::size_t step_index = 0, step_total = 0;
  StepSpec* step = nullptr;
  int phase = 0;  // 0 warm-up, 1 counted
  std::vector<bool> user_busy;
  std::vector<Plan> arrivals;               // open loop, counted phase
  std::vector<SteadyTime> arrival_times;
  std::size_t next_arrival = 0;
  std::uint64_t step_done = 0, step_planned = 0, step_failures = 0;
  SteadyTime last_progress{};

  Impl(Runner& runner)
      : r(runner),
        sc(runner.scenario_),
        engine(engine_descriptor(runner.scenario_.engine.kind)),
        dialect(runner.scenario_.engine.dialect()),
        prompts(runner.scenario_) {
    nonce_base = static_cast<std::uint64_t>(std::time(nullptr)) * 1000;
  }

  BenchMetrics* metrics() { return r.options_.metrics; }

  HttpRequest make_request(const Plan& p) {
    GenerationRequest g;
    g.model = sc.engine.model;
    g.prompt = p.built.text;
    g.max_tokens = p.max_tokens;
    g.temperature = p.temperature;
    g.ignore_eos = sc.effective_ignore_eos();
    if (engine.size_request) engine.size_request(sc.engine, {p.built.text, p.prompt_tokens, p.max_tokens}, g);
    HttpRequest req;
    req.method = "POST";
    req.url = sc.engine.url + std::string(request_path(dialect));
    req.headers = engine_headers(sc.engine);
    req.body = build_request_body(dialect, g);
    req.timeout = sc.request_timeout;
    return req;
  }

  void issue(Plan plan, std::optional<double> scheduled_s = std::nullopt) {
    auto a = std::make_unique<Active>(dialect);
    a->plan = std::move(plan);
    a->request_id = next_request_id++;
    a->step = step_index;
    a->scheduled_s = scheduled_s;
    Active* ap = a.get();
    const std::uint64_t rid = a->request_id;
    auto req = make_request(ap->plan);
    active.emplace(rid, std::move(a));
    if (ap->plan.user < user_busy.size()) user_busy[ap->plan.user] = true;
    if (metrics()) metrics()->stream_started();
    StreamCallbacks cb;
    cb.on_response_headers = [ap](long status, SteadyTime t) {
      ap->http_status = status;
      ap->t_headers = t;
    };
    cb.on_data = [this, ap](std::string_view bytes, SteadyTime t) { on_data(*ap, bytes, t); };
    cb.on_done = [this, rid](const TransferResult& res) { on_done(rid, res); };
    ap->t_issue = SteadyClock::now();
    auto id = r.loop_.add(std::move(req), std::move(cb));
    transfer_of[rid] = id;
  }

  void on_message(Active& a, const StreamMessage& m, SteadyTime t) {
    if (m.carries_content) {
      if (!a.first_content) {
        a.first_content = t;
        if (metrics()) metrics()->observe_ttft(duration<double>(t - a.t_issue).count());
      } else {
        double gap = ms_between(*a.last_content, t);
        a.itl.push_back(gap);
        if (metrics()) metrics()->observe_itl(gap / 1000.0);
      }
      a.last_content = t;
      ++a.content_chunks;
      if (metrics()) metrics()->add_tokens(1, t);
      if (sc.kind == ScenarioKind::protocol && a.text.size() < kMaxKeptText) a.text += m.content;
    }
    if (m.done) {
      a.saw_done = true;
      if (!m.finish_reason.empty()) a.finish_reason = m.finish_reason;
    }
    if (m.end_of_stream) a.saw_done = a.saw_done || a.content_chunks > 0 || a.usage_output.has_value();
    if (m.prompt_tokens) a.usage_prompt = m.prompt_tokens;
    if (m.output_tokens) a.usage_output = m.output_tokens;
    if (m.timings.any()) a.timings = m.timings;
    if (m.truncated) a.truncated = m.truncated;
    if (m.error && !a.stream_error) a.stream_error = m.error;
  }

  void on_data(Active& a, std::string_view bytes, SteadyTime t) {
    if (a.http_status >= 400) {
      if (a.error_body.size() < kMaxErrorBody) a.error_body.append(bytes.substr(0, kMaxErrorBody - a.error_body.size()));
      return;
    }
    a.decoder.feed(bytes, [&](const StreamMessage& m) { on_message(a, m, t); });
  }

  Outcome decide(Active& a, const TransferResult& res, std::string& error) {
    const long status = a.http_status ? a.http_status : res.http_status;
    if (status >= 400) {
      auto e = extract_engine_error(a.error_body);
      error = e.message;
      return classify_engine_error(static_cast<int>(status), e);
    }
    if (a.stream_error) {
      error = a.stream_error->message;
      return classify_engine_error(static_cast<int>(status ? status : 200), *a.stream_error);
    }
    switch (res.outcome) {
      case TransferOutcome::engine_down: error = res.error; return Outcome::engine_down;
      case TransferOutcome::timeout:
        error = a.first_content ? "no end within request_timeout" : "no first token within request_timeout";
        return Outcome::timeout;
      case TransferOutcome::connection_reset:
      case TransferOutcome::transport_error: error = res.error; return Outcome::connection_reset;
      case TransferOutcome::http_error:
      case TransferOutcome::ok: break;
    }
    if (a.decoder.overflowed()) {
      error = "a stream event exceeded the size cap";
      return Outcome::malformed_stream;
    }
    if (a.decoder.malformed_messages() > 0) {
      error = std::to_string(a.decoder.malformed_messages()) + " malformed message(s) in the stream";
      return Outcome::malformed_stream;
    }
    if (a.decoder.ended_mid_message() || !a.saw_done) {
      error = "the stream ended without a final message";
      return Outcome::malformed_stream;
    }
    if (a.truncated.value_or(false)) {
      error = "the engine reported truncated: true (the prompt was cut to fit the context)";
      return Outcome::truncated;
    }
    if (engine.prompt_cut) {
      if (auto why = engine.prompt_cut({a.plan.prompt_tokens, a.plan.built.counted_tokens, a.timings.prompt_tokens,
                                        a.usage_prompt})) {
        error = std::move(*why);
        return Outcome::truncated;
      }
    }
    return Outcome::ok;
  }

  json make_record(Active& a, const TransferResult& res, Outcome o, const std::string& error) {
    json j;
    j["step"] = a.step;
    if (step->context_tokens >= 0) j["context_tokens"] = step->context_tokens;
    if (step->users >= 0) j["users"] = step->users;
    if (a.plan.prompt) j["prompt"] = a.plan.prompt->name;
    j["request_id"] = a.request_id;
    j["user"] = a.plan.user;
    j["warmup"] = a.plan.warmup;
    j["t_send"] = unix_time(res.t_send);
    if (a.scheduled_s) j["scheduled_s"] = *a.scheduled_s;
    j["t_headers_ms"] = a.t_headers != SteadyTime{} ? json(ms_between(res.t_send, a.t_headers)) : json(nullptr);
    j["ttft_ms"] = a.first_content ? json(ms_between(res.t_send, *a.first_content)) : json(nullptr);
    j["itl_ms"] = a.itl;
    j["e2e_ms"] = ms_between(res.t_send, res.t_done);
    // Prompt tokens: server usage, engine timings, else what was built.
    if (a.usage_prompt) j["prompt_tokens"] = *a.usage_prompt;
    else if (a.timings.prompt_tokens) j["prompt_tokens"] = *a.timings.prompt_tokens;
    else if (a.plan.built.counted_tokens) j["prompt_tokens"] = *a.plan.built.counted_tokens;
    else j["prompt_tokens"] = nullptr;
    j["prompt_tokens_target"] = a.plan.prompt_tokens ? json(a.plan.prompt_tokens) : json(nullptr);
    j["prompt_source"] = a.plan.built.source;
    if (a.usage_output) {
      j["output_tokens"] = *a.usage_output;
      j["tokens_source"] = "usage";
    } else if (a.timings.generated_tokens) {
      j["output_tokens"] = *a.timings.generated_tokens;
      j["tokens_source"] = "engine_timings";
    } else {
      j["output_tokens"] = a.content_chunks;
      j["tokens_source"] = "chunks";
    }
    j["content_chunks"] = a.content_chunks;
    j["http_status"] = a.http_status ? a.http_status : res.http_status;
    j["outcome"] = std::string(to_string(o));
    j["error"] = error;
    j["finish_reason"] = a.finish_reason.empty() ? json(nullptr) : json(a.finish_reason);
    j["truncated"] = a.truncated ? json(*a.truncated) : json(nullptr);
    if (a.timings.any()) {
      json t = json::object();
      if (a.timings.prompt_tokens) t["prompt_tokens"] = *a.timings.prompt_tokens;
      if (a.timings.prompt_ms) t["prompt_ms"] = *a.timings.prompt_ms;
      if (a.timings.generated_tokens) t["generated_tokens"] = *a.timings.generated_tokens;
      if (a.timings.generation_ms) t["generation_ms"] = *a.timings.generation_ms;
      if (a.timings.load_ms) t["load_ms"] = *a.timings.load_ms;
      if (a.timings.total_ms) t["total_ms"] = *a.timings.total_ms;
      j["engine_timings"] = t;
    }
    j["body_bytes"] = res.body_bytes;
    j["transport"] = std::string(to_string(res.outcome));
    if (sc.kind == ScenarioKind::protocol) j["repetition_score"] = repetition_score(a.text);
    return j;
  }

  void write_record(const json& j) {
    jsonl << j.dump(-1, ' ', false, json::error_handler_t::replace) << '\n';
    jsonl.flush();
  }

  void on_done(std::uint64_t rid, const TransferResult& res) {
    auto it = active.find(rid);
    if (it == active.end()) return;
    std::unique_ptr<Active> a = std::move(it->second);
    active.erase(it);
    transfer_of.erase(rid);
    a->decoder.finish([&](const StreamMessage& m) { on_message(*a, m, res.t_done); });
    std::string error;
    Outcome o = decide(*a, res, error);
    json rec = make_record(*a, res, o, error);
    write_record(rec);
    if (metrics()) metrics()->stream_ended(o);
    ++step_done;
    if (!a->plan.warmup && o != Outcome::ok) ++step_failures;
    step_records.push_back(std::move(rec));
    if (a->plan.user < user_busy.size()) user_busy[a->plan.user] = false;
    if (!r.stop_.load() && !deadline_hit) pump();
  }

  // Closed loop: every idle user with work left issues its next request.
  void pump() {
    if (phase == 0) {
      bool left = false;
      for (std::size_t u = 0; u < step->warm.size(); ++u) {
        if (!step->warm[u].empty()) left = true;
        if (!user_busy[u] && !step->warm[u].empty()) {
          Plan p = std::move(step->warm[u].front());
          step->warm[u].pop_front();
          issue(std::move(p));
        }
      }
      if (left || !active.empty()) return;
      phase = 1;
      if (sc.arrival.mode != ArrivalMode::closed) start_arrivals();
    }
    if (phase == 1 && sc.arrival.mode == ArrivalMode::closed) {
      for (std::size_t u = 0; u < step->count.size(); ++u) {
        if (!user_busy[u] && !step->count[u].empty()) {
          Plan p = std::move(step->count[u].front());
          step->count[u].pop_front();
          issue(std::move(p));
        }
      }
    }
  }

  void start_arrivals() {
    arrivals.clear();
    arrival_times.clear();
    next_arrival = 0;
    // Round-robin over users, so the order matches the closed loop's.
    bool more = true;
    while (more) {
      more = false;
      for (auto& q : step->count)
        if (!q.empty()) {
          arrivals.push_back(std::move(q.front()));
          q.pop_front();
          more = true;
        }
    }
    std::mt19937_64 rng(sc.arrival.seed + step_index);
    const double rate = sc.arrival.rate;
    const double shape = sc.arrival.mode == ArrivalMode::gamma ? sc.arrival.burstiness : 1.0;
    std::gamma_distribution<double> gap(shape, 1.0 / (rate * shape));  // mean 1/rate
    SteadyTime t0 = SteadyClock::now();
    double at = 0;
    for (std::size_t i = 0; i < arrivals.size(); ++i) {
      if (i > 0) at += gap(rng);
      arrival_times.push_back(t0 + std::chrono::duration_cast<SteadyClock::duration>(duration<double>(at)));
    }
  }

  void issue_due_arrivals(SteadyTime now) {
    while (phase == 1 && next_arrival < arrivals.size() && arrival_times[next_arrival] <= now) {
      double scheduled = duration<double>(arrival_times[next_arrival] - arrival_times[0]).count();
      issue(std::move(arrivals[next_arrival]), scheduled);
      ++next_arrival;
    }
  }

  bool work_left() const {
    if (!active.empty()) return true;
    if (phase == 0) return true;  // pump() moves on
    if (sc.arrival.mode != ArrivalMode::closed) return next_arrival < arrivals.size();
    for (const auto& q : step->count)
      if (!q.empty()) return true;
    return false;
  }

  void progress(bool final_line) {
    std::ostream* os = r.options_.progress;
    if (!os) return;
    auto now = SteadyClock::now();
    if (!final_line) {
      auto every = r.options_.tty ? std::chrono::milliseconds(200) : std::chrono::milliseconds(5000);
      if (now - last_progress < every) return;
    }
    last_progress = now;
    double rate = metrics() ? metrics()->output_tokens_per_second(now) : 0.0;
    std::ostringstream line;
    line << "[step " << step_index + 1 << "/" << step_total << "] " << step->label << ": " << step_done << "/"
         << step_planned << " requests, " << std::fixed << std::setprecision(1) << rate << " output tok/s, "
         << step_failures << " failures";
    if (r.options_.tty) {
      *os << '\r' << line.str() << "\x1b[K";
      if (final_line) *os << '\n';
    } else {
      *os << line.str() << '\n';
    }
    os->flush();
  }

  // Runs the step to its end; false when the run must stop (interrupt, deadline).
  bool run_step() {
    phase = 0;
    user_busy.assign(std::max(step->warm.size(), step->count.size()), false);
    step_done = step_failures = 0;
    step_planned = 0;
    for (const auto& q : step->warm) step_planned += q.size();
    for (const auto& q : step->count) step_planned += q.size();
    if (metrics()) metrics()->set_step(step->context_tokens, step->users);
    pump();
    while (true) {
      if (r.stop_.load()) return false;
      auto now = SteadyClock::now();
      if (now >= run_deadline) {
        deadline_hit = true;
        cancel_all_as_timeout();
        return false;
      }
      if (phase == 1) issue_due_arrivals(now);
      if (!work_left()) break;
      SteadyTime wake = std::min(run_deadline, now + std::chrono::milliseconds(200));
      if (phase == 1 && next_arrival < arrival_times.size()) wake = std::min(wake, arrival_times[next_arrival]);
      bool idle = r.loop_.run_until_idle_or(wake);
      if (idle && active.empty() && !r.stop_.load()) {
        if (phase == 0) pump();
        else if (next_arrival < arrival_times.size()) {
          auto until = std::min(arrival_times[next_arrival], SteadyClock::now() + std::chrono::milliseconds(50));
          std::this_thread::sleep_until(until);
        } else if (sc.arrival.mode == ArrivalMode::closed) {
          pump();
          if (active.empty()) break;
        }
      }
      progress(false);
    }
    progress(true);
    return true;
  }

  void cancel_all_as_timeout() {
    auto now = SteadyClock::now();
    std::vector<std::uint64_t> ids;
    for (const auto& [rid, _] : active) ids.push_back(rid);
    std::sort(ids.begin(), ids.end());
    for (auto rid : ids) {
      auto t = transfer_of.find(rid);
      if (t != transfer_of.end()) r.loop_.cancel(t->second);
      auto it = active.find(rid);
      std::unique_ptr<Active> a = std::move(it->second);
      active.erase(it);
      transfer_of.erase(rid);
      TransferResult res;
      res.outcome = TransferOutcome::timeout;
      res.t_send = a->t_issue;
      res.t_done = now;
      json rec = make_record(*a, res, Outcome::timeout, "run_deadline passed: cancelled");
      write_record(rec);
      if (metrics()) metrics()->stream_ended(Outcome::timeout);
      step_records.push_back(std::move(rec));
    }
  }

  void drop_in_flight() {
    for (const auto& [rid, tid] : transfer_of) {
      r.loop_.cancel(tid);
      if (metrics()) metrics()->stream_ended(Outcome::timeout);
    }
    summary["in_flight_dropped"] = summary.value("in_flight_dropped", 0) + transfer_of.size();
    transfer_of.clear();
    active.clear();
  }
};

Runner::Runner(Scenario scenario, RunOptions options) : scenario_(std::move(scenario)), options_(std::move(options)) {}
Runner::~Runner() = default;

void Runner::request_stop() {
  stop_.store(true);
  loop_.wakeup();
}

RunResult Runner::run() {
  RunResult result;
  Impl impl(*this);
  const Scenario& sc = scenario_;
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(options_.out_dir, ec);
  if (ec) {
    result.error = "cannot create " + options_.out_dir + ": " + ec.message();
    return result;
  }
  const std::string dir = options_.out_dir + "/";
  write_atomically(dir + "scenario.yaml", to_yaml(sc));
  impl.jsonl.open(dir + "requests.jsonl", std::ios::trunc);
  if (!impl.jsonl) {
    result.error = "cannot write " + dir + "requests.jsonl";
    return result;
  }
  json& summary = impl.summary;
  summary["tool"] = "tierscope bench";
  summary["scenario"] = to_string(sc.kind);
  summary["started"] = utc_stamp();
  summary["status"] = "running";
  summary["steps"] = json::array();
  summary["wall"] = nullptr;
  summary["failure_threshold"] = sc.failure_threshold;
  summary["trim"] = sc.trim;
  summary["arrival"] = {{"mode", to_string(sc.arrival.mode)}, {"rate", sc.arrival.rate},
                        {"burstiness", sc.arrival.burstiness}, {"seed", sc.arrival.seed}};
  auto write_summary = [&] {
    summary["updated"] = utc_stamp();
    write_atomically(dir + "summary.json", summary.dump(2, ' ', false, json::error_handler_t::replace) + "\n");
    write_atomically(dir + "summary.csv", summary_csv(summary));
  };
  if (sc.run_deadline.count() > 0) impl.run_deadline = SteadyClock::now() + sc.run_deadline;
  try {
    summary["engine"] = describe_engine(sc, stop_);
    if (sc.kind != ScenarioKind::protocol) {
      impl.prompts.prepare();
      summary["prompts"] = impl.prompts.facts();
    }
  } catch (const std::exception& e) {
    result.error = e.what();
    summary["status"] = "engine_unavailable";
    summary["error"] = e.what();
    write_summary();
    result.summary = summary;
    return result;
  }
  result.started = true;
  write_summary();

  // The steps.
  std::vector<StepSpec> steps;
  auto distribute = [](std::vector<std::deque<Plan>>& queues, std::uint32_t users, std::uint32_t n, const Plan& proto,
                       bool warmup) {
    if (queues.size() < users) queues.resize(users);
    for (std::uint32_t i = 0; i < n; ++i) {
      Plan p = proto;
      p.user = i % users;
      p.warmup = warmup;
      queues[p.user].push_back(p);
    }
  };
  if (sc.kind == ScenarioKind::context_sweep) {
    for (auto n : sc.contexts) {
      StepSpec s;
      s.key = {{"context_tokens", n}};
      s.label = "context " + std::to_string(n);
      s.context_tokens = n;
      s.users = sc.concurrency;
      Plan proto;
      proto.prompt_tokens = n;
      proto.max_tokens = sc.output_tokens;
      proto.temperature = sc.temperature;
      distribute(s.warm, std::min(sc.concurrency, std::max<std::uint32_t>(sc.warmup, 1)), sc.warmup, proto, true);
      distribute(s.count, sc.concurrency, sc.repetitions, proto, false);
      steps.push_back(std::move(s));
    }
  } else if (sc.kind == ScenarioKind::concurrency_sweep) {
    for (auto u : sc.users) {
      StepSpec s;
      s.key = {{"users", u}};
      s.label = std::to_string(u) + " users";
      s.context_tokens = sc.prompt_tokens;
      s.users = u;
      Plan proto;
      proto.prompt_tokens = sc.prompt_tokens;
      proto.max_tokens = sc.output_tokens;
      proto.temperature = sc.temperature;
      s.count.resize(u);
      for (std::uint32_t user = 0; user < u; ++user) {
        for (std::uint32_t i = 0; i < sc.warmup + sc.repetitions; ++i) {
          Plan p = proto;
          p.user = user;
          p.warmup = i < sc.warmup;
          s.count[user].push_back(p);
        }
      }
      // Closed loop: each user's warm-up requests precede its counted ones on
      // its own queue (no barrier). Open loop: warm-up first, then arrivals.
      if (sc.arrival.mode != ArrivalMode::closed) {
        for (auto& q : s.count)
          while (!q.empty() && q.front().warmup) {
            if (s.warm.size() < s.count.size()) s.warm.resize(s.count.size());
            s.warm[q.front().user].push_back(q.front());
            q.pop_front();
          }
      }
      steps.push_back(std::move(s));
    }
  } else {
    for (const auto& ps : sc.prompts) {
      StepSpec s;
      s.key = {{"prompt", ps.name}};
      s.label = ps.name;
      s.users = sc.concurrency;
      Plan proto;
      proto.prompt = &ps;
      proto.max_tokens = ps.max_tokens;
      proto.temperature = ps.temperature ? ps.temperature : sc.temperature;
      proto.built.text = ps.text;
      proto.built.source = "text";
      distribute(s.warm, std::min(sc.concurrency, std::max<std::uint32_t>(sc.warmup, 1)), sc.warmup, proto, true);
      distribute(s.count, sc.concurrency, sc.repetitions, proto, false);
      steps.push_back(std::move(s));
    }
  }
  impl.step_total = steps.size();

  bool stopped = false;
  for (std::size_t i = 0; i < steps.size() && !stopped; ++i) {
    StepSpec& s = steps[i];
    impl.step = &s;
    impl.step_index = i;
    impl.step_records.clear();
    // Prompts of exactly N tokens, each unique (built before the step: the
    // tokenizer calls are blocking).
    try {
      for (auto* queues : {&s.warm, &s.count})
        for (auto& q : *queues)
          for (auto& p : q) {
            if (stop_.load()) break;
            if (p.prompt_tokens > 0) p.built = impl.prompts.make(p.prompt_tokens, impl.nonce_base + ++impl.nonce_counter);
          }
    } catch (const std::exception& e) {
      summary["error"] = std::string("building prompts: ") + e.what();
      result.error = summary["error"];
      break;
    }
    if (stop_.load()) {
      stopped = true;
      break;
    }
    // Engine metrics before the step, for engines whose counters give deltas.
    json before = sample_before_step(sc);
    const bool finished = impl.run_step();
    if (!finished && stop_.load()) impl.drop_in_flight();
    json st = s.key;
    st["step"] = i;
    st["label"] = s.label;
    if (s.users >= 0 && !st.contains("users")) st["users"] = s.users;
    json stats = summarize_step(impl.step_records, sc.trim, sc.failure_threshold);
    st.update(stats);
    st["complete"] = finished;
    st["engine_metrics"] = step_engine_metrics(sc, before);
    summary["steps"].push_back(st);
    if (sc.kind != ScenarioKind::protocol) summary["prompts"] = impl.prompts.facts();
    if (st["failed"].get<bool>()) {
      result.wall = true;
      if (summary["wall"].is_null()) {
        std::string worst;
        std::uint64_t most = 0;
        for (const auto& [k, v] : st["failures"].items())
          if (v.get<std::uint64_t>() > most) most = v.get<std::uint64_t>(), worst = k;
        summary["wall"] = s.key;
        summary["wall"]["step"] = i;
        summary["wall"]["outcome"] = worst;
      }
    }
    write_summary();
    if (!finished) {
      stopped = true;
      break;
    }
    if (st["failed"].get<bool>() && sc.stop_on_failure && sc.kind != ScenarioKind::protocol) break;
  }
  result.interrupted = stop_.load();
  result.deadline = impl.deadline_hit;
  summary["status"] = result.interrupted ? "interrupted" : result.deadline ? "deadline" : "complete";
  summary["finished"] = utc_stamp();
  write_summary();
  result.summary = summary;

  if (options_.progress) {
    std::ostream& os = *options_.progress;
    auto f = [](const json& v, int prec = 1) {
      if (!v.is_number()) return std::string("-");
      std::ostringstream o;
      o << std::fixed << std::setprecision(prec) << v.get<double>();
      return o.str();
    };
    os << "\n" << std::left << std::setw(22) << "step" << std::right << std::setw(6) << "reqs" << std::setw(6) << "ok"
       << std::setw(10) << "ttft p50" << std::setw(10) << "ttft p99" << std::setw(10) << "tpot p50" << std::setw(10)
       << "e2e p50" << std::setw(11) << "out tok/s" << std::setw(12) << "total tok/s" << "  failures\n";
    for (const auto& st : summary["steps"]) {
      std::string fails;
      for (const auto& [k, v] : st["failures"].items()) fails += (fails.empty() ? "" : " ") + k + ":" + std::to_string(v.get<std::uint64_t>());
      os << std::left << std::setw(22) << st["label"].get<std::string>() << std::right << std::setw(6)
         << st["requests"].get<std::uint64_t>() << std::setw(6) << st["ok"].get<std::uint64_t>() << std::setw(10)
         << f(st["ttft_ms"]["median"]) << std::setw(10) << f(st["ttft_ms"]["p99"]) << std::setw(10)
         << f(st["tpot_ms"]["median"], 2) << std::setw(10) << f(st["e2e_ms"]["median"]) << std::setw(11)
         << f(st["output_tokens_per_s_aggregate"]) << std::setw(12) << f(st["total_tokens_per_s"]) << "  "
         << (fails.empty() ? "-" : fails) << (st["failed"].get<bool>() ? "  FAILED" : "") << "\n";
    }
    os << "(ms; tok/s aggregate over the step's wall time)";
    if (!summary["wall"].is_null()) os << "\nwall: " << summary["wall"].dump();
    os << "\nresults: " << options_.out_dir << "\n";
    os.flush();
  }
  return result;
}

}  // namespace tierscope::workloads

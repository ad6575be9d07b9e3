#include "workloads/soak.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <mutex>
#include <ostream>
#include <sstream>
#include <thread>

#include "core/file_cache.h"
#include "core/logging.h"
#include "core/text.h"
#include "core/user_file.h"
#include "exporters/prometheus_exporter.h"
#include "exporters/recorder.h"
#include "exporters/recording.h"
#include "probes/meminfo.h"
#include "probes/sampler.h"
#include "probes/workload.h"
#include "probes/workload_memory.h"
#include "workloads/engine_facts.h"
#include "workloads/engine_session.h"
#include "workloads/leak.h"
#include "workloads/plan.h"
#include "workloads/prompts.h"
#include "workloads/run_recording.h"
#include "workloads/soak_series.h"
#include "workloads/step_driver.h"
#include "workloads/summary.h"

namespace tierscope::workloads {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

double seconds(std::chrono::milliseconds d) { return static_cast<double>(d.count()) / 1000.0; }

// Entries of <proc>/<pid>/fd; nullopt when it cannot be listed.
std::optional<double> count_fds(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) return std::nullopt;
  double n = 0;
  for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (ec) return std::nullopt;
    ++n;
  }
  return n;
}

// "Threads:" of <proc>/<pid>/status.
std::optional<double> count_threads(const std::string& status) {
  auto n = parse_status_threads(status);
  if (!n) return std::nullopt;
  return static_cast<double>(*n);
}

// RAM anon + swap of one process from its status (RssAnon + VmSwap).
std::optional<double> anon_swap_of(const std::string& status) {
  ProcStatusMemory m = parse_proc_status_memory(status);
  if (!m.rss_anon) return std::nullopt;
  return static_cast<double>(*m.rss_anon + m.vm_swap.value_or(0));
}

// MemAvailable + SwapFree of <proc>/meminfo, bytes.
std::optional<double> host_headroom(const std::filesystem::path& proc) {
  std::string text;
  if (read_uncached(proc / "meminfo", text) != 0) return std::nullopt;
  MemInfo m = parse_meminfo(text);
  auto avail = m.get("MemAvailable");
  if (!avail) return std::nullopt;
  return static_cast<double>(*avail + m.get("SwapFree").value_or(0));
}

// The unit of a tier's values: bytes, or what the count counts.
std::string unit_of(const std::string& tier) {
  if (tier == "fds" || tier == "threads") return "count";
  if (tier == "kv_cache_tokens") return "tokens";
  if (tier == "kv_cache_usage") return "ratio";
  return "bytes";
}

// The engine's own KV-cache figures from its /metrics (sample_prometheus):
// kv_cache_tokens (llama.cpp llamacpp:kv_cache_tokens) and kv_cache_usage
// (llamacpp:kv_cache_usage_ratio, vLLM vllm:kv_cache_usage_perc or the older
// vllm:gpu_cache_usage_perc, a share of 1; the largest over its label sets).
void kv_cache_values(const json& samples, std::map<std::string, double>& out) {
  if (!samples.is_object()) return;
  for (const auto& [key, v] : samples.items()) {
    if (!v.is_number()) continue;
    const std::string name = key.substr(0, key.find('{'));
    const double x = v.get<double>();
    if (name == "llamacpp:kv_cache_tokens") out["workload/kv_cache_tokens"] = x;
    if (name == "llamacpp:kv_cache_usage_ratio" || name == "vllm:kv_cache_usage_perc" ||
        name == "vllm:gpu_cache_usage_perc") {
      auto [it, fresh] = out.emplace("workload/kv_cache_usage", x);
      if (!fresh) it->second = std::max(it->second, x);
    }
  }
}

std::string fixed(double v, int digits) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(digits) << v;
  return os.str();
}

// 1.5 GiB, 12 MiB, 300 B; counts as plain numbers.
std::string amount(double v, bool count) {
  if (count) return fixed(v, std::fabs(v) < 10 ? 2 : 0);
  const double a = std::fabs(v);
  if (a >= 1024.0 * 1024 * 1024) return fixed(v / (1024.0 * 1024 * 1024), 2) + " GiB";
  if (a >= 1024.0 * 1024) return fixed(v / (1024.0 * 1024), 2) + " MiB";
  if (a >= 1024.0) return fixed(v / 1024.0, 1) + " KiB";
  return fixed(v, 0) + " B";
}

std::string hms(double s) {
  auto t = static_cast<long long>(s);
  std::ostringstream os;
  if (t >= 86400) os << t / 86400 << "d";
  os << std::setfill('0') << std::setw(2) << (t % 86400) / 3600 << ":" << std::setw(2) << (t % 3600) / 60 << ":"
     << std::setw(2) << t % 60;
  return os.str();
}

}  // namespace

struct SoakRun::Impl {
  SoakRun& r;
  Scenario& sc;
  const std::string dir;  // with a trailing '/'
  const std::filesystem::path proc;
  Logger log{LogLevel::warn};

  SoakState state;
  bool resumed = false;
  std::unique_ptr<Recorder> recorder;
  std::unique_ptr<Sampler> sampler;
  std::unique_ptr<EngineSession> engine;

  // Shared with the sampler's thread and the checkpoint thread.
  std::mutex mu;
  std::map<std::string, BoundedSeries> series;  // "subject/tier"
  std::map<std::string, double> headroom;       // subject → bytes
  std::map<std::string, std::string> verdicts;  // "subject/tier" → verdict so far
  std::atomic<double> elapsed{0};
  double base_elapsed = 0;  // sampled time before this process's part of the run
  Clock::time_point started{};
  std::atomic<std::uint64_t> requests_ok{0}, requests_failed{0}, output_tokens{0}, restarts{0}, samples{0};

  // The checkpoint thread.
  std::mutex cp_mu;
  std::condition_variable cp_cv;
  bool cp_quit = false;
  std::thread cp_thread;

  std::ofstream requests;
  bool engine_lost = false;
  // The engine whose /metrics the sampler's thread reads (under mu).
  EngineConfig kv_engine;
  std::string engine_url;          // "" while none runs
  Clock::time_point next_kv{};     // sampler's thread only

  Impl(SoakRun& run) : r(run), sc(run.scenario_), dir(run.options_.out_dir + "/"), proc("/proc") {}

  void notify(std::string_view m) {
    if (r.options_.notify) r.options_.notify(m);
  }

  // ------------------------------------------------------------ resume

  // soak.json of an earlier run in the directory; false (result) when it must
  // be refused.
  bool read_state(SoakResult& result) {
    state.name = std::filesystem::path(r.options_.out_dir).lexically_normal().filename().string();
    state.scenario_sha256 = r.options_.scenario_sha256;
    state.duration_s = seconds(sc.soak.duration);
    state.idle_tail_s = seconds(sc.soak.idle_tail);
    std::string error;
    auto text = read_user_file(dir + "soak.json", error, std::size_t{64} << 20);
    if (!text) return true;  // a new run
    SoakState earlier;
    try {
      earlier = SoakState::from_json(json::parse(*text));
    } catch (const std::exception& e) {
      result.error = dir + "soak.json: not a soak run's state (" + e.what() + "); give another --out";
      return false;
    }
    if (earlier.status == "done") {
      result.error = dir + "soak.json: this run is finished (status done, " + hms(earlier.elapsed_s) +
                     "); give another --out for a new run";
      return false;
    }
    if (earlier.scenario_sha256 != r.options_.scenario_sha256) {
      result.error = dir + "soak.json: the run there has another scenario (sha256 " + earlier.scenario_sha256 +
                     ", this one " + r.options_.scenario_sha256 + "); give another --out, or the same scenario and --set";
      return false;
    }
    earlier.duration_s = state.duration_s;
    earlier.idle_tail_s = state.idle_tail_s;
    earlier.status = "running";
    state = earlier;
    resumed = true;
    return true;
  }

  // The series and counters of the earlier part, from the recording's
  // soak_point and engine_restart records.
  void replay(const std::string& record_dir) {
    double last_t = 0;
    std::uint64_t restarts_seen = 0, points = 0;
    std::optional<double> last_req, last_tok;
    RecordingStats stats = read_recording(record_dir, [&](const json& rec) {
      const std::string type = rec.value("type", "");
      if (type == "engine_restart") ++restarts_seen;
      if (type != "soak_point" || !rec.contains("t") || !rec["t"].is_number() || !rec.contains("values")) return;
      SoakPoint p;
      p.t_s = rec["t"].get<double>();
      if (rec.contains("requests") && rec["requests"].is_number()) p.requests = rec["requests"].get<double>();
      if (rec.contains("tokens") && rec["tokens"].is_number()) p.tokens = rec["tokens"].get<double>();
      for (const auto& [key, v] : rec["values"].items()) {
        if (!v.is_number()) continue;
        p.value = v.get<double>();
        series[key].add(p);
      }
      last_t = std::max(last_t, p.t_s);
      last_req = p.requests;
      last_tok = p.tokens;
      ++points;
    });
    base_elapsed = std::max(state.elapsed_s, last_t);
    samples = std::max<std::uint64_t>(state.samples, points);
    restarts = std::max(state.engine_restarts, restarts_seen);
    requests_ok = std::max<std::uint64_t>(state.requests_ok, static_cast<std::uint64_t>(last_req.value_or(0)));
    output_tokens = std::max<std::uint64_t>(state.output_tokens, static_cast<std::uint64_t>(last_tok.value_or(0)));
    requests_failed = state.requests_failed;
    if (r.options_.progress)
      *r.options_.progress << "soak " << state.name << ": resuming at " << hms(base_elapsed) << " of "
                           << hms(state.duration_s) << " (" << stats.segments << " segments, " << points
                           << " samples read back, " << stats.torn << " torn line(s) skipped)\n";
  }

  // ------------------------------------------------------------ sampling

  void on_tick(const Snapshot& snap) {
    const auto mono = Clock::now();
    const auto wall = std::chrono::system_clock::now();
    const double t = base_elapsed + std::chrono::duration<double>(mono - started).count();
    recorder->record_sample(snap.sequence, mono, wall, collect_all(&snap, nullptr, true));
    json values = json::object();
    std::map<std::string, double> room;
    auto put = [&](const std::string& key, std::optional<double> v) {
      if (v) values[key] = *v;
    };
    const WorkloadMemory* m = snap.get(kWorkloadMemory);
    const WorkloadProcesses* watched = snap.get(kWorkload);
    if (m) {
      if (m->ram_anon) put("workload/anon_swap", static_cast<double>(*m->ram_anon + m->swap.value_or(0)));
      if (m->source == WorkloadSource::cgroup) {
        if (m->ram_anon) put("workload/cgroup_anon", static_cast<double>(*m->ram_anon));
        if (m->page_cache) put("workload/page_cache", static_cast<double>(*m->page_cache));
      }
      // GPU memory once the workload holds some (a process the GPU probes
      // do not see on a GPU reads 0 there: no tier of its own).
      if (m->vram && (*m->vram > 0 || has_series("workload/vram"))) put("workload/vram", static_cast<double>(*m->vram));
      if (m->gtt && (*m->gtt > 0 || has_series("workload/gtt"))) put("workload/gtt", static_cast<double>(*m->gtt));
      if (m->limits.max && !m->limits.max->unlimited && m->current)
        room["workload"] = static_cast<double>(m->limits.max->bytes) - static_cast<double>(*m->current);
    }
    if (watched && !watched->processes.empty()) {
      std::optional<double> fds = 0.0, threads = 0.0;
      std::string status;
      for (const auto& p : watched->processes) {
        const auto pd = proc / std::to_string(p.pid);
        auto f = count_fds(pd / "fd");
        if (f && fds) *fds += *f;
        else fds.reset();
        std::optional<double> n;
        if (read_uncached(pd / "status", status) == 0) n = count_threads(status);
        if (n && threads) *threads += *n;
        else threads.reset();
      }
      put("workload/fds", fds);
      put("workload/threads", threads);
    }
    if (auto kv = engine_kv_cache(mono)) {
      for (const auto& [key, v] : *kv) values[key] = v;
    }
    std::string self_status;
    if (read_uncached(proc / "self" / "status", self_status) == 0) {
      put("tierscope/anon_swap", anon_swap_of(self_status));
      put("tierscope/threads", count_threads(self_status));
    }
    put("tierscope/fds", count_fds(proc / "self" / "fd"));
    if (auto h = host_headroom(proc)) {
      room["tierscope"] = *h;
      if (!room.count("workload")) room["workload"] = *h;
    }
    SoakPoint p;
    p.t_s = t;
    if (sc.soak.load) {
      p.requests = static_cast<double>(requests_ok.load());
      p.tokens = static_cast<double>(output_tokens.load());
    }
    json event = {{"t", t}, {"values", values}};
    if (p.requests) event["requests"] = *p.requests;
    if (p.tokens) event["tokens"] = *p.tokens;
    recorder->record_event("soak_point", event);
    {
      std::lock_guard lock(mu);
      for (const auto& [key, v] : values.items()) {
        p.value = v.get<double>();
        series[key].add(p);
      }
      headroom = std::move(room);
    }
    ++samples;
    elapsed.store(t);
    if (r.options_.soak_metrics) r.options_.soak_metrics->set_elapsed(t);
    notify("WATCHDOG=1");
  }

  // The engine's KV-cache figures, read at most once a second (a blocking
  // GET /metrics of at most 5 s); nullopt when not due, no engine runs or
  // its /metrics has none.
  std::optional<std::map<std::string, double>> engine_kv_cache(Clock::time_point now) {
    if (!sc.soak.load || now < next_kv) return std::nullopt;
    next_kv = now + std::chrono::seconds(1);
    EngineConfig e;
    {
      std::lock_guard lock(mu);
      if (engine_url.empty()) return std::nullopt;
      e = kv_engine;
      e.url = engine_url;
    }
    const char* prefix = e.kind == EngineKind::llamacpp ? "llamacpp:kv_cache" : e.kind == EngineKind::vllm ? "vllm:" : nullptr;
    if (!prefix) return std::nullopt;
    std::map<std::string, double> out;
    kv_cache_values(sample_prometheus(e, prefix), out);
    if (out.empty()) return std::nullopt;
    return out;
  }

  void set_engine_url(const std::string& url) {
    std::lock_guard lock(mu);
    engine_url = url;
  }

  bool has_series(const std::string& key) {
    std::lock_guard lock(mu);
    return series.count(key) > 0;
  }

  SamplerConfig sampler_config(const WorkloadSelection& workload) const {
    SamplerConfig c;
    c.sample_interval = sc.soak.sample_interval;
    c.peak_window = std::max(c.peak_window, sc.soak.sample_interval);
    c.settings.set(workload);
    return c;
  }

  // ------------------------------------------------------------ checkpoints

  LeakOptions leak_options(const std::string& subject, const std::string& tier) const {
    LeakOptions o;
    const SoakLeakSettings& l = sc.soak.leak;
    if (l.max_points) o.max_points = *l.max_points;
    if (l.blocks) o.blocks = *l.blocks;
    if (l.confidence) o.confidence = *l.confidence;
    if (l.min_duration) o.min_duration_s = seconds(*l.min_duration);
    if (l.min_points) o.min_points = *l.min_points;
    o.unit = unit_of(tier);
    if (o.unit == "count") o.noise_floor = l.noise_floor_count.value_or(2.0);
    else if (o.unit == "tokens") o.noise_floor = 256;  // of the engine's KV cache
    else if (o.unit == "ratio") o.noise_floor = 0.02;  // 2 % of the engine's KV cache
    else if (l.noise_floor) o.noise_floor = static_cast<double>(*l.noise_floor);
    if (sc.soak.idle_tail.count() > 0) o.idle_tail_from_s = seconds(sc.soak.load_duration());
    (void)subject;
    return o;
  }

  // Rewrites soak.json with the verdicts so far; `status` running, done or interrupted.
  json checkpoint(const std::string& status) {
    std::map<std::string, std::vector<SoakPoint>> copy;
    std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> sizes;  // samples, stride
    std::map<std::string, double> room;
    {
      std::lock_guard lock(mu);
      for (const auto& [key, s] : series) {
        copy[key] = s.points();
        sizes[key] = {s.samples(), s.stride()};
      }
      room = headroom;
    }
    json results = json::array();
    std::vector<SoakMetrics::SeriesState> live;
    std::map<std::string, double> oom;
    std::map<std::string, std::string> verdict_now;
    for (auto& [key, points] : copy) {
      const auto slash = key.find('/');
      const std::string subject = key.substr(0, slash), tier = key.substr(slash + 1);
      LeakOptions o = leak_options(subject, tier);
      if (tier == "anon_swap" && room.count(subject) && !points.empty()) o.headroom = room[subject];
      std::vector<TrendPoint> trend;
      trend.reserve(points.size());
      for (const auto& p : points) trend.push_back({p.t_s, p.value, p.requests, p.tokens});
      LeakResult lr = analyze_leak(subject, tier, std::move(trend), o);
      json j = lr.to_json();
      j["samples"] = sizes[key].first;
      j["samples_per_point"] = sizes[key].second;
      results.push_back(j);
      const std::string v(to_string(lr.verdict));
      verdict_now[key] = v;
      std::optional<double> per_hour;
      if (lr.slope_per_s) per_hour = *lr.slope_per_s * 3600.0;
      live.push_back({subject, tier, v, per_hour});
      if (lr.time_to_oom_s) oom[subject] = *lr.time_to_oom_s;
    }
    state.status = status;
    state.updated = utc_now();
    state.elapsed_s = elapsed.load();
    state.samples = samples.load();
    state.requests_ok = requests_ok.load();
    state.requests_failed = requests_failed.load();
    state.output_tokens = output_tokens.load();
    state.engine_restarts = restarts.load();
    json out = state.to_json();
    out["scenario"] = "soak";
    out["load"] = sc.soak.load;
    out["series"] = results;
    write_atomically(dir + "soak.json", out.dump(2, ' ', false, json::error_handler_t::replace) + "\n");
    {
      std::lock_guard lock(mu);
      verdicts = verdict_now;
    }
    if (SoakMetrics* sm = r.options_.soak_metrics) {
      sm->set_series(std::move(live), std::move(oom));
      sm->set_restarts(state.engine_restarts);
      sm->set_work(state.requests_ok, state.output_tokens);
    }
    notify("STATUS=" + status_line());
    return out;
  }

  std::string status_line() {
    std::ostringstream os;
    os << "soak " << state.name << ": " << hms(elapsed.load()) << "/" << hms(state.duration_s) << ", "
       << requests_ok.load() << " requests";
    std::map<std::string, int> counts;
    {
      std::lock_guard lock(mu);
      for (const auto& [key, v] : verdicts) ++counts[v];
    }
    for (const auto& [v, n] : counts) os << ", " << n << " " << v;
    return os.str();
  }

  // Stops the sampler and the checkpoint thread.
  void stop_threads() {
    sampler->stop();
    {
      std::lock_guard lock(cp_mu);
      cp_quit = true;
    }
    cp_cv.notify_all();
    cp_thread.join();
  }

  void checkpoint_loop() {
    std::unique_lock lock(cp_mu);
    while (!cp_quit) {
      cp_cv.wait_for(lock, sc.soak.checkpoint_interval, [this] { return cp_quit; });
      if (cp_quit) break;
      lock.unlock();
      try {
        checkpoint("running");
        if (r.options_.progress) *r.options_.progress << status_line() << std::endl;
      } catch (const std::exception& e) {
        log.warn(std::string("soak checkpoint: ") + e.what());
      }
      lock.lock();
    }
  }

  // ------------------------------------------------------------ load

  void on_record(RequestRecord record) {
    json j = to_json(record);
    requests << j.dump(-1, ' ', false, json::error_handler_t::replace) << '\n';
    requests.flush();
    recorder->record_event("request", j);
    if (record.outcome == Outcome::ok) {
      ++requests_ok;
      output_tokens += record.output_tokens;
    } else {
      ++requests_failed;
      if (record.outcome == Outcome::engine_down || record.outcome == Outcome::connection_reset) engine_lost = true;
    }
  }

  double load_end() const { return seconds(sc.soak.load_duration()); }
  bool load_time_left() const { return !r.stop_.load() && elapsed.load() < load_end(); }

  // Sleeps until `until` (sampled time) passes, or `wall` passes, or a stop.
  void wait(double until_elapsed, std::chrono::milliseconds at_most) {
    const auto end = Clock::now() + at_most;
    while (!r.stop_.load() && elapsed.load() < until_elapsed && Clock::now() < end)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }

  // Launches (or relaunches) the engine and points the sampler at it; false
  // when it did not come up.
  bool launch(std::size_t attempt) {
    EngineEvent ev = engine->start(ctx_of(sc, sc.prompt_tokens), attempt, r.stop_);
    if (!ev.ok) {
      json body = {{"outcome", ev.outcome}, {"message", ev.message}, {"info", ev.info}};
      recorder->record_event("engine_down", body);
      if (r.options_.progress) *r.options_.progress << "soak: engine did not start: " << ev.outcome << ": " << ev.message << "\n";
      return false;
    }
    sc.engine.url = engine->url();
    set_engine_url(sc.engine.url);
    const WorkloadSelection w = launched_workload(ev.info);
    sampler->apply(sampler_config(w));
    recorder->record_event("engine_start", ev.info);
    return true;
  }

  // The engine died (or did not answer): recorded, relaunched, counted.
  void recover_engine(std::size_t& attempt) {
    if (!engine) {  // an engine at engine.url: wait for it to come back
      recorder->record_event("engine_down", {{"outcome", "engine_down"}, {"message", "requests to " + sc.engine.url + " failed"}});
      wait(load_end(), std::chrono::seconds(1));
      return;
    }
    auto died = engine->ended(std::chrono::milliseconds(2000));
    if (!died) return;  // a failure that was not the engine's end
    set_engine_url("");
    json body = {{"outcome", died->outcome}, {"message", died->message}, {"info", died->info}};
    recorder->record_event("engine_down", body);
    if (r.options_.progress) *r.options_.progress << "soak: engine ended: " << died->outcome << ": " << died->message << "\n";
    while (load_time_left()) {
      ++restarts;
      recorder->record_event("engine_restart", {{"restarts", restarts.load()}});
      if (SoakMetrics* sm = r.options_.soak_metrics) sm->set_restarts(restarts.load());
      if (launch(++attempt)) return;
      wait(load_end(), std::chrono::seconds(5));
    }
  }

  // A request of the load for `user`; false (the engine is taken as lost)
  // when its prompt cannot be built (the tokenizer did not answer).
  bool make_request(std::uint32_t user, PromptBuilder& prompts, std::uint64_t& nonce, RequestPlan& next) {
    next.user = user;
    next.prompt_tokens = sc.prompt_tokens;
    next.max_tokens = sc.output_tokens;
    next.temperature = sc.temperature;
    try {
      next.built = prompts.make(sc.prompt_tokens, ++nonce);
    } catch (const std::exception&) {
      engine_lost = true;
      return false;
    }
    return true;
  }

  StepSpec closed_step(PromptBuilder& prompts, std::uint64_t& nonce) {
    StepSpec s;
    s.key = {StepKey::Kind::users, sc.users.front(), ""};
    s.label = "soak";
    s.context_tokens = sc.prompt_tokens;
    s.users = sc.users.front();
    s.count.resize(sc.users.front());
    s.more = [this, &prompts, &nonce](std::uint32_t user, RequestPlan& next) {
      return !engine_lost && load_time_left() && make_request(user, prompts, nonce, next);
    };
    return s;
  }

  // Open loop: ten seconds of arrivals at a time (the step's arrival times
  // are seeded per step).
  StepSpec open_step(PromptBuilder& prompts, std::uint64_t& nonce) {
    StepSpec s;
    s.key = {StepKey::Kind::users, 1, ""};
    s.label = "soak";
    s.context_tokens = sc.prompt_tokens;
    s.users = 1;
    s.count.resize(1);
    const double chunk = std::min(10.0, std::max(0.0, load_end() - elapsed.load()));
    const auto n = static_cast<std::size_t>(std::ceil(chunk * sc.arrival.rate));
    for (std::size_t i = 0; i < n; ++i) {
      RequestPlan p;
      if (!make_request(0, prompts, nonce, p)) break;
      s.count[0].push_back(std::move(p));
    }
    return s;
  }

  // The load until duration − idle_tail; false (result.error) when the
  // engine never came up.
  bool run_load(SoakResult& result) {
    requests.open(dir + "requests.jsonl", std::ios::app);
    if (!requests) throw RecorderError(dir + "requests.jsonl", errno);
    std::size_t attempt = 0;
    {
      std::lock_guard lock(mu);
      kv_engine = sc.engine;
    }
    if (!sc.engine.launch) set_engine_url(sc.engine.url);
    if (sc.engine.launch) {
      const std::string name = state.name.empty() ? "soak" : state.name;
      engine = std::make_unique<EngineSession>(sc, dir, name, sc.soak.sample_interval);
      bool up = false;
      try {
        up = launch(attempt);
      } catch (const BudgetError& e) {
        result.error = std::string("memory budget: ") + e.what();
        return false;
      }
      if (!up) {
        if (r.stop_.load()) return true;
        result.error = "the engine did not start (engine.log in " + r.options_.out_dir + ")";
        return false;
      }
    }
    PromptBuilder prompts(sc);
    try {
      prompts.prepare();
    } catch (const std::exception& e) {
      result.error = std::string("the engine at ") + sc.engine.url + " did not answer: " + e.what();
      return false;
    }
    notify("READY=1");
    StreamLoop loop;
    DriverOptions o{r.options_.bench_metrics, nullptr, false, SteadyTime::max()};
    StepDriver driver(sc, loop, r.stop_, o, [this](RequestRecord rec) { on_record(std::move(rec)); });
    std::uint64_t nonce = static_cast<std::uint64_t>(std::time(nullptr)) * 1000;
    std::size_t index = 0;
    while (load_time_left()) {
      engine_lost = false;
      StepSpec step = sc.arrival.mode == ArrivalMode::closed ? closed_step(prompts, nonce) : open_step(prompts, nonce);
      const bool finished = driver.run_step(step, index++, 0);
      if (!finished && r.stop_.load()) {
        driver.record_in_flight_as_interrupted();
        break;
      }
      if (engine_lost && load_time_left()) recover_engine(attempt);
    }
    set_engine_url("");
    if (engine) {
      json stopped = engine->stop();
      recorder->record_event("engine_stop", stopped);
    }
    return true;
  }

  // ------------------------------------------------------------ the end

  void write_report(const json& soak) {
    std::ostringstream md;
    md << "# Soak " << state.name << "\n\n"
       << "Status " << state.status << ", sampled " << hms(state.elapsed_s) << " of " << hms(state.duration_s)
       << " (idle tail " << hms(state.idle_tail_s) << "), " << state.samples << " samples, " << state.requests_ok
       << " requests ok, " << state.requests_failed << " failed, " << state.output_tokens << " output tokens, "
       << state.engine_restarts << " engine restarts, gaps " << fixed(state.gap_seconds(), 1) << " s.\n\n";
    md << table(soak, true);
    md << "\n## Reasons\n\n";
    for (const auto& s : soak["series"]) {
      md << "- **" << s.value("subject", "") << " " << s.value("tier", "") << "** " << s.value("verdict", "") << ": ";
      bool first = true;
      for (const auto& reason : s.value("reasons", json::array())) {
        md << (first ? "" : "; ") << reason.get<std::string>();
        first = false;
      }
      md << "\n";
    }
    write_atomically(dir + "soak.md", md.str());
    if (r.options_.progress) *r.options_.progress << "\n" << table(soak, false) << "soak: " << r.options_.out_dir << "/soak.json, soak.md\n";
  }

  // subject, tier, verdict, slope/h [CI], per request, per 1k tokens, plateau (first → last third), reclaim, time to OOM.
  static std::string table(const json& soak, bool markdown) {
    std::vector<std::vector<std::string>> rows;
    rows.push_back({"subject", "tier", "verdict", "slope/h [CI]", "per request", "per 1k tokens", "growth 1st→3rd third",
                    "idle reclaim", "time to OOM"});
    for (const auto& s : soak["series"]) {
      const bool count = s.value("unit", "bytes") != "bytes";
      auto num = [&](const char* k) -> std::optional<double> {
        if (s.contains(k) && s[k].is_number()) return s[k].get<double>();
        return std::nullopt;
      };
      auto a = [&](std::optional<double> v, double scale = 1.0) { return v ? amount(*v * scale, count) : std::string("-"); };
      std::string slope = a(num("slope_per_s"), 3600.0);
      if (num("slope_low_per_s") && num("slope_high_per_s"))
        slope += " [" + a(num("slope_low_per_s"), 3600.0) + ", " + a(num("slope_high_per_s"), 3600.0) + "]";
      std::string plateau = "-";
      if (num("growth_first_third") && num("growth_last_third"))
        plateau = a(num("growth_first_third")) + " → " + a(num("growth_last_third"));
      std::string reclaim = num("idle_reclaimed") ? fixed(*num("idle_reclaimed") * 100.0, 0) + " %" : "-";
      std::string oom = num("time_to_oom_s") ? hms(*num("time_to_oom_s")) : "-";
      rows.push_back({s.value("subject", ""), s.value("tier", ""), s.value("verdict", ""), slope, a(num("per_request")),
                      a(num("per_1k_tokens")), plateau, reclaim, oom});
    }
    std::ostringstream os;
    if (markdown) {
      for (std::size_t i = 0; i < rows.size(); ++i) {
        os << "|";
        for (const auto& c : rows[i]) os << " " << c << " |";
        os << "\n";
        if (i == 0) {
          os << "|";
          for (std::size_t c = 0; c < rows[0].size(); ++c) os << "---|";
          os << "\n";
        }
      }
      return os.str();
    }
    std::vector<std::size_t> width(rows[0].size(), 0);
    for (const auto& row : rows)
      for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
    for (const auto& row : rows) {
      for (std::size_t c = 0; c < row.size(); ++c)
        os << row[c] << std::string(width[c] - row[c].size() + (c + 1 < row.size() ? 2 : 0), ' ');
      os << "\n";
    }
    return os.str();
  }
};

SoakRun::SoakRun(Scenario scenario, SoakOptions options) : scenario_(std::move(scenario)), options_(std::move(options)) {}
SoakRun::~SoakRun() = default;

void SoakRun::request_stop() { stop_.store(true); }

SoakResult SoakRun::run() {
  SoakResult result;
  impl_ = std::make_unique<Impl>(*this);
  Impl& im = *impl_;
  if (!im.read_state(result)) {
    result.end = SoakEnd::refused;
    return result;
  }
  RecorderOptions ro = scenario_.soak.record ? *scenario_.soak.record : RecorderOptions{};
  if (ro.dir.empty()) ro.dir = options_.out_dir;
  if (im.resumed) im.replay(ro.dir);
  im.recorder = std::make_unique<Recorder>(ro, &im.log, options_.recorder_counters);  // throws RecorderError: exit 73
  if (auto gap = im.recorder->resumed_gap()) im.state.gaps.push_back({gap->first, gap->second});
  if (im.state.started.empty()) im.state.started = utc_now();
  if (options_.soak_metrics) {
    options_.soak_metrics->set_duration(im.state.duration_s);
    options_.soak_metrics->set_gap_seconds(im.state.gap_seconds());
    options_.soak_metrics->set_elapsed(im.base_elapsed);
  }
  im.elapsed.store(im.base_elapsed);
  if (im.resumed && im.state.gaps.size() > 0)
    im.recorder->record_event("soak_resume", {{"elapsed_s", im.base_elapsed}, {"gap", im.state.gaps.back().seconds()}});
  im.started = Clock::now();
  im.sampler = std::make_unique<Sampler>(im.sampler_config(scenario_.soak.workload), im.log);
  im.sampler->on_tick([&im](const Snapshot& snap) { im.on_tick(snap); });
  im.checkpoint("running");
  im.sampler->start();
  im.cp_thread = std::thread([&im] { im.checkpoint_loop(); });
  bool ok = true;
  try {
    if (scenario_.soak.load && im.load_time_left()) {
      ok = im.run_load(result);
    } else {
      im.notify("READY=1");
    }
    if (ok) im.wait(im.state.duration_s, std::chrono::hours(24 * 366));
  } catch (...) {
    im.stop_threads();
    throw;
  }
  im.notify("STOPPING=1");
  im.stop_threads();
  const bool interrupted = stop_.load() || !ok;
  result.soak = im.checkpoint(interrupted ? "interrupted" : "done");
  im.recorder->flush();
  im.write_report(result.soak);
  result.end = !ok ? SoakEnd::failed : interrupted ? SoakEnd::interrupted : SoakEnd::done;
  return result;
}

}  // namespace tierscope::workloads

#include "workloads/runner.h"

#include <array>
#include <chrono>
#include <ctime>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "exporters/recorder.h"
#include "core/duration.h"
#include "workloads/compare.h"
#include "workloads/cost.h"
#include "workloads/engine_facts.h"
#include "workloads/engine_session.h"
#include "workloads/predicted_wall.h"
#include "workloads/manifest.h"
#include "workloads/plan.h"
#include "workloads/prompts.h"
#include "workloads/run_recording.h"
#include "workloads/step_driver.h"
#include "workloads/summary.h"

namespace tierscope::workloads {

using nlohmann::json;

// One run: its output files, the summary as it grows, the prompts and the
// step driver.
//
// scenario: ab runs blocks (ab_schedule()); while a block runs, the runner's
// scenario is its arm's (arm_scenario()), and engine, driver and prompts are
// the arm's (swapped in and out by enter_arm / leave_arm), so the steps run
// exactly as in a plain sweep. summary.steps then holds one entry per block
// and step; view() turns them into one entry per arm and step.
struct Runner::Impl {
  Runner& r;
  const Scenario& sc;
  const Scenario given;   // the scenario as given (scenario: ab with its arms)
  const std::string dir;  // the output directory, with a trailing '/'
  std::unique_ptr<PromptBuilder> prompts;
  std::ofstream jsonl;
  RunSummary summary;
  std::vector<RequestRecord> step_records;  // records of the running step
  std::unique_ptr<StepDriver> driver;
  std::unique_ptr<EngineSession> engine;  // engine.launch: the engine tierscope starts
  std::unique_ptr<CostMeter> cost;          // scenario key cost: the run's cost from the samples and tokens
  std::unique_ptr<RunRecording> recording;  // samples, requests and step events (samples-*.jsonl)
  bool described = false;                 // the engine's facts and the prompt method are known
  bool budget_failed = false;             // the memory budget could not be applied: the run stops
  std::uint64_t nonce_base = 0, nonce_counter = 0;

  DriverOptions driver_options;

  // scenario: ab: each arm's scenario and what it runs with while it is not
  // the running one; the running arm and block.
  struct Arm {
    Scenario sc;
    std::unique_ptr<EngineSession> engine;
    std::unique_ptr<StepDriver> driver;
    std::unique_ptr<PromptBuilder> prompts;
    bool described = false;
    std::optional<json> facts, prompt_facts, limits;
    json predicted_wall;  // from its model file (memory_wall.h); null without
  };
  std::array<Arm, 2> arms;
  std::optional<std::size_t> arm_running;
  std::uint32_t block = 0;
  std::string realised;                    // the blocks run so far, e.g. ABB
  std::vector<RequestRecord> ab_records;   // every record of the run, for the per-arm steps

  explicit Impl(Runner& runner)
      : r(runner), sc(runner.scenario_), given(runner.scenario_), dir(runner.options_.out_dir + "/"),
        prompts(std::make_unique<PromptBuilder>(runner.scenario_)) {
    nonce_base = static_cast<std::uint64_t>(std::time(nullptr)) * 1000;
    if (given.ab)
      for (std::size_t i = 0; i < 2; ++i) arms[i].sc = arm_scenario(given, i);
  }

  static const char* letter(std::size_t arm) { return arm == 0 ? "a" : "b"; }

  void write_record(RequestRecord& record) {
    if (arm_running) {
      record.arm = letter(*arm_running);
      record.block = block;
      ab_records.push_back(record);
    }
    const json j = to_json(record);
    jsonl << j.dump(-1, ' ', false, json::error_handler_t::replace) << '\n';
    jsonl.flush();
    if (recording) recording->event("request", j);
    if (cost && !record.warmup && record.outcome == Outcome::ok)
      cost->add_tokens(record.prompt_tokens.value_or(0), record.output_tokens);
  }
  void record_event(std::string_view type, const json& body) {
    if (recording) recording->event(type, body);
  }

  void write_summary() {
    summary.updated = utc_now();
    if (cost) {
      std::uint64_t in = 0, out = 0;
      for (const StepResult& st : summary.steps) {
        in += st.stats.input_tokens;
        out += st.stats.output_tokens;
      }
      summary.cost = cost->summary(in, out);
    }
    const RunSummary v = view();
    write_atomically(dir + "summary.json", to_json(v).dump(2, ' ', false, json::error_handler_t::replace) + "\n");
    write_atomically(dir + "summary.csv", summary_csv(v));
  }

  // The summary as summary.json holds it: for scenario: ab, one step entry
  // per arm and step over all its blocks (statistics from every record of
  // the arm at that step), each arm's wall, no run-wide wall.
  RunSummary view() const {
    if (!given.ab) return summary;
    RunSummary v = summary;
    v.steps.clear();
    v.wall.reset();
    v.limits.reset();  // per arm, in arms, as the engine's facts and the prompts
    v.engine.reset();
    v.prompts.reset();
    json walls = json::object();
    for (std::size_t arm = 0; arm < 2; ++arm) {
      const std::string name = letter(arm);
      std::map<std::size_t, std::vector<const StepResult*>> by_step;
      for (const StepResult& st : summary.steps)
        if (st.arm == name) by_step[st.step].push_back(&st);
      walls[name] = nullptr;
      for (const auto& [i, runs] : by_step) {
        std::vector<RequestRecord> records;
        for (const RequestRecord& rec : ab_records)
          if (rec.step == i && rec.arm == name) records.push_back(rec);
        const StepResult& last = *runs.back();
        StepResult st{i, last.key, last.label, last.users, summarize_step(records, given.trim, given.failure_threshold),
                      true, last.engine_metrics, {}, last.engine_run, last.memory, {}, {}, {}};
        st.arm = name;
        json blocks = json::array();
        double wall_s = 0;  // the blocks' own wall times, not the time between them
        for (const StepResult* run : runs) {
          st.complete = st.complete && run->complete;
          if (run->engine_outcome && !st.engine_outcome) st.engine_outcome = run->engine_outcome;
          std::vector<RequestRecord> in_block;
          for (const RequestRecord& rec : records)
            if (rec.block == run->block) in_block.push_back(rec);
          const StepSummary bs = summarize_step(in_block, given.trim, given.failure_threshold);
          wall_s += bs.wall_s;
          json b = {{"block", run->block.value_or(0)}, {"complete", run->complete}, {"requests", bs.requests},
                    {"ok", bs.ok}, {"failed", run->stats.failed}, {"wall_s", bs.wall_s}};
          if (run->engine_outcome) b["engine_outcome"] = *run->engine_outcome;
          blocks.push_back(std::move(b));
        }
        StepSummary& ss = st.stats;
        ss.wall_s = wall_s;
        ss.total_tokens_per_s = ss.output_tokens_per_s_aggregate = ss.requests_per_s = std::nullopt;
        if (wall_s > 0) {
          ss.total_tokens_per_s = static_cast<double>(ss.input_tokens + ss.output_tokens) / wall_s;
          ss.output_tokens_per_s_aggregate = static_cast<double>(ss.output_tokens) / wall_s;
          ss.requests_per_s = static_cast<double>(ss.ok) / wall_s;
        }
        if (st.engine_outcome) st.stats.failed = true;
        st.blocks = std::move(blocks);
        if (walls[name].is_null())
          if (auto w = wall_of(st)) walls[name] = to_json(*w);
        v.steps.push_back(std::move(st));
      }
    }
    v.walls = std::move(walls);
    v.arms = arms_json();
    json ab = *summary.ab;
    ab["order_realised"] = realised;
    v.ab = std::move(ab);
    return v;
  }

  // summary.json "arms": each arm's name, engine and limits as the scenario
  // gives them, and once it ran its engine's facts, prompts, budget as applied.
  json arms_json() const {
    json out = json::object();
    for (std::size_t i = 0; i < 2; ++i) {
      const AbArm& arm = given.ab->arms[i];
      json e = {{"kind", to_string(arm.engine.kind)}, {"url", arm.engine.url}, {"model", arm.engine.model},
                {"api", arm.engine.api}};
      if (arm.engine.num_ctx) e["num_ctx"] = *arm.engine.num_ctx;
      if (arm.engine.launch) {
        const LaunchSpec& spec = arm.engine.launch->spec;
        json names = json::array();
        for (const auto& kv : spec.env) names.push_back(kv.first);
        e["launch"] = {{"argv", spec.argv}, {"env_names", names}, {"restart", to_string(spec.restart)}};
        if (!arm.engine.launch->model.empty()) e["launch"]["model"] = arm.engine.launch->model;
      }
      json limits = nullptr;
      if (!arm.limits.empty()) {
        limits = json::object();
        if (arm.limits.memory_max) limits["memory_max"] = *arm.limits.memory_max;
        if (arm.limits.memory_high) limits["memory_high"] = *arm.limits.memory_high;
        if (arm.limits.swap_max) limits["swap_max"] = *arm.limits.swap_max;
      }
      json a = {{"name", arm.name}, {"engine", e}, {"limits", limits}};
      const Arm& state = arms[i];
      if (state.limits) a["limits_applied"] = *state.limits;
      if (state.facts) a["facts"] = *state.facts;
      if (state.prompt_facts) a["prompts"] = *state.prompt_facts;
      if (!state.predicted_wall.is_null()) a["predicted_wall"] = state.predicted_wall;
      out[letter(i)] = std::move(a);
    }
    return out;
  }

  // The output directory, scenario.yaml, requests.jsonl and the summary's
  // fixed fields; false (result.error) when they cannot be written.
  bool open(RunResult& result) {
    std::error_code ec;
    std::filesystem::create_directories(r.options_.out_dir, ec);
    if (ec) {
      result.error = "cannot create " + r.options_.out_dir + ": " + ec.message();
      return false;
    }
    write_atomically(dir + "scenario.yaml", to_yaml(sc));
    if (sc.engine.launch && !sc.engine.launch->model.empty()) {
      try {
        model_section = model_manifest(sc.engine.launch->model);
      } catch (const std::exception& e) {
        model_section = {{"path", sc.engine.launch->model}, {"error", e.what()}};
      }
    }
    // The machine and scenario, before any request; rewritten once a launched
    // engine runs (its argv, facts and budget).
    summary.manifest_sha256 = write_run_manifest(dir, sc, manifest_extra());
    jsonl.open(dir + "requests.jsonl", std::ios::trunc);
    if (!jsonl) {
      result.error = "cannot write " + dir + "requests.jsonl";
      return false;
    }
    SampleObserver observer;
    if (sc.cost && sc.cost->enabled) {
      cost = std::make_unique<CostMeter>(*sc.cost, r.options_.metrics);
      observer = [c = cost.get()](auto taken, const auto& families) { c->observe(taken, families); };
    }
    try {
      recording = std::make_unique<RunRecording>(r.options_.out_dir, std::chrono::seconds(1), std::move(observer));
    } catch (const RecorderError& e) {
      result.error = std::string("cannot record: ") + e.what();
      return false;
    }
    summary.scenario = given.ab ? std::string("ab") : std::string(to_string(sc.kind));
    summary.started = utc_now();
    summary.failure_threshold = sc.failure_threshold;
    summary.trim = sc.trim;
    summary.arrival = sc.arrival;
    if (sc.slo) {
      json slo = json::object();
      if (sc.slo->ttft_ms) slo["ttft_ms"] = *sc.slo->ttft_ms;
      if (sc.slo->tpot_ms) slo["tpot_ms"] = *sc.slo->tpot_ms;
      summary.slo = slo;
    }
    if (sc.engine.launch && !given.ab) {
      engine = std::make_unique<EngineSession>(sc, dir, run_name());
      json wall = predict_scenario_wall(sc);
      if (!wall.is_null()) summary.predicted_wall = wall;
    }
    driver_options = DriverOptions{r.options_.metrics, r.options_.progress, r.options_.tty, SteadyTime::max()};
    if (sc.run_deadline.count() > 0) driver_options.run_deadline = SteadyClock::now() + sc.run_deadline;
    if (given.ab) {
      const AbConfig& ab = *given.ab;
      std::string schedule;
      for (std::size_t arm : ab_schedule(ab.order, ab.blocks)) schedule += arm == 0 ? 'A' : 'B';
      summary.ab = json{{"sweep", to_string(ab.sweep)}, {"order", ab.order}, {"blocks", ab.blocks},
                        {"cooldown_s", static_cast<double>(ab.cooldown.count()) / 1000.0}, {"margin", ab.margin},
                        {"seed", ab.seed}, {"unit", ab.unit}, {"schedule", schedule}};
      if (r.options_.metrics) r.options_.metrics->set_ab(ab.arms[0].name, ab.arms[1].name);
      for (Arm& arm : arms)
        if (arm.sc.engine.launch) arm.predicted_wall = predict_scenario_wall(arm.sc);
      return true;  // each arm's engine, driver and prompts at its first block (enter_arm)
    }
    driver = make_driver();
    return true;
  }

  std::string run_name() const {
    const std::string name = std::filesystem::path(r.options_.out_dir).lexically_normal().filename().string();
    return name.empty() ? "bench" : name;
  }

  // A step driver for the runner's scenario as it is now.
  std::unique_ptr<StepDriver> make_driver() {
    return std::make_unique<StepDriver>(sc, r.loop_, r.stop_, driver_options, [this](RequestRecord record) {
      write_record(record);
      step_records.push_back(std::move(record));
    });
  }

  // The engine's facts and the prompt method; false (status
  // engine_unavailable) when the engine is down or not ready.
  bool start(RunResult& result) {
    try {
      summary.engine = describe_engine(sc, r.stop_);
      if (sc.kind != ScenarioKind::protocol) {
        prompts->prepare();
        summary.prompts = prompts->facts();
      }
    } catch (const std::exception& e) {
      result.error = e.what();
      summary.status = "engine_unavailable";
      summary.error = e.what();
      write_summary();
      result.summary = to_json(view());
      return false;
    }
    result.started = true;
    write_summary();
    return true;
  }

  // engine.launch: the engine for step `s` (a fresh one per step, or the
  // run's one when it is still up). False when the step cannot run: it is
  // recorded as failed with the engine's outcome (or the run stops, when the
  // memory budget cannot be applied).
  bool ensure_engine(StepSpec& s, std::size_t i, RunResult& result) {
    if (!engine) return true;
    if (engine->running() && sc.engine.launch->spec.restart == RestartPolicy::per_run) return true;
    EngineEvent ev;
    try {
      ev = engine->start(ctx_of(sc, s.context_tokens), i, r.stop_);
    } catch (const BudgetError& e) {
      budget_failed = true;
      result.error = std::string("memory budget: ") + e.what();
      summary.error = result.error;
      write_summary();
      return false;
    }
    if (!engine->budget().is_null()) summary.limits = engine->budget();
    if (!ev.ok) {
      if (r.stop_.load()) return false;
      StepResult st{i, s.key, s.label, s.users, StepSummary{}, false, json(nullptr), {}, {}, {}, {}, {}, {}};
      st.stats.failed = true;
      if (arm_running) record_not_sent(s, i, ev, st);
      st.engine_outcome = ev.outcome;
      st.engine_run = ev.info;
      record_event("engine_down", {{"step", i}, {"outcome", ev.outcome}, {"message", ev.message}, {"info", ev.info}});
      json memory = engine->memory();
      if (!memory.empty()) st.memory = memory;
      summary.steps.push_back(std::move(st));
      result.wall = true;
      result.started = true;  // the sweep ran into its wall at the engine's start
      if (!summary.wall) summary.wall = wall_of(summary.steps.back());
      if (r.options_.progress)
        *r.options_.progress << "step " << i + 1 << " (" << s.label << "): " << ev.outcome << ": " << ev.message << "\n";
      write_summary();
      return false;
    }
    r.scenario_.engine.url = engine->url();
    launch_info = ev.info;
    if (recording) recording->watch(ev.info);
    record_event("engine_start", ev.info);
    if (!described) {
      if (!start(result)) return false;
      described = true;
      summary.manifest_sha256 = write_run_manifest(dir, given.ab ? given : sc, manifest_extra());
    }
    return true;
  }

  // scenario: ab: the counted requests of a step whose engine did not start,
  // each recorded as not sent with the engine's outcome, so that the arm's
  // outcomes at this step (the OOM vs success table) count them.
  void record_not_sent(const StepSpec& s, std::size_t i, const EngineEvent& ev, StepResult& st) {
    const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    std::vector<RequestRecord> records;
    for (const auto& queue : s.count)
      for (const RequestPlan& plan : queue) {
        RequestRecord rec;
        rec.step = i;
        if (s.context_tokens >= 0) rec.context_tokens = s.context_tokens;
        if (s.users >= 0) rec.users = s.users;
        rec.user = plan.user;
        rec.t_send = now;
        if (plan.prompt_tokens) rec.prompt_tokens_target = plan.prompt_tokens;
        rec.outcome = ev.outcome == "oom" ? Outcome::oom : Outcome::engine_down;
        rec.error = "not sent: " + ev.message;
        rec.transport = TransferOutcome::engine_down;
        rec.sent = false;
        write_record(rec);
        records.push_back(std::move(rec));
      }
    st.stats = summarize_step(records, sc.trim, sc.failure_threshold);
    st.stats.failed = true;
    st.arm = letter(*arm_running);
    st.block = block;
  }

  // ---- scenario: ab ---------------------------------------------------------

  bool deadline_hit() const {
    if (driver && driver->deadline_hit()) return true;
    for (const Arm& a : arms)
      if (a.driver && a.driver->deadline_hit()) return true;
    return false;
  }

  // Makes `arm` the running one for block `b`: its scenario, engine, driver
  // and prompts (made at its first block).
  void enter_arm(std::size_t arm, std::uint32_t b) {
    Arm& a = arms[arm];
    r.scenario_ = a.sc;
    arm_running = arm;
    block = b;
    if (!a.driver) {
      a.driver = make_driver();
      a.prompts = std::make_unique<PromptBuilder>(sc);
      if (sc.engine.launch) {
        const std::string arm_dir = dir + "arm-" + letter(arm) + "/";
        std::filesystem::create_directories(arm_dir);
        a.engine = std::make_unique<EngineSession>(sc, arm_dir, run_name() + "-" + letter(arm));
      }
    }
    std::swap(engine, a.engine);
    std::swap(driver, a.driver);
    std::swap(prompts, a.prompts);
    std::swap(described, a.described);
    summary.engine = a.facts;
    summary.prompts = a.prompt_facts;
  }

  // Stops the running arm's engine (its block is over) and puts its state back.
  void leave_arm() {
    Arm& a = arms[*arm_running];
    if (engine && engine->running()) {
      json stopped = engine->stop();
      if (!summary.steps.empty() && stopped.contains("stop")) {
        StepResult& last = summary.steps.back();
        if (!last.engine_run) last.engine_run = json::object();
        (*last.engine_run)["stop"] = stopped["stop"];
      }
    }
    if (engine && !engine->budget().is_null()) a.limits = engine->budget();
    a.facts = summary.engine;
    a.prompt_facts = summary.prompts;
    std::swap(engine, a.engine);
    std::swap(driver, a.driver);
    std::swap(prompts, a.prompts);
    std::swap(described, a.described);
    arm_running.reset();
    r.scenario_ = given;
  }

  // Waits `d` (the cooldown between blocks); false when the run was stopped.
  bool cool_down(std::chrono::milliseconds d) {
    if (d.count() > 0 && r.options_.progress) *r.options_.progress << "cooldown " << format_duration(d) << "\n";
    const auto end = std::chrono::steady_clock::now() + d;
    while (!r.stop_.load()) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= end) break;
      std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(end - now, std::chrono::milliseconds(50)));
    }
    return !r.stop_.load();
  }

  // One block: every step of the sweep once on the running arm's engine
  // (launched fresh, stopped after); stop_on_failure ends the block, not the
  // run. False when the run ends here.
  bool run_block(std::size_t blocks, RunResult& result) {
    const std::size_t arm = *arm_running;
    const std::string& name = given.ab->arms[arm].name;
    if (r.options_.progress)
      *r.options_.progress << "block " << block + 1 << "/" << blocks << ": arm " << letter(arm) << " (" << name
                           << ")\n";
    if (r.options_.metrics) r.options_.metrics->set_ab_block(arm, block);
    record_event("block_start", {{"block", block}, {"arm", letter(arm)}, {"name", name}});
    bool go_on = true;
    if (!engine && !described) {  // an arm at a URL: described at its first block
      if (!start(result)) return false;
      described = true;
    }
    Plan plan = make_plan(sc);
    for (std::size_t i = 0; i < plan.steps.size(); ++i)
      if (!run_step(plan.steps[i], i, plan.steps.size(), result)) {
        go_on = !(budget_failed || r.stop_.load() || deadline_hit() || !summary.error.value_or("").empty());
        break;
      }
    record_event("block_end", {{"block", block}, {"arm", letter(arm)}});
    return go_on;
  }

  // scenario: ab: the blocks in ab_schedule() order, a cooldown between them.
  void run_ab(RunResult& result) {
    const AbConfig& ab = *given.ab;
    const auto schedule = ab_schedule(ab.order, ab.blocks);
    for (std::uint32_t b = 0; b < schedule.size(); ++b) {
      if (r.stop_.load() || deadline_hit()) break;
      if (b > 0 && !cool_down(ab.cooldown)) break;
      enter_arm(schedule[b], b);
      realised += schedule[b] == 0 ? 'A' : 'B';
      const bool go_on = run_block(schedule.size(), result);
      leave_arm();
      write_summary();
      if (!go_on) break;
    }
  }
  json launch_info;  // the launch of the engine the running step uses
  json model_section;  // engine.launch.model: size, sha256, GGUF metadata

  // The manifest's sections beyond machine and scenario: a launched engine
  // (argv as given and as run, the names of its env entries, its facts from
  // its API), its model file, the memory budget as applied.
  json manifest_extra() const {
    json extra = json::object();
    if (given.ab) {  // each arm's engine, limits and, once run, facts and budget as applied
      extra["arms"] = arms_json();
      return extra;
    }
    if (!sc.engine.launch) return extra;
    const LaunchSpec& spec = sc.engine.launch->spec;
    json e;
    e["kind"] = std::string(to_string(sc.engine.kind));
    e["argv"] = spec.argv;
    json names = json::array();
    for (const auto& kv : spec.env) names.push_back(kv.first);
    e["env_names"] = names;
    e["restart"] = std::string(to_string(spec.restart));
    if (launch_info.is_object() && launch_info.contains("argv")) e["argv_run"] = launch_info["argv"];
    if (summary.engine) e["facts"] = *summary.engine;
    extra["engine"] = e;
    if (!model_section.is_null()) extra["model"] = model_section;
    if (summary.limits) extra["limits"] = *summary.limits;
    return extra;
  }

  // Prompts of exactly N tokens, each unique (built before the step: the
  // tokenizer calls are blocking). False (summary error) when the tokenizer failed.
  bool build_prompts(StepSpec& s, RunResult& result) {
    try {
      for (auto* queues : {&s.warm, &s.count})
        for (auto& q : *queues)
          for (auto& p : q) {
            if (r.stop_.load()) break;
            if (p.prompt_tokens > 0) p.built = prompts->make(p.prompt_tokens, nonce_base + ++nonce_counter);
          }
    } catch (const std::exception& e) {
      summary.error = std::string("building prompts: ") + e.what();
      result.error = *summary.error;
      return false;
    }
    return true;
  }

  // Runs step i and adds it to the summary; false when the run ends here.
  bool run_step(StepSpec& s, std::size_t i, std::size_t total, RunResult& result) {
    step_records.clear();
    launch_info = nullptr;
    if (!ensure_engine(s, i, result)) {
      if (budget_failed || r.stop_.load() || !summary.error.value_or("").empty()) return false;
      // The engine did not start for this step: a failed step of the sweep.
      return !(sc.stop_on_failure && sc.kind != ScenarioKind::protocol);
    }
    if (engine) engine->set_step(i);
    if (!build_prompts(s, result)) return false;
    if (r.stop_.load()) return false;
    json before = sample_before_step(sc);
    record_event("step_start", {{"step", i}, {"label", s.label}, {"users", s.users},
                                {"context_tokens", s.context_tokens}});
    const bool finished = driver->run_step(s, i, total);
    const bool interrupted = !finished && r.stop_.load();
    if (interrupted)
      summary.in_flight_interrupted = summary.in_flight_interrupted.value_or(0) + driver->record_in_flight_as_interrupted();
    // After an interrupt the run ends at once: no blocking request to the engine.
    StepResult st{i, s.key, s.label, s.users, summarize_step(step_records, sc.trim, sc.failure_threshold), finished,
                  interrupted ? json(nullptr) : step_engine_metrics(sc, before), {}, {}, {}, {}, {}, {}};
    if (arm_running) {
      st.arm = letter(*arm_running);
      st.block = block;
    }
    if (engine) record_engine(st);
    summary.steps.push_back(std::move(st));
    const StepResult& done = summary.steps.back();
    record_event("step_end", {{"step", i}, {"label", s.label}, {"finished", finished}, {"failed", done.stats.failed},
                              {"engine_outcome", done.engine_outcome ? json(*done.engine_outcome) : json(nullptr)}});
    if (sc.kind != ScenarioKind::protocol) summary.prompts = prompts->facts();
    if (done.stats.failed) {
      result.wall = true;
      if (!summary.wall) summary.wall = wall_of(done);
    }
    write_summary();
    if (!finished) return false;
    return !(done.stats.failed && sc.stop_on_failure && sc.kind != ScenarioKind::protocol);
  }

  // The engine's part in the step just run: its launch, whether it ended
  // during the step (the step then failed with its outcome), its memory; a
  // per-step engine is stopped here.
  void record_engine(StepResult& st) {
    json run = launch_info.is_null() ? json::object() : launch_info;
    engine->sample_now();
    // Requests that found the engine gone: give its exit a moment to show.
    const bool lost = st.stats.failures.count("engine_down") > 0 || st.stats.failures.count("connection_reset") > 0;
    if (auto died = engine->ended(lost ? std::chrono::milliseconds(2000) : std::chrono::milliseconds(0))) {
      st.engine_outcome = died->outcome;
      st.stats.failed = true;
      run["ended"] = died->info;
      run["ended"]["message"] = died->message;
    } else if (sc.engine.launch->spec.restart == RestartPolicy::per_step) {
      json stopped = engine->stop();
      if (stopped.contains("stop")) run["stop"] = stopped["stop"];
    }
    if (!run.empty()) st.engine_run = run;
    json memory = engine->memory();
    if (!memory.empty()) st.memory = memory;
  }

  void finish(RunResult& result) {
    if (engine) {
      json stopped = engine->stop();
      if (!summary.steps.empty() && stopped.contains("stop")) {
        StepResult& last = summary.steps.back();
        if (!last.engine_run) last.engine_run = json::object();
        (*last.engine_run)["stop"] = stopped["stop"];
      }
    }
    result.interrupted = r.stop_.load();
    result.deadline = deadline_hit();
    summary.status = result.interrupted ? "interrupted" : result.deadline ? "deadline" : "complete";
    summary.finished = utc_now();
    if (given.ab) compare_arms();
    write_summary();
    record_event("run_end", {{"status", summary.status}});
    recording.reset();  // the last samples flushed before the table
    if (cost) write_summary();  // the cost up to the last sample
    const RunSummary v = view();
    result.summary = to_json(v);
    if (r.options_.progress) {
      print_table(*r.options_.progress, v, r.options_.out_dir);
      if (summary.comparison) *r.options_.progress << "\n" << comparison_markdown(*summary.comparison) << std::flush;
    }
  }

  // scenario: ab: arm a against arm b over their request records
  // (compare.h), into summary.json, comparison.json and comparison.md.
  void compare_arms() {
    const AbConfig& ab = *given.ab;
    std::vector<json> a, b;
    for (const RequestRecord& rec : ab_records) (rec.arm == "a" ? a : b).push_back(to_json(rec));
    CompareOptions o;
    o.margin = ab.margin;
    o.bootstrap.seed = ab.seed;
    o.unit = ab.unit;
    // The sweep's steps in order (a step no arm reached is listed as not
    // run), and each arm's step entries (an engine that did not start shows).
    for (const StepSpec& step : make_plan(given).steps) {
      json key = json::object();
      if (step.context_tokens >= 0) key["context_tokens"] = step.context_tokens;
      if (step.users >= 0) key["users"] = step.users;
      o.planned.push_back(std::move(key));
    }
    o.steps_a = json::array();
    o.steps_b = json::array();
    for (const StepResult& st : view().steps) (st.arm == "a" ? o.steps_a : o.steps_b).push_back(to_json(st));
    summary.comparison = compare_requests(a, b, ab.arms[0].name, ab.arms[1].name, o);
    write_atomically(dir + "comparison.json",
                     summary.comparison->dump(2, ' ', false, json::error_handler_t::replace) + "\n");
    write_atomically(dir + "comparison.md", comparison_markdown(*summary.comparison));
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
  if (!impl.open(result)) return result;
  if (scenario_.ab) {
    impl.run_ab(result);  // each arm's engine is described at its first block
  } else {
    // A launched engine is described once it first runs (ensure_engine).
    if (!scenario_.engine.launch && !impl.start(result)) return result;
    Plan plan = make_plan(scenario_);
    for (std::size_t i = 0; i < plan.steps.size(); ++i)
      if (!impl.run_step(plan.steps[i], i, plan.steps.size(), result)) break;
  }
  if (impl.budget_failed || ((scenario_.engine.launch || scenario_.ab) && !result.started)) {
    if (impl.engine) (void)impl.engine->stop();
    if (impl.budget_failed || impl.summary.status == "running")
      impl.summary.status = impl.budget_failed ? "budget_error" : "engine_unavailable";
    result.started = false;  // exit 1: the run did not do what it was asked
    impl.write_summary();
    result.summary = to_json(impl.view());
    return result;
  }
  impl.finish(result);
  return result;
}

}  // namespace tierscope::workloads

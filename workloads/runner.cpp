#include "workloads/runner.h"

#include <ctime>
#include <exception>
#include <filesystem>
#include <fstream>
#include <memory>
#include <vector>

#include "exporters/recorder.h"
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
struct Runner::Impl {
  Runner& r;
  const Scenario& sc;
  const std::string dir;  // the output directory, with a trailing '/'
  PromptBuilder prompts;
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

  explicit Impl(Runner& runner)
      : r(runner), sc(runner.scenario_), dir(runner.options_.out_dir + "/"), prompts(runner.scenario_) {
    nonce_base = static_cast<std::uint64_t>(std::time(nullptr)) * 1000;
  }

  void write_record(const RequestRecord& record) {
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
    write_atomically(dir + "summary.json", to_json(summary).dump(2, ' ', false, json::error_handler_t::replace) + "\n");
    write_atomically(dir + "summary.csv", summary_csv(summary));
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
    summary.scenario = std::string(to_string(sc.kind));
    summary.started = utc_now();
    summary.failure_threshold = sc.failure_threshold;
    summary.trim = sc.trim;
    summary.arrival = sc.arrival;
    if (sc.engine.launch) {
      const std::string name = std::filesystem::path(r.options_.out_dir).lexically_normal().filename().string();
      engine = std::make_unique<EngineSession>(sc, dir, name.empty() ? "bench" : name);
      json wall = predict_scenario_wall(sc);
      if (!wall.is_null()) summary.predicted_wall = wall;
    }
    DriverOptions o{r.options_.metrics, r.options_.progress, r.options_.tty, SteadyTime::max()};
    if (sc.run_deadline.count() > 0) o.run_deadline = SteadyClock::now() + sc.run_deadline;
    driver = std::make_unique<StepDriver>(sc, r.loop_, r.stop_, o, [this](RequestRecord record) {
      write_record(record);
      step_records.push_back(std::move(record));
    });
    return true;
  }

  // The engine's facts and the prompt method; false (status
  // engine_unavailable) when the engine is down or not ready.
  bool start(RunResult& result) {
    try {
      summary.engine = describe_engine(sc, r.stop_);
      if (sc.kind != ScenarioKind::protocol) {
        prompts.prepare();
        summary.prompts = prompts.facts();
      }
    } catch (const std::exception& e) {
      result.error = e.what();
      summary.status = "engine_unavailable";
      summary.error = e.what();
      write_summary();
      result.summary = to_json(summary);
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
      StepResult st{i, s.key, s.label, s.users, StepSummary{}, false, json(nullptr), {}, {}, {}};
      st.stats.failed = true;
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
      summary.manifest_sha256 = write_run_manifest(dir, sc, manifest_extra());
    }
    return true;
  }
  json launch_info;  // the launch of the engine the running step uses
  json model_section;  // engine.launch.model: size, sha256, GGUF metadata

  // The manifest's sections beyond machine and scenario: a launched engine
  // (argv as given and as run, the names of its env entries, its facts from
  // its API), its model file, the memory budget as applied.
  json manifest_extra() const {
    json extra = json::object();
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
            if (p.prompt_tokens > 0) p.built = prompts.make(p.prompt_tokens, nonce_base + ++nonce_counter);
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
                  interrupted ? json(nullptr) : step_engine_metrics(sc, before), {}, {}, {}};
    if (engine) record_engine(st);
    summary.steps.push_back(std::move(st));
    const StepResult& done = summary.steps.back();
    record_event("step_end", {{"step", i}, {"label", s.label}, {"finished", finished}, {"failed", done.stats.failed},
                              {"engine_outcome", done.engine_outcome ? json(*done.engine_outcome) : json(nullptr)}});
    if (sc.kind != ScenarioKind::protocol) summary.prompts = prompts.facts();
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
    result.deadline = driver->deadline_hit();
    summary.status = result.interrupted ? "interrupted" : result.deadline ? "deadline" : "complete";
    summary.finished = utc_now();
    write_summary();
    record_event("run_end", {{"status", summary.status}});
    recording.reset();  // the last samples flushed before the table
    if (cost) write_summary();  // the cost up to the last sample
    result.summary = to_json(summary);
    if (r.options_.progress) print_table(*r.options_.progress, summary, r.options_.out_dir);
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
  // A launched engine is described once it first runs (ensure_engine).
  if (!scenario_.engine.launch && !impl.start(result)) return result;
  Plan plan = make_plan(scenario_);
  for (std::size_t i = 0; i < plan.steps.size(); ++i)
    if (!impl.run_step(plan.steps[i], i, plan.steps.size(), result)) break;
  if (impl.budget_failed || (scenario_.engine.launch && !result.started)) {
    if (impl.engine) (void)impl.engine->stop();
    impl.summary.status = impl.budget_failed ? "budget_error" : "engine_unavailable";
    result.started = false;  // exit 1: the run did not do what it was asked
    impl.write_summary();
    result.summary = to_json(impl.summary);
    return result;
  }
  impl.finish(result);
  return result;
}

}  // namespace tierscope::workloads

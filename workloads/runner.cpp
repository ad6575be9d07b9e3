#include "workloads/runner.h"

#include <ctime>
#include <exception>
#include <filesystem>
#include <fstream>
#include <memory>
#include <vector>

#include "workloads/engine_facts.h"
#include "workloads/manifest.h"
#include "workloads/plan.h"
#include "workloads/prompts.h"
#include "workloads/step_driver.h"
#include "workloads/summary.h"

namespace tierscope::workloads {

using nlohmann::json;

namespace {

std::string utc_stamp() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

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
  std::uint64_t nonce_base = 0, nonce_counter = 0;

  explicit Impl(Runner& runner)
      : r(runner), sc(runner.scenario_), dir(runner.options_.out_dir + "/"), prompts(runner.scenario_) {
    nonce_base = static_cast<std::uint64_t>(std::time(nullptr)) * 1000;
  }

  void write_record(const RequestRecord& record) {
    jsonl << to_json(record).dump(-1, ' ', false, json::error_handler_t::replace) << '\n';
    jsonl.flush();
  }

  void write_summary() {
    summary.updated = utc_stamp();
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
    summary.manifest_sha256 = write_run_manifest(dir, sc);  // the machine and scenario, before any request
    jsonl.open(dir + "requests.jsonl", std::ios::trunc);
    if (!jsonl) {
      result.error = "cannot write " + dir + "requests.jsonl";
      return false;
    }
    summary.scenario = std::string(to_string(sc.kind));
    summary.started = utc_stamp();
    summary.failure_threshold = sc.failure_threshold;
    summary.trim = sc.trim;
    summary.arrival = sc.arrival;
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
    if (!build_prompts(s, result)) return false;
    if (r.stop_.load()) return false;
    json before = sample_before_step(sc);
    const bool finished = driver->run_step(s, i, total);
    const bool interrupted = !finished && r.stop_.load();
    if (interrupted)
      summary.in_flight_interrupted = summary.in_flight_interrupted.value_or(0) + driver->record_in_flight_as_interrupted();
    // After an interrupt the run ends at once: no blocking request to the engine.
    StepResult st{i, s.key, s.label, s.users, summarize_step(step_records, sc.trim, sc.failure_threshold), finished,
                  interrupted ? json(nullptr) : step_engine_metrics(sc, before)};
    summary.steps.push_back(std::move(st));
    const StepResult& done = summary.steps.back();
    if (sc.kind != ScenarioKind::protocol) summary.prompts = prompts.facts();
    if (done.stats.failed) {
      result.wall = true;
      if (!summary.wall) summary.wall = wall_of(done);
    }
    write_summary();
    if (!finished) return false;
    return !(done.stats.failed && sc.stop_on_failure && sc.kind != ScenarioKind::protocol);
  }

  void finish(RunResult& result) {
    result.interrupted = r.stop_.load();
    result.deadline = driver->deadline_hit();
    summary.status = result.interrupted ? "interrupted" : result.deadline ? "deadline" : "complete";
    summary.finished = utc_stamp();
    write_summary();
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
  if (!impl.open(result) || !impl.start(result)) return result;
  Plan plan = make_plan(scenario_);
  for (std::size_t i = 0; i < plan.steps.size(); ++i)
    if (!impl.run_step(plan.steps[i], i, plan.steps.size(), result)) break;
  impl.finish(result);
  return result;
}

}  // namespace tierscope::workloads

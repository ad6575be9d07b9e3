// Every outside input of `tierscope bench` bounded: the scenario file (only a
// regular file of at most 1 MiB, errors that quote at most 80 characters of a
// value), non-streamed response bodies (16 MiB), stream lines and events
// (4 MiB), response headers (64 KiB), and SIGTERM/SIGINT mid-step (every
// request in flight recorded as interrupted). Against the mock engine's
// `flood` modes on 127.0.0.1; each case ends in a few seconds.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "tests/workloads/jsonl.h"
#include "tests/workloads/mock_process.h"
#include "workloads/http_stream.h"
#include "workloads/runner.h"
#include "workloads/scenario.h"

using namespace tierscope::workloads;
using tierscope::testing::MockEngineProcess;
using tierscope::testing::read_jsonl;
using nlohmann::json;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

fs::path fresh_dir(const std::string& name) {
  auto d = fs::temp_directory_path() / ("tierscope-bounds-" + std::to_string(::getpid()) + "-" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

json read_json(const fs::path& p) {
  std::ifstream in(p);
  return json::parse(in);
}

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

#ifdef TIERSCOPE_BIN
// A finished `tierscope bench …`: its exit status, its stderr, its peak RSS.
struct Exited {
  int exit_code = -1;  // -1: killed (a signal, or the time limit)
  bool timed_out = false;
  std::string err;
  long max_rss_kib = 0;
  double seconds = 0;
};

// Runs tierscope with `args`, stdout to /dev/null; killed after `limit`.
// `while_running` (optional) is called once, 0.7 s after the start, with the pid.
Exited run_tierscope(const std::vector<std::string>& args, std::chrono::milliseconds limit,
                     void (*while_running)(pid_t) = nullptr) {
  std::vector<std::string> a{TIERSCOPE_BIN};
  a.insert(a.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : a) argv.push_back(s.data());
  argv.push_back(nullptr);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return {};
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, fds[1], STDERR_FILENO);
  pid_t pid = 0;
  const auto t0 = Clock::now();
  const int rc = ::posix_spawn(&pid, TIERSCOPE_BIN, &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(fds[1]);
  Exited out;
  if (rc != 0) {
    ::close(fds[0]);
    return out;
  }
  bool called = false;
  int status = 0;
  rusage usage{};
  for (;;) {
    pollfd p{fds[0], POLLIN, 0};
    ::poll(&p, 1, 20);
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fds[0], buf, sizeof buf)) > 0)
      if (out.err.size() < (1u << 20)) out.err.append(buf, static_cast<size_t>(n));
    if (::wait4(pid, &status, WNOHANG, &usage) == pid) break;
    if (while_running && !called && Clock::now() - t0 > std::chrono::milliseconds(700)) {
      called = true;
      while_running(pid);
    }
    if (Clock::now() - t0 > limit && !out.timed_out) {
      out.timed_out = true;
      ::kill(pid, SIGKILL);
    }
  }
  ::close(fds[0]);
  out.seconds = seconds_since(t0);
  out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  out.max_rss_kib = usage.ru_maxrss;
  return out;
}

// The scenario error of `tierscope bench path`: exit 78 at once, one line
// that names the path and the reason.
void expect_scenario_refused(const std::string& path, const std::string& reason) {
  auto r = run_tierscope({"bench", path, "--out", (fs::temp_directory_path() / "tierscope-bounds-never").string()},
                         std::chrono::seconds(5));
  EXPECT_FALSE(r.timed_out) << path;
  EXPECT_EQ(r.exit_code, 78) << path << ": " << r.err;
  EXPECT_LT(r.seconds, 3.0) << path;
  EXPECT_LT(r.max_rss_kib, 200 * 1024) << path;
  ASSERT_FALSE(r.err.empty()) << path;
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "one line: " << r.err.substr(0, 300);
  EXPECT_NE(r.err.find(path), std::string::npos) << r.err.substr(0, 300);
  EXPECT_NE(r.err.find(reason), std::string::npos) << r.err.substr(0, 300);
}
#endif

}  // namespace

// ---------------------------------------------------------------- scenario

#ifdef TIERSCOPE_BIN
TEST(BenchBounds, ScenarioOnlyFromABoundedRegularFile) {
  expect_scenario_refused("/dev/zero", "not a regular file");
  auto dir = fresh_dir("scenario");
  expect_scenario_refused(dir.string(), "not a regular file");
  const std::string fifo = (dir / "fifo.yaml").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  expect_scenario_refused(fifo, "not a regular file");  // never waits for a writer
  const std::string big = (dir / "big.yaml").string();
  {
    // One 100 MB value: refused by its size, never read, never echoed.
    std::ofstream y(big);
    y << "engine: {kind: llamacpp, url: http://127.0.0.1:1}\nscenario: \"" << std::string(100'000'000, 'v') << "\"\n";
  }
  expect_scenario_refused(big, "more than the 1048576");
  expect_scenario_refused((dir / "missing.yaml").string(), "No such file");
  fs::remove_all(dir);
}

TEST(BenchBounds, ScenarioErrorsQuoteAtMost80Characters) {
  auto dir = fresh_dir("quoted");
  const std::string long_value(900'000, 'q');
  // Block style and explicit keys: yaml-cpp refuses an implicit key over 1024
  // characters before the scenario reader sees it.
  const std::string head = "engine:\n  kind: llamacpp\n  url: http://127.0.0.1:1\n";
  const std::vector<std::string> files = {
      head + "scenario: " + long_value + "\n",
      "engine:\n  kind: llamacpp\n  url: http://" + long_value + "\nscenario: protocol\n",
      head + "  api: " + long_value + "\nscenario: protocol\n",
      head + "scenario: protocol\n? " + long_value + "\n: 1\n",
      head + "  ? " + long_value + "\n  : 1\nscenario: protocol\n",
      head + "scenario: protocol\nprompts:\n  - name: " + long_value + "\n    text: a\n  - name: " + long_value +
          "\n    text: b\n",
  };
  for (std::size_t i = 0; i < files.size(); ++i) {
    const std::string path = (dir / ("s" + std::to_string(i) + ".yaml")).string();
    std::ofstream(path) << files[i];
    auto r = run_tierscope({"bench", path}, std::chrono::seconds(5));
    EXPECT_EQ(r.exit_code, 78) << i << ": " << r.err.substr(0, 300);
    EXPECT_LT(r.err.size(), 600u) << i << ": " << r.err.substr(0, 300);
    EXPECT_EQ(r.err.find(std::string(81, 'q')), std::string::npos) << i;
    EXPECT_NE(r.err.find(path), std::string::npos) << i << ": " << r.err.substr(0, 300);
  }
  fs::remove_all(dir);
}
#endif

// ---------------------------------------------------------------- non-streamed bodies

TEST(BenchBounds, FetchStopsAtTheBodyCap) {
  // 1 GiB of body at most from the mock, so that a client without the cap ends too.
  MockEngineProcess mock({"--flood", "body", "--flood-bytes", "1073741824"});
  const auto t0 = Clock::now();
  auto r = http_get(mock.url() + "/v1/models", std::chrono::seconds(20));
  EXPECT_LT(seconds_since(t0), 5.0);
  EXPECT_EQ(r.result.outcome, TransferOutcome::transport_error);
  EXPECT_EQ(r.result.stopped, "response body over 16 MiB");
  EXPECT_EQ(r.result.error, "response body over 16 MiB");
  EXPECT_LE(r.body.size(), kMaxFetchBodyBytes);
  EXPECT_GT(r.body.size(), kMaxFetchBodyBytes / 2);
}

TEST(BenchBounds, FetchRefusesAHeaderFlood) {
  for (const char* mode : {"headers", "header_line"}) {
    MockEngineProcess mock({"--flood", mode, "--flood-bytes", "209715200"});
    const auto t0 = Clock::now();
    auto r = http_get(mock.url() + "/props", std::chrono::seconds(20));
    EXPECT_LT(seconds_since(t0), 5.0) << mode;
    EXPECT_EQ(r.result.outcome, TransferOutcome::http_error) << mode << ": " << r.result.error;
    EXPECT_TRUE(r.result.headers_too_large) << mode;
    EXPECT_EQ(r.result.error.rfind("response headers over 64 KiB", 0), 0u) << mode << ": " << r.result.error;
  }
}

#ifdef TIERSCOPE_BIN
TEST(BenchBounds, EndlessModelListIsCutAndTheRunGoesOn) {
  // An OpenAI-compatible engine whose GET /v1/models never ends (1 GiB at most).
  MockEngineProcess mock({"--flood", "body", "--flood-path", "/v1/models", "--flood-bytes", "1073741824"});
  auto dir = fresh_dir("models");
  std::ofstream(dir / "s.yaml") << "engine: {kind: openai, url: " << mock.url()
                                << ", model: m}\nscenario: protocol\nrepetitions: 1\nlisten: \"off\"\n";
  auto r = run_tierscope({"bench", (dir / "s.yaml").string(), "--out", (dir / "out").string()}, std::chrono::seconds(20));
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_LT(r.max_rss_kib, 200 * 1024);
  std::printf("endless /v1/models: %.2f s, peak RSS %ld KiB\n", r.seconds, r.max_rss_kib);
  auto summary = read_json(dir / "out" / "summary.json");
  EXPECT_EQ(summary["status"], "complete");
  for (const auto& rec : read_jsonl(dir / "out" / "requests.jsonl")) EXPECT_EQ(rec["outcome"], "ok") << rec.dump();
  fs::remove_all(dir);
}
#endif

TEST(BenchBounds, EndlessMetricsLeaveTheFactAbsent) {
  MockEngineProcess mock({"--flood", "body", "--flood-path", "/metrics", "--flood-bytes", "1073741824"});
  Scenario s = parse_scenario("engine: {kind: llamacpp, url: http://x}\nscenario: protocol\nrepetitions: 1\n", "s",
                              {Override{"engine.url", mock.url()}});
  auto dir = fresh_dir("metrics");
  RunOptions o;
  o.out_dir = dir.string();
  Runner runner(s, o);
  const auto t0 = Clock::now();
  auto res = runner.run();
  EXPECT_LT(seconds_since(t0), 10.0);
  ASSERT_TRUE(res.started) << res.error;
  auto summary = read_json(dir / "summary.json");
  EXPECT_EQ(summary["status"], "complete");
  ASSERT_FALSE(summary["steps"].empty());
  for (const auto& step : summary["steps"]) {
    EXPECT_TRUE(step["engine_metrics"]["before"].is_null()) << step["engine_metrics"];
    EXPECT_TRUE(step["engine_metrics"]["after"].is_null()) << step["engine_metrics"];
  }
  fs::remove_all(dir);
}

// ---------------------------------------------------------------- streams

namespace {

// The records of a protocol run (one request per default prompt) against a mock.
std::vector<json> protocol_records(MockEngineProcess& mock, const std::string& engine, const std::string& name,
                                   double* seconds) {
  Scenario s = parse_scenario("engine: {kind: " + engine + ", url: http://x, model: m}\nscenario: protocol\n"
                              "repetitions: 1\nrequest_timeout: 4s\n",
                              name, {Override{"engine.url", mock.url()}});
  auto dir = fresh_dir(name);
  RunOptions o;
  o.out_dir = dir.string();
  Runner runner(s, o);
  const auto t0 = Clock::now();
  auto res = runner.run();
  *seconds = seconds_since(t0);
  auto records = read_jsonl(dir / "requests.jsonl");
  fs::remove_all(dir);
  return records;
}

}  // namespace

TEST(BenchBounds, EndlessStreamLineIsMalformedAtTheCap) {
  // llama.cpp SSE (/completion) and Ollama NDJSON (/api/generate): one line
  // that never ends; request_timeout 4 s, which a client without the cap would
  // reach (outcome timeout).
  for (const auto& [engine, path] : {std::pair{"llamacpp", "/completion"}, std::pair{"ollama", "/api/generate"}}) {
    MockEngineProcess mock({"--flood", "line", "--flood-path", path});
    double seconds = 0;
    auto records = protocol_records(mock, engine, std::string("line-") + engine, &seconds);
    ASSERT_FALSE(records.empty()) << engine;
    for (const auto& r : records) {
      EXPECT_EQ(r["outcome"], "malformed_stream") << engine << ": " << r.dump().substr(0, 400);
      EXPECT_NE(r["error"].get<std::string>().find("over 4 MiB"), std::string::npos) << r["error"];
      EXPECT_LT(r["e2e_ms"].get<double>(), 2000.0) << engine;
      EXPECT_LT(r["body_bytes"].get<double>(), 8.0 * (1 << 20)) << engine;
    }
    EXPECT_LT(seconds, 4.0 * static_cast<double>(records.size())) << engine;
  }
}

TEST(BenchBounds, HeaderFloodIsAnHttpError) {
  for (const char* mode : {"headers", "header_line"}) {
    MockEngineProcess mock({"--flood", mode, "--flood-path", "/completion", "--flood-bytes", "209715200"});
    double seconds = 0;
    auto records = protocol_records(mock, "llamacpp", std::string("hdr-") + mode, &seconds);
    ASSERT_FALSE(records.empty()) << mode;
    for (const auto& r : records) {
      EXPECT_EQ(r["outcome"], "http_error") << mode << ": " << r.dump().substr(0, 400);
      EXPECT_EQ(r["error"].get<std::string>().rfind("response headers over 64 KiB", 0), 0u) << r["error"];
      EXPECT_LT(r["e2e_ms"].get<double>(), 2000.0) << mode;
    }
  }
}

TEST(BenchBounds, EndlessErrorBodyStopsAtItsCap) {
  // HTTP 500 whose body never ends: the first 64 KiB are the engine's error.
  // Without the cap the client reads on to request_timeout (4 s).
  MockEngineProcess mock({"--flood", "body", "--flood-path", "/completion", "--status", "500"});
  double seconds = 0;
  auto records = protocol_records(mock, "llamacpp", "errbody", &seconds);
  ASSERT_FALSE(records.empty());
  for (const auto& r : records) {
    EXPECT_EQ(r["outcome"], "http_error") << r.dump().substr(0, 400);
    EXPECT_EQ(r["http_status"], 500);
    EXPECT_LT(r["e2e_ms"].get<double>(), 2000.0);
    EXPECT_LT(r["body_bytes"].get<double>(), 1.0 * (1 << 20));
  }
}

// ---------------------------------------------------------------- signals

#ifdef TIERSCOPE_BIN
namespace {

void run_interrupted(int signal) {
  // Every request hangs after its headers: all are in flight at the signal.
  MockEngineProcess mock({"--hang", "true"});
  auto dir = fresh_dir("signal" + std::to_string(signal));
  std::ofstream(dir / "s.yaml") << "engine: {kind: llamacpp, url: " << mock.url()
                                << "}\nscenario: concurrency_sweep\nusers: [6]\nprompt_tokens: 16\n"
                                   "output_tokens: 4\nwarmup: 0\nrepetitions: 1\nlisten: \"off\"\n";
  static int sig;
  sig = signal;
  auto r = run_tierscope({"bench", (dir / "s.yaml").string(), "--out", (dir / "out").string()},
                         std::chrono::seconds(15), [](pid_t pid) { ::kill(pid, sig); });
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_LT(r.seconds, 3.0) << "the signal came at 0.7 s";
  auto stats = json::parse(tierscope::workloads::http_get(mock.url() + "/mock/stats").body);
  const int started = stats["requests_by_path"].value("POST /completion", 0);
  EXPECT_EQ(started, 6);
  auto records = read_jsonl(dir / "out" / "requests.jsonl");
  EXPECT_EQ(records.size(), static_cast<std::size_t>(started)) << "a line for every request started";
  for (const auto& rec : records) {
    EXPECT_EQ(rec["outcome"], "interrupted") << rec.dump();
    EXPECT_FALSE(rec["error"].get<std::string>().empty());
  }
  auto summary = read_json(dir / "out" / "summary.json");
  EXPECT_EQ(summary["status"], "interrupted");
  EXPECT_EQ(summary.value("in_flight_interrupted", 0), 6);
  ASSERT_EQ(summary["steps"].size(), 1u);
  EXPECT_EQ(summary["steps"][0]["requests"], 6);
  EXPECT_EQ(summary["steps"][0]["failures"]["interrupted"], 6);
  EXPECT_FALSE(summary["steps"][0]["failed"].get<bool>()) << "an interrupt is not the engine's failure";
  EXPECT_TRUE(summary["steps"][0]["engine_metrics"].is_null());
  EXPECT_TRUE(summary["wall"].is_null());
  fs::remove_all(dir);
}

}  // namespace

TEST(BenchBounds, SigtermRecordsEveryRequestInFlight) { run_interrupted(SIGTERM); }
TEST(BenchBounds, SigintRecordsEveryRequestInFlight) { run_interrupted(SIGINT); }
#endif

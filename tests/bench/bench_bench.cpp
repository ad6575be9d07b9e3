// bench_bench: the whole benchmark runner (workloads/runner.h: scenario,
// prompts, StreamLoop, stream decoding, records, statistics, live-metrics
// bookkeeping) in this process, against the mock engine (a separate process)
// on 127.0.0.1.
//
// Usage: bench_bench MOCK_ENGINE_BIN [--streams N] [--repetitions R]
//                    [--single-repetitions R1]
//
// Two runs of a concurrency_sweep (engine kind openai, /v1/completions,
// streamed) with the mock scripted at 50 ms TTFT, 10 ms per token, 32 output
// tokens per request:
//   - N concurrent users (default 256), warmup 1, repetitions R (default 2);
//   - 1 user, warmup 1, repetitions R1 (default 20).
// For each it prints, from the runner's own requests.jsonl (counted requests,
// warm-up excluded):
//   TTFT error   ttft_ms − 50 (first content chunk − t_send, minus injected)
//   ITL error    every itl_ms gap − 10
//   mock lateness  the mock's own send time − due time (/mock/stats), so the
//                  part of the error that is the mock's, not the client's;
// and for the whole run() (engine probes, calibration, every request incl.
// warm-up): the process's CPU (getrusage RUSAGE_SELF, user + system) per
// request, and the tokens (content chunks) the runner handled per second of
// wall and per CPU-second.
// Prints figures, asserts none; exit 1 only when the harness breaks (the mock
// does not start, the run does not start, a request fails).

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "../workloads/mock_process.h"
#include "../workloads/stream_accuracy.h"
#include "workloads/bench_metrics.h"
#include "workloads/http_stream.h"
#include "workloads/runner.h"
#include "workloads/scenario.h"

using namespace tierscope::workloads;
using tierscope::testing::format;
using tierscope::testing::MockEngineProcess;
using tierscope::testing::quantiles;

namespace {

constexpr double kTtftMs = 50;
constexpr double kItlMs = 10;
constexpr int kTokens = 32;

double process_cpu_seconds() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  auto s = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; };
  return s(ru.ru_utime) + s(ru.ru_stime);
}

struct Figures {
  int requests = 0, ok = 0, counted = 0;
  std::vector<double> ttft_err, itl_err, warm_ttft_err;
  std::uint64_t tokens = 0;  // content chunks of every request, warm-up included
  double cpu_s = 0, wall_s = 0;
  nlohmann::json mock_lateness_us, summary_ttft;
};

// Runs one concurrency_sweep step in process; false when the harness broke.
bool run_once(const MockEngineProcess& engine, int users, int repetitions, Figures& f) {
  const std::string yaml = "engine: { kind: openai, url: " + engine.url() +
                           ", model: mock-model, api: completions }\n"
                           "scenario: concurrency_sweep\n"
                           "users: [" + std::to_string(users) + "]\n"
                           "prompt_tokens: 64\n"
                           "output_tokens: " + std::to_string(kTokens) + "\n"
                           "warmup: 1\n"
                           "repetitions: " + std::to_string(repetitions) + "\n"
                           "request_timeout: 60s\n"
                           "run_deadline: 100s\n";
  Scenario sc = parse_scenario(yaml, "bench_bench");
  char tmpl[] = "/tmp/bench_bench.XXXXXX";
  if (!::mkdtemp(tmpl)) {
    std::perror("mkdtemp");
    return false;
  }
  const std::string dir = tmpl;
  http_post_json(engine.url("/mock/reset"), "{}");

  BenchMetrics metrics;  // as `tierscope bench` always has them
  RunOptions opts;
  opts.out_dir = dir;
  opts.metrics = &metrics;
  RunResult result;
  {
    Runner runner(sc, opts);
    const double cpu0 = process_cpu_seconds();
    const auto t0 = std::chrono::steady_clock::now();
    result = runner.run();
    f.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    f.cpu_s = process_cpu_seconds() - cpu0;
  }
  if (!result.started) {
    std::fprintf(stderr, "run did not start: %s\n", result.error.c_str());
    std::filesystem::remove_all(dir);
    return false;
  }
  auto stats = nlohmann::json::parse(http_get(engine.url("/mock/stats")).body, nullptr, false);
  if (stats.is_object() && stats.contains("lateness_us")) f.mock_lateness_us = stats["lateness_us"];
  if (!result.summary["steps"].empty()) f.summary_ttft = result.summary["steps"][0]["ttft_ms"];

  std::ifstream in(dir + "/requests.jsonl");
  std::string line;
  while (std::getline(in, line)) {
    auto r = nlohmann::json::parse(line, nullptr, false);
    if (!r.is_object()) continue;
    ++f.requests;
    const bool ok = r["outcome"] == "ok";
    f.ok += ok;
    f.tokens += r["content_chunks"].get<std::uint64_t>();
    if (!ok) {
      std::fprintf(stderr, "request %s: %s %s\n", r["request_id"].dump().c_str(), r["outcome"].dump().c_str(),
                   r["error"].dump().c_str());
      continue;
    }
    const double ttft_err = r["ttft_ms"].get<double>() - kTtftMs;
    if (r["warmup"].get<bool>()) {
      f.warm_ttft_err.push_back(ttft_err);
      continue;
    }
    ++f.counted;
    f.ttft_err.push_back(ttft_err);
    for (const auto& g : r["itl_ms"]) f.itl_err.push_back(g.get<double>() - kItlMs);
  }
  std::filesystem::remove_all(dir);
  const int expected = users * (1 + repetitions);
  if (f.requests != expected || f.ok != expected) {
    std::fprintf(stderr, "%d users: %d records, %d ok, expected %d\n", users, f.requests, f.ok, expected);
    return false;
  }
  return true;
}

void print(int users, int repetitions, const Figures& f) {
  auto lat = [&](const char* k) { return f.mock_lateness_us.contains(k) ? f.mock_lateness_us[k].get<double>() : -1.0; };
  std::printf("\n%d concurrent stream%s (closed loop, warmup 1 + %d counted per user; 50 ms TTFT, 10 ms/token, %d "
              "tokens injected):\n",
              users, users == 1 ? "" : "s", repetitions, kTokens);
  std::printf("  requests: %d recorded, %d ok, %d counted\n", f.requests, f.ok, f.counted);
  std::printf("  TTFT error (counted)   %s\n", format(quantiles(f.ttft_err)).c_str());
  std::printf("  TTFT error (warm-up)   %s  (new connections)\n", format(quantiles(f.warm_ttft_err)).c_str());
  std::printf("  ITL error              %s\n", format(quantiles(f.itl_err)).c_str());
  std::printf("  mock lateness (its send - due, every token): p50=%.1f p99=%.1f max=%.1f us\n", lat("p50"), lat("p99"),
              lat("max"));
  if (f.summary_ttft.is_object() && f.summary_ttft["p99"].is_number())
    std::printf("  summary.json ttft_ms: median=%.3f p99=%.3f max=%.3f\n", f.summary_ttft["median"].get<double>(),
                f.summary_ttft["p99"].get<double>(), f.summary_ttft["max"].get<double>());
  std::printf("  client CPU (getrusage RUSAGE_SELF over run()): %.3f s for %d requests = %.1f us/request "
              "(%d chunks each)\n",
              f.cpu_s, f.requests, f.cpu_s / f.requests * 1e6, kTokens);
  std::printf("  tokens handled: %llu in %.2f s wall = %.0f tokens/s; %.0f tokens per CPU-second\n",
              static_cast<unsigned long long>(f.tokens), f.wall_s, static_cast<double>(f.tokens) / f.wall_s,
              f.cpu_s > 0 ? static_cast<double>(f.tokens) / f.cpu_s : 0.0);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_bench MOCK_ENGINE_BIN [--streams N] [--repetitions R] [--single-repetitions R1]\n");
    return 2;
  }
  int streams = 256, repetitions = 2, single_repetitions = 20;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string_view a = argv[i];
    int v = std::atoi(argv[i + 1]);
    if (a == "--streams") streams = v;
    else if (a == "--repetitions") repetitions = v;
    else if (a == "--single-repetitions") single_repetitions = v;
  }
  try {
    MockEngineProcess engine(argv[1], {"--ttft-ms", std::to_string(kTtftMs), "--itl-ms", std::to_string(kItlMs)});
    double load[3] = {0, 0, 0};
    ::getloadavg(load, 3);
    std::printf("bench_bench: the full runner in process against mock_engine (pid %d); load average %.2f, CPUs %ld\n",
                static_cast<int>(engine.pid()), load[0], ::sysconf(_SC_NPROCESSORS_ONLN));
    Figures one, many;
    if (!run_once(engine, 1, single_repetitions, one)) return 1;
    print(1, single_repetitions, one);
    if (!run_once(engine, streams, repetitions, many)) return 1;
    print(streams, repetitions, many);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}

// bench_stream_client: the benchmark engine's HTTP transport (StreamLoop,
// workloads/http_stream.h) against the mock engine on 127.0.0.1.
//
// Usage: bench_stream_client MOCK_ENGINE_BIN [--streams N] [--rounds R]
//                            [--flood-tokens T]
//
// 1. Accuracy: R rounds of N concurrent streams (default 256 × 3), each with
//    50 ms injected TTFT, 20 ms per token, 16 tokens, on warm keep-alive
//    connections. Prints measured − injected for TTFT, every token's schedule
//    and every inter-chunk gap (p50/p99/max), the client-side delay (client
//    receive − the mock's own send time, same clock), and the mock's lateness.
// 2. Cost per request: CPU time of the loop thread (CLOCK_THREAD_CPUTIME_ID,
//    i.e. getrusage(RUSAGE_THREAD)) over the measured rounds ÷ requests.
// 3. Throughput: N streams × T tokens with no injected delay, so the mock sends
//    as fast as it can; chunks (on_data calls) ÷ the loop thread's CPU
//    seconds = chunks per second one core handles, and the wall rate.
// Prints figures, never fails on one; exit 1 only when the harness breaks
// (the mock does not start, a stream fails).

#include <cstdio>
#include <cstdlib>
#include <unistd.h>
#include <string>
#include <string_view>

#include "../workloads/mock_process.h"
#include "../workloads/stream_accuracy.h"
#include "workloads/http_stream.h"

using namespace tierscope::workloads;
using tierscope::testing::AccuracyRun;
using tierscope::testing::format;
using tierscope::testing::MockEngineProcess;
using tierscope::testing::quantiles;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_stream_client MOCK_ENGINE_BIN [--streams N] [--rounds R] [--flood-tokens T]\n");
    return 2;
  }
  int streams = 256, rounds = 3, flood_tokens = 400;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string_view a = argv[i];
    int v = std::atoi(argv[i + 1]);
    if (a == "--streams") streams = v;
    else if (a == "--rounds") rounds = v;
    else if (a == "--flood-tokens") flood_tokens = v;
  }
  try {
    MockEngineProcess engine(argv[1], {});

    // 1 + 2: accuracy and CPU per request.
    AccuracyRun all;
    double cpu = 0;
    int requests = 0;
    for (int r = 0; r < rounds; ++r) {
      AccuracyRun run = tierscope::testing::measure_accuracy(engine, streams, 50, 20, 16, r);
      if (run.ok != streams) {
        std::fprintf(stderr, "round %d: only %d of %d streams completed\n", r, run.ok, streams);
        return 1;
      }
      all.ttft.insert(all.ttft.end(), run.ttft.begin(), run.ttft.end());
      all.schedule.insert(all.schedule.end(), run.schedule.begin(), run.schedule.end());
      all.gap.insert(all.gap.end(), run.gap.begin(), run.gap.end());
      all.client.insert(all.client.end(), run.client.begin(), run.client.end());
      all.client_ttft.insert(all.client_ttft.end(), run.client_ttft.begin(), run.client_ttft.end());
      all.setup.insert(all.setup.end(), run.setup.begin(), run.setup.end());
      cpu += run.client_cpu_s;
      requests += run.ok;
      std::printf("round %d: mock lateness us p50=%.1f p99=%.1f max=%.1f; loop CPU %.1f ms for %d streams\n", r,
                  run.mock_lateness_us.p50, run.mock_lateness_us.p99, run.mock_lateness_us.max,
                  run.client_cpu_s * 1e3, streams);
    }
    double load[3] = {0, 0, 0};
    ::getloadavg(load, 3);
    std::printf("\nload average %.2f (CPUs: %ld)\n", load[0], ::sysconf(_SC_NPROCESSORS_ONLN));
    std::printf("%d concurrent streams x %d rounds, injected TTFT 50 ms, 20 ms/token, 16 tokens "
                "(measured - injected, ms):\n",
                streams, rounds);
    std::printf("  TTFT error            %s\n", format(quantiles(all.ttft)).c_str());
    std::printf("  token schedule error  %s\n", format(quantiles(all.schedule)).c_str());
    std::printf("  inter-chunk gap error %s\n", format(quantiles(all.gap)).c_str());
    std::printf("  client delay (recv - mock send) %s\n", format(quantiles(all.client)).c_str());
    std::printf("  client share of TTFT error (setup + token 0 delay) %s\n", format(quantiles(all.client_ttft)).c_str());
    std::printf("  setup (curl writes request - t_send) %s\n", format(quantiles(all.setup)).c_str());
    std::printf("  client CPU per request: %.1f us (loop thread, incl. 16 chunks each)\n",
                requests ? cpu / requests * 1e6 : 0.0);

    // 3: throughput, no injected delay.
    StreamLoop loop;
    int64_t chunks = 0;
    uint64_t bytes = 0;
    int ok = 0;
    const std::string script = R"(X-Mock-Script: {"tokens":)" + std::to_string(flood_tokens) + "}";
    for (int i = 0; i < streams; ++i) {
      HttpRequest r;
      r.method = "POST";
      r.url = engine.url("/v1/completions");
      r.headers = {"Content-Type: application/json", script};
      r.body = R"({"prompt":"a b","max_tokens":100000,"stream":true})";
      r.timeout = std::chrono::seconds(120);
      StreamCallbacks cb;
      cb.on_data = [&chunks, &bytes](std::string_view b, SteadyTime) {
        ++chunks;
        bytes += b.size();
      };
      cb.on_done = [&ok](const TransferResult& res) { ok += res.outcome == TransferOutcome::ok; };
      loop.add(std::move(r), std::move(cb));
    }
    const double cpu0 = tierscope::testing::thread_cpu_seconds();
    const SteadyTime t0 = SteadyClock::now();
    loop.run_until_idle_or(SteadyClock::now() + std::chrono::seconds(300));
    const double wall = std::chrono::duration<double>(SteadyClock::now() - t0).count();
    const double loop_cpu = tierscope::testing::thread_cpu_seconds() - cpu0;
    if (ok != streams) {
      std::fprintf(stderr, "flood: only %d of %d streams completed\n", ok, streams);
      return 1;
    }
    const double tokens = static_cast<double>(streams) * flood_tokens;
    std::printf("\nflood: %d streams x %d tokens, no injected delay (the mock is the pacing side):\n", streams,
                flood_tokens);
    std::printf("  %lld chunks (on_data calls), %.1f MB, wall %.2f s, loop CPU %.2f s\n",
                static_cast<long long>(chunks), static_cast<double>(bytes) / 1e6, wall, loop_cpu);
    std::printf("  chunks per CPU-second of the loop thread: %.0f\n", static_cast<double>(chunks) / loop_cpu);
    std::printf("  tokens per CPU-second of the loop thread: %.0f (wall rate %.0f tokens/s)\n", tokens / loop_cpu,
                tokens / wall);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_stream_client: %s\n", e.what());
    return 1;
  }
  return 0;
}

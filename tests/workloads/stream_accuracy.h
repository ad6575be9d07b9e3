#pragma once
// Timing accuracy of the StreamLoop against the mock engine, shared by the
// test (tests/workloads/test_http_stream.cpp, loose bounds) and the benchmark
// (tests/bench/bench_stream_client.cpp, figures).
//
// N streams of POST /v1/completions (stream: true) are started together, each
// scripted with TTFT, a per-token delay and a token count, after a warm-up
// round of the same size that opens the keep-alive connections. For each
// stream, the client-side time of token k is the on_data time of the piece
// carrying `"text":" w<k>"`. Errors, in milliseconds:
//   ttft      t(token 0) − t_send − ttft_ms
//   schedule  t(token k) − t_send − (ttft_ms + k·itl_ms), every token
//   gap       t(token k) − t(token k−1) − itl_ms, k ≥ 1
//   client    t(token k) − the mock's own send time of token k (its trace;
//             both clocks are CLOCK_MONOTONIC): loopback + libcurl + loop
//   request   the mock's time of the complete request − t_send: sending the
//             request (connection reuse, the loop's queueing, loopback)
//   client_ttft  the client's own share of the TTFT error: setup + client delay
//             of token 0 (the rest is loopback and the mock's own timing)
//   setup     t_request_sent (libcurl about to write the request) − t_send
//   mock      the mock's send time − its due time (its /mock/stats lateness)

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "mock_process.h"
#include "workloads/http_stream.h"

namespace tierscope::testing {

struct Quantiles {
  size_t count = 0;
  double min = 0, p50 = 0, p99 = 0, max = 0;
};

inline Quantiles quantiles(std::vector<double> v) {
  Quantiles q;
  q.count = v.size();
  if (v.empty()) return q;
  std::sort(v.begin(), v.end());
  auto at = [&v](double p) {
    size_t rank = static_cast<size_t>(p * static_cast<double>(v.size()) + 0.999999);  // nearest rank
    return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
  };
  q.min = v.front();
  q.p50 = at(0.50);
  q.p99 = at(0.99);
  q.max = v.back();
  return q;
}

inline std::string format(const Quantiles& q) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "n=%zu p50=%.3f p99=%.3f max=%.3f min=%.3f ms", q.count, q.p50, q.p99, q.max, q.min);
  return buf;
}

struct AccuracyRun {
  int streams = 0;
  int ok = 0;            // streams that ended ok with every token seen
  int64_t chunks = 0;    // on_data calls in the measured round
  std::vector<double> ttft, schedule, gap, client, request, setup, client_ttft;
  Quantiles mock_lateness_us;  // from /mock/stats (p50/p99/max only)
  double client_cpu_s = 0;     // RUSAGE_THREAD of this thread during the measured round
  double wall_s = 0;
};

inline double thread_cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

inline AccuracyRun measure_accuracy(const MockEngineProcess& engine, int streams, double ttft_ms, double itl_ms,
                                    int tokens, int round_tag = 0) {
  using namespace tierscope::workloads;
  using json = nlohmann::json;
  AccuracyRun run;
  run.streams = streams;
  StreamLoop loop;

  struct PerStream {
    SteadyTime t_send{};
    SteadyTime t_request_sent{};
    std::vector<SteadyTime> token_time;
    std::vector<bool> seen;
    bool ok = false;
    std::string carry;  // a token marker split across two pieces
  };
  auto request_for = [&](const std::string& trace) {
    HttpRequest r;
    r.method = "POST";
    r.url = engine.url("/v1/completions");
    r.headers = {"Content-Type: application/json",
                 "X-Mock-Script: " + json{{"ttft_ms", ttft_ms}, {"itl_ms", itl_ms}, {"tokens", tokens},
                                          {"trace", trace}}.dump()};
    r.body = json{{"model", "m"}, {"prompt", "one two three four"}, {"max_tokens", tokens}, {"stream", true}}.dump();
    r.timeout = std::chrono::seconds(60);
    return r;
  };

  // Warm-up: opens `streams` keep-alive connections (no timing kept).
  for (int i = 0; i < streams; ++i) loop.add(request_for(""), {});
  loop.run_until_idle_or(SteadyClock::now() + std::chrono::seconds(60));
  {
    HttpRequest reset;
    reset.method = "POST";
    reset.url = engine.url("/mock/reset");
    http_fetch(std::move(reset));  // the lateness samples and traces of the measured round only
  }

  std::vector<PerStream> per(static_cast<size_t>(streams));
  const double cpu0 = thread_cpu_seconds();
  const SteadyTime wall0 = SteadyClock::now();
  for (int i = 0; i < streams; ++i) {
    PerStream& ps = per[static_cast<size_t>(i)];
    ps.token_time.resize(static_cast<size_t>(tokens));
    ps.seen.resize(static_cast<size_t>(tokens));
    StreamCallbacks cb;
    cb.on_data = [&ps, &run, tokens](std::string_view bytes, SteadyTime t) {
      ++run.chunks;
      constexpr std::string_view marker = "\"text\":\" w";
      std::string joined = ps.carry + std::string(bytes);
      size_t pos = 0;
      while ((pos = joined.find(marker, pos)) != std::string::npos) {
        pos += marker.size();
        int k = 0;
        size_t digits = 0;
        while (pos < joined.size() && joined[pos] >= '0' && joined[pos] <= '9') {
          k = k * 10 + (joined[pos++] - '0');
          ++digits;
        }
        if (digits && k < tokens && !ps.seen[static_cast<size_t>(k)]) {
          ps.seen[static_cast<size_t>(k)] = true;
          ps.token_time[static_cast<size_t>(k)] = t;
        }
      }
      ps.carry = joined.size() > 32 ? joined.substr(joined.size() - 32) : joined;
    };
    cb.on_done = [&ps](const TransferResult& r) {
      ps.ok = r.outcome == TransferOutcome::ok;
      ps.t_send = r.t_send;  // taken by the loop just before curl_multi_add_handle()
      ps.t_request_sent = r.t_request_sent;
    };
    loop.add(request_for("r" + std::to_string(round_tag) + "-" + std::to_string(i)), std::move(cb));
  }
  loop.run_until_idle_or(SteadyClock::now() + std::chrono::seconds(120));
  run.wall_s = std::chrono::duration<double>(SteadyClock::now() - wall0).count();
  run.client_cpu_s = thread_cpu_seconds() - cpu0;

  json stats = json::parse(http_get(engine.url("/mock/stats")).body, nullptr, false);
  if (stats.is_object()) {
    run.mock_lateness_us.p50 = stats["lateness_us"]["p50"].get<double>();
    run.mock_lateness_us.p99 = stats["lateness_us"]["p99"].get<double>();
    run.mock_lateness_us.max = stats["lateness_us"]["max"].get<double>();
    run.mock_lateness_us.count = stats["lateness_us"]["count"].get<size_t>();
  }
  auto ms = [](SteadyTime::duration d) { return std::chrono::duration<double, std::milli>(d).count(); };
  for (int i = 0; i < streams; ++i) {
    const PerStream& ps = per[static_cast<size_t>(i)];
    bool all = std::all_of(ps.seen.begin(), ps.seen.end(), [](bool b) { return b; });
    if (!ps.ok || !all) continue;
    ++run.ok;
    run.ttft.push_back(ms(ps.token_time[0] - ps.t_send) - ttft_ms);
    run.setup.push_back(ms(ps.t_request_sent - ps.t_send));
    for (int k = 0; k < tokens; ++k) {
      const SteadyTime t = ps.token_time[static_cast<size_t>(k)];
      run.schedule.push_back(ms(t - ps.t_send) - (ttft_ms + k * itl_ms));
      if (k > 0) run.gap.push_back(ms(t - ps.token_time[static_cast<size_t>(k - 1)]) - itl_ms);
    }
    if (stats.is_object()) {
      const json& tr = stats["traces"]["r" + std::to_string(round_tag) + "-" + std::to_string(i)];
      auto ns_of = [](SteadyTime t) {
        return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
      };
      if (tr.is_object())
        run.request.push_back(static_cast<double>(tr["t_request_ns"].get<int64_t>() - ns_of(ps.t_send)) / 1e6);
      if (tr.is_object() && tr["t_send_ns"].size() == static_cast<size_t>(tokens))
        for (int k = 0; k < tokens; ++k) {
          auto server_ns = tr["t_send_ns"][static_cast<size_t>(k)].get<int64_t>();
          auto client_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                               ps.token_time[static_cast<size_t>(k)].time_since_epoch())
                               .count();
          run.client.push_back(static_cast<double>(client_ns - server_ns) / 1e6);
          if (k == 0) run.client_ttft.push_back(run.setup.back() + run.client.back());
        }
    }
  }
  return run;
}

}  // namespace tierscope::testing

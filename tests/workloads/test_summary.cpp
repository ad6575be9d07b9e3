// The typed results of a run (workloads/summary.h): step statistics from
// request records, the wall, and summary.json / summary.csv / requests.jsonl
// lines and the console table rendered from them.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "workloads/summary.h"

using namespace tierscope::workloads;
using nlohmann::json;

namespace {

RequestRecord ok_record(double t_send, double ttft, double e2e, std::uint64_t out, const char* finish = "stop") {
  RequestRecord r;
  r.t_send = t_send;
  r.ttft_ms = ttft;
  r.e2e_ms = e2e;
  r.output_tokens = out;
  r.prompt_tokens = 100;
  if (finish) r.finish_reason = finish;
  r.itl_ms = {10, 20};
  return r;
}

RequestRecord failed_record(double t_send, Outcome o) {
  RequestRecord r;
  r.t_send = t_send;
  r.e2e_ms = 5;
  r.outcome = o;
  return r;
}

StepResult step_of(StepKey key, std::int64_t users, StepSummary stats) {
  StepResult s;
  s.step = 2;
  s.key = std::move(key);
  s.label = "context 2048";
  s.users = users;
  s.stats = std::move(stats);
  s.complete = true;
  return s;
}

}  // namespace

TEST(Summary, StepStatisticsOverCountedRequests) {
  std::vector<RequestRecord> records = {ok_record(100.0, 50, 150, 11), ok_record(100.5, 70, 270, 21, "length"),
                                        failed_record(101.0, Outcome::timeout)};
  RequestRecord warm = ok_record(10.0, 1, 2, 3);
  warm.warmup = true;
  records.push_back(warm);
  StepSummary s = summarize_step(records, 0.1, 0.5);
  EXPECT_EQ(s.requests, 3u) << "warm-up excluded";
  EXPECT_EQ(s.ok, 2u);
  EXPECT_EQ(s.failures, (std::map<std::string, std::uint64_t>{{"timeout", 1}}));
  EXPECT_FALSE(s.failed) << "1 of 3 is under 0.5";
  EXPECT_EQ(s.ttft_ms.count, 2u);
  EXPECT_DOUBLE_EQ(*s.ttft_ms.mean, 60);
  EXPECT_EQ(s.e2e_ms.count, 2u);
  EXPECT_EQ(s.itl_ms.count, 4u);
  // tpot = (e2e - ttft) / (n - 1): 100/10 and 200/20.
  EXPECT_DOUBLE_EQ(*s.tpot_ms.min, 10);
  EXPECT_DOUBLE_EQ(*s.tpot_ms.max, 10);
  // Per-request rate = (n - 1) / (e2e - ttft) s.
  EXPECT_DOUBLE_EQ(*s.output_tokens_per_s.mean, 100);
  // From the first send (100.0) to the last end of a counted request, failed
  // ones included (101.0 + 0.005).
  EXPECT_NEAR(s.wall_s, 1.005, 1e-9);
  EXPECT_EQ(s.input_tokens, 200u);
  EXPECT_EQ(s.output_tokens, 32u);
  EXPECT_NEAR(*s.total_tokens_per_s, 232 / 1.005, 1e-6);
  EXPECT_NEAR(*s.output_tokens_per_s_aggregate, 32 / 1.005, 1e-6);
  EXPECT_NEAR(*s.requests_per_s, 2 / 1.005, 1e-6);
  EXPECT_DOUBLE_EQ(*s.completion_rate, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(*s.finished_stop_rate, 0.5);
  EXPECT_FALSE(s.repetition_score);
}

TEST(Summary, FailureThresholdAndTheWall) {
  std::vector<RequestRecord> records = {ok_record(1, 5, 10, 4), failed_record(1, Outcome::oom),
                                        failed_record(2, Outcome::context_overflow),
                                        failed_record(3, Outcome::context_overflow)};
  StepSummary s = summarize_step(records, 0.1, 0.75);
  EXPECT_TRUE(s.failed) << "3 of 4 reach 0.75";
  EXPECT_FALSE(summarize_step(records, 0.1, 0.8).failed);
  auto wall = wall_of(step_of({StepKey::Kind::context_tokens, 2048, {}}, 1, s));
  ASSERT_TRUE(wall);
  EXPECT_EQ(wall->outcome, "context_overflow") << "the most frequent failure";
  EXPECT_EQ(wall->step, 2u);
  EXPECT_EQ(to_json(*wall), json::parse(R"({"context_tokens":2048,"step":2,"outcome":"context_overflow"})"));
  // A tie goes to the first name.
  records.pop_back();
  auto tie = wall_of(step_of({StepKey::Kind::users, 4, {}}, 4, summarize_step(records, 0.1, 0.5)));
  ASSERT_TRUE(tie);
  EXPECT_EQ(tie->outcome, "context_overflow");
  EXPECT_EQ(to_json(*tie), json::parse(R"({"users":4,"step":2,"outcome":"context_overflow"})"));
  EXPECT_FALSE(wall_of(step_of({StepKey::Kind::users, 4, {}}, 4, summarize_step(records, 0.1, 0.9))));
}

TEST(Summary, EmptyStepAndOkWithoutFinishReason) {
  StepSummary empty = summarize_step({}, 0.1, 0.5);
  EXPECT_EQ(empty.requests, 0u);
  EXPECT_FALSE(empty.failed);
  EXPECT_EQ(empty.wall_s, 0);
  EXPECT_FALSE(empty.total_tokens_per_s);
  EXPECT_FALSE(empty.completion_rate);
  EXPECT_FALSE(empty.finished_stop_rate);
  json j = to_json(empty);
  EXPECT_TRUE(j["total_tokens_per_s"].is_null());
  EXPECT_TRUE(j["completion_rate"].is_null());
  EXPECT_EQ(j["ttft_ms"]["count"], 0);
  EXPECT_FALSE(j.contains("repetition_score"));
  // An ok request whose stream named no finish reason counts, but not as "stop".
  std::vector<RequestRecord> one = {ok_record(1, 5, 10, 4, nullptr)};
  StepSummary s = summarize_step(one, 0.1, 0.5);
  EXPECT_EQ(s.ok, 1u);
  EXPECT_EQ(*s.finished_stop_rate, 0.0);
}

TEST(Summary, RecordLineHasEveryFieldWithNulls) {
  RequestRecord r = ok_record(1700000000.25, 12.5, 40, 8);
  r.step = 1;
  r.context_tokens = 512;
  r.users = 2;
  r.request_id = 7;
  r.user = 1;
  r.t_headers_ms = 3.5;
  r.prompt_tokens_target = 512;
  r.prompt_source = "tokenizer";
  r.tokens_source = "usage";
  r.content_chunks = 8;
  r.http_status = 200;
  r.engine_timings = EngineTimings{};
  r.engine_timings->prompt_tokens = 512;
  r.engine_timings->generation_ms = 30.5;
  r.body_bytes = 900;
  json j = to_json(r);
  EXPECT_EQ(j, json::parse(R"({"step":1,"context_tokens":512,"users":2,"request_id":7,"user":1,"warmup":false,
      "t_send":1700000000.25,"t_headers_ms":3.5,"ttft_ms":12.5,"itl_ms":[10.0,20.0],"e2e_ms":40.0,
      "prompt_tokens":100,"prompt_tokens_target":512,"prompt_source":"tokenizer","output_tokens":8,
      "tokens_source":"usage","content_chunks":8,"http_status":200,"outcome":"ok","error":"",
      "finish_reason":"stop","truncated":null,"engine_timings":{"prompt_tokens":512,"generation_ms":30.5},
      "body_bytes":900,"transport":"ok"})"));
  // A protocol request: prompt name and repetition score, no step sizes;
  // an open-loop one: scheduled_s; absent values are null.
  RequestRecord p;
  p.prompt = "code";
  p.repetition_score = 0.25;
  p.scheduled_s = 1.5;
  p.outcome = Outcome::malformed_stream;
  p.transport = TransferOutcome::connection_reset;
  json q = to_json(p);
  EXPECT_EQ(q["prompt"], "code");
  EXPECT_EQ(q["repetition_score"], 0.25);
  EXPECT_EQ(q["scheduled_s"], 1.5);
  EXPECT_EQ(q["outcome"], "malformed_stream");
  EXPECT_EQ(q["transport"], "connection_reset");
  for (auto k : {"ttft_ms", "t_headers_ms", "prompt_tokens", "prompt_tokens_target", "finish_reason", "truncated"})
    EXPECT_TRUE(q[k].is_null()) << k;
  for (auto k : {"context_tokens", "users", "engine_timings"}) EXPECT_FALSE(q.contains(k)) << k;
}

TEST(Summary, StepEntryKeysByScenarioKind) {
  std::vector<RequestRecord> records = {ok_record(1, 5, 10, 4)};
  StepSummary stats = summarize_step(records, 0.1, 0.5);
  json ctx = to_json(step_of({StepKey::Kind::context_tokens, 2048, {}}, 1, stats));
  EXPECT_EQ(ctx["context_tokens"], 2048);
  EXPECT_EQ(ctx["users"], 1);
  EXPECT_EQ(ctx["step"], 2);
  EXPECT_EQ(ctx["label"], "context 2048");
  EXPECT_EQ(ctx["complete"], true);
  EXPECT_TRUE(ctx["engine_metrics"].is_null());
  EXPECT_EQ(ctx["requests"], 1);
  json users = to_json(step_of({StepKey::Kind::users, 8, {}}, 8, stats));
  EXPECT_EQ(users["users"], 8);
  EXPECT_FALSE(users.contains("context_tokens"));
  json prompt = to_json(step_of({StepKey::Kind::prompt, 0, "code"}, 1, stats));
  EXPECT_EQ(prompt["prompt"], "code");
  EXPECT_EQ(prompt["users"], 1);
}

TEST(Summary, CsvRowsRenderedFromTypedSteps) {
  std::vector<RequestRecord> records = {ok_record(1, 5, 10, 4), failed_record(1, Outcome::oom)};
  RunSummary run;
  run.steps.push_back(step_of({StepKey::Kind::context_tokens, 2048, {}}, 1, summarize_step(records, 0.1, 0.5)));
  run.steps.push_back(step_of({StepKey::Kind::prompt, 0, "code"}, 3, summarize_step({}, 0.1, 0.5)));
  const std::string csv = summary_csv(run);
  std::istringstream in(csv);
  std::string header, row, empty_row, extra;
  std::getline(in, header);
  std::getline(in, row);
  std::getline(in, empty_row);
  EXPECT_FALSE(std::getline(in, extra));
  EXPECT_EQ(header.rfind("step,context_tokens,users,prompt,requests,ok,failed,failures,ttft_ms_count,ttft_ms_mean,", 0),
            0u);
  EXPECT_NE(header.find(",ttft_ms_p90,ttft_ms_p95,ttft_ms_p99,"), std::string::npos) << header;
  EXPECT_NE(header.find(",output_tokens_per_s_ci95_high,total_tokens_per_s,output_tokens_per_s_aggregate,"
                        "requests_per_s,wall_s"),
            std::string::npos);
  EXPECT_EQ(row.rfind("2,2048,1,,2,1,true,oom:1,1,5,5,5,5,5,5,5,,,5,,,", 0), 0u) << row;
  EXPECT_EQ(empty_row.rfind("2,,3,code,0,0,false,,0,,,,,,,,,,,,,0,", 0), 0u) << empty_row;
  EXPECT_EQ(empty_row.substr(empty_row.size() - 5), ",,,,0") << "rates empty, wall_s 0";
  const auto cells = [](const std::string& line) { return std::count(line.begin(), line.end(), ','); };
  EXPECT_EQ(cells(row), cells(header));
  EXPECT_EQ(cells(empty_row), cells(header));
}

TEST(Summary, RunSummaryJsonAndTable) {
  RunSummary run;
  run.scenario = "context_sweep";
  run.started = "2024-01-01T00:00:00Z";
  run.updated = "2024-01-01T00:00:05Z";
  run.failure_threshold = 0.5;
  run.trim = 0.1;
  run.arrival.mode = ArrivalMode::poisson;
  run.arrival.rate = 2.5;
  std::vector<RequestRecord> records = {failed_record(1, Outcome::context_overflow)};
  run.steps.push_back(step_of({StepKey::Kind::context_tokens, 2048, {}}, 1, summarize_step(records, 0.1, 0.5)));
  run.wall = wall_of(run.steps.back());
  run.in_flight_interrupted = 3;
  json j = to_json(run);
  EXPECT_EQ(j["tool"], "tierscope bench");
  EXPECT_EQ(j["status"], "running");
  EXPECT_EQ(j["wall"], json::parse(R"({"context_tokens":2048,"step":2,"outcome":"context_overflow"})"));
  EXPECT_EQ(j["arrival"], json::parse(R"({"mode":"poisson","rate":2.5,"burstiness":1.0,"seed":1})"));
  EXPECT_EQ(j["in_flight_interrupted"], 3);
  EXPECT_EQ(j["steps"].size(), 1u);
  for (auto k : {"finished", "engine", "prompts", "error"}) EXPECT_FALSE(j.contains(k)) << k;
  run.finished = "2024-01-01T00:00:06Z";
  run.engine = json{{"kind", "llamacpp"}};
  EXPECT_EQ(to_json(run)["finished"], "2024-01-01T00:00:06Z");
  EXPECT_EQ(to_json(run)["engine"]["kind"], "llamacpp");
  std::ostringstream table;
  print_table(table, run, "/tmp/out");
  const std::string t = table.str();
  EXPECT_NE(t.find("ttft p50  ttft p95  ttft p99"), std::string::npos) << t;
  EXPECT_NE(t.find("context 2048"), std::string::npos) << t;
  EXPECT_NE(t.find("context_overflow:1  FAILED"), std::string::npos) << t;
  EXPECT_NE(t.find("\nwall: {\"context_tokens\":2048,\"outcome\":\"context_overflow\",\"step\":2}"), std::string::npos) << t;
  EXPECT_NE(t.find("\nresults: /tmp/out\n"), std::string::npos) << t;
}

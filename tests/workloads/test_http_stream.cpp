// The libcurl transport (workloads/http_stream.h) against the mock engine
// (mock_engine/mock_engine.cpp) on 127.0.0.1: each endpoint's wire format,
// each fault's transport outcome, and timing accuracy at 1 and 256 streams.

#include "emulation.h"
#include "workloads/http_stream.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "mock_process.h"
#include "stream_accuracy.h"

namespace tierscope::workloads {
namespace {

using json = nlohmann::json;
using tierscope::testing::MockEngineProcess;
using tierscope::testing::kSanitized;
using namespace std::chrono_literals;

// One engine with default flags for the tests that need nothing special.
MockEngineProcess& engine() {
  static MockEngineProcess e;
  return e;
}

struct Captured {
  long status = 0;
  SteadyTime t_headers{};
  std::string body;
  std::vector<std::pair<SteadyTime, std::string>> chunks;
  TransferResult result;
  int done_calls = 0;
};

StreamCallbacks capture(Captured& c) {
  StreamCallbacks cb;
  cb.on_response_headers = [&c](long status, SteadyTime t) {
    c.status = status;
    c.t_headers = t;
  };
  cb.on_data = [&c](std::string_view bytes, SteadyTime t) {
    c.body.append(bytes);
    c.chunks.emplace_back(t, std::string(bytes));
  };
  cb.on_done = [&c](const TransferResult& r) {
    c.result = r;
    ++c.done_calls;
  };
  return cb;
}

HttpRequest post(const MockEngineProcess& e, std::string_view path, const json& body, const json& script = nullptr,
                 std::chrono::milliseconds timeout = 10s) {
  HttpRequest r;
  r.method = "POST";
  r.url = e.url(path);
  r.body = body.dump();
  r.headers = {"Content-Type: application/json"};
  if (!script.is_null()) r.headers.push_back("X-Mock-Script: " + script.dump());
  r.timeout = timeout;
  return r;
}

HttpRequest get(const MockEngineProcess& e, std::string_view path) {
  HttpRequest r;
  r.url = e.url(path);
  r.timeout = 10s;
  return r;
}

Captured run_one(HttpRequest r) {
  StreamLoop loop;
  Captured c;
  loop.add(std::move(r), capture(c));
  EXPECT_TRUE(loop.run_until_idle_or(SteadyClock::now() + 30s));
  EXPECT_EQ(c.done_calls, 1);
  return c;
}

// The payloads of an SSE body's events, in order (data: lines only).
std::vector<std::string> sse_payloads(std::string_view body) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t end = body.find("\n\n", pos);
    if (end == std::string_view::npos) end = body.size();
    std::string_view event = body.substr(pos, end - pos);
    if (event.substr(0, 6) == "data: ") out.emplace_back(event.substr(6));
    pos = end + 2;
  }
  return out;
}

std::vector<json> ndjson_lines(std::string_view body) {
  std::vector<json> out;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t end = body.find('\n', pos);
    if (end == std::string_view::npos) end = body.size();
    if (end > pos) out.push_back(json::parse(body.substr(pos, end - pos)));
    pos = end + 1;
  }
  return out;
}

json mock_stats(const MockEngineProcess& e) { return json::parse(http_fetch(get(e, "/mock/stats")).body); }

// ------------------------------------------------------------ formats

TEST(MockEngine, OpenAIChatStreamHasRoleContentFinishUsageAndDone) {
  json body = {{"model", "m"},
               {"messages", json::array({{{"role", "user"}, {"content", "three word prompt"}}})},
               {"max_tokens", 4},
               {"stream", true},
               {"stream_options", {{"include_usage", true}}}};
  Captured c = run_one(post(engine(), "/v1/chat/completions", body));
  EXPECT_EQ(c.result.outcome, TransferOutcome::ok);
  EXPECT_EQ(c.status, 200);
  auto events = sse_payloads(c.body);
  ASSERT_EQ(events.size(), 1u + 4u + 1u + 1u + 1u);  // role, 4 tokens, finish, usage, [DONE]
  json role = json::parse(events[0]);
  EXPECT_EQ(role["object"], "chat.completion.chunk");
  EXPECT_EQ(role["choices"][0]["delta"]["role"], "assistant");
  for (int k = 0; k < 4; ++k)
    EXPECT_EQ(json::parse(events[static_cast<size_t>(1 + k)])["choices"][0]["delta"]["content"], " w" + std::to_string(k));
  EXPECT_EQ(json::parse(events[5])["choices"][0]["finish_reason"], "length");
  json usage = json::parse(events[6]);
  EXPECT_TRUE(usage["choices"].empty());
  EXPECT_EQ(usage["usage"]["prompt_tokens"], 3);
  EXPECT_EQ(usage["usage"]["completion_tokens"], 4);
  EXPECT_EQ(events[7], "[DONE]");
}

TEST(MockEngine, OpenAICompletionsStreamAndNonStream) {
  json body = {{"model", "m"}, {"prompt", "a b c d e"}, {"max_tokens", 8}, {"stream", true}};
  Captured s = run_one(post(engine(), "/v1/completions", body, {{"tokens", 2}}));
  auto events = sse_payloads(s.body);
  ASSERT_EQ(events.size(), 4u);  // 2 tokens, finish, [DONE] (no usage asked)
  EXPECT_EQ(json::parse(events[0])["choices"][0]["text"], " w0");
  EXPECT_EQ(json::parse(events[2])["choices"][0]["finish_reason"], "stop");  // ended before max_tokens
  EXPECT_EQ(events[3], "[DONE]");

  body["stream"] = false;
  Captured n = run_one(post(engine(), "/v1/completions", body, {{"tokens", 2}}));
  json answer = json::parse(n.body);
  EXPECT_EQ(answer["choices"][0]["text"], " w0 w1");
  EXPECT_EQ(answer["usage"]["prompt_tokens"], 5);
  EXPECT_EQ(answer["usage"]["completion_tokens"], 2);

  json models = json::parse(http_fetch(get(engine(), "/v1/models")).body);
  EXPECT_EQ(models["object"], "list");
  EXPECT_EQ(models["data"][0]["id"], "mock-model");
}

TEST(MockEngine, LlamaCompletionStreamEndsWithStopAndTimings) {
  json body = {{"prompt", "one two three four five six"}, {"n_predict", 3}, {"stream", true}};
  Captured c = run_one(post(engine(), "/completion", body, {{"ttft_ms", 20}, {"itl_ms", 5}}));
  auto events = sse_payloads(c.body);
  ASSERT_EQ(events.size(), 4u);  // 3 tokens + the stop chunk, no [DONE]
  for (int k = 0; k < 3; ++k) {
    json e = json::parse(events[static_cast<size_t>(k)]);
    EXPECT_EQ(e["content"], " w" + std::to_string(k));
    EXPECT_EQ(e["stop"], false);
  }
  json last = json::parse(events[3]);
  EXPECT_EQ(last["stop"], true);
  EXPECT_EQ(last["truncated"], false);
  EXPECT_EQ(last["tokens_predicted"], 3);
  EXPECT_EQ(last["tokens_evaluated"], 6);
  EXPECT_EQ(last["stop_type"], "limit");
  EXPECT_EQ(last["timings"]["prompt_n"], 6);
  EXPECT_EQ(last["timings"]["predicted_n"], 3);
  EXPECT_GE(last["timings"]["prompt_ms"].get<double>(), 19.9);
  // The last token was due 20 + 2·5 ms after the request (the split between
  // the two depends on how late the first token left).
  EXPECT_GE(last["timings"]["prompt_ms"].get<double>() + last["timings"]["predicted_ms"].get<double>(), 29.9);
}

TEST(MockEngine, TokenizeIsOneTokenPerWord) {
  HttpResponse r = http_post_json(engine().url("/tokenize"), json{{"content", " The quick  brown\tfox\n"}}.dump());
  EXPECT_EQ(r.result.outcome, TransferOutcome::ok);
  json tokens = json::parse(r.body)["tokens"];
  ASSERT_EQ(tokens.size(), 4u);
  // Deterministic: the same word, the same id.
  json again = json::parse(http_post_json(engine().url("/tokenize"), R"({"content":"fox"})").body)["tokens"];
  EXPECT_EQ(again[0], tokens[3]);
}

TEST(MockEngine, HealthIsLoadingThenOk) {
  MockEngineProcess e({"--loading-ms", "400"});
  const SteadyTime start = SteadyClock::now();
  HttpResponse first = http_fetch(get(e, "/health"));
  EXPECT_EQ(first.result.outcome, TransferOutcome::http_error);
  EXPECT_EQ(first.result.http_status, 503);
  json err = json::parse(first.body)["error"];
  EXPECT_EQ(err["code"], 503);
  EXPECT_EQ(err["message"], "Loading model");
  EXPECT_EQ(err["type"], "unavailable_error");
  HttpResponse ok;
  while (SteadyClock::now() - start < 10s) {
    ok = http_fetch(get(e, "/health"));
    if (ok.result.http_status == 200) break;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(ok.result.outcome, TransferOutcome::ok);
  EXPECT_EQ(json::parse(ok.body)["status"], "ok");
  EXPECT_GE(SteadyClock::now() - start, 350ms);
}

TEST(MockEngine, PropsAndLlamaMetricsCountWhatWasServed) {
  MockEngineProcess e({"--n-ctx", "8192"});
  json props = json::parse(http_fetch(get(e, "/props")).body);
  EXPECT_EQ(props["n_ctx"], 8192);
  EXPECT_EQ(props["default_generation_settings"]["n_ctx"], 8192);
  EXPECT_FALSE(props["build_info"].get<std::string>().empty());
  run_one(post(e, "/completion", {{"prompt", "a b c d e"}, {"n_predict", 3}, {"stream", true}}));
  run_one(post(e, "/v1/completions", {{"prompt", "a b"}, {"max_tokens", 2}}));
  std::string metrics = http_fetch(get(e, "/metrics")).body;
  EXPECT_NE(metrics.find("\nllamacpp:prompt_tokens_total 7\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("\nllamacpp:tokens_predicted_total 5\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("\nllamacpp:requests_processing 0\n"), std::string::npos) << metrics;
}

TEST(MockEngine, VllmVersionAndMetrics) {
  MockEngineProcess e({"--flavor", "vllm"});
  EXPECT_FALSE(json::parse(http_fetch(get(e, "/version")).body)["version"].get<std::string>().empty());
  run_one(post(e, "/v1/completions", {{"prompt", "a b"}, {"max_tokens", 2}}, {{"preemptions", 2}}));
  std::string metrics = http_fetch(get(e, "/metrics")).body;
  EXPECT_NE(metrics.find("vllm:num_requests_running{model_name=\"mock-model\"} 0\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("vllm:kv_cache_usage_perc{model_name=\"mock-model\"} "), std::string::npos);
  EXPECT_NE(metrics.find("vllm:num_preemptions_total{model_name=\"mock-model\"} 2\n"), std::string::npos);
}

TEST(MockEngine, OllamaGenerateNdjsonWithDurationsInNanoseconds) {
  json body = {{"model", "m"}, {"prompt", "a b c"}, {"options", {{"num_ctx", 4096}, {"num_predict", 3}}}};
  Captured c = run_one(post(engine(), "/api/generate", body, {{"ttft_ms", 10}, {"itl_ms", 2}}));
  auto lines = ndjson_lines(c.body);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0]["response"], " w0");
  EXPECT_EQ(lines[0]["done"], false);
  const json& last = lines[3];
  EXPECT_EQ(last["done"], true);
  EXPECT_EQ(last["done_reason"], "length");
  EXPECT_EQ(last["prompt_eval_count"], 3);
  EXPECT_EQ(last["eval_count"], 3);
  EXPECT_GE(last["prompt_eval_duration"].get<int64_t>(), 9'900'000);  // ns
  // The last token was due 10 + 2·2 ms after the request.
  EXPECT_GE(last["prompt_eval_duration"].get<int64_t>() + last["eval_duration"].get<int64_t>(), 13'900'000);
  EXPECT_GT(last["load_duration"].get<int64_t>(), 0);
  EXPECT_GE(last["total_duration"].get<int64_t>(), last["prompt_eval_duration"].get<int64_t>());
}

TEST(MockEngine, OllamaChatNdjson) {
  json body = {{"model", "m"}, {"messages", json::array({{{"role", "user"}, {"content", "hi there"}}})},
               {"options", {{"num_ctx", 4096}}}};
  Captured c = run_one(post(engine(), "/api/chat", body, {{"tokens", 2}}));
  auto lines = ndjson_lines(c.body);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0]["message"]["role"], "assistant");
  EXPECT_EQ(lines[1]["message"]["content"], " w1");
  EXPECT_EQ(lines[2]["done"], true);
  EXPECT_EQ(lines[2]["done_reason"], "stop");
  EXPECT_EQ(lines[2]["prompt_eval_count"], 2);
}

TEST(MockEngine, OllamaCutsLongPromptsToNumCtxSilently) {
  json body = {{"model", "m"}, {"prompt", "1 2 3 4 5 6 7 8 9 10"}, {"stream", false}, {"options", {{"num_ctx", 4}}}};
  Captured c = run_one(post(engine(), "/api/generate", body, {{"tokens", 1}}));
  EXPECT_EQ(c.result.outcome, TransferOutcome::ok);
  EXPECT_EQ(json::parse(c.body)["prompt_eval_count"], 4);
  // Without options.num_ctx: the engine's default (ollama_num_ctx, 2048 here).
  body.erase("options");
  c = run_one(post(engine(), "/api/generate", body, {{"tokens", 1}, {"ollama_num_ctx", 6}}));
  EXPECT_EQ(json::parse(c.body)["prompt_eval_count"], 6);
}

TEST(MockEngine, OllamaVersionAndPs) {
  EXPECT_FALSE(json::parse(http_fetch(get(engine(), "/api/version")).body)["version"].get<std::string>().empty());
  json ps = json::parse(http_fetch(get(engine(), "/api/ps")).body);
  ASSERT_EQ(ps["models"].size(), 1u);
  EXPECT_GT(ps["models"][0]["size_vram"].get<int64_t>(), 0);
}

TEST(MockEngine, LlamaContextOverflowIs400Json) {
  Captured c = run_one(post(engine(), "/completion", {{"prompt", "1 2 3 4 5 6 7 8 9 10"}, {"stream", true}},
                            {{"n_ctx", 8}}));
  EXPECT_EQ(c.result.outcome, TransferOutcome::http_error);
  EXPECT_EQ(c.result.http_status, 400);
  json err = json::parse(c.body)["error"];
  EXPECT_EQ(err["code"], 400);
  EXPECT_EQ(err["type"], "exceed_context_size_error");
  EXPECT_EQ(err["n_prompt_tokens"], 10);
  EXPECT_EQ(err["n_ctx"], 8);
  EXPECT_NE(err["message"].get<std::string>().find("exceeds the available context size"), std::string::npos);
}

TEST(MockEngine, LlamaContextOverflowAsErrorLineInStream) {
  Captured c = run_one(post(engine(), "/v1/chat/completions",
                            {{"messages", json::array({{{"role", "user"}, {"content", "1 2 3 4 5"}}})}, {"stream", true}},
                            {{"n_ctx", 4}, {"ctx_error_in_stream", true}}));
  EXPECT_EQ(c.result.outcome, TransferOutcome::ok);
  EXPECT_EQ(c.status, 200);
  ASSERT_EQ(c.body.rfind("error: ", 0), 0u) << c.body;
  json err = json::parse(c.body.substr(7));
  EXPECT_EQ(err["type"], "exceed_context_size_error");
  EXPECT_EQ(err["n_prompt_tokens"], 5);
}

TEST(MockEngine, OpenAIContextOverflowSaysMaximumContextLength) {
  for (const char* flavor : {"vllm", "openai"}) {
    Captured c = run_one(post(engine(), "/v1/completions", {{"prompt", "1 2 3 4 5 6"}, {"max_tokens", 10}},
                              {{"n_ctx", 12}, {"flavor", flavor}}));
    EXPECT_EQ(c.result.http_status, 400) << flavor;
    std::string message = json::parse(c.body)["error"]["message"];
    EXPECT_EQ(message.rfind("This model's maximum context length is 12 tokens.", 0), 0u) << message;
  }
}

TEST(MockEngine, ChunkedRequestBodyPipelinedRequestsAndExpectContinue) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(engine().port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  auto send_all = [fd](std::string_view s) { ASSERT_EQ(::send(fd, s.data(), s.size(), 0), static_cast<ssize_t>(s.size())); };
  auto read_some = [fd]() {
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
  };
  // 1. Expect: 100-continue is answered before the body is sent.
  send_all("POST /tokenize HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 15\r\n\r\n");
  EXPECT_EQ(read_some(), "HTTP/1.1 100 Continue\r\n\r\n");
  send_all(R"({"content":"a"})");
  std::string first = read_some();
  EXPECT_NE(first.find("200 OK"), std::string::npos);
  EXPECT_NE(first.find(R"({"tokens":[)"), std::string::npos);
  // 2. A chunked body and a second request pipelined behind it, on the same connection.
  send_all("POST /tokenize HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
           "c\r\n{\"content\":\"\r\n9\r\nx y z w\"}\r\n0\r\n\r\n"
           "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  std::string all;
  for (std::string s = read_some(); !s.empty(); s = read_some()) all += s;
  ::close(fd);
  size_t second = all.find("HTTP/1.1 200", 1);
  ASSERT_NE(second, std::string::npos) << all;
  json tokens = json::parse(all.substr(all.find("\r\n\r\n") + 4, second - all.find("\r\n\r\n") - 4))["tokens"];
  EXPECT_EQ(tokens.size(), 4u);
  EXPECT_NE(all.find(R"({"status":"ok"})", second), std::string::npos);
}

// ------------------------------------------------------------ faults → outcomes

TEST(StreamLoop, RefusedConnectionIsEngineDown) {
  // A port that was free a moment ago and has no listener now.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  HttpRequest r;
  r.url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/health";
  Captured c = run_one(r);
  EXPECT_EQ(c.result.outcome, TransferOutcome::engine_down) << c.result.error;
  EXPECT_EQ(c.result.http_status, 0);
  EXPECT_FALSE(c.result.error.empty());
}

TEST(StreamLoop, ResetMidStreamIsConnectionReset) {
  Captured c = run_one(post(engine(), "/completion", {{"prompt", "a"}, {"n_predict", 10}, {"stream", true}},
                            {{"itl_ms", 2}, {"reset_at", 3}}));
  EXPECT_EQ(c.result.outcome, TransferOutcome::connection_reset) << c.result.error;
  EXPECT_EQ(c.status, 200);
  EXPECT_NE(c.body.find(" w2"), std::string::npos);  // what came before the reset was delivered
  EXPECT_EQ(c.body.find(" w3"), std::string::npos);
}

TEST(StreamLoop, CloseBeforeTheLastChunkIsConnectionReset) {
  Captured c = run_one(post(engine(), "/v1/completions", {{"prompt", "a"}, {"max_tokens", 10}, {"stream", true}},
                            {{"close_at", 2}}));
  EXPECT_EQ(c.result.outcome, TransferOutcome::connection_reset) << c.result.error;
  EXPECT_NE(c.body.find(" w1"), std::string::npos);
}

TEST(StreamLoop, EngineKilledMidStreamIsConnectionReset) {
  MockEngineProcess e;
  StreamLoop loop;
  Captured c;
  StreamCallbacks cb = capture(c);
  cb.on_data = [&c, &e](std::string_view bytes, SteadyTime) {
    c.body.append(bytes);
    if (c.body.find(" w1") != std::string::npos) e.kill_now();
  };
  loop.add(post(e, "/api/generate", {{"prompt", "a"}, {"options", {{"num_predict", 50}}}}, {{"itl_ms", 5}}),
           std::move(cb));
  EXPECT_TRUE(loop.run_until_idle_or(SteadyClock::now() + 20s));
  EXPECT_EQ(c.result.outcome, TransferOutcome::connection_reset) << c.result.error;
  // The next request finds nothing listening.
  HttpResponse after = http_fetch(get(e, "/api/version"));
  EXPECT_EQ(after.result.outcome, TransferOutcome::engine_down);
}

TEST(StreamLoop, HangIsTimeoutByThePerRequestTimeout) {
  Captured c = run_one(post(engine(), "/v1/chat/completions",
                            {{"messages", json::array({{{"role", "user"}, {"content", "x"}}})}, {"stream", true}},
                            {{"hang", true}}, 300ms));
  EXPECT_EQ(c.result.outcome, TransferOutcome::timeout) << c.result.error;
  EXPECT_EQ(c.status, 200);  // headers came, the first chunk never did
  EXPECT_TRUE(c.body.empty());
  auto took = c.result.t_done - c.result.t_send;
  EXPECT_GE(took, 295ms);
  EXPECT_LT(took, 5s);
}

TEST(StreamLoop, HttpErrorsAreReportedWithStatusAndBody) {
  Captured c = run_one(post(engine(), "/v1/chat/completions", {{"messages", json::array()}, {"stream", true}},
                            {{"status", 500}, {"error_message", "boom"}}));
  EXPECT_EQ(c.result.outcome, TransferOutcome::http_error);
  EXPECT_EQ(c.result.http_status, 500);
  EXPECT_EQ(json::parse(c.body)["error"]["message"], "boom");

  c = run_one(post(engine(), "/api/generate", {{"prompt", "a"}}, {{"status", 503}}));
  EXPECT_EQ(c.result.outcome, TransferOutcome::http_error);
  EXPECT_EQ(c.result.http_status, 503);
  EXPECT_TRUE(json::parse(c.body)["error"].is_string());  // Ollama: {"error": "..."}
}

TEST(StreamLoop, OutOfMemoryIsHttpErrorWithTheEngineMessage) {
  Captured llama = run_one(post(engine(), "/completion", {{"prompt", "a"}, {"stream", true}}, {{"oom", true}}));
  EXPECT_EQ(llama.result.http_status, 500);
  EXPECT_NE(llama.body.find("out of memory"), std::string::npos) << llama.body;
  Captured ollama = run_one(post(engine(), "/api/chat", {{"messages", json::array()}}, {{"oom", true}}));
  EXPECT_NE(json::parse(ollama.body)["error"].get<std::string>().find("out of memory"), std::string::npos);
  Captured vllm = run_one(post(engine(), "/v1/completions", {{"prompt", "a"}}, {{"oom", true}, {"flavor", "vllm"}}));
  EXPECT_NE(json::parse(vllm.body)["error"]["message"].get<std::string>().find("CUDA out of memory"), std::string::npos);
}

TEST(StreamLoop, MalformedChunkAndOneMegabyteChunkAreDeliveredAsSent) {
  Captured c = run_one(post(engine(), "/v1/completions", {{"prompt", "a"}, {"max_tokens", 4}, {"stream", true}},
                            {{"malformed_at", 1}, {"big_chunk_at", 2}}));
  EXPECT_EQ(c.result.outcome, TransferOutcome::ok);
  auto events = sse_payloads(c.body);
  ASSERT_EQ(events.size(), 6u);
  EXPECT_TRUE(json::parse(events[1], nullptr, false).is_discarded());
  json big = json::parse(events[2]);
  EXPECT_EQ(big["choices"][0]["text"].get<std::string>(), std::string(1 << 20, 'x'));
  EXPECT_EQ(events[5], "[DONE]");
}

TEST(StreamLoop, EndWithoutDoneIsACleanEnd) {
  Captured c = run_one(post(engine(), "/v1/completions", {{"prompt", "a"}, {"max_tokens", 2}, {"stream", true}},
                            {{"no_done", true}}));
  EXPECT_EQ(c.result.outcome, TransferOutcome::ok);
  EXPECT_EQ(c.body.find("[DONE]"), std::string::npos);
  EXPECT_NE(c.body.find(" w1"), std::string::npos);
}

TEST(StreamLoop, HeadersAndFirstChunkTimesAreSeparate) {
  TIERSCOPE_SKIP_UNDER_EMULATOR("timing of an emulated client");
  Captured c = run_one(post(engine(), "/completion", {{"prompt", "a"}, {"n_predict", 1}, {"stream", true}},
                            {{"ttft_ms", 100}}));
  EXPECT_LT(c.t_headers - c.result.t_send, 50ms);  // headers at once
  EXPECT_GE(c.result.t_first_byte - c.result.t_send, 100ms);
  Captured held = run_one(post(engine(), "/completion", {{"prompt", "a"}, {"n_predict", 1}, {"stream", true}},
                               {{"ttft_ms", 100}, {"headers_with_first_token", true}}));
  EXPECT_GE(held.t_headers - held.result.t_send, 100ms);
}

// ------------------------------------------------------------ loop behaviour

TEST(StreamLoop, ClosedLoopUsersReuseTheirConnections) {
  MockEngineProcess e;
  StreamLoop loop;
  constexpr int kUsers = 4, kPerUser = 5;
  int completed = 0, ok = 0;
  long new_connections = 0;
  std::function<void(int, int)> issue = [&](int user, int remaining) {
    StreamCallbacks cb;
    cb.on_done = [&, user, remaining](const TransferResult& r) {
      ++completed;
      ok += r.outcome == TransferOutcome::ok;
      new_connections += r.new_connections;
      if (remaining > 1) issue(user, remaining - 1);  // the user's next request, from on_done
    };
    loop.add(post(e, "/v1/completions", {{"prompt", "a"}, {"max_tokens", 3}, {"stream", true}}, {{"itl_ms", 1}}),
             std::move(cb));
  };
  for (int u = 0; u < kUsers; ++u) issue(u, kPerUser);
  EXPECT_TRUE(loop.run_until_idle_or(SteadyClock::now() + 30s));
  EXPECT_EQ(completed, kUsers * kPerUser);
  EXPECT_EQ(ok, kUsers * kPerUser);
  json stats = mock_stats(e);
  EXPECT_EQ(stats["max_streams_active"], kUsers);
  EXPECT_EQ(new_connections, kUsers);  // keep-alive: one connection per user
  EXPECT_EQ(stats["connections_accepted"].get<int>(), kUsers + 1);  // + the /mock/stats request
}

TEST(StreamLoop, CancelDropsATransferWithoutCallback) {
  StreamLoop loop;
  Captured c;
  uint64_t id = loop.add(post(engine(), "/completion", {{"prompt", "a"}, {"stream", true}}, {{"hang", true}}), capture(c));
  EXPECT_FALSE(loop.run_until_idle_or(SteadyClock::now() + 100ms));
  EXPECT_EQ(loop.active(), 1u);
  EXPECT_TRUE(loop.cancel(id));
  EXPECT_FALSE(loop.cancel(id));
  EXPECT_EQ(loop.active(), 0u);
  EXPECT_TRUE(loop.run_until_idle_or(SteadyClock::now() + 1s));
  EXPECT_EQ(c.done_calls, 0);
}

TEST(StreamLoop, WakeupFromAnotherThreadEndsTheRun) {
  StreamLoop loop;
  loop.add(post(engine(), "/completion", {{"prompt", "a"}, {"stream", true}}, {{"hang", true}}, 20s), {});
  std::thread waker([&loop] {
    std::this_thread::sleep_for(100ms);
    loop.wakeup();
  });
  const SteadyTime start = SteadyClock::now();
  EXPECT_FALSE(loop.run_until_idle_or(start + 20s));
  EXPECT_LT(SteadyClock::now() - start, 5s);
  waker.join();
}

TEST(StreamLoop, FetchRunsOneRequestWhileOthersStream) {
  StreamLoop loop;
  Captured c;
  loop.add(post(engine(), "/completion", {{"prompt", "a"}, {"n_predict", 5}, {"stream", true}}, {{"itl_ms", 20}}),
           capture(c));
  HttpResponse props = loop.fetch(get(engine(), "/props"));
  EXPECT_EQ(props.result.outcome, TransferOutcome::ok);
  EXPECT_TRUE(json::parse(props.body).contains("n_ctx"));
  EXPECT_TRUE(loop.run_until_idle_or(SteadyClock::now() + 10s));
  EXPECT_EQ(c.result.outcome, TransferOutcome::ok);
}

TEST(StreamLoop, ClassifiesCurlResults) {
  EXPECT_EQ(classify_transfer(0, 200), TransferOutcome::ok);
  EXPECT_EQ(classify_transfer(0, 404), TransferOutcome::http_error);
  EXPECT_EQ(classify_transfer(7, 0), TransferOutcome::engine_down);        // CURLE_COULDNT_CONNECT
  EXPECT_EQ(classify_transfer(28, 200), TransferOutcome::timeout);         // CURLE_OPERATION_TIMEDOUT
  EXPECT_EQ(classify_transfer(56, 200), TransferOutcome::connection_reset);  // CURLE_RECV_ERROR
  EXPECT_EQ(classify_transfer(18, 200), TransferOutcome::connection_reset);  // CURLE_PARTIAL_FILE
  EXPECT_EQ(classify_transfer(52, 0), TransferOutcome::connection_reset);    // CURLE_GOT_NOTHING
  EXPECT_EQ(classify_transfer(35, 0), TransferOutcome::transport_error);     // CURLE_SSL_CONNECT_ERROR
  EXPECT_EQ(to_string(TransferOutcome::engine_down), "engine_down");
}

// ------------------------------------------------------------ accuracy

// Injected: TTFT 50 ms, 20 ms per token, 16 tokens. Bounds are loose on
// purpose (a loaded 2-core machine); tests/bench/bench_stream_client.cpp
// prints the tight figures.
void check_accuracy(int streams, double client_p50_bound_ms, double e2e_p50_bound_ms) {
  TIERSCOPE_SKIP_UNDER_EMULATOR("timing of an emulated client");
  MockEngineProcess e;
  tierscope::testing::AccuracyRun run = tierscope::testing::measure_accuracy(e, streams, 50, 20, 16);
  using tierscope::testing::format;
  using tierscope::testing::quantiles;
  auto ttft = quantiles(run.ttft), schedule = quantiles(run.schedule), gap = quantiles(run.gap),
       client = quantiles(run.client), client_ttft = quantiles(run.client_ttft), request = quantiles(run.request),
       setup = quantiles(run.setup);
  std::printf("[accuracy] %d streams, measured - injected (TTFT 50 ms, 20 ms/token, 16 tokens):\n"
              "  TTFT          %s\n  token schedule %s\n  ITL gap       %s\n"
              "  client share of TTFT error %s\n  client delay (recv - mock send) %s\n"
              "  request delay (mock got it - t_send) %s\n  setup (curl writes request - t_send) %s\n"
              "  mock lateness us: p50=%.1f p99=%.1f max=%.1f\n",
              streams, format(ttft).c_str(), format(schedule).c_str(), format(gap).c_str(),
              format(client_ttft).c_str(), format(client).c_str(), format(request).c_str(), format(setup).c_str(),
              run.mock_lateness_us.p50, run.mock_lateness_us.p99, run.mock_lateness_us.max);
  ASSERT_EQ(run.ok, streams);
  EXPECT_GE(ttft.min, -1.0);  // never earlier than injected
  EXPECT_GE(schedule.min, -1.0);
  EXPECT_GE(client.min, 0.0);  // never seen before the mock's send() (same clock)
  if (kSanitized) {
    std::printf("  (sanitizer build: timing bounds not checked; the loop runs several times slower)\n");
    return;
  }
  // The client's own share: what the transport adds to a TTFT.
  EXPECT_LE(client_ttft.p50, client_p50_bound_ms);
  // End to end, including the mock's own lateness on a shared machine.
  EXPECT_LE(ttft.p50, e2e_p50_bound_ms);
  EXPECT_LE(schedule.p50, e2e_p50_bound_ms);
  EXPECT_LE(std::abs(gap.p50), 5.0);
}

TEST(StreamAccuracy, OneStreamMatchesInjectedDelays) { check_accuracy(1, 5.0, 20.0); }

TEST(StreamAccuracy, TwoHundredFiftySixStreamsMatchInjectedDelays) { check_accuracy(256, 10.0, 40.0); }

}  // namespace
}  // namespace tierscope::workloads

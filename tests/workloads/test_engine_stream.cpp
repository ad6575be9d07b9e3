#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "workloads/engine_stream.h"
#include "workloads/engines/openai.h"  // build_openai_chat_body

using namespace tierscope::workloads;
using nlohmann::json;

namespace {

// A StreamMessage reduced to what the tests compare.
struct Msg {
  std::string content, reasoning, finish_reason, error;
  bool carries_content = false, done = false, end_of_stream = false, malformed = false;
  std::optional<std::uint64_t> prompt_tokens, output_tokens;
  bool operator==(const Msg&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Msg& m) {
  return os << "{content=[" << m.content << "] reasoning=[" << m.reasoning << "] finish=" << m.finish_reason
            << " error=[" << m.error << "] cc=" << m.carries_content << " done=" << m.done
            << " eos=" << m.end_of_stream << " malformed=" << m.malformed << "}";
}

Msg reduce(const StreamMessage& m) {
  return {m.content, m.reasoning, m.finish_reason, m.error ? m.error->message : "", m.carries_content, m.done,
          m.end_of_stream, m.malformed, m.prompt_tokens, m.output_tokens};
}

struct Decoded {
  std::vector<Msg> messages;
  std::vector<StreamMessage> full;
  bool overflowed = false;
  bool ended_mid_message = false;
};

Decoded decode(Dialect d, const std::vector<std::string_view>& chunks) {
  StreamDecoder decoder(d);
  Decoded out;
  auto collect = [&](const StreamMessage& m) {
    out.messages.push_back(reduce(m));
    out.full.push_back(m);
  };
  for (auto c : chunks) decoder.feed(c, collect);
  decoder.finish(collect);
  out.overflowed = decoder.overflowed();
  out.ended_mid_message = decoder.ended_mid_message();
  return out;
}

Decoded decode(Dialect d, std::string_view body) { return decode(d, std::vector<std::string_view>{body}); }

std::string text_of(const Decoded& d) {
  std::string s;
  for (const auto& m : d.messages) s += m.content;
  return s;
}

void expect_every_split_equal(Dialect d, std::string_view body) {
  const Decoded whole = decode(d, body);
  for (std::size_t i = 0; i <= body.size(); ++i)
    ASSERT_EQ(decode(d, {body.substr(0, i), body.substr(i)}).messages, whole.messages) << "split at " << i;
  std::vector<std::string_view> bytes;
  for (std::size_t i = 0; i < body.size(); ++i) bytes.push_back(body.substr(i, 1));
  EXPECT_EQ(decode(d, bytes).messages, whole.messages);
}

// vLLM /v1/chat/completions with stream_options.include_usage (format of
// OpenAI's chat.completion.chunk): role chunk, content, finish_reason, then a
// usage chunk with "choices": [], then [DONE].
const std::string kVllmChat =
    R"(data: {"id":"chatcmpl-9f","object":"chat.completion.chunk","created":1718000000,"model":"meta-llama/Llama-3.1-8B-Instruct","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]})"
    "\n\n"
    R"(data: {"id":"chatcmpl-9f","object":"chat.completion.chunk","created":1718000000,"model":"meta-llama/Llama-3.1-8B-Instruct","choices":[{"index":0,"delta":{"content":"Hello"},"logprobs":null,"finish_reason":null}],"usage":null})"
    "\n\n"
    R"(data: {"id":"chatcmpl-9f","object":"chat.completion.chunk","created":1718000000,"model":"meta-llama/Llama-3.1-8B-Instruct","choices":[{"index":0,"delta":{"content":" world"},"logprobs":null,"finish_reason":null}]})"
    "\n\n"
    R"(data: {"id":"chatcmpl-9f","object":"chat.completion.chunk","created":1718000000,"model":"meta-llama/Llama-3.1-8B-Instruct","choices":[{"index":0,"delta":{"content":"!"},"logprobs":null,"finish_reason":"length","stop_reason":null}]})"
    "\n\n"
    R"(data: {"id":"chatcmpl-9f","object":"chat.completion.chunk","created":1718000000,"model":"meta-llama/Llama-3.1-8B-Instruct","choices":[],"usage":{"prompt_tokens":12,"total_tokens":15,"completion_tokens":3}})"
    "\n\n"
    "data: [DONE]\n\n";

// llama.cpp llama-server /v1/chat/completions: the last choice chunk carries
// usage and llama.cpp's timings; comments (": ping") may appear.
const std::string kLlamaCppChat =
    R"(data: {"choices":[{"finish_reason":null,"index":0,"delta":{"role":"assistant","content":null}}],"created":1730000000,"id":"chatcmpl-x","model":"qwen","system_fingerprint":"b5200-abc","object":"chat.completion.chunk"})"
    "\n\n"
    R"(data: {"choices":[{"finish_reason":null,"index":0,"delta":{"reasoning_content":"Let me think."}}],"created":1730000000,"id":"chatcmpl-x","model":"qwen","object":"chat.completion.chunk"})"
    "\n\n"
    ": ping\n\n"
    R"(data: {"choices":[{"finish_reason":null,"index":0,"delta":{"content":"Hi"}}],"created":1730000000,"id":"chatcmpl-x","model":"qwen","object":"chat.completion.chunk"})"
    "\n\n"
    R"(data: {"choices":[{"finish_reason":"stop","index":0,"delta":{}}],"created":1730000000,"id":"chatcmpl-x","model":"qwen","object":"chat.completion.chunk","usage":{"completion_tokens":2,"prompt_tokens":9,"total_tokens":11},"timings":{"prompt_n":9,"prompt_ms":14.5,"prompt_per_token_ms":1.61,"prompt_per_second":620.7,"predicted_n":2,"predicted_ms":21.25,"predicted_per_token_ms":10.6,"predicted_per_second":94.1}})"
    "\n\n"
    "data: [DONE]\n\n";

// llama.cpp native /completion, stream: true (no [DONE]).
const std::string kLlamaCppNative =
    R"(data: {"index":0,"content":"Once","tokens":[],"stop":false,"id_slot":-1,"tokens_predicted":1,"tokens_evaluated":7})"
    "\n\n"
    R"(data: {"index":0,"content":" upon","tokens":[],"stop":false,"id_slot":-1,"tokens_predicted":2,"tokens_evaluated":7})"
    "\n\n"
    R"(data: {"index":0,"content":"","tokens":[],"id_slot":0,"stop":true,"model":"gpt-3.5-turbo","tokens_predicted":2,"tokens_evaluated":7,"generation_settings":{"n_predict":2,"temperature":0.8},"prompt":"<s> Tell me a story","has_new_line":false,"truncated":false,"stop_type":"limit","stopping_word":"","tokens_cached":8,"timings":{"prompt_n":7,"prompt_ms":25.5,"prompt_per_token_ms":3.64,"prompt_per_second":274.5,"predicted_n":2,"predicted_ms":40.0,"predicted_per_token_ms":20.0,"predicted_per_second":50.0}})"
    "\n\n";

// Ollama /api/chat (format of its API documentation).
const std::string kOllamaChat =
    R"({"model":"llama3.2","created_at":"2023-08-04T08:52:19.385406455-07:00","message":{"role":"assistant","content":"The","images":null},"done":false})"
    "\n"
    R"({"model":"llama3.2","created_at":"2023-08-04T08:52:19.385406455-07:00","message":{"role":"assistant","content":" sky"},"done":false})"
    "\n"
    R"({"model":"llama3.2","created_at":"2023-08-04T19:22:45.499127Z","message":{"role":"assistant","content":""},"done_reason":"stop","done":true,"total_duration":4883583458,"load_duration":1334875,"prompt_eval_count":26,"prompt_eval_duration":342546000,"eval_count":282,"eval_duration":4535599000})"
    "\n";

// Ollama /api/generate.
const std::string kOllamaGenerate =
    R"({"model":"llama3.2","created_at":"2023-08-04T08:52:19.385406455-07:00","response":"","thinking":"hmm","done":false})"
    "\n"
    R"({"model":"llama3.2","created_at":"2023-08-04T08:52:19.385406455-07:00","response":"The","done":false})"
    "\n"
    R"({"model":"llama3.2","created_at":"2023-08-04T19:22:45.499127Z","response":"","done":true,"done_reason":"length","context":[1,2,3],"total_duration":10706818083,"load_duration":6338219291,"prompt_eval_count":26,"prompt_eval_duration":130079000,"eval_count":259,"eval_duration":4232710000})"
    "\n";

}  // namespace

TEST(EngineStream, OutcomeNamesAreExactlyTheDocumentedOnes) {
  std::vector<std::string> names;
  for (auto o : kAllOutcomes) names.emplace_back(to_string(o));
  EXPECT_EQ(names, (std::vector<std::string>{"ok", "http_error", "context_overflow", "oom", "timeout",
                                             "connection_reset", "engine_down", "truncated", "malformed_stream",
                                             "interrupted"}));
  for (auto o : kAllOutcomes) EXPECT_EQ(outcome_from_string(to_string(o)), o);
  EXPECT_FALSE(outcome_from_string("OK"));
  EXPECT_FALSE(outcome_from_string(""));
}

TEST(EngineStream, DialectNamesAndPaths) {
  for (auto d : {Dialect::openai_chat, Dialect::openai_completions, Dialect::llamacpp_completion,
                 Dialect::ollama_generate, Dialect::ollama_chat})
    EXPECT_EQ(dialect_from_string(to_string(d)), d);
  EXPECT_FALSE(dialect_from_string("vllm"));
  EXPECT_EQ(request_path(Dialect::openai_chat), "/v1/chat/completions");
  EXPECT_EQ(request_path(Dialect::openai_completions), "/v1/completions");
  EXPECT_EQ(request_path(Dialect::llamacpp_completion), "/completion");
  EXPECT_EQ(request_path(Dialect::ollama_generate), "/api/generate");
  EXPECT_EQ(request_path(Dialect::ollama_chat), "/api/chat");
  EXPECT_TRUE(uses_sse(Dialect::llamacpp_completion));
  EXPECT_FALSE(uses_sse(Dialect::ollama_chat));
}

TEST(EngineStream, VllmChatStream) {
  Decoded d = decode(Dialect::openai_chat, kVllmChat);
  ASSERT_EQ(d.messages.size(), 6u);
  EXPECT_EQ(text_of(d), "Hello world!");
  EXPECT_FALSE(d.messages[0].carries_content) << "the role chunk carries no token";
  EXPECT_TRUE(d.messages[1].carries_content);
  EXPECT_FALSE(d.messages[2].done);
  EXPECT_TRUE(d.messages[3].done);
  EXPECT_EQ(d.messages[3].finish_reason, "length");
  EXPECT_FALSE(d.messages[4].carries_content);
  EXPECT_EQ(d.messages[4].prompt_tokens, 12u);
  EXPECT_EQ(d.messages[4].output_tokens, 3u);
  EXPECT_TRUE(d.messages[5].end_of_stream);
  EXPECT_TRUE(d.messages[5].done);
  for (const auto& m : d.messages) EXPECT_FALSE(m.malformed) << m;
  EXPECT_FALSE(d.ended_mid_message);
}

TEST(EngineStream, VllmChatEverySplit) { expect_every_split_equal(Dialect::openai_chat, kVllmChat); }

TEST(EngineStream, LlamaCppChatWithReasoningUsageAndTimings) {
  Decoded d = decode(Dialect::openai_chat, kLlamaCppChat);
  ASSERT_EQ(d.messages.size(), 5u);
  EXPECT_FALSE(d.messages[0].carries_content) << "content: null";
  EXPECT_FALSE(d.messages[0].malformed);
  EXPECT_EQ(d.messages[1].reasoning, "Let me think.");
  EXPECT_TRUE(d.messages[1].carries_content);
  EXPECT_EQ(d.messages[2].content, "Hi");
  const StreamMessage& last = d.full[3];
  EXPECT_TRUE(last.done);
  EXPECT_EQ(last.finish_reason, "stop");
  EXPECT_EQ(last.prompt_tokens, 9u);
  EXPECT_EQ(last.output_tokens, 2u);
  EXPECT_EQ(last.timings.prompt_tokens, 9u);
  EXPECT_DOUBLE_EQ(*last.timings.prompt_ms, 14.5);
  EXPECT_EQ(last.timings.generated_tokens, 2u);
  EXPECT_DOUBLE_EQ(*last.timings.generation_ms, 21.25);
  EXPECT_TRUE(d.messages[4].end_of_stream);
  expect_every_split_equal(Dialect::openai_chat, kLlamaCppChat);
}

TEST(EngineStream, VllmReasoningField) {
  StreamMessage m;
  interpret_message(Dialect::openai_chat, R"({"choices":[{"index":0,"delta":{"reasoning":"step 1"}}]})", m);
  EXPECT_EQ(m.reasoning, "step 1");
  EXPECT_TRUE(m.carries_content);
}

TEST(EngineStream, CompletionsText) {
  const std::string body =
      R"(data: {"id":"cmpl-1","object":"text_completion","created":1,"model":"m","choices":[{"index":0,"text":"foo","logprobs":null,"finish_reason":null}]})"
      "\n\n"
      R"(data: {"id":"cmpl-1","object":"text_completion","created":1,"model":"m","choices":[{"index":0,"text":"bar","logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":4,"completion_tokens":2,"total_tokens":6}})"
      "\n\n"
      "data: [DONE]\n\n";
  Decoded d = decode(Dialect::openai_completions, body);
  ASSERT_EQ(d.messages.size(), 3u);
  EXPECT_EQ(text_of(d), "foobar");
  EXPECT_TRUE(d.messages[1].done);
  EXPECT_EQ(d.messages[1].output_tokens, 2u);
  expect_every_split_equal(Dialect::openai_completions, body);
}

TEST(EngineStream, MissingDoneStillEndsCleanly) {
  // Some servers end the body after the usage chunk without [DONE].
  const std::string body = kVllmChat.substr(0, kVllmChat.find("data: [DONE]"));
  Decoded d = decode(Dialect::openai_chat, body);
  ASSERT_EQ(d.messages.size(), 5u);
  for (const auto& m : d.messages) EXPECT_FALSE(m.end_of_stream);
  EXPECT_FALSE(d.ended_mid_message);
  EXPECT_TRUE(d.messages[3].done);
}

TEST(EngineStream, StreamCutMidEvent) {
  const std::string body = kVllmChat.substr(0, kVllmChat.find("world") + 2);
  Decoded d = decode(Dialect::openai_chat, body);
  EXPECT_TRUE(d.ended_mid_message);
  ASSERT_EQ(d.messages.size(), 3u);
  EXPECT_TRUE(d.messages[2].malformed) << "the cut JSON is handed over and is malformed";
}

TEST(EngineStream, OpenAiErrorObjectInDataLine) {
  StreamMessage m;
  // vLLM's streaming error (OpenAI error object).
  interpret_message(Dialect::openai_chat,
                    R"({"error":{"message":"CUDA error: out of memory","type":"InternalServerError","param":null,"code":500}})", m);
  ASSERT_TRUE(m.error);
  EXPECT_EQ(m.error->message, "CUDA error: out of memory");
  EXPECT_EQ(m.error->type, "InternalServerError");
  EXPECT_EQ(m.error->code, "500");
  EXPECT_FALSE(m.malformed);
  EXPECT_EQ(classify_engine_error(200, *m.error), Outcome::oom);
  // "error": null is no error.
  interpret_message(Dialect::openai_chat, R"({"choices":[{"delta":{"content":"x"}}],"error":null})", m);
  EXPECT_FALSE(m.error);
  EXPECT_EQ(m.content, "x");
}

TEST(EngineStream, LlamaCppErrorLineInsideA200Stream) {
  // tools/server: the error reaches a streaming client as `error: {...}`.
  const std::string body =
      R"(data: {"index":0,"content":"a","stop":false})"
      "\n\n"
      R"(error: {"code":400,"message":"the request exceeds the available context size, try increasing it","type":"exceed_context_size_error","n_prompt_tokens":5000,"n_ctx":4096})"
      "\n\n";
  for (auto dialect : {Dialect::llamacpp_completion, Dialect::openai_chat}) {
    Decoded d = decode(dialect, body);
    ASSERT_EQ(d.full.size(), 2u);
    const StreamMessage& m = d.full[1];
    ASSERT_TRUE(m.error);
    EXPECT_EQ(m.error->type, "exceed_context_size_error");
    EXPECT_EQ(m.error->n_prompt_tokens, 5000u);
    EXPECT_EQ(m.error->n_ctx, 4096u);
    EXPECT_FALSE(m.malformed);
    EXPECT_EQ(classify_engine_error(200, *m.error), Outcome::context_overflow);
  }
  expect_every_split_equal(Dialect::llamacpp_completion, body);
}

TEST(EngineStream, LlamaCppNativeStream) {
  Decoded d = decode(Dialect::llamacpp_completion, kLlamaCppNative);
  ASSERT_EQ(d.full.size(), 3u);
  EXPECT_EQ(text_of(d), "Once upon");
  EXPECT_EQ(d.full[0].output_tokens, 1u);
  EXPECT_FALSE(d.full[1].done);
  const StreamMessage& last = d.full[2];
  EXPECT_TRUE(last.done);
  EXPECT_FALSE(last.carries_content);
  EXPECT_EQ(last.finish_reason, "limit");
  EXPECT_EQ(last.truncated, false);
  EXPECT_EQ(last.prompt_tokens, 7u);
  EXPECT_EQ(last.output_tokens, 2u);
  EXPECT_EQ(last.timings.prompt_tokens, 7u);
  EXPECT_DOUBLE_EQ(*last.timings.prompt_ms, 25.5);
  EXPECT_EQ(last.timings.generated_tokens, 2u);
  EXPECT_DOUBLE_EQ(*last.timings.generation_ms, 40.0);
  EXPECT_FALSE(d.ended_mid_message);
  expect_every_split_equal(Dialect::llamacpp_completion, kLlamaCppNative);
}

TEST(EngineStream, LlamaCppTruncatedFlag) {
  StreamMessage m;
  interpret_message(Dialect::llamacpp_completion, R"({"content":"","stop":true,"truncated":true,"stop_type":"eos"})", m);
  EXPECT_EQ(m.truncated, true);
  EXPECT_EQ(m.finish_reason, "eos");
}

TEST(EngineStream, OllamaChatStream) {
  Decoded d = decode(Dialect::ollama_chat, kOllamaChat);
  ASSERT_EQ(d.full.size(), 3u);
  EXPECT_EQ(text_of(d), "The sky");
  const StreamMessage& last = d.full[2];
  EXPECT_TRUE(last.done);
  EXPECT_EQ(last.finish_reason, "stop");
  EXPECT_EQ(last.prompt_tokens, 26u);
  EXPECT_EQ(last.output_tokens, 282u);
  EXPECT_DOUBLE_EQ(*last.timings.prompt_ms, 342.546);
  EXPECT_DOUBLE_EQ(*last.timings.generation_ms, 4535.599);
  EXPECT_DOUBLE_EQ(*last.timings.load_ms, 1.334875);
  EXPECT_DOUBLE_EQ(*last.timings.total_ms, 4883.583458);
  EXPECT_EQ(last.timings.generated_tokens, 282u);
  expect_every_split_equal(Dialect::ollama_chat, kOllamaChat);
}

TEST(EngineStream, OllamaGenerateStream) {
  Decoded d = decode(Dialect::ollama_generate, kOllamaGenerate);
  ASSERT_EQ(d.full.size(), 3u);
  EXPECT_EQ(d.full[0].reasoning, "hmm");
  EXPECT_TRUE(d.full[0].carries_content);
  EXPECT_EQ(d.full[1].content, "The");
  EXPECT_EQ(d.full[2].finish_reason, "length");
  EXPECT_EQ(d.full[2].output_tokens, 259u);
  EXPECT_DOUBLE_EQ(*d.full[2].timings.load_ms, 6338.219291);
  expect_every_split_equal(Dialect::ollama_generate, kOllamaGenerate);
}

TEST(EngineStream, OllamaErrorLine) {
  const std::string body =
      R"({"response":"a","done":false})"
      "\n"
      R"({"error":"llama runner process has terminated: exit status 2: cudaMalloc failed: out of memory"})"
      "\n";
  Decoded d = decode(Dialect::ollama_generate, body);
  ASSERT_EQ(d.full.size(), 2u);
  ASSERT_TRUE(d.full[1].error);
  EXPECT_FALSE(d.full[1].done);
  EXPECT_EQ(classify_engine_error(200, *d.full[1].error), Outcome::oom);
}

TEST(EngineStream, MalformedMessages) {
  StreamMessage m;
  for (std::string_view bad : {"{\"choices\":[{\"delta\":{\"content\":\"x\"}}", "not json", "[1,2]", "\"str\"", "",
                               R"({"choices":{"0":1}})", R"({"choices":[{"delta":{"content":5}}]})",
                               R"({"choices":[{"delta":"x"}]})", R"({"choices":[7]})"}) {
    interpret_message(Dialect::openai_chat, bad, m);
    EXPECT_TRUE(m.malformed) << bad;
  }
  for (std::string_view bad : {R"({"content":3})", R"({"stop":"yes"})"}) {
    interpret_message(Dialect::llamacpp_completion, bad, m);
    EXPECT_TRUE(m.malformed) << bad;
  }
  for (std::string_view bad : {R"({"response":1})", R"({"message":"x"})", R"({"done":"true"})"}) {
    interpret_message(Dialect::ollama_chat, bad, m);
    EXPECT_TRUE(m.malformed) << bad;
  }
  // Invalid UTF-8 inside a JSON string is rejected by the JSON parser.
  interpret_message(Dialect::openai_chat, "{\"choices\":[{\"text\":\"\xff\"}]}", m);
  EXPECT_TRUE(m.malformed);
  // A malformed chunk amid good ones: the decoder counts it and goes on.
  StreamDecoder decoder(Dialect::openai_chat);
  int good = 0;
  decoder.feed("data: {\"choices\":[{\"text\":\"a\"}]}\n\ndata: {oops\n\ndata: {\"choices\":[{\"text\":\"b\"}]}\n\n",
               [&](const StreamMessage& msg) { good += msg.carries_content ? 1 : 0; });
  EXPECT_EQ(good, 2);
  EXPECT_EQ(decoder.malformed_messages(), 1u);
  EXPECT_EQ(decoder.messages(), 3u);
}

TEST(EngineStream, DoneMarkerOnlyForSseDialects) {
  StreamMessage m;
  interpret_message(Dialect::openai_chat, " [DONE] ", m);
  EXPECT_TRUE(m.end_of_stream);
  interpret_message(Dialect::ollama_chat, "[DONE]", m);
  EXPECT_FALSE(m.end_of_stream);
  EXPECT_TRUE(m.malformed);
}

TEST(EngineStream, OneMegabyteChunkPasses) {
  const std::string big(1 << 20, 'z');
  const std::string body = "data: {\"choices\":[{\"delta\":{\"content\":\"" + big + "\"}}]}\n\ndata: [DONE]\n\n";
  Decoded d = decode(Dialect::openai_chat, body);
  ASSERT_EQ(d.messages.size(), 2u);
  EXPECT_EQ(d.messages[0].content.size(), big.size());
  EXPECT_FALSE(d.overflowed);
}

TEST(EngineStream, OverCapStreamOverflows) {
  StreamDecoder decoder(Dialect::ollama_chat, 1000);
  int n = 0;
  decoder.feed("{\"response\":\"" + std::string(5000, 'a') + "\"}\n{\"done\":true}\n", [&](const StreamMessage&) { ++n; });
  EXPECT_TRUE(decoder.overflowed());
  EXPECT_EQ(n, 0);
}

// --- Error bodies -----------------------------------------------------------

TEST(EngineError, ExtractsFromEachEnginesBody) {
  // llama.cpp HTTP 400 for a prompt over n_ctx.
  EngineError e = extract_engine_error(
      R"({"error":{"code":400,"message":"the request exceeds the available context size, try increasing it","type":"exceed_context_size_error","n_prompt_tokens":9000,"n_ctx":8192}})");
  EXPECT_EQ(e.message, "the request exceeds the available context size, try increasing it");
  EXPECT_EQ(e.type, "exceed_context_size_error");
  EXPECT_EQ(e.code, "400");
  EXPECT_EQ(e.n_prompt_tokens, 9000u);
  EXPECT_EQ(e.n_ctx, 8192u);
  // Ollama.
  e = extract_engine_error(R"x({"error":"model requires more system memory (44.0 GiB) than is available (7.6 GiB)"})x");
  EXPECT_EQ(e.message, "model requires more system memory (44.0 GiB) than is available (7.6 GiB)");
  EXPECT_TRUE(e.type.empty());
  // vLLM ErrorResponse (older builds: top level).
  e = extract_engine_error(
      R"({"object":"error","message":"This model's maximum context length is 4096 tokens. However, you requested 5000 tokens (4900 in the messages, 100 in the completion). Please reduce the length of the messages or completion.","type":"BadRequestError","param":null,"code":400})");
  EXPECT_TRUE(e.message.starts_with("This model's maximum context length is 4096"));
  EXPECT_EQ(e.type, "BadRequestError");
  // FastAPI validation.
  e = extract_engine_error(R"({"detail":"Not Found"})");
  EXPECT_EQ(e.message, "Not Found");
  e = extract_engine_error(R"({"detail":[{"loc":["body","max_tokens"],"msg":"bad"}]})");
  EXPECT_NE(e.message.find("max_tokens"), std::string::npos);
  // Not JSON.
  e = extract_engine_error("  Internal Server Error\n");
  EXPECT_EQ(e.message, "Internal Server Error");
  // Bounded and valid UTF-8.
  e = extract_engine_error(std::string(10000, 'x') + "\xff");
  EXPECT_LE(e.message.size(), kMaxErrorMessageBytes);
  e = extract_engine_error(std::string(kMaxErrorMessageBytes - 1, 'x') + "\xc3\xa9");
  EXPECT_EQ(e.message.find('\xc3'), std::string::npos) << "the cut sequence is dropped";
  EXPECT_LE(e.message.size(), kMaxErrorMessageBytes);
  e = extract_engine_error(std::string(kMaxErrorMessageBytes, '\xff'));
  EXPECT_LE(e.message.size(), kMaxErrorMessageBytes);
  EXPECT_TRUE(e.message.starts_with("\xEF\xBF\xBD"));
}

TEST(EngineError, ClassifiesRealEngineMessages) {
  struct Case {
    int status;
    std::string body;
    Outcome expected;
  };
  const std::vector<Case> cases = {
      // llama.cpp context errors.
      {400, R"({"error":{"code":400,"message":"the request exceeds the available context size, try increasing it","type":"exceed_context_size_error","n_prompt_tokens":5000,"n_ctx":4096}})", Outcome::context_overflow},
      {400, R"({"error":{"code":400,"message":"request (4476 tokens) exceeds the available context size (4096 tokens), try increasing it","type":"exceed_context_size_error"}})", Outcome::context_overflow},
      {400, R"({"error":{"code":400,"message":"the request exceeds the available context size. try increasing the context size or enable context shift","type":"invalid_request_error"}})", Outcome::context_overflow},
      {500, R"({"error":{"code":500,"message":"Input prompt is too big compared to KV size. Please try increasing KV size.","type":"server_error"}})", Outcome::context_overflow},
      {200, "the request exceeds the available context size", Outcome::context_overflow},
      // vLLM / OpenAI.
      {400, R"({"object":"error","message":"This model's maximum context length is 4096 tokens. However, you requested 5000 tokens.","type":"BadRequestError","param":null,"code":400})", Outcome::context_overflow},
      {400, R"({"error":{"message":"'max_tokens' or 'max_completion_tokens' is too large: 8000. This model's maximum context length is 4096 tokens and your request has 2778 input tokens (8000 > 4096 - 2778). None","type":"BadRequestError","param":null,"code":400}})", Outcome::context_overflow},
      {400, R"({"error":{"message":"The decoder prompt (length 8825) is longer than the maximum model length of 8192. Make sure that `max_model_len` is no smaller than the number of text tokens.","type":"BadRequestError","code":400}})", Outcome::context_overflow},
      {400, R"({"error":{"message":"Too long","type":"invalid_request_error","code":"context_length_exceeded"}})", Outcome::context_overflow},
      // Ollama.
      {400, R"({"error":"input length exceeds the context length"})", Outcome::context_overflow},
      {500, R"x({"error":"model requires more system memory (15.3 GiB) than is available (11.2 GiB)"})x", Outcome::oom},
      {500, R"({"error":"llama runner process has terminated: exit status 2: cudaMalloc failed: out of memory"})", Outcome::oom},
      {500, R"({"error":"llama runner process has terminated: cudaMalloc failed: out of memory\nalloc_tensor_range: failed to allocate CUDA0 buffer of size 5064192000\nerror loading model: unable to allocate CUDA0 buffer"})", Outcome::oom},
      {500, R"({"error":"llama runner process has terminated: signal: killed"})", Outcome::engine_down},
      {500, R"({"error":"llama runner process no longer running: -1 "})", Outcome::engine_down},
      // CUDA / PyTorch / Vulkan / Metal wording.
      {500, "CUDA error: out of memory\n  current device: 0, in function alloc at ggml-cuda.cu:452", Outcome::oom},
      {500, "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 79.10 GiB", Outcome::oom},
      {500, "ggml_vulkan: Device memory allocation of size 462323712 failed.", Outcome::oom},
      {500, "ggml_vulkan: vk::Device::allocateMemory: ErrorOutOfDeviceMemory", Outcome::oom},
      {500, "error: Insufficient Memory (00000008:kIOGPUCommandBufferCallbackErrorOutOfMemory)", Outcome::oom},
      {500, "llama_init_from_model: failed to allocate compute buffers", Outcome::oom},
      {500, "ValueError: No available memory for the cache blocks. Try increasing `gpu_memory_utilization` when initializing the engine.", Outcome::oom},
      // llama.cpp loading.
      {503, R"({"error":{"code":503,"message":"Loading model","type":"unavailable_error"}})", Outcome::engine_down},
      // Anything else.
      {500, R"({"error":{"code":500,"message":"tokenizer failed","type":"server_error"}})", Outcome::http_error},
      {404, "Not Found", Outcome::http_error},
      {500, "", Outcome::http_error},
  };
  for (const auto& c : cases)
    EXPECT_EQ(to_string(classify_engine_error(c.status, c.body)), to_string(c.expected)) << c.body;
}

// --- Request bodies ---------------------------------------------------------

TEST(RequestBody, OpenAiChat) {
  GenerationRequest r;
  r.model = "llama";
  r.prompt = "Hello";
  r.system = "Be brief.";
  r.max_tokens = 64;
  r.temperature = 0.0;
  json b = json::parse(build_request_body(Dialect::openai_chat, r));
  EXPECT_EQ(b["model"], "llama");
  EXPECT_EQ(b["stream"], true);
  EXPECT_EQ(b["stream_options"]["include_usage"], true);
  EXPECT_EQ(b["max_tokens"], 64);
  EXPECT_EQ(b["temperature"], 0.0);
  ASSERT_EQ(b["messages"].size(), 2u);
  EXPECT_EQ(b["messages"][0]["role"], "system");
  EXPECT_EQ(b["messages"][1]["content"], "Hello");
  EXPECT_FALSE(b.contains("ignore_eos"));
  EXPECT_FALSE(b.contains("seed"));
  r.ignore_eos = true;
  r.seed = 42;
  b = json::parse(build_openai_chat_body(r));
  EXPECT_EQ(b["ignore_eos"], true);
  EXPECT_EQ(b["seed"], 42);
}

TEST(RequestBody, OpenAiCompletions) {
  GenerationRequest r;
  r.model = "m";
  r.prompt = "Once";
  r.max_tokens = 5;
  json b = json::parse(build_request_body(Dialect::openai_completions, r));
  EXPECT_EQ(b["prompt"], "Once");
  EXPECT_EQ(b["stream"], true);
  EXPECT_EQ(b["stream_options"]["include_usage"], true);
  EXPECT_EQ(b["max_tokens"], 5);
  EXPECT_FALSE(b.contains("messages"));
  EXPECT_FALSE(b.contains("temperature"));
}

TEST(RequestBody, LlamaCppCompletion) {
  GenerationRequest r;
  r.prompt = "Once";
  r.max_tokens = 7;
  r.temperature = 0.5;
  json b = json::parse(build_request_body(Dialect::llamacpp_completion, r));
  EXPECT_EQ(b["prompt"], "Once");
  EXPECT_EQ(b["stream"], true);
  EXPECT_EQ(b["n_predict"], 7);
  EXPECT_EQ(b["cache_prompt"], false);
  EXPECT_EQ(b["temperature"], 0.5);
  EXPECT_FALSE(b.contains("model"));
  EXPECT_FALSE(b.contains("max_tokens"));
}

TEST(RequestBody, OllamaGenerateAndChat) {
  GenerationRequest r;
  r.model = "llama3.2";
  r.prompt = "Why is the sky blue?";
  r.max_tokens = 100;
  r.num_ctx = 8192;
  r.temperature = 0.7;
  r.raw = true;
  r.keep_alive = "-1";
  json g = json::parse(build_request_body(Dialect::ollama_generate, r));
  EXPECT_EQ(g["model"], "llama3.2");
  EXPECT_EQ(g["prompt"], "Why is the sky blue?");
  EXPECT_EQ(g["stream"], true);
  EXPECT_EQ(g["raw"], true);
  EXPECT_EQ(g["options"]["num_ctx"], 8192);
  EXPECT_EQ(g["options"]["num_predict"], 100);
  EXPECT_EQ(g["options"]["temperature"], 0.7);
  EXPECT_EQ(g["keep_alive"], -1) << "an integer goes as a number";
  r.keep_alive = "10m";
  r.raw = false;
  json c = json::parse(build_request_body(Dialect::ollama_chat, r));
  EXPECT_EQ(c["keep_alive"], "10m");
  EXPECT_EQ(c["messages"][0]["role"], "user");
  EXPECT_FALSE(c.contains("raw"));
  EXPECT_FALSE(c.contains("prompt"));
  EXPECT_EQ(c["options"]["num_ctx"], 8192);
}

TEST(RequestBody, InvalidUtf8IsReplacedNotThrown) {
  GenerationRequest r;
  r.prompt = "bad \xff byte";
  for (auto d : {Dialect::openai_chat, Dialect::openai_completions, Dialect::llamacpp_completion,
                 Dialect::ollama_generate, Dialect::ollama_chat}) {
    std::string body;
    ASSERT_NO_THROW(body = build_request_body(d, r));
    EXPECT_TRUE(json::accept(body));
  }
}

#pragma once
// What one streamed message from an inference engine says, in a form common
// to every engine: the generated text, whether generation ended, the token
// counts and timings the engine reports, and its errors. Also the request
// outcome names, the decoder that cuts a response body into messages and
// interprets them (by dialect: workloads/engines/dialect.h), and the
// classification of engine error messages (context overflow, out of memory,
// engine down), which matches the union of every engine's own strings
// (workloads/engines/*.cpp) and knows no engine itself.
//
// Units: token counts are tokens; EngineTimings durations are milliseconds.
// Threading: a StreamDecoder belongs to one thread; the free functions are
// pure and may run anywhere.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "workloads/callback.h"
#include "workloads/engines/dialect.h"
#include "workloads/ndjson.h"
#include "workloads/sse.h"

namespace tierscope::workloads {

// How a request ended. Users script against these names (requests.jsonl
// `outcome`): keep them.
enum class Outcome {
  ok,                // complete response
  http_error,        // a non-2xx status or an engine error not classified further
  context_overflow,  // the prompt (+ output budget) does not fit the context
  oom,               // the engine ran out of (device or host) memory
  timeout,           // no first chunk, or no end, within the request timeout
  connection_reset,  // the connection broke mid-response
  engine_down,       // connection refused, engine (runner) died or still loading
  truncated,         // the engine cut the prompt or the output short (llama.cpp `truncated`)
  malformed_stream,  // unparseable chunk, over-size line or event, or a stream without an end
  interrupted,       // in flight when SIGINT/SIGTERM stopped the run
};
inline constexpr std::array kAllOutcomes = {
    Outcome::ok,          Outcome::http_error,       Outcome::context_overflow,
    Outcome::oom,         Outcome::timeout,          Outcome::connection_reset,
    Outcome::engine_down, Outcome::truncated,        Outcome::malformed_stream,
    Outcome::interrupted};
std::string_view to_string(Outcome o);
std::optional<Outcome> outcome_from_string(std::string_view s);

// What the engine measured itself. Durations in milliseconds (Ollama reports
// nanoseconds; converted).
struct EngineTimings {
  std::optional<std::uint64_t> prompt_tokens;     // llama.cpp timings.prompt_n (cached tokens excluded); Ollama prompt_eval_count
  std::optional<double> prompt_ms;                // llama.cpp timings.prompt_ms; Ollama prompt_eval_duration
  std::optional<std::uint64_t> generated_tokens;  // llama.cpp timings.predicted_n; Ollama eval_count
  std::optional<double> generation_ms;            // llama.cpp timings.predicted_ms; Ollama eval_duration
  std::optional<double> load_ms;                  // Ollama load_duration
  std::optional<double> total_ms;                 // Ollama total_duration
  bool any() const {
    return prompt_tokens || prompt_ms || generated_tokens || generation_ms || load_ms || total_ms;
  }
};

// An engine's error, from a JSON error body or a stream error message.
struct EngineError {
  std::string message;  // the engine's own words (or the raw body text), at most kMaxErrorMessageBytes
  std::string type;     // e.g. "exceed_context_size_error", "BadRequestError"; empty when none
  std::string code;     // e.g. "400", "context_length_exceeded"; empty when none
  std::optional<std::uint64_t> n_prompt_tokens;  // llama.cpp context errors
  std::optional<std::uint64_t> n_ctx;            // llama.cpp context errors
};
inline constexpr std::size_t kMaxErrorMessageBytes = 4096;

struct StreamMessage {
  std::string content;           // generated text carried by this message (a delta)
  std::string reasoning;         // reasoning text (reasoning_content / reasoning / thinking)
  bool carries_content = false;  // content or reasoning is non-empty: a token chunk for TTFT/ITL
  bool done = false;             // generation ended: finish_reason, llama.cpp stop, Ollama done, or [DONE]
  bool end_of_stream = false;    // OpenAI's `data: [DONE]`
  std::string finish_reason;     // finish_reason / llama.cpp stop_type / Ollama done_reason; empty when none
  std::optional<std::uint64_t> prompt_tokens;  // usage.prompt_tokens, tokens_evaluated, prompt_eval_count
  std::optional<std::uint64_t> output_tokens;  // usage.completion_tokens, tokens_predicted, eval_count
  EngineTimings timings;
  std::optional<bool> truncated;     // llama.cpp: the prompt was cut to fit the context
  std::optional<EngineError> error;  // an error object/line in the stream
  bool malformed = false;            // not JSON, or JSON of an unexpected shape

  // Back to empty, keeping the strings' capacity.
  void clear();
};

// Interprets one message: an SSE event's data, or one NDJSON line. Framing
// first (an SSE `[DONE]` ends the stream; text that is not a JSON object is
// malformed), then the dialect's interpreter.
void interpret_message(Dialect d, std::string_view text, StreamMessage& out);
// Interprets one SSE event: its data, and llama.cpp's `error:` field.
void interpret_sse_event(Dialect d, const SseEvent& event, StreamMessage& out);

// The engine's message from an error response body, whatever the engine:
//   {"error":{"message":…,"type":…,"code":…}}  OpenAI, vLLM, llama.cpp (HTTP)
//   {"error":"…"}                               Ollama
//   {"message":…,"type":…,"code":…}             llama.cpp `error:` SSE line, vLLM ErrorResponse
//   {"detail":…}                                FastAPI (vLLM request validation)
// Anything else: the body text, trimmed. Never throws; the message is valid
// UTF-8 and at most kMaxErrorMessageBytes.
EngineError extract_engine_error(std::string_view body);
// The error a parsed message or body carries in its `error` member (an object
// with message/type/code, or a string, as Ollama sends); none when absent or
// null. For the dialects' interpreters.
std::optional<EngineError> engine_error_in(const nlohmann::json& message);

// Classifies an engine's error (HTTP error body, or an error inside a 200
// stream: pass the status actually received). Context overflow and out of
// memory are recognised from the engines' own strings (each engine's file
// under workloads/engines/ lists its strings and where they come from; all
// engines' strings count, whichever engine answered), checked in the order
// context overflow, out of memory, engine down (a runner that died, a model
// still loading); everything else is http_error.
Outcome classify_engine_error(int http_status, const EngineError& error);
Outcome classify_engine_error(int http_status, std::string_view body);

// Parses a response body as it streams in (SSE or NDJSON by dialect) and
// interprets each message. The message passed to the callback is reused: it
// is valid only during the call.
using MessageCallback = CallbackRef<const StreamMessage&>;

class StreamDecoder {
 public:
  explicit StreamDecoder(Dialect d, std::size_t max_event_bytes = kDefaultMaxEventBytes);

  std::size_t feed(std::string_view chunk, MessageCallback on_message);
  // End of body: interprets a message cut short (see SseParser::finish).
  std::size_t finish(MessageCallback on_message);

  Dialect dialect() const { return dialect_; }
  // The framing cap tripped (an event or line over max_event_bytes): the
  // stream is malformed and the rest of it was ignored.
  bool overflowed() const { return sse_.overflowed() || ndjson_.overflowed(); }
  // finish() found a partial event or line.
  bool ended_mid_message() const { return sse_.ended_mid_event() || ndjson_.ended_mid_line(); }
  std::uint64_t messages() const { return messages_; }
  std::uint64_t malformed_messages() const { return malformed_; }
  std::uint64_t comments() const { return sse_.comments(); }
  std::uint64_t bytes() const { return sse_.bytes() + ndjson_.bytes(); }

 private:
  void deliver(MessageCallback& on_message);

  Dialect dialect_;
  const DialectSpec* spec_;
  SseParser sse_;
  NdjsonSplitter ndjson_;
  StreamMessage message_;
  std::uint64_t messages_ = 0;
  std::uint64_t malformed_ = 0;
};

}  // namespace tierscope::workloads

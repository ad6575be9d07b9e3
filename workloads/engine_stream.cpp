#include "workloads/engine_stream.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <vector>

#include "core/text.h"
#include "workloads/engines/engine.h"
#include "workloads/json_fields.h"

namespace tierscope::workloads {

using nlohmann::json;

namespace {

using namespace json_fields;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

// At most kMaxErrorMessageBytes of valid UTF-8 (invalid bytes become U+FFFD,
// which may lengthen the text: cut again at a character boundary).
std::string bounded_message(std::string_view s) {
  std::string out(s.substr(0, kMaxErrorMessageBytes));
  text::make_valid_utf8(out);
  if (out.size() > kMaxErrorMessageBytes) {
    std::size_t cut = kMaxErrorMessageBytes;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
  }
  return out;
}

std::string scalar_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return {};
  return v.dump(-1, ' ', false, json::error_handler_t::replace);
}

// The error fields of an error object: {"message":…,"type":…,"code":…}.
EngineError error_from_object(const json& object) {
  EngineError e;
  if (const json* m = member(object, "message")) e.message = bounded_message(scalar_text(*m));
  if (const json* t = member(object, "type")) e.type = bounded_message(scalar_text(*t));
  if (const json* c = member(object, "code")) e.code = bounded_message(scalar_text(*c));
  e.n_prompt_tokens = count_member(object, "n_prompt_tokens");
  e.n_ctx = count_member(object, "n_ctx");
  return e;
}

void finish_content(StreamMessage& out) { out.carries_content = !out.content.empty() || !out.reasoning.empty(); }

bool contains_any(std::string_view haystack, const std::vector<std::string_view>& needles) {
  return std::any_of(needles.begin(), needles.end(),
                     [&](std::string_view n) { return haystack.find(n) != std::string_view::npos; });
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// Every engine's error strings, per outcome (engines/engine.h).
struct ErrorVocabulary {
  std::vector<std::string_view> context_overflow, oom, engine_down;
};

const ErrorVocabulary& vocabulary() {
  static const ErrorVocabulary v = [] {
    ErrorVocabulary out;
    for (const EngineDescriptor* e : all_engines()) {
      out.context_overflow.insert(out.context_overflow.end(), e->errors.context_overflow.begin(),
                                  e->errors.context_overflow.end());
      out.oom.insert(out.oom.end(), e->errors.oom.begin(), e->errors.oom.end());
      out.engine_down.insert(out.engine_down.end(), e->errors.engine_down.begin(), e->errors.engine_down.end());
    }
    return out;
  }();
  return v;
}

}  // namespace

// ---------------------------------------------------------------------------

std::string_view to_string(Outcome o) {
  switch (o) {
    case Outcome::ok: return "ok";
    case Outcome::http_error: return "http_error";
    case Outcome::context_overflow: return "context_overflow";
    case Outcome::oom: return "oom";
    case Outcome::timeout: return "timeout";
    case Outcome::connection_reset: return "connection_reset";
    case Outcome::engine_down: return "engine_down";
    case Outcome::truncated: return "truncated";
    case Outcome::malformed_stream: return "malformed_stream";
    case Outcome::interrupted: return "interrupted";
  }
  return "unknown";
}

std::optional<Outcome> outcome_from_string(std::string_view s) {
  for (auto o : kAllOutcomes)
    if (to_string(o) == s) return o;
  return std::nullopt;
}

void StreamMessage::clear() {
  content.clear();
  reasoning.clear();
  carries_content = done = end_of_stream = malformed = false;
  finish_reason.clear();
  prompt_tokens.reset();
  output_tokens.reset();
  timings = {};
  truncated.reset();
  error.reset();
}

namespace {

void interpret(const DialectSpec& spec, std::string_view text, StreamMessage& out) {
  out.clear();
  if (spec.framing == Framing::sse && trim(text) == "[DONE]") {
    out.end_of_stream = true;
    out.done = true;
    return;
  }
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    out.malformed = true;
    return;
  }
  spec.interpret(j, out);
  finish_content(out);
}

void interpret_event(const DialectSpec& spec, const SseEvent& event, StreamMessage& out) {
  if (event.has_data) {
    interpret(spec, event.data, out);
  } else {
    out.clear();
  }
  if (event.has_error) {
    // llama.cpp: `error: {"code":500,"message":"…","type":"server_error"}`.
    // It wins over whatever the data said: the engine gave up.
    out.error = extract_engine_error(event.error);
  }
}

}  // namespace

void interpret_message(Dialect d, std::string_view text, StreamMessage& out) { interpret(dialect_spec(d), text, out); }

void interpret_sse_event(Dialect d, const SseEvent& event, StreamMessage& out) {
  interpret_event(dialect_spec(d), event, out);
}

std::optional<EngineError> engine_error_in(const json& j) {
  if (const json* err = member(j, "error")) {
    if (err->is_object()) {
      EngineError e = error_from_object(*err);
      if (e.message.empty()) e.message = bounded_message(err->dump(-1, ' ', false, json::error_handler_t::replace));
      return e;
    }
    if (err->is_null()) return std::nullopt;  // some servers send "error": null
    EngineError e;
    e.message = bounded_message(scalar_text(*err));
    return e;
  }
  return std::nullopt;
}

EngineError extract_engine_error(std::string_view body) {
  json j = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (!j.is_discarded() && j.is_object()) {
    if (auto e = engine_error_in(j)) return *e;
    if (member(j, "message")) {
      EngineError e = error_from_object(j);
      if (!e.message.empty()) return e;
    }
    if (const json* detail = member(j, "detail")) {
      EngineError e;
      e.message = bounded_message(scalar_text(*detail));
      return e;
    }
  }
  EngineError e;
  e.message = bounded_message(trim(body));
  return e;
}

Outcome classify_engine_error(int http_status, const EngineError& error) {
  (void)http_status;  // the words decide: llama.cpp sends context errors as 400 and 500, OOM as 500
  const std::string text = lowercase(error.message + '\n' + error.type + '\n' + error.code);
  const ErrorVocabulary& words = vocabulary();
  if (contains_any(text, words.context_overflow)) return Outcome::context_overflow;
  if (contains_any(text, words.oom)) return Outcome::oom;
  if (contains_any(text, words.engine_down)) return Outcome::engine_down;
  return Outcome::http_error;
}

Outcome classify_engine_error(int http_status, std::string_view body) {
  return classify_engine_error(http_status, extract_engine_error(body));
}

// ---------------------------------------------------------------------------

StreamDecoder::StreamDecoder(Dialect d, std::size_t max_event_bytes)
    : dialect_(d), spec_(&dialect_spec(d)), sse_(max_event_bytes), ndjson_(max_event_bytes) {}

void StreamDecoder::deliver(MessageCallback& on_message) {
  ++messages_;
  if (message_.malformed) ++malformed_;
  on_message(message_);
}

std::size_t StreamDecoder::feed(std::string_view chunk, MessageCallback on_message) {
  const std::uint64_t before = messages_;
  if (spec_->framing == Framing::sse) {
    sse_.feed(chunk, [&](const SseEvent& e) {
      interpret_event(*spec_, e, message_);
      deliver(on_message);
    });
  } else {
    ndjson_.feed(chunk, [&](std::string_view line) {
      interpret(*spec_, line, message_);
      deliver(on_message);
    });
  }
  return static_cast<std::size_t>(messages_ - before);
}

std::size_t StreamDecoder::finish(MessageCallback on_message) {
  const std::uint64_t before = messages_;
  if (spec_->framing == Framing::sse) {
    sse_.finish([&](const SseEvent& e) {
      interpret_event(*spec_, e, message_);
      deliver(on_message);
    });
  } else {
    ndjson_.finish([&](std::string_view line) {
      interpret(*spec_, line, message_);
      deliver(on_message);
    });
  }
  return static_cast<std::size_t>(messages_ - before);
}

}  // namespace tierscope::workloads

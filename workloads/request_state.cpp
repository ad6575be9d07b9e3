#include "workloads/request_state.h"

#include <chrono>

#include "core/text.h"

namespace tierscope::workloads {

namespace {

constexpr std::size_t kMaxErrorBody = 64 * 1024;
constexpr std::size_t kMaxKeptText = 256 * 1024;

using Ms = std::chrono::duration<double, std::milli>;

double ms_between(SteadyTime a, SteadyTime b) { return Ms(b - a).count(); }

double unix_time(SteadyTime t) {
  auto now_sys = std::chrono::system_clock::now();
  auto now_steady = SteadyClock::now();
  auto sys = now_sys + std::chrono::duration_cast<std::chrono::system_clock::duration>(t - now_steady);
  return std::chrono::duration<double>(sys.time_since_epoch()).count();
}

// Failures the transport saw; nullopt when the response arrived whole.
std::optional<Outcome> transport_outcome(const InFlight& a, const TransferResult& res, std::string& error) {
  switch (res.outcome) {
    case TransferOutcome::engine_down: error = res.error; return Outcome::engine_down;
    case TransferOutcome::timeout:
      error = a.first_content ? "no end within request_timeout" : "no first token within request_timeout";
      return Outcome::timeout;
    case TransferOutcome::connection_reset:
    case TransferOutcome::transport_error: error = res.error; return Outcome::connection_reset;
    case TransferOutcome::http_error:
    case TransferOutcome::ok: break;
  }
  return std::nullopt;
}

std::string overflow_reason(const InFlight& a) {
  return "a stream " + std::string(dialect_spec(a.decoder.dialect()).framing == Framing::sse ? "line or event" : "line") + " over " +
         text::size_words(kDefaultMaxEventBytes) + " (the rest of the response was not read)";
}

// Failures of the stream's shape; nullopt when it was whole and ended.
std::optional<Outcome> stream_outcome(const InFlight& a, std::string& error) {
  if (a.decoder.overflowed()) {
    error = overflow_reason(a);
    return Outcome::malformed_stream;
  }
  if (a.decoder.malformed_messages() > 0) {
    error = std::to_string(a.decoder.malformed_messages()) + " malformed message(s) in the stream";
    return Outcome::malformed_stream;
  }
  if (a.decoder.ended_mid_message() || !a.saw_done) {
    error = "the stream ended without a final message";
    return Outcome::malformed_stream;
  }
  return std::nullopt;
}

}  // namespace

HttpRequest make_http_request(const Scenario& sc, const EngineDescriptor& engine, const RequestPlan& p) {
  const Dialect dialect = sc.engine.dialect();
  GenerationRequest g;
  g.model = sc.engine.model;
  g.prompt = p.built.text;
  g.max_tokens = p.max_tokens;
  g.temperature = p.temperature;
  g.ignore_eos = sc.effective_ignore_eos();
  if (engine.size_request) engine.size_request(sc.engine, {p.built.text, p.prompt_tokens, p.max_tokens}, g);
  HttpRequest req;
  req.method = "POST";
  req.url = sc.engine.url + std::string(request_path(dialect));
  req.headers = engine_headers(sc.engine);
  req.body = build_request_body(dialect, g);
  req.timeout = sc.request_timeout;
  return req;
}

void on_body(InFlight& a, std::string_view bytes, SteadyTime t, bool keep_text, BenchMetrics* metrics) {
  if (a.http_status >= 400) {
    if (a.error_body.size() < kMaxErrorBody) a.error_body.append(bytes.substr(0, kMaxErrorBody - a.error_body.size()));
    return;
  }
  a.decoder.feed(bytes, [&](const StreamMessage& m) { observe(a, m, t, keep_text, metrics); });
}

void observe(InFlight& a, const StreamMessage& m, SteadyTime t, bool keep_text, BenchMetrics* metrics) {
  if (m.carries_content) {
    if (!a.first_content) {
      a.first_content = t;
      if (metrics) metrics->observe_ttft(std::chrono::duration<double>(t - a.t_issue).count());
    } else {
      double gap = ms_between(*a.last_content, t);
      a.itl.push_back(gap);
      if (metrics) metrics->observe_itl(gap / 1000.0);
    }
    a.last_content = t;
    ++a.content_chunks;
    if (metrics) metrics->add_tokens(1, t);
    if (keep_text && a.text.size() < kMaxKeptText) a.text += m.content;
  }
  if (m.done) {
    a.saw_done = true;
    if (!m.finish_reason.empty()) a.finish_reason = m.finish_reason;
  }
  if (m.end_of_stream) a.saw_done = a.saw_done || a.content_chunks > 0 || a.usage_output.has_value();
  if (m.prompt_tokens) a.usage_prompt = m.prompt_tokens;
  if (m.output_tokens) a.usage_output = m.output_tokens;
  if (m.timings.any()) a.timings = m.timings;
  if (m.truncated) a.truncated = m.truncated;
  if (m.error && !a.stream_error) a.stream_error = m.error;
}

std::string stop_reading_reason(const InFlight& a) {
  if (a.decoder.overflowed()) return overflow_reason(a);
  if (a.error_body.size() >= kMaxErrorBody) return "error body over " + text::size_words(kMaxErrorBody);
  return {};
}

Outcome decide_outcome(const InFlight& a, const TransferResult& res, const EngineDescriptor& engine,
                       std::string& error) {
  if (res.headers_too_large) {
    error = res.error;
    return Outcome::http_error;
  }
  if (a.decoder.overflowed()) {  // the client stopped reading: not the transport's failure
    error = overflow_reason(a);
    return Outcome::malformed_stream;
  }
  const long status = a.http_status ? a.http_status : res.http_status;
  if (status >= 400) {
    auto e = extract_engine_error(a.error_body);
    error = e.message;
    return classify_engine_error(static_cast<int>(status), e);
  }
  if (a.stream_error) {
    error = a.stream_error->message;
    return classify_engine_error(static_cast<int>(status ? status : 200), *a.stream_error);
  }
  if (auto o = transport_outcome(a, res, error)) return *o;
  if (auto o = stream_outcome(a, error)) return *o;
  if (a.truncated.value_or(false)) {
    error = "the engine reported truncated: true (the prompt was cut to fit the context)";
    return Outcome::truncated;
  }
  if (engine.prompt_cut) {
    if (auto why = engine.prompt_cut({a.plan.prompt_tokens, a.plan.built.counted_tokens, a.timings.prompt_tokens,
                                      a.usage_prompt})) {
      error = std::move(*why);
      return Outcome::truncated;
    }
  }
  return Outcome::ok;
}

RequestRecord make_record(const InFlight& a, const StepSpec& step, const TransferResult& res, Outcome o,
                          std::string error, bool protocol) {
  RequestRecord r;
  r.step = a.step;
  if (step.context_tokens >= 0) r.context_tokens = step.context_tokens;
  if (step.users >= 0) r.users = step.users;
  if (a.plan.prompt) r.prompt = a.plan.prompt->name;
  r.request_id = a.request_id;
  r.user = a.plan.user;
  r.warmup = a.plan.warmup;
  r.t_send = unix_time(res.t_send);
  r.scheduled_s = a.scheduled_s;
  if (a.t_headers != SteadyTime{}) r.t_headers_ms = ms_between(res.t_send, a.t_headers);
  if (a.first_content) r.ttft_ms = ms_between(res.t_send, *a.first_content);
  r.itl_ms = a.itl;
  r.e2e_ms = ms_between(res.t_send, res.t_done);
  // Prompt tokens: server usage, engine timings, else what was built.
  r.prompt_tokens = a.usage_prompt ? a.usage_prompt : a.timings.prompt_tokens ? a.timings.prompt_tokens
                                                                               : a.plan.built.counted_tokens;
  if (a.plan.prompt_tokens) r.prompt_tokens_target = a.plan.prompt_tokens;
  r.prompt_source = a.plan.built.source;
  if (a.usage_output) {
    r.output_tokens = *a.usage_output;
    r.tokens_source = "usage";
  } else if (a.timings.generated_tokens) {
    r.output_tokens = *a.timings.generated_tokens;
    r.tokens_source = "engine_timings";
  } else {
    r.output_tokens = a.content_chunks;
    r.tokens_source = "chunks";
  }
  r.content_chunks = a.content_chunks;
  r.http_status = a.http_status ? a.http_status : res.http_status;
  r.outcome = o;
  r.error = std::move(error);
  if (!a.finish_reason.empty()) r.finish_reason = a.finish_reason;
  r.truncated = a.truncated;
  if (a.timings.any()) r.engine_timings = a.timings;
  r.body_bytes = res.body_bytes;
  r.transport = res.outcome;
  if (protocol) r.repetition_score = repetition_score(a.text);
  return r;
}

}  // namespace tierscope::workloads

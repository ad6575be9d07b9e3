#pragma once
// One request in flight, from the bytes of its response to its record: what
// the stream said so far (first and last content chunk, the gaps between
// chunks, the text for the protocol's repetition score, the engine's token
// counts, timings and errors), the outcome decided when the transfer ends,
// and the RequestRecord written to requests.jsonl. Also the HTTP request a
// RequestPlan becomes.
//
// Units: times are steady-clock points (http_stream.h); the record converts
// them to ms from t_send, and t_send to Unix seconds.
// Threading: the StreamLoop's thread only.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "workloads/bench_metrics.h"
#include "workloads/engine_stream.h"
#include "workloads/engines/engine.h"
#include "workloads/http_stream.h"
#include "workloads/plan.h"
#include "workloads/summary.h"

namespace tierscope::workloads {

struct InFlight {
  explicit InFlight(Dialect d) : decoder(d) {}
  RequestPlan plan;
  std::uint64_t request_id = 0;
  std::size_t step = 0;
  StreamDecoder decoder;
  long http_status = 0;
  SteadyTime t_headers{};
  std::optional<SteadyTime> first_content, last_content;
  std::vector<double> itl;
  std::uint64_t content_chunks = 0;
  std::string text;        // protocol: the generated text, for the repetition score
  std::string error_body;  // an HTTP error's body
  std::optional<std::uint64_t> usage_prompt, usage_output;
  EngineTimings timings;
  std::optional<bool> truncated;
  std::optional<EngineError> stream_error;
  bool saw_done = false;
  std::string finish_reason;
  std::optional<double> scheduled_s;
  SteadyTime t_issue{};  // just before StreamLoop::add (the loop's own t_send is in TransferResult)
};

// The HTTP request of a planned request, sized for the engine.
HttpRequest make_http_request(const Scenario& scenario, const EngineDescriptor& engine, const RequestPlan& plan);

// Response body bytes at time `t`: an error body is kept (bounded), a stream
// is decoded and each message observed.
void on_body(InFlight& request, std::string_view bytes, SteadyTime t, bool keep_text, BenchMetrics* metrics);
// Folds one stream message (received at `t`) into the request's state and
// the live metrics (TTFT, ITL, tokens).
void observe(InFlight& request, const StreamMessage& message, SteadyTime t, bool keep_text, BenchMetrics* metrics);

// Why the client stops reading a response early (StreamCallbacks::stop_reason):
// a stream line or event over the decoder's cap, or an error body over its
// cap; empty while it reads on.
std::string stop_reading_reason(const InFlight& request);

// The outcome of a finished request and the error text it is recorded with.
Outcome decide_outcome(const InFlight& request, const TransferResult& result, const EngineDescriptor& engine,
                       std::string& error);

// The record of a finished (or cancelled) request of `step`.
RequestRecord make_record(const InFlight& request, const StepSpec& step, const TransferResult& result, Outcome outcome,
                          std::string error, bool protocol);

}  // namespace tierscope::workloads

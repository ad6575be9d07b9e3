#pragma once
// Incremental Server-Sent Events parser (WHATWG HTML, "Server-sent events",
// section "Parsing an event stream"), for the streaming responses of
// OpenAI-compatible servers (vLLM, llama.cpp, Ollama's /v1) and llama.cpp's
// native /completion.
//
// Fed the body in whatever chunks the transport delivers (split anywhere:
// mid-line, mid-field, between '\r' and '\n'), it yields the same events as
// when fed the whole body at once. Per the spec:
//   - a line ends at LF, CR or CRLF; a leading UTF-8 BOM is dropped;
//   - a line starting with ':' is a comment (counted, otherwise ignored);
//   - "field: value" or "field:value" (one space after the colon is dropped);
//     a line without a colon is a field with an empty value;
//   - `data` lines append to the data buffer, joined with '\n'; `event` sets
//     the type; `id` sets the last event id (sticky across events, ignored
//     when it contains NUL); `retry` with only digits sets retry_ms;
//   - an empty line dispatches the event, unless no data line was seen.
// Deviations, on purpose:
//   - llama.cpp's server reports a failure inside a 200 stream as a line
//     `error: {"code":…,"message":…,"type":…}` followed by a blank line
//     (tools/server: server_sent_event(sink, "error", …)). The spec would drop
//     that unknown field; here `error` lines are collected like `data` lines
//     and an event carrying only them is dispatched (SseEvent::has_error).
//   - At end of input, finish() dispatches a pending event (data or error
//     seen, no blank line yet), with `incomplete` set, instead of dropping it:
//     the caller decides what a stream cut mid-event means. An unterminated
//     last line is processed as a line first.
//   - Size cap: a line, or an event's data+error, longer than max_event_bytes
//     sets the sticky overflowed() flag; from then on all input is ignored and
//     the buffers are released. Nothing grows past the cap.
// `[DONE]` is ordinary data here; the interpreter (engine_stream.h) decides.
//
// Hot path: complete lines inside a chunk are parsed in place; only a line
// split across chunks is copied, and the data buffer keeps its capacity from
// one event to the next, so steady-state parsing does not allocate.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "workloads/callback.h"

namespace tierscope::workloads {

// 4 MiB: far above any real token chunk (a 1 MB chunk must pass), small
// enough that a runaway stream cannot take the client's memory.
inline constexpr std::size_t kDefaultMaxEventBytes = std::size_t{4} << 20;

struct SseEvent {
  std::string_view type;   // the `event` field; "message" when none was given
  std::string_view data;   // `data` lines joined with '\n' (no trailing '\n')
  std::string_view error;  // llama.cpp's `error` lines, joined likewise
  std::string_view id;     // the last event id seen so far in the stream
  bool has_data = false;   // at least one `data` line (data may still be empty)
  bool has_error = false;  // at least one `error` line
  bool incomplete = false; // dispatched by finish(): the stream ended mid-event
};

// Views in an SseEvent point into the parser and are valid only during the
// callback.
using SseCallback = CallbackRef<const SseEvent&>;

class SseParser {
 public:
  explicit SseParser(std::size_t max_event_bytes = kDefaultMaxEventBytes);

  // Parses `chunk`, calling `on_event` for each event it completes. Returns
  // the number of events dispatched. Ignores everything after an overflow.
  std::size_t feed(std::string_view chunk, SseCallback on_event);
  // End of input: processes an unterminated last line, then dispatches a
  // pending event as `incomplete`. Returns the number of events dispatched
  // (0 or 1). Further feed() calls after finish() start a new stream.
  std::size_t finish(SseCallback on_event);
  // Back to the state of a new parser (keeps the buffers' capacity).
  void reset();

  bool overflowed() const { return overflowed_; }
  // Set by finish() when it had to dispatch or drop a partial event/line.
  bool ended_mid_event() const { return ended_mid_event_; }
  std::uint64_t comments() const { return comments_; }
  std::uint64_t events() const { return events_; }
  std::uint64_t lines() const { return lines_; }
  std::uint64_t bytes() const { return bytes_; }
  // The last valid `retry` field, in milliseconds.
  std::optional<std::uint64_t> retry_ms() const { return retry_ms_; }
  std::size_t max_event_bytes() const { return max_event_bytes_; }

 private:
  void process_line(std::string_view line, SseCallback& on_event);
  void dispatch(SseCallback& on_event, bool incomplete);
  void overflow();

  std::size_t max_event_bytes_;
  std::string partial_;     // a line split across chunks, without its terminator
  std::string data_;        // data lines, each followed by '\n'
  std::string error_;       // error lines, each followed by '\n'
  std::string type_;
  std::string last_id_;
  bool has_data_ = false;
  bool has_error_ = false;
  bool skip_lf_ = false;    // the last line ended in CR: a following LF belongs to it
  bool first_line_ = true;  // a BOM may start it
  bool overflowed_ = false;
  bool ended_mid_event_ = false;
  std::optional<std::uint64_t> retry_ms_;
  std::uint64_t comments_ = 0;
  std::uint64_t events_ = 0;
  std::uint64_t lines_ = 0;
  std::uint64_t bytes_ = 0;
};

}  // namespace tierscope::workloads

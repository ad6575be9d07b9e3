#pragma once
// HTTP transport of the benchmark engine: one thread drives every concurrent
// stream through libcurl's multi interface (curl_multi_socket_action on an
// epoll set of its own), so 256 streams cost one thread and one wake-up per
// socket that has data, not a pass over all of them.
//
// Threading: a StreamLoop belongs to the thread that calls
// run_until_idle_or(); add()/cancel()/fetch() are called from that thread
// (before running, or from inside any callback). Only wakeup() may be called
// from another thread or a signal handler.
//
// Timestamps (std::chrono::steady_clock, i.e. CLOCK_MONOTONIC):
//   t_send        taken in add(), immediately before curl_multi_add_handle():
//                 the moment the request is handed to libcurl. add() then lets
//                 libcurl start at once (connect, or write the request on a
//                 reused connection), so 256 add()s in a row do not hold back
//                 the first. Connection set-up (or waiting for a free connection
//                 past max_connections) counts as latency after t_send, as it
//                 would for a real client.
//   t_request_sent  libcurl's pre-request callback (CURLOPT_PREREQFUNCTION): the
//                 connection is ready and the request is about to be written;
//                 t_request_sent − t_send is the client's own set-up share.
//   t_headers     in libcurl's header callback, on the blank line that ends the
//                 final (non-1xx) header block; passed to on_response_headers.
//   on_data t     at the entry of libcurl's write callback, once per call; libcurl
//                 calls it right after the recv() that brought the bytes (after
//                 de-chunking), so it is when the client could first see them.
//                 TTFT = (time of the first chunk that carries content) − t_send;
//                 the stream parser decides which chunk that is.
//   t_first_byte  the first on_data call's time.
//   t_done        when the loop collects libcurl's completion message.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tierscope::workloads {

using SteadyClock = std::chrono::steady_clock;
using SteadyTime = SteadyClock::time_point;

// What became of a transfer, at the transport level. The stream parser refines
// ok/http_error into context_overflow, oom, malformed_stream, … from the body.
enum class TransferOutcome {
  ok,                // complete response with HTTP status < 400
  http_error,        // complete response with HTTP status >= 400 (body delivered), or
                     // response headers over kMaxResponseHeaderBytes (headers_too_large)
  engine_down,       // connection refused, host unresolvable: nothing listens
  timeout,           // per-request or connect timeout expired
  connection_reset,  // RST, EOF before the body ended, nothing at all received
  transport_error,   // any other libcurl failure (see curl_code / error), or the
                     // client stopped reading (a size cap: TransferResult::stopped)
};

// Size caps on what an engine sends. Response headers: all header lines of a
// response together (libcurl itself refuses one line over 100 KiB). Body:
// every non-streamed response (fetch(): model lists, /props, /tokenize,
// /metrics, …); a streamed body has no total cap, its lines and events do
// (kDefaultMaxEventBytes, sse.h).
inline constexpr std::size_t kMaxResponseHeaderBytes = std::size_t{64} << 10;  // 64 KiB
inline constexpr std::size_t kMaxFetchBodyBytes = std::size_t{16} << 20;       // 16 MiB

std::string_view to_string(TransferOutcome outcome);

// The outcome of libcurl result `curl_code` (a CURLcode) with HTTP status
// `http_status` (0 when no response line arrived).
TransferOutcome classify_transfer(int curl_code, long http_status);

struct HttpRequest {
  std::string method = "GET";    // GET, POST, or any other verb
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;                  // sent with Content-Length
  std::chrono::milliseconds timeout{0};          // whole transfer; 0 = none
  std::chrono::milliseconds connect_timeout{5000};
  bool use_env_proxy = false;  // false: ignore http_proxy & co (talk to the engine directly)
  // Body bytes read at most; past it the transfer stops (`stopped`). 0: no
  // cap (a stream); fetch() caps at kMaxFetchBodyBytes.
  std::size_t max_body_bytes = 0;
};

struct TransferResult {
  TransferOutcome outcome = TransferOutcome::transport_error;
  long http_status = 0;
  int curl_code = 0;  // CURLcode
  std::string error;  // libcurl's message; empty when curl_code is 0
  SteadyTime t_send{};
  SteadyTime t_request_sent{};  // epoch when the request was never written
  SteadyTime t_headers{};     // epoch when no headers arrived
  SteadyTime t_first_byte{};  // epoch when no body byte arrived
  SteadyTime t_done{};
  uint64_t body_bytes = 0;
  long new_connections = 0;  // connections opened for this transfer (0: reused one)
  // Why the client stopped reading early (a size cap, or stop_reason), also in
  // `error`; empty when it did not.
  std::string stopped;
  bool headers_too_large = false;  // response headers over kMaxResponseHeaderBytes (outcome http_error)
};

struct StreamCallbacks {
  std::function<void(long http_status, SteadyTime t)> on_response_headers;
  std::function<void(std::string_view bytes, SteadyTime t)> on_data;  // raw body bytes, de-chunked
  std::function<void(const TransferResult& result)> on_done;          // exactly once, unless cancelled
  // Optional, asked after each on_data: a non-empty reason stops the transfer
  // there (libcurl reads no more of it); on_done follows with outcome
  // transport_error and the reason in `stopped` and `error`.
  std::function<std::string()> stop_reason;
};

struct StreamLoopOptions {
  long max_connections = 1024;  // per host and in total; also the idle-connection cache size
  long receive_buffer = 64 * 1024;  // libcurl's per-transfer receive buffer (CURLOPT_BUFFERSIZE)
};

struct HttpResponse {
  TransferResult result;
  std::string body;
};

class StreamLoop {
 public:
  explicit StreamLoop(StreamLoopOptions options = {});
  ~StreamLoop();  // drops transfers still running, without calling their callbacks
  StreamLoop(const StreamLoop&) = delete;
  StreamLoop& operator=(const StreamLoop&) = delete;

  // Starts a transfer; returns its id (never 0). Callbacks run on the loop's
  // thread, inside run_until_idle_or() / fetch() / add(); they may call add()
  // and cancel(). Called outside a callback, add() starts the transfer at
  // once, which may deliver other transfers' on_response_headers/on_data
  // before it returns (never on_done: completions are delivered by the run).
  uint64_t add(HttpRequest request, StreamCallbacks callbacks);

  // Stops a transfer without calling its on_done; false if it is not running.
  bool cancel(uint64_t id);

  size_t active() const;

  // Runs transfers until none is left (true) or `deadline` passes or wakeup()
  // is called (false).
  bool run_until_idle_or(SteadyTime deadline);

  // Makes run_until_idle_or() return soon. Thread-safe and async-signal-safe.
  void wakeup();

  // Blocking request on this loop (other transfers keep running meanwhile).
  // The body is read up to request.max_body_bytes (kMaxFetchBodyBytes when 0):
  // past it the response is a transport_error with `stopped` "response body
  // over 16 MiB" and the body holds what came before. Not from inside a callback.
  HttpResponse fetch(HttpRequest request);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One blocking request on a loop of its own: for /health, /props, /tokenize,
// /metrics, /api/version and the like.
HttpResponse http_fetch(HttpRequest request);
HttpResponse http_get(std::string url, std::chrono::milliseconds timeout = std::chrono::seconds(10));
HttpResponse http_post_json(std::string url, std::string body,
                            std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace tierscope::workloads

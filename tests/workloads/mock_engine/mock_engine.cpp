// mock_engine: a stand-in inference server for the benchmark-engine tests.
//
// Single-threaded: one epoll loop, non-blocking sockets, a min-heap of token
// deadlines and one timerfd armed (absolute CLOCK_MONOTONIC, ns resolution)
// at the earliest deadline, so tokens leave within tens of microseconds of
// their schedule without spinning. HTTP/1.1 with keep-alive and pipelining;
// request bodies by Content-Length or chunked; `Expect: 100-continue` is
// answered. Streamed responses use chunked transfer encoding, one HTTP chunk
// per event, as the real engines do.
//
// Usage: mock_engine [--port P] [--loading-ms MS] [--model NAME] [--KEY VALUE]...
//   --port 0 (the default) picks a free port. Once listening it prints
//   "listening on 127.0.0.1:PORT" on stdout and flushes. Binds 127.0.0.1 only.
//   --loading-ms: /health (and every inference endpoint) answers 503
//   "Loading model" for this long after start.
//   --exit-after N: the Nth inference request (a POST other than /tokenize and
//   /detokenize) makes the process exit at once with status 3 (an engine
//   that dies mid-run).
//   --kv-bytes-per-token B: before it listens, allocates and writes n_ctx × B
//   bytes of anonymous memory and keeps them (a KV cache sized by the
//   context, as llama.cpp allocates one for -c at load), so a memory budget
//   below that ends it at start (the kernel's OOM killer) and its memory
//   grows by exactly B per context token.
//   --leak-bytes-per-request B: each inference request (as --exit-after
//   counts them) allocates B bytes of anonymous memory, writes every page and
//   never frees it (a leak per request, for the soak tests).
//   Every other --KEY VALUE sets a script key (below) for the whole run;
//   dashes in KEY read as underscores; VALUE is read as JSON when it parses
//   (numbers, true/false) and as a string otherwise.
//
// PER-REQUEST SCRIPT: a request header `X-Mock-Script: {json}` whose keys
// override the run's script for that request only. Unknown keys → HTTP 400
// (type "mock_script_error"), so a typo in a test fails loudly.
//   ttft_ms (0)       delay from the complete request to the first token (the
//                     request's time is when epoll reported its last bytes, so
//                     parsing a burst of requests does not shift the schedule)
//   itl_ms (0)        delay between tokens; token k is due at
//                     t_request + ttft_ms + k·itl_ms (absolute, no drift)
//   tokens            output tokens; default: the request's max_tokens /
//                     max_completion_tokens / n_predict / options.num_predict,
//                     else 16; never more than the request's limit. finish
//                     reason is "length" when the limit was reached, else "stop".
//   n_ctx (4096)      context size. llama.cpp (/completion, and /v1/* with
//                     flavor llamacpp): prompt ≥ n_ctx → HTTP 400
//                     exceed_context_size_error. /v1/* with flavor vllm or
//                     openai: prompt + max_tokens > n_ctx → HTTP 400 "This
//                     model's maximum context length is …". Ollama: the
//                     prompt is cut from the front to num_ctx silently.
//   ollama_num_ctx (2048) Ollama's num_ctx when the request has no options.num_ctx
//   ctx_error_in_stream (false) llama.cpp overflow as HTTP 200 + one SSE line
//                     `error: {"code":400,…,"type":"exceed_context_size_error",…}`
//   flavor ("llamacpp") llamacpp | vllm | openai: shapes /v1/* errors, /metrics
//   status (0)        answer at once with this HTTP status and the engine's
//                     error JSON (e.g. 500, 503); error_message sets the text
//   oom (false)       HTTP 500 with the engine's out-of-memory message
//   malformed_at (-1) token k's event carries truncated (invalid) JSON
//   big_chunk_at (-1) token k's content is big_chunk_bytes (1048576) of 'x'
//   reset_at (-1)     TCP RST (SO_LINGER 0) instead of token k
//   close_at (-1)     orderly close (FIN) instead of token k: the chunked body
//                     is left unterminated
//   hang (false)      send the response headers, then nothing, ever
//   no_done (false)   end the body cleanly but without `data: [DONE]` (SSE) or
//                     the final done:true line (NDJSON) / stop:true chunk
//   headers_with_first_token (false) hold the response headers until the
//                     first token is due (recent llama.cpp); default: at once
//   preemptions (0)   added to vllm:num_preemptions_total by this request
//   metrics_delay_ms (0) GET /metrics answers this long after the request (its
//                     values are taken when it answers); later requests on the
//                     same connection wait for it. Lets a test hold a client
//                     that samples /metrics (tierscope bench after a step).
//   trace ("")        record this request's token send times under this id
//   flood ("")        answer with a response that never ends (until the client
//                     closes, or flood_bytes were sent), backpressured:
//                       body         200 (or `status`) with JSON headers, then
//                                    endless bytes (no Content-Length; ends at close)
//                       line         200 with the path's stream type (SSE, or
//                                    NDJSON for /api/*), then one line that
//                                    never ends: `data: {"x":"xxx…` / `{"x":"xxx…`
//                       headers      a status line, then endless 1000-byte
//                                    header lines
//                       header_line  a status line, then one header line that
//                                    never ends
//   flood_path ("")   flood only requests to this path ("" = every request)
//   flood_bytes (2^40) flood bytes after which the connection is closed
//
// TOKENS: one token per whitespace-separated word (ASCII space, tab, CR, LF).
// A prompt of N words is N prompt tokens; chat messages add their contents'
// words (no template overhead). /tokenize returns one id per word
// (FNV-1a of the word mod 50000, + 100). Output token k (0-based) is the text
// " w<k>" (one word each).
//
// ENDPOINTS
//   POST /v1/chat/completions, /v1/completions   OpenAI; stream:true → SSE:
//        chat: a role chunk and the first content chunk together at the first
//        token (as llama.cpp), a content chunk per token, a chunk with
//        finish_reason after the last, a usage chunk (choices: []) when
//        stream_options.include_usage, then `data: [DONE]`.
//   GET  /v1/models                               {"object":"list","data":[…]}
//   POST /completion  llama.cpp; stream → `data: {"content":…,"stop":false,…}`,
//        last: stop:true with timings{prompt_n,prompt_ms,predicted_n,
//        predicted_ms,…}, truncated, tokens_predicted, tokens_evaluated,
//        stop_type. No [DONE] (as llama.cpp). timings are the mock's actual
//        send times: prompt_ms = first token − request, predicted_ms = last −
//        first token.
//   POST /tokenize {"content": "..."} → {"tokens":[…]}
//   GET  /health  503 {"error":{"code":503,"message":"Loading model",
//        "type":"unavailable_error"}} while loading, then 200 {"status":"ok"}
//   GET  /props   n_ctx, build_info, default_generation_settings.n_ctx
//   GET  /metrics flavor vllm: vllm:num_requests_running, vllm:kv_cache_usage_perc,
//        vllm:num_preemptions_total, …; otherwise llamacpp:prompt_tokens_total,
//        llamacpp:tokens_predicted_total, llamacpp:requests_processing, …
//   POST /api/generate, /api/chat  Ollama NDJSON (stream defaults to true):
//        {"response":…} / {"message":{"role":"assistant","content":…}},
//        final done:true, done_reason, prompt_eval_count (kept tokens),
//        prompt_eval_duration, eval_count, eval_duration, load_duration,
//        total_duration (ns, actual).
//   GET  /api/version, /api/ps (models[].size_vram, context_length)
//   GET  /version  vLLM {"version":…}
//   GET  /mock/stats  JSON: requests_total, requests_by_path,
//        connections_accepted, streams_active, max_streams_active,
//        tokens_sent, lateness_us {count,p50,p99,max} (time of the token's send()
//        call − its due time, every token), traces {id: {t_request_ns, t_send_ns[]}}; times are
//        CLOCK_MONOTONIC ns, the clock of std::chrono::steady_clock.
//   POST /mock/reset  clears lateness samples, traces, max_streams_active.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <queue>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace {

using json = nlohmann::json;

int64_t now_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

std::string iso_now() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  std::tm tm{};
  ::gmtime_r(&ts.tv_sec, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000);
  return buf;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_space(s[i])) ++i;
    size_t start = i;
    while (i < s.size() && !is_space(s[i])) ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

int64_t word_count(std::string_view s) { return static_cast<int64_t>(words(s).size()); }

uint32_t token_id(std::string_view word) {
  uint32_t h = 2166136261u;
  for (char c : word) {
    h ^= static_cast<unsigned char>(c);
    h *= 16777619u;
  }
  return h % 50000u + 100u;
}

// ---------------------------------------------------------------- script

struct Script {
  double ttft_ms = 0;
  double itl_ms = 0;
  std::optional<int64_t> tokens;
  int64_t n_ctx = 4096;
  int64_t ollama_num_ctx = 2048;
  bool ctx_error_in_stream = false;
  std::string flavor = "llamacpp";
  int status = 0;
  std::string error_message;
  bool oom = false;
  int64_t malformed_at = -1;
  int64_t big_chunk_at = -1;
  int64_t big_chunk_bytes = 1 << 20;
  int64_t reset_at = -1;
  int64_t close_at = -1;
  bool hang = false;
  bool no_done = false;
  bool headers_with_first_token = false;
  int64_t preemptions = 0;
  double metrics_delay_ms = 0;
  std::string trace;
  std::string flood;
  std::string flood_path;
  int64_t flood_bytes = int64_t{1} << 40;
};

// Applies the keys of `obj` over `s`; returns an error text or "".
std::string apply_script(Script& s, const json& obj) {
  if (!obj.is_object()) return "script must be a JSON object";
  try {
    for (const auto& [key, v] : obj.items()) {
      if (key == "ttft_ms") s.ttft_ms = v.get<double>();
      else if (key == "itl_ms") s.itl_ms = v.get<double>();
      else if (key == "tokens") s.tokens = v.get<int64_t>();
      else if (key == "n_ctx") s.n_ctx = v.get<int64_t>();
      else if (key == "ollama_num_ctx") s.ollama_num_ctx = v.get<int64_t>();
      else if (key == "ctx_error_in_stream") s.ctx_error_in_stream = v.get<bool>();
      else if (key == "flavor") s.flavor = v.get<std::string>();
      else if (key == "status") s.status = v.get<int>();
      else if (key == "error_message") s.error_message = v.get<std::string>();
      else if (key == "oom") s.oom = v.get<bool>();
      else if (key == "malformed_at") s.malformed_at = v.get<int64_t>();
      else if (key == "big_chunk_at") s.big_chunk_at = v.get<int64_t>();
      else if (key == "big_chunk_bytes") s.big_chunk_bytes = v.get<int64_t>();
      else if (key == "reset_at") s.reset_at = v.get<int64_t>();
      else if (key == "close_at") s.close_at = v.get<int64_t>();
      else if (key == "hang") s.hang = v.get<bool>();
      else if (key == "no_done") s.no_done = v.get<bool>();
      else if (key == "headers_with_first_token") s.headers_with_first_token = v.get<bool>();
      else if (key == "preemptions") s.preemptions = v.get<int64_t>();
      else if (key == "metrics_delay_ms") s.metrics_delay_ms = v.get<double>();
      else if (key == "trace") s.trace = v.is_string() ? v.get<std::string>() : v.dump();
      else if (key == "flood") s.flood = v.get<std::string>();
      else if (key == "flood_path") s.flood_path = v.get<std::string>();
      else if (key == "flood_bytes") s.flood_bytes = v.get<int64_t>();
      else return "unknown mock script key '" + key + "'";
    }
  } catch (const json::exception& e) {
    return std::string("bad mock script value: ") + e.what();
  }
  if (s.flavor != "llamacpp" && s.flavor != "vllm" && s.flavor != "openai") return "flavor must be llamacpp, vllm or openai";
  if (!s.flood.empty() && s.flood != "body" && s.flood != "line" && s.flood != "headers" && s.flood != "header_line")
    return "flood must be body, line, headers or header_line";
  if (s.ttft_ms < 0 || s.itl_ms < 0 || s.big_chunk_bytes < 0 || s.metrics_delay_ms < 0) return "negative delay or size";
  return "";
}

// ---------------------------------------------------------------- HTTP parsing

struct HttpRequest {
  std::string method;
  std::string path;   // without the query
  std::string query;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  bool keep_alive = true;

  const std::string* header(std::string_view name) const {
    for (const auto& [k, v] : headers)
      if (k == name) return &v;
    return nullptr;
  }
};

enum class Parse { incomplete, bad, done };

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Decodes a chunked body starting at `pos`; on success sets `end` past the
// final CRLF (trailers skipped).
Parse decode_chunked(std::string_view buf, size_t pos, std::string& body, size_t& end) {
  body.clear();
  for (;;) {
    size_t eol = buf.find("\r\n", pos);
    if (eol == std::string_view::npos) return buf.size() - pos > 64 ? Parse::bad : Parse::incomplete;
    std::string_view line = buf.substr(pos, eol - pos);
    size_t semi = line.find(';');
    if (semi != std::string_view::npos) line = line.substr(0, semi);
    line = trim(line);
    if (line.empty()) return Parse::bad;
    uint64_t size = 0;
    for (char c : line) {
      int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
      if (d < 0 || size > (uint64_t{1} << 40)) return Parse::bad;
      size = size * 16 + static_cast<uint64_t>(d);
    }
    pos = eol + 2;
    if (size == 0) {
      for (;;) {  // trailers up to an empty line
        size_t e = buf.find("\r\n", pos);
        if (e == std::string_view::npos) return Parse::incomplete;
        bool empty = e == pos;
        pos = e + 2;
        if (empty) {
          end = pos;
          return Parse::done;
        }
      }
    }
    if (buf.size() - pos < size + 2) return Parse::incomplete;
    body.append(buf.substr(pos, size));
    if (buf.substr(pos + size, 2) != "\r\n") return Parse::bad;
    pos += size + 2;
  }
}

struct HeadInfo {
  size_t body_start = 0;
  bool chunked = false;
  size_t content_length = 0;
  bool expect_continue = false;
};

Parse parse_head(std::string_view buf, HttpRequest& req, HeadInfo& info) {
  size_t head_end = buf.find("\r\n\r\n");
  if (head_end == std::string_view::npos) return buf.size() > 65536 ? Parse::bad : Parse::incomplete;
  std::string_view head = buf.substr(0, head_end);
  size_t eol = head.find("\r\n");
  std::string_view request_line = head.substr(0, eol);
  size_t sp1 = request_line.find(' ');
  size_t sp2 = request_line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 == sp1) return Parse::bad;
  req = HttpRequest{};
  req.method = std::string(request_line.substr(0, sp1));
  std::string_view target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = request_line.substr(sp2 + 1);
  size_t q = target.find('?');
  req.path = std::string(target.substr(0, q));
  if (q != std::string_view::npos) req.query = std::string(target.substr(q + 1));
  req.keep_alive = version == "HTTP/1.1";
  info = HeadInfo{};
  info.body_start = head_end + 4;
  size_t pos = eol == std::string_view::npos ? head.size() : eol + 2;
  while (pos < head.size()) {
    size_t e = head.find("\r\n", pos);
    if (e == std::string_view::npos) e = head.size();
    std::string_view line = head.substr(pos, e - pos);
    pos = e + 2;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return Parse::bad;
    std::string name = lower(trim(line.substr(0, colon)));
    std::string value(trim(line.substr(colon + 1)));
    if (name == "content-length") {
      char* endp = nullptr;
      unsigned long long n = std::strtoull(value.c_str(), &endp, 10);
      if (endp == value.c_str() || *endp != '\0') return Parse::bad;
      info.content_length = static_cast<size_t>(n);
    } else if (name == "transfer-encoding") {
      info.chunked = lower(value).find("chunked") != std::string::npos;
    } else if (name == "expect") {
      info.expect_continue = lower(value) == "100-continue";
    } else if (name == "connection") {
      std::string v = lower(value);
      if (v.find("close") != std::string::npos) req.keep_alive = false;
      if (v.find("keep-alive") != std::string::npos) req.keep_alive = true;
    }
    req.headers.emplace_back(std::move(name), std::move(value));
  }
  return Parse::done;
}

// ---------------------------------------------------------------- server

enum class Api { openai_chat, openai_completions, llama_completion, ollama_generate, ollama_chat };

struct Stream {
  Api api = Api::llama_completion;
  bool streaming = true;
  bool include_usage = false;
  Script script;
  int64_t prompt_tokens = 0;     // as counted by the tokenizer rule
  int64_t kept_prompt_tokens = 0;  // after Ollama's front truncation
  bool truncated = false;
  int64_t out_tokens = 0;
  bool hit_limit = false;
  int64_t next_token = 0;
  int64_t t_request = 0;
  int64_t created = 0;  // Unix seconds
  int64_t t_first = 0;
  int64_t t_last = 0;
  bool headers_sent = false;
  bool ctx_error_event = false;  // a 200 stream that carries one error line
  std::string id;
  std::string model;
  std::string text;  // accumulated, for non-streamed answers
  std::vector<int64_t> sends;  // for traces
};

struct Conn {
  int fd = -1;
  uint64_t id = 0;
  std::string in;
  std::string out;
  size_t out_off = 0;
  bool want_out = false;
  bool close_after_flush = false;
  bool continue_sent = false;
  bool keep_alive = true;
  std::unique_ptr<Stream> stream;
  std::optional<Script> delayed_metrics;  // a GET /metrics waiting for its metrics_delay_ms
  std::string flood_piece;  // appended whenever `out` drains, until flood_left is spent
  int64_t flood_left = 0;
};

struct Timer {
  int64_t due;
  uint64_t conn;
  bool operator>(const Timer& o) const { return due > o.due; }
};

struct Trace {
  int64_t t_request = 0;
  std::vector<int64_t> sends;
};

class MockServer {
 public:
  MockServer(Script defaults, int64_t loading_ms, std::string model)
      : defaults_(std::move(defaults)), loading_until_(now_ns() + loading_ms * 1'000'000), model_(std::move(model)) {}

  bool listen_on(uint16_t port) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0) return perror_false("socket");
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) return perror_false("bind");
    if (::listen(listen_fd_, 4096) < 0) return perror_false("listen");
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    timer_fd_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (epoll_fd_ < 0 || timer_fd_ < 0) return perror_false("epoll/timerfd");
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kListenTag;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev);
    ev.data.u64 = kTimerTag;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, timer_fd_, &ev);
    // SIGTERM/SIGINT end the loop with exit(0), so sanitizers see a normal exit.
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    ::sigprocmask(SIG_BLOCK, &mask, nullptr);
    signal_fd_ = ::signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (signal_fd_ < 0) return perror_false("signalfd");
    ev.data.u64 = kSignalTag;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, signal_fd_, &ev);
    return true;
  }

  uint16_t port() const { return port_; }

  [[noreturn]] void run() {
    std::vector<epoll_event> events(512);
    for (;;) {
      int n = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), -1);
      wake_ns_ = now_ns();
      if (n < 0) {
        if (errno == EINTR) continue;
        std::perror("epoll_wait");
        std::exit(1);
      }
      for (int i = 0; i < n; ++i) {
        uint64_t tag = events[static_cast<size_t>(i)].data.u64;
        uint32_t what = events[static_cast<size_t>(i)].events;
        if (tag == kSignalTag) std::exit(0);
        if (tag == kListenTag) accept_all();
        else if (tag == kTimerTag) {
          uint64_t expirations = 0;
          [[maybe_unused]] ssize_t r = ::read(timer_fd_, &expirations, sizeof expirations);
        } else on_conn_event(tag, what);
      }
      run_due_timers();
    }
  }

 private:
  static constexpr uint64_t kListenTag = 0;
  static constexpr uint64_t kTimerTag = 1;
  static constexpr uint64_t kSignalTag = 2;

  static bool perror_false(const char* what) {
    std::perror(what);
    return false;
  }

  Conn* find(uint64_t id) {
    auto it = conns_.find(id);
    return it == conns_.end() ? nullptr : it->second.get();
  }

  void accept_all() {
    for (;;) {
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;  // EAGAIN, or EMFILE (the client will time out)
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      auto c = std::make_unique<Conn>();
      c->fd = fd;
      c->id = next_conn_id_++;
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLRDHUP;
      ev.data.u64 = c->id;
      ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
      ++connections_accepted_;
      conns_.emplace(c->id, std::move(c));
    }
  }

  void close_conn(Conn& c, bool reset = false) {
    if (reset) {
      linger lg{1, 0};
      ::setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c.fd, nullptr);
    ::close(c.fd);
    if (c.stream) end_stream(c);
    conns_.erase(c.id);  // destroys c
  }

  void on_conn_event(uint64_t id, uint32_t what) {
    Conn* c = find(id);
    if (!c) return;
    if (what & (EPOLLERR | EPOLLHUP)) {
      close_conn(*c);
      return;
    }
    if (what & EPOLLOUT) {
      if (!flush(*c)) return;
    }
    if (what & (EPOLLIN | EPOLLRDHUP)) {
      char buf[65536];
      for (;;) {
        ssize_t r = ::recv(c->fd, buf, sizeof buf, 0);
        if (r > 0) {
          c->in.append(buf, static_cast<size_t>(r));
          continue;
        }
        if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
          close_conn(*c);  // the client went away: drop its stream
          return;
        }
        if (errno == EINTR) continue;
        break;
      }
      process_input(*c);
    }
  }

  // Sends what is queued; false when the connection was closed.
  bool flush(Conn& c) {
    refill_flood(c);
    while (c.out_off < c.out.size()) {
      ssize_t w = ::send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
      if (w > 0) {
        c.out_off += static_cast<size_t>(w);
        continue;
      }
      if (w < 0 && errno == EINTR) continue;
      if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      close_conn(c);
      return false;
    }
    if (c.out_off == c.out.size()) {
      c.out.clear();
      c.out_off = 0;
      if (c.flood_left > 0) return flush(c);  // more flood: until the socket buffer is full
      if (c.close_after_flush) {
        close_conn(c);
        return false;
      }
    } else if (c.out_off > (1u << 20)) {
      c.out.erase(0, c.out_off);
      c.out_off = 0;
    }
    bool want = !c.out.empty();
    if (want != c.want_out) {
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLRDHUP | (want ? EPOLLOUT : 0u);
      ev.data.u64 = c.id;
      ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev);
      c.want_out = want;
    }
    return true;
  }

  void refill_flood(Conn& c) {
    if (c.flood_left <= 0 || c.out.size() - c.out_off >= c.flood_piece.size()) return;
    const auto n = static_cast<size_t>(std::min<int64_t>(c.flood_left, static_cast<int64_t>(c.flood_piece.size())));
    c.out.append(c.flood_piece, 0, n);
    c.flood_left -= static_cast<int64_t>(n);
  }

  // script.flood: a response that never ends (see the top of the file).
  void start_flood(Conn& c, const HttpRequest& req, const Script& s) {
    const bool ndjson = req.path.rfind("/api/", 0) == 0;
    if (s.flood == "body") {
      c.out += "HTTP/1.1 " + std::to_string(s.status ? s.status : 200) +
               " Status\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n[";
      c.flood_piece.assign(65536, '1');
    } else if (s.flood == "line") {
      c.out += std::string("HTTP/1.1 200 OK\r\nContent-Type: ") +
               (ndjson ? "application/x-ndjson" : "text/event-stream") + "\r\nConnection: close\r\n\r\n" +
               (ndjson ? "{\"x\":\"" : "data: {\"x\":\"");
      c.flood_piece.assign(65536, 'x');
    } else if (s.flood == "headers") {
      c.out += "HTTP/1.1 200 OK\r\n";
      c.flood_piece.clear();
      for (int i = 0; i < 64; ++i) c.flood_piece += "X-Flood: " + std::string(989, 'h') + "\r\n";
    } else {
      c.out += "HTTP/1.1 200 OK\r\nX-Flood: ";
      c.flood_piece.assign(65536, 'h');
    }
    c.flood_left = s.flood_bytes;
    c.close_after_flush = true;
    flush(c);
  }

  void process_input(Conn& c) {
    const uint64_t id = c.id;
    while (!c.stream && !c.close_after_flush && !c.delayed_metrics) {
      HttpRequest req;
      HeadInfo info;
      Parse p = parse_head(c.in, req, info);
      if (p == Parse::incomplete) return;
      if (p == Parse::bad) {
        respond(c, 400, "application/json", R"({"error":"bad request"})", false);
        return;
      }
      size_t consumed = 0;
      if (info.chunked) {
        Parse b = decode_chunked(c.in, info.body_start, req.body, consumed);
        if (b == Parse::bad) {
          respond(c, 400, "application/json", R"({"error":"bad chunked body"})", false);
          return;
        }
        if (b == Parse::incomplete) {
          send_continue(c, info);
          return;
        }
      } else {
        if (c.in.size() - info.body_start < info.content_length) {
          send_continue(c, info);
          return;
        }
        req.body = c.in.substr(info.body_start, info.content_length);
        consumed = info.body_start + info.content_length;
      }
      c.in.erase(0, consumed);
      c.continue_sent = false;
      c.keep_alive = req.keep_alive;
      handle(c, req);
      if (!find(id)) return;  // closed while answering
    }
  }

  void send_continue(Conn& c, const HeadInfo& info) {
    if (info.expect_continue && !c.continue_sent) {
      c.continue_sent = true;
      c.out += "HTTP/1.1 100 Continue\r\n\r\n";
      flush(c);
    }
  }

  static const char* reason(int status) {
    switch (status) {
      case 200: return "OK";
      case 400: return "Bad Request";
      case 404: return "Not Found";
      case 500: return "Internal Server Error";
      case 503: return "Service Unavailable";
      default: return "Status";
    }
  }

  void respond(Conn& c, int status, std::string_view type, std::string_view body, bool keep = true) {
    bool ka = keep && c.keep_alive;
    c.out += "HTTP/1.1 " + std::to_string(status) + " " + reason(status) + "\r\nContent-Type: " + std::string(type) +
             "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: " +
             (ka ? "keep-alive" : "close") + "\r\n\r\n";
    c.out += body;
    if (!ka) c.close_after_flush = true;
    flush(c);
  }

  void respond_json(Conn& c, int status, const json& j) { respond(c, status, "application/json", j.dump()); }

  // ------------------------------------------------------------ routing

  void handle(Conn& c, const HttpRequest& req) {
    ++requests_total_;
    ++requests_by_path_[req.method + " " + req.path];
    if (req.method == "POST" && req.path != "/tokenize" && req.path != "/detokenize" && exit_after_ > 0 &&
        ++posts_ >= exit_after_) {
      std::fprintf(stderr, "mock_engine: exiting with status 3 at POST %lld (--exit-after)\n", static_cast<long long>(posts_));
      std::_Exit(3);
    }
    if (req.method == "POST" && req.path != "/tokenize" && req.path != "/detokenize" && leak_bytes_per_request_ > 0)
      leak_once();
    Script script = defaults_;
    if (const std::string* h = req.header("x-mock-script")) {
      json obj = json::parse(*h, nullptr, false);
      std::string err = obj.is_discarded() ? "X-Mock-Script is not JSON" : apply_script(script, obj);
      if (!err.empty()) {
        respond_json(c, 400, {{"error", {{"code", 400}, {"message", err}, {"type", "mock_script_error"}}}});
        return;
      }
    }
    const std::string& p = req.path;
    if (!script.flood.empty() && (script.flood_path.empty() || script.flood_path == p)) return start_flood(c, req, script);
    const bool get = req.method == "GET";
    const bool post = req.method == "POST";
    if (get && p == "/health") return health(c);
    if (get && p == "/props") return props(c, script);
    if (get && p == "/metrics") {
      if (script.metrics_delay_ms > 0) {
        const auto due = now_ns() + static_cast<int64_t>(script.metrics_delay_ms * 1e6);
        c.delayed_metrics = script;
        return schedule(c, due);
      }
      return metrics(c, script);
    }
    if (get && p == "/v1/models") return models(c, script);
    if (get && p == "/version") return respond_json(c, 200, {{"version", "0.10.1-mock"}});
    if (get && p == "/api/version") return respond_json(c, 200, {{"version", "0.11.4-mock"}});
    if (get && p == "/api/ps") return api_ps(c, script);
    if (get && p == "/mock/stats") return stats(c);
    if (post && p == "/mock/reset") {
      lateness_ns_.clear();
      traces_.clear();
      max_streams_active_ = streams_active_;
      return respond_json(c, 200, {{"ok", true}});
    }
    if (post && p == "/tokenize") return tokenize(c, req);
    if (post && p == "/v1/chat/completions") return start(c, req, script, Api::openai_chat);
    if (post && p == "/v1/completions") return start(c, req, script, Api::openai_completions);
    if (post && p == "/completion") return start(c, req, script, Api::llama_completion);
    if (post && p == "/api/generate") return start(c, req, script, Api::ollama_generate);
    if (post && p == "/api/chat") return start(c, req, script, Api::ollama_chat);
    respond_json(c, 404, {{"error", {{"code", 404}, {"message", "File Not Found"}, {"type", "not_found_error"}}}});
  }

  bool loading() const { return now_ns() < loading_until_; }

  void health(Conn& c) {
    if (loading())
      return respond_json(c, 503, {{"error", {{"code", 503}, {"message", "Loading model"}, {"type", "unavailable_error"}}}});
    respond_json(c, 200, {{"status", "ok"}});
  }

  void props(Conn& c, const Script& s) {
    respond_json(c, 200, {{"default_generation_settings", {{"n_ctx", s.n_ctx}, {"params", {{"n_predict", -1}}}}},
                          {"total_slots", 1},
                          {"model_path", "/models/" + model_ + ".gguf"},
                          {"n_ctx", s.n_ctx},
                          {"build_info", "b6000-mock"}});
  }

  void models(Conn& c, const Script& s) {
    respond_json(c, 200, {{"object", "list"},
                          {"data", json::array({{{"id", model_},
                                                 {"object", "model"},
                                                 {"created", 1700000000},
                                                 {"owned_by", s.flavor == "vllm" ? "vllm" : "llamacpp"},
                                                 {"max_model_len", s.n_ctx},
                                                 {"meta", {{"n_ctx_train", s.n_ctx}}}}})}});
  }

  void api_ps(Conn& c, const Script& s) {
    respond_json(c, 200, {{"models", json::array({{{"name", model_},
                                                   {"model", model_},
                                                   {"size", 5'000'000'000LL},
                                                   {"digest", "0123456789abcdef"},
                                                   {"details", {{"format", "gguf"}, {"family", "llama"},
                                                                {"parameter_size", "8.0B"},
                                                                {"quantization_level", "Q4_K_M"}}},
                                                   {"expires_at", "2099-01-01T00:00:00Z"},
                                                   {"size_vram", 4'500'000'000LL},
                                                   {"context_length", s.ollama_num_ctx}}})}});
  }

  void metrics(Conn& c, const Script& s) {
    std::string m;
    auto add = [&m](const char* name, const char* type, const char* help, const std::string& labels, double v) {
      char num[64];
      std::snprintf(num, sizeof num, "%.17g", v);
      m += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + labels + " " +
           num + "\n";
    };
    double kv_used = 0;
    for (const auto& [id, conn] : conns_)
      if (conn->stream) kv_used += static_cast<double>(conn->stream->kept_prompt_tokens + conn->stream->next_token);
    double kv_ratio = s.n_ctx > 0 ? std::min(1.0, kv_used / static_cast<double>(s.n_ctx)) : 0;
    if (s.flavor == "vllm") {
      std::string l = "{model_name=\"" + model_ + "\"}";
      add("vllm:num_requests_running", "gauge", "Number of requests in model execution batches.", l,
          static_cast<double>(streams_active_));
      add("vllm:num_requests_waiting", "gauge", "Number of requests waiting to be processed.", l, 0);
      add("vllm:kv_cache_usage_perc", "gauge", "KV-cache usage. 1 means 100 percent usage.", l, kv_ratio);
      add("vllm:num_preemptions_total", "counter", "Cumulative number of preemption from the engine.", l,
          static_cast<double>(preemptions_total_));
      add("vllm:prompt_tokens_total", "counter", "Number of prefill tokens processed.", l,
          static_cast<double>(prompt_tokens_total_));
      add("vllm:generation_tokens_total", "counter", "Number of generation tokens processed.", l,
          static_cast<double>(tokens_sent_));
    } else {
      add("llamacpp:prompt_tokens_total", "counter", "Number of prompt tokens processed.", "",
          static_cast<double>(prompt_tokens_total_));
      add("llamacpp:prompt_seconds_total", "counter", "Prompt process time", "", prompt_seconds_total_);
      add("llamacpp:tokens_predicted_total", "counter", "Number of generation tokens processed.", "",
          static_cast<double>(tokens_sent_));
      add("llamacpp:tokens_predicted_seconds_total", "counter", "Predict process time", "", predicted_seconds_total_);
      add("llamacpp:n_decode_total", "counter", "Total number of llama_decode() calls", "",
          static_cast<double>(tokens_sent_));
      add("llamacpp:kv_cache_usage_ratio", "gauge", "KV-cache usage. 1 means 100 percent usage.", "", kv_ratio);
      add("llamacpp:kv_cache_tokens", "gauge", "KV-cache tokens.", "", kv_used);
      add("llamacpp:requests_processing", "gauge", "Number of requests processing.", "",
          static_cast<double>(streams_active_));
      add("llamacpp:requests_deferred", "gauge", "Number of requests deferred.", "", 0);
    }
    respond(c, 200, "text/plain; version=0.0.4", m);
  }

  void tokenize(Conn& c, const HttpRequest& req) {
    json body = json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.contains("content") || !body["content"].is_string())
      return respond_json(c, 400, {{"error", {{"code", 400}, {"message", "\"content\" must be a string"},
                                              {"type", "invalid_request_error"}}}});
    json tokens = json::array();
    std::string content = body["content"].get<std::string>();
    for (std::string_view w : words(content)) tokens.push_back(token_id(w));
    respond_json(c, 200, {{"tokens", tokens}});
  }

  static int64_t percentile(std::vector<int64_t> v, double q) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    size_t idx = static_cast<size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
    return v[std::min(idx, v.size() - 1)];
  }

  void stats(Conn& c) {
    json traces = json::object();
    for (const auto& [id, t] : traces_) traces[id] = {{"t_request_ns", t.t_request}, {"t_send_ns", t.sends}};
    int64_t max = lateness_ns_.empty() ? 0 : *std::max_element(lateness_ns_.begin(), lateness_ns_.end());
    respond_json(c, 200, {{"requests_total", requests_total_},
                          {"requests_by_path", requests_by_path_},
                          {"connections_accepted", connections_accepted_},
                          {"streams_active", streams_active_},
                          {"max_streams_active", max_streams_active_},
                          {"tokens_sent", tokens_sent_},
                          {"prompt_tokens_total", prompt_tokens_total_},
                          {"lateness_us", {{"count", lateness_ns_.size()},
                                           {"p50", static_cast<double>(percentile(lateness_ns_, 0.50)) / 1e3},
                                           {"p99", static_cast<double>(percentile(lateness_ns_, 0.99)) / 1e3},
                                           {"max", static_cast<double>(max) / 1e3}}},
                          {"traces", traces}});
  }

  // ------------------------------------------------------------ errors

  // The error body an engine sends for `status`, in the shape of `api`.
  json error_body(Api api, const Script& s, int status, const std::string& message, const char* llama_type) const {
    bool ollama = api == Api::ollama_generate || api == Api::ollama_chat;
    if (ollama) return {{"error", message}};
    bool openai_api = api == Api::openai_chat || api == Api::openai_completions;
    if (!openai_api || s.flavor == "llamacpp")
      return {{"error", {{"code", status}, {"message", message}, {"type", llama_type}}}};
    const char* type = s.flavor == "vllm" ? (status >= 500 ? "InternalServerError" : "BadRequestError")
                                          : (status >= 500 ? "server_error" : "invalid_request_error");
    return {{"error", {{"message", message}, {"type", type}, {"param", nullptr}, {"code", status}}}};
  }

  static std::string oom_message(Api api, const Script& s) {
    if (api == Api::ollama_generate || api == Api::ollama_chat)
      return "llama runner process has terminated: cudaMalloc failed: out of memory";
    if ((api == Api::openai_chat || api == Api::openai_completions) && s.flavor == "vllm")
      return "CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 79.10 GiB of which "
             "1.02 GiB is free.";
    return "ggml_backend_cuda_buffer_type_alloc_buffer: allocating 2048.00 MiB on device 0: cudaMalloc failed: "
           "out of memory";
  }

  // ------------------------------------------------------------ streams

  static int64_t prompt_tokens_of(const json& body, Api api) {
    int64_t n = 0;
    auto count_content = [&n](const json& content) {
      if (content.is_string()) n += word_count(content.get_ref<const std::string&>());
      else if (content.is_array())
        for (const auto& part : content)
          if (part.is_object() && part.contains("text") && part["text"].is_string())
            n += word_count(part["text"].get_ref<const std::string&>());
    };
    if (api == Api::openai_chat || api == Api::ollama_chat) {
      if (body.contains("messages") && body["messages"].is_array())
        for (const auto& m : body["messages"])
          if (m.is_object() && m.contains("content")) count_content(m["content"]);
      return n;
    }
    if (body.contains("prompt")) {
      const json& p = body["prompt"];
      if (p.is_array() && !p.empty() && p[0].is_number()) return static_cast<int64_t>(p.size());  // token ids
      count_content(p);
      if (p.is_array())
        for (const auto& e : p)
          if (e.is_string()) n += word_count(e.get_ref<const std::string&>());
    }
    if (api == Api::ollama_generate && body.contains("system")) count_content(body["system"]);
    return n;
  }

  static std::optional<int64_t> int_field(const json& obj, const char* key) {
    if (obj.is_object() && obj.contains(key) && obj[key].is_number_integer()) return obj[key].get<int64_t>();
    return std::nullopt;
  }

  void start(Conn& c, const HttpRequest& req, const Script& script, Api api) {
    json body = json::parse(req.body, nullptr, false);
    const bool ollama = api == Api::ollama_generate || api == Api::ollama_chat;
    if (body.is_discarded() || !body.is_object())
      return respond_json(c, 400, error_body(api, script, 400, "invalid JSON body", "invalid_request_error"));
    if (loading())
      return respond_json(c, 503, error_body(api, script, 503, "Loading model", "unavailable_error"));
    if (script.status != 0) {
      std::string msg = script.error_message.empty() ? (script.status == 503 ? "Service Unavailable" : "Internal Server Error")
                                                     : script.error_message;
      return respond_json(c, script.status,
                          error_body(api, script, script.status, msg,
                                     script.status == 503 ? "unavailable_error" : "server_error"));
    }
    if (script.oom)
      return respond_json(c, 500, error_body(api, script, 500, oom_message(api, script), "server_error"));

    auto st = std::make_unique<Stream>();
    st->api = api;
    st->script = script;
    st->t_request = wake_ns_;  // when its bytes were there, not when the mock got to them
    st->created = static_cast<int64_t>(::time(nullptr));
    st->model = body.contains("model") && body["model"].is_string() ? body["model"].get<std::string>() : model_;
    st->streaming = body.contains("stream") && body["stream"].is_boolean() ? body["stream"].get<bool>() : ollama;
    if (body.contains("stream_options") && body["stream_options"].is_object())
      st->include_usage = body["stream_options"].value("include_usage", false);
    st->prompt_tokens = prompt_tokens_of(body, api);
    st->kept_prompt_tokens = st->prompt_tokens;

    int64_t limit = -1;  // the request's output limit; -1: none (until EOS)
    if (ollama) {
      json options = body.contains("options") ? body["options"] : json::object();
      limit = int_field(options, "num_predict").value_or(-1);
      int64_t num_ctx = int_field(options, "num_ctx").value_or(script.ollama_num_ctx);
      if (num_ctx > 0 && st->prompt_tokens > num_ctx) {  // silently keep the tail, as Ollama does
        st->kept_prompt_tokens = num_ctx;
        st->truncated = true;
      }
    } else if (api == Api::llama_completion) {
      limit = int_field(body, "n_predict").value_or(int_field(body, "max_tokens").value_or(-1));
    } else {
      limit = int_field(body, "max_completion_tokens").value_or(int_field(body, "max_tokens").value_or(-1));
    }
    if (limit < 0) limit = -1;
    const int64_t budget = std::max<int64_t>(limit, 0);  // counted against n_ctx

    // Context overflow.
    const bool llama_rules = api == Api::llama_completion || (!ollama && script.flavor == "llamacpp");
    if (!ollama) {
      const int64_t p = st->prompt_tokens;
      if (llama_rules && p >= script.n_ctx) {
        json err = {{"code", 400},
                    {"message", "the request exceeds the available context size, try increasing it"},
                    {"type", "exceed_context_size_error"},
                    {"n_prompt_tokens", p},
                    {"n_ctx", script.n_ctx}};
        if (script.ctx_error_in_stream && st->streaming) {
          st->ctx_error_event = true;
          c.out += stream_headers(*st);
          c.out += frame("error: " + err.dump() + "\n\n");
          c.out += "0\r\n\r\n";
          flush(c);
          return;
        }
        return respond_json(c, 400, {{"error", err}});
      }
      if (!llama_rules && p + budget > script.n_ctx) {
        std::string msg = "This model's maximum context length is " + std::to_string(script.n_ctx) +
                          " tokens. However, you requested " + std::to_string(p + budget) + " tokens (" +
                          std::to_string(p) + " in the messages, " + std::to_string(budget) +
                          " in the completion). Please reduce the length of the messages or completion.";
        return respond_json(c, 400, error_body(api, script, 400, msg, "invalid_request_error"));
      }
    }

    int64_t want = script.tokens.value_or(limit >= 0 ? limit : 16);
    if (limit >= 0 && want >= limit) {
      want = limit;
      st->hit_limit = true;
    }
    st->out_tokens = std::max<int64_t>(0, want);
    st->id = (api == Api::openai_chat ? "chatcmpl-mock-" : "cmpl-mock-") + std::to_string(++stream_seq_);

    prompt_tokens_total_ += st->kept_prompt_tokens;
    preemptions_total_ += script.preemptions;
    ++streams_active_;
    max_streams_active_ = std::max(max_streams_active_, streams_active_);
    c.stream = std::move(st);
    Stream& s = *c.stream;
    if (s.streaming && !s.script.headers_with_first_token) {
      s.headers_sent = true;
      c.out += stream_headers(s);
      if (!flush(c)) return;
    }
    if (s.script.hang) {
      if (s.streaming && !s.headers_sent) {
        s.headers_sent = true;
        c.out += stream_headers(s);
        flush(c);
      }
      return;  // nothing more, ever; the client times out and closes
    }
    schedule(c, due_of(s, s.streaming ? 0 : std::max<int64_t>(0, s.out_tokens - 1)));
  }

  static int64_t due_of(const Stream& s, int64_t k) {
    double ms = s.script.ttft_ms + static_cast<double>(k) * s.script.itl_ms;
    return s.t_request + static_cast<int64_t>(ms * 1e6);
  }

  void schedule(Conn& c, int64_t due) {
    timers_.push(Timer{due, c.id});
    if (armed_for_ == 0 || due < armed_for_) arm(due);
  }

  void arm(int64_t due) {
    itimerspec its{};
    if (due <= 0) due = 1;
    its.it_value.tv_sec = due / 1'000'000'000;
    its.it_value.tv_nsec = due % 1'000'000'000;
    ::timerfd_settime(timer_fd_, TFD_TIMER_ABSTIME, &its, nullptr);
    armed_for_ = due;
  }

  void run_due_timers() {
    for (;;) {
      if (timers_.empty()) {
        armed_for_ = 0;
        return;
      }
      Timer t = timers_.top();
      int64_t now = now_ns();
      if (t.due > now) {
        if (armed_for_ != t.due) arm(t.due);
        return;
      }
      timers_.pop();
      Conn* c = find(t.conn);
      if (c && c->delayed_metrics) {
        Script s = *c->delayed_metrics;
        c->delayed_metrics.reset();
        const uint64_t id = c->id;
        metrics(*c, s);
        if ((c = find(id)) != nullptr) process_input(*c);  // requests that queued behind it
      } else if (c && c->stream) {
        tick(*c, t.due);
      }
    }
  }

  std::string stream_headers(const Stream& s) const {
    bool ollama = s.api == Api::ollama_generate || s.api == Api::ollama_chat;
    return std::string("HTTP/1.1 200 OK\r\nContent-Type: ") + (ollama ? "application/x-ndjson" : "text/event-stream") +
           "\r\nCache-Control: no-cache\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n";
  }

  static std::string frame(std::string_view payload) {
    char hex[32];
    std::snprintf(hex, sizeof hex, "%zx\r\n", payload.size());
    std::string out = hex;
    out.append(payload);
    out += "\r\n";
    return out;
  }

  std::string token_text(const Stream& s, int64_t k) const {
    if (k == s.script.big_chunk_at) return std::string(static_cast<size_t>(s.script.big_chunk_bytes), 'x');
    return " w" + std::to_string(k);
  }

  // One streamed event for token k (payload without HTTP framing).
  std::string token_event(const Stream& s, int64_t k, const std::string& text) const {
    const std::string escaped = json(text).dump();
    std::string obj;
    const std::string created = std::to_string(s.created);
    switch (s.api) {
      case Api::openai_chat: {
        std::string head = R"({"id":")" + s.id + R"(","object":"chat.completion.chunk","created":)" + created +
                           R"(,"model":")" + s.model + R"(","choices":[{"index":0,"delta":)";
        std::string out;
        if (k == 0) out += "data: " + head + R"({"role":"assistant","content":null},"finish_reason":null}]})" + "\n\n";
        obj = head + R"({"content":)" + escaped + R"(},"finish_reason":null}]})";
        return out + "data: " + malformed(s, k, obj) + "\n\n";
      }
      case Api::openai_completions:
        obj = R"({"id":")" + s.id + R"(","object":"text_completion","created":)" + created + R"(,"model":")" + s.model +
              R"(","choices":[{"index":0,"text":)" + escaped + R"(,"logprobs":null,"finish_reason":null}]})";
        return "data: " + malformed(s, k, obj) + "\n\n";
      case Api::llama_completion:
        obj = R"({"index":0,"content":)" + escaped + R"(,"tokens":[],"stop":false,"id_slot":0,"tokens_predicted":)" +
              std::to_string(k + 1) + R"(,"tokens_evaluated":)" + std::to_string(s.kept_prompt_tokens) + "}";
        return "data: " + malformed(s, k, obj) + "\n\n";
      case Api::ollama_generate:
        obj = R"({"model":")" + s.model + R"(","created_at":")" + iso_now() + R"(","response":)" + escaped +
              R"(,"done":false})";
        return malformed(s, k, obj) + "\n";
      case Api::ollama_chat:
        obj = R"({"model":")" + s.model + R"(","created_at":")" + iso_now() +
              R"(","message":{"role":"assistant","content":)" + escaped + R"(},"done":false})";
        return malformed(s, k, obj) + "\n";
    }
    return obj;
  }

  static std::string malformed(const Stream& s, int64_t k, const std::string& obj) {
    if (k != s.script.malformed_at) return obj;
    return obj.substr(0, obj.size() / 2) + "\x01#";  // cut mid-object: invalid JSON
  }

  std::string finish_reason(const Stream& s) const { return s.hit_limit ? "length" : "stop"; }

  json llama_timings(const Stream& s) const {
    double prompt_ms = static_cast<double>(s.t_first - s.t_request) / 1e6;
    double predicted_ms = static_cast<double>(s.t_last - s.t_first) / 1e6;
    double n = static_cast<double>(s.out_tokens);
    double p = static_cast<double>(s.kept_prompt_tokens);
    return {{"prompt_n", s.kept_prompt_tokens},
            {"prompt_ms", prompt_ms},
            {"prompt_per_token_ms", p > 0 ? prompt_ms / p : 0},
            {"prompt_per_second", prompt_ms > 0 ? p * 1e3 / prompt_ms : 0},
            {"predicted_n", s.out_tokens},
            {"predicted_ms", predicted_ms},
            {"predicted_per_token_ms", n > 0 ? predicted_ms / n : 0},
            {"predicted_per_second", predicted_ms > 0 ? n * 1e3 / predicted_ms : 0}};
  }

  json ollama_final(const Stream& s) const {
    json j = {{"model", s.model}, {"created_at", iso_now()}};
    if (s.api == Api::ollama_chat) j["message"] = {{"role", "assistant"}, {"content", s.streaming ? "" : s.text}};
    else j["response"] = s.streaming ? "" : s.text;
    j["done"] = true;
    j["done_reason"] = finish_reason(s);
    j["total_duration"] = now_ns() - s.t_request;
    j["load_duration"] = 1'000'000;
    j["prompt_eval_count"] = s.kept_prompt_tokens;
    j["prompt_eval_duration"] = s.t_first - s.t_request;
    j["eval_count"] = s.out_tokens;
    j["eval_duration"] = s.t_last - s.t_first;
    return j;
  }

  json usage(const Stream& s) const {
    return {{"prompt_tokens", s.kept_prompt_tokens},
            {"completion_tokens", s.out_tokens},
            {"total_tokens", s.kept_prompt_tokens + s.out_tokens}};
  }

  // The tail of a streamed answer after its last token.
  std::string final_events(const Stream& s) const {
    std::string out;
    switch (s.api) {
      case Api::openai_chat:
      case Api::openai_completions: {
        bool chat = s.api == Api::openai_chat;
        json choice = chat ? json{{"index", 0}, {"delta", json::object()}, {"finish_reason", finish_reason(s)}}
                           : json{{"index", 0}, {"text", ""}, {"logprobs", nullptr}, {"finish_reason", finish_reason(s)}};
        json base = {{"id", s.id},
                     {"object", chat ? "chat.completion.chunk" : "text_completion"},
                     {"created", s.created},
                     {"model", s.model}};
        json fin = base;
        fin["choices"] = json::array({choice});
        out += "data: " + fin.dump() + "\n\n";
        if (s.include_usage) {
          json u = base;
          u["choices"] = json::array();
          u["usage"] = usage(s);
          out += "data: " + u.dump() + "\n\n";
        }
        if (!s.script.no_done) out += "data: [DONE]\n\n";
        return out;
      }
      case Api::llama_completion: {
        if (s.script.no_done) return out;
        json fin = {{"index", 0},
                    {"content", ""},
                    {"tokens", json::array()},
                    {"id_slot", 0},
                    {"stop", true},
                    {"model", s.model},
                    {"tokens_predicted", s.out_tokens},
                    {"tokens_evaluated", s.kept_prompt_tokens},
                    {"generation_settings", {{"n_predict", s.out_tokens}}},
                    {"prompt", ""},
                    {"has_new_line", false},
                    {"truncated", false},
                    {"stop_type", s.hit_limit ? "limit" : "eos"},
                    {"stopping_word", ""},
                    {"tokens_cached", s.kept_prompt_tokens + s.out_tokens},
                    {"timings", llama_timings(s)}};
        return "data: " + fin.dump() + "\n\n";
      }
      case Api::ollama_generate:
      case Api::ollama_chat:
        if (s.script.no_done) return out;
        return ollama_final(s).dump() + "\n";
    }
    return out;
  }

  std::string full_answer(const Stream& s) const {
    switch (s.api) {
      case Api::openai_chat:
        return json{{"id", s.id},
                    {"object", "chat.completion"},
                    {"created", s.created},
                    {"model", s.model},
                    {"choices", json::array({{{"index", 0},
                                               {"message", {{"role", "assistant"}, {"content", s.text}}},
                                               {"finish_reason", finish_reason(s)}}})},
                    {"usage", usage(s)}}
            .dump();
      case Api::openai_completions:
        return json{{"id", s.id},
                    {"object", "text_completion"},
                    {"created", s.created},
                    {"model", s.model},
                    {"choices", json::array({{{"index", 0},
                                               {"text", s.text},
                                               {"logprobs", nullptr},
                                               {"finish_reason", finish_reason(s)}}})},
                    {"usage", usage(s)}}
            .dump();
      case Api::llama_completion:
        return json{{"index", 0},
                    {"content", s.text},
                    {"tokens", json::array()},
                    {"id_slot", 0},
                    {"stop", true},
                    {"model", s.model},
                    {"tokens_predicted", s.out_tokens},
                    {"tokens_evaluated", s.kept_prompt_tokens},
                    {"truncated", false},
                    {"stop_type", s.hit_limit ? "limit" : "eos"},
                    {"stopping_word", ""},
                    {"timings", llama_timings(s)}}
            .dump();
      case Api::ollama_generate:
      case Api::ollama_chat:
        return ollama_final(s).dump();
    }
    return "{}";
  }

  void tick(Conn& c, int64_t due) {
    Stream& s = *c.stream;
    const uint64_t id = c.id;
    if (!s.streaming) {  // one answer once the last token is due
      int64_t now = now_ns();
      s.t_first = due_of(s, 0) <= now ? due_of(s, 0) : now;
      s.t_last = now;
      for (int64_t k = 0; k < s.out_tokens; ++k) s.text += token_text(s, k);
      tokens_sent_ += s.out_tokens;
      std::string body = full_answer(s);
      end_stream(c);
      respond(c, 200, "application/json", body);
      if (find(id)) process_input(*find(id));
      return;
    }
    const int64_t k = s.next_token;
    if (k == s.script.reset_at) {
      close_conn(c, true);
      return;
    }
    if (k == s.script.close_at) {
      flush(c);
      if (find(id)) close_conn(c);
      return;
    }
    if (!s.headers_sent) {
      s.headers_sent = true;
      c.out += stream_headers(s);
    }
    std::string payload;
    if (k < s.out_tokens) payload = token_event(s, k, token_text(s, k));
    const bool last = k + 1 >= s.out_tokens;
    if (last) {
      s.t_first = s.t_first ? s.t_first : now_ns();
      s.t_last = now_ns();
      if (k < s.out_tokens) ++tokens_sent_;
      payload += final_events(s);
      c.out += frame(payload);
      c.out += "0\r\n\r\n";
    } else {
      c.out += frame(payload);
      ++tokens_sent_;
    }
    const int64_t sent = now_ns();  // before send(): a client can never see the bytes earlier
    if (!flush(c)) return;
    if (k < s.out_tokens) {
      if (lateness_ns_.size() < (size_t{1} << 24)) lateness_ns_.push_back(sent - due);  // ≤ 128 MiB
      if (k == 0) s.t_first = sent;
      if (!s.script.trace.empty()) s.sends.push_back(sent);
    }
    s.next_token = k + 1;
    if (!last) {
      schedule(c, due_of(s, k + 1));
      return;
    }
    end_stream(c);
    if (!c.keep_alive) {
      c.close_after_flush = true;
      flush(c);
      return;
    }
    process_input(c);
  }

  void end_stream(Conn& c) {
    Stream& s = *c.stream;
    --streams_active_;
    prompt_seconds_total_ += static_cast<double>(std::max<int64_t>(0, s.t_first - s.t_request)) / 1e9;
    predicted_seconds_total_ += static_cast<double>(std::max<int64_t>(0, s.t_last - s.t_first)) / 1e9;
    if (!s.script.trace.empty() && traces_.size() < 100000) traces_[s.script.trace] = Trace{s.t_request, std::move(s.sends)};
    c.stream.reset();
  }

  Script defaults_;
  int64_t loading_until_;
  std::string model_;
  int listen_fd_ = -1;
  int epoll_fd_ = -1;
  int timer_fd_ = -1;
  int signal_fd_ = -1;
  uint16_t port_ = 0;
  uint64_t next_conn_id_ = 3;  // 0, 1 and 2 tag the listener, the timer and signals
  std::unordered_map<uint64_t, std::unique_ptr<Conn>> conns_;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers_;
  int64_t armed_for_ = 0;
  int64_t wake_ns_ = 0;  // when the current epoll_wait returned
  uint64_t stream_seq_ = 0;

  int64_t requests_total_ = 0;
  int64_t posts_ = 0;

 public:
  int64_t exit_after_ = 0;  // --exit-after N: the Nth inference POST ends the process (status 3)
  int64_t leak_bytes_per_request_ = 0;  // --leak-bytes-per-request B

  // B bytes of anonymous memory, every page written, kept for good.
  void leak_once() {
    const auto bytes = static_cast<std::size_t>(leak_bytes_per_request_);
    void* block = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (block == MAP_FAILED) return;
    auto* page = static_cast<volatile unsigned char*>(block);
    for (std::size_t off = 0; off < bytes; off += 4096) page[off] = 1;
    leaked_.push_back(block);
  }

 private:
  std::map<std::string, int64_t> requests_by_path_;
  int64_t connections_accepted_ = 0;
  int64_t streams_active_ = 0;
  int64_t max_streams_active_ = 0;
  int64_t tokens_sent_ = 0;
  int64_t prompt_tokens_total_ = 0;
  int64_t preemptions_total_ = 0;
  double prompt_seconds_total_ = 0;
  double predicted_seconds_total_ = 0;
  std::vector<int64_t> lateness_ns_;
  std::map<std::string, Trace> traces_;
  std::vector<void*> leaked_;
};

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr, "mock_engine: %s\nusage: mock_engine [--port P] [--loading-ms MS] [--model NAME] [--KEY VALUE]...\n",
               why.c_str());
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);
  long port = 0;
  long loading_ms = 0;
  long kv_bytes_per_token = 0;
  long exit_after = 0;
  long leak_bytes_per_request = 0;
  std::string model = "mock-model";
  json script_keys = json::object();
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0 || i + 1 >= argc) usage("expected --KEY VALUE pairs");
    std::string key = a.substr(2);
    std::string value = argv[++i];
    std::replace(key.begin(), key.end(), '-', '_');
    if (key == "port") port = std::strtol(value.c_str(), nullptr, 10);
    else if (key == "loading_ms") loading_ms = std::strtol(value.c_str(), nullptr, 10);
    else if (key == "model") model = value;
    else if (key == "kv_bytes_per_token") kv_bytes_per_token = std::strtol(value.c_str(), nullptr, 10);
    else if (key == "exit_after") exit_after = std::strtol(value.c_str(), nullptr, 10);
    else if (key == "leak_bytes_per_request") leak_bytes_per_request = std::strtol(value.c_str(), nullptr, 10);
    else {
      json v = json::parse(value, nullptr, false);
      script_keys[key] = v.is_discarded() ? json(value) : v;
    }
  }
  if (port < 0 || port > 65535) usage("bad port");
  Script defaults;
  std::string err = apply_script(defaults, script_keys);
  if (!err.empty()) usage(err);
  if (kv_bytes_per_token < 0) usage("bad --kv-bytes-per-token");
  if (leak_bytes_per_request < 0) usage("bad --leak-bytes-per-request");
  if (kv_bytes_per_token > 0 && defaults.n_ctx > 0) {
    const std::size_t bytes = static_cast<std::size_t>(defaults.n_ctx) * static_cast<std::size_t>(kv_bytes_per_token);
    void* kv = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (kv == MAP_FAILED) usage("cannot map the KV cache");
    auto* page = static_cast<volatile unsigned char*>(kv);
    for (std::size_t off = 0; off < bytes; off += 4096) page[off] = 1;
  }
  MockServer server(std::move(defaults), loading_ms, model);
  server.exit_after_ = exit_after;
  server.leak_bytes_per_request_ = leak_bytes_per_request;
  if (!server.listen_on(static_cast<uint16_t>(port))) return 1;
  std::printf("listening on 127.0.0.1:%u\n", static_cast<unsigned>(server.port()));
  std::fflush(stdout);
  server.run();
}

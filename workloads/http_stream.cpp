#include "workloads/http_stream.h"

#include <curl/curl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include "core/text.h"
#include "core/unique_fd.h"
#include "workloads/curl_handles.h"

namespace tierscope::workloads {

std::string_view to_string(TransferOutcome outcome) {
  switch (outcome) {
    case TransferOutcome::ok: return "ok";
    case TransferOutcome::http_error: return "http_error";
    case TransferOutcome::engine_down: return "engine_down";
    case TransferOutcome::timeout: return "timeout";
    case TransferOutcome::connection_reset: return "connection_reset";
    case TransferOutcome::transport_error: return "transport_error";
  }
  return "transport_error";
}

TransferOutcome classify_transfer(int curl_code, long http_status) {
  switch (static_cast<CURLcode>(curl_code)) {
    case CURLE_OK:
      return http_status >= 200 && http_status < 400 ? TransferOutcome::ok : TransferOutcome::http_error;
    case CURLE_COULDNT_CONNECT:       // ECONNREFUSED, EHOSTUNREACH: nothing listens
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return TransferOutcome::engine_down;
    case CURLE_OPERATION_TIMEDOUT:
      return TransferOutcome::timeout;
    case CURLE_RECV_ERROR:    // ECONNRESET while reading
    case CURLE_SEND_ERROR:    // EPIPE/ECONNRESET while writing the request
    case CURLE_PARTIAL_FILE:  // EOF before Content-Length / the last chunk
    case CURLE_GOT_NOTHING:   // closed before any response byte
      return TransferOutcome::connection_reset;
    default:
      return TransferOutcome::transport_error;
  }
}

namespace {

constexpr uint64_t kWakeTag = ~uint64_t{0};

// libcurl's own refusal of one header line over 100 KiB: CURLE_OUT_OF_MEMORY
// up to 8.5, CURLE_TOO_LARGE (100) since 8.6.
constexpr int kCurleTooLarge = 100;

std::string headers_over_cap_reason() {
  return "response headers over " + text::size_words(kMaxResponseHeaderBytes);
}

}  // namespace

// Members are destroyed in reverse order: transfers (each detaches from the
// multi handle), idle easy handles, the multi handle, then the eventfd and the
// epoll set the socket callback still uses until then.
struct StreamLoop::Impl {
  struct Transfer {
    Transfer(Impl& owner, uint64_t transfer_id) : id(transfer_id), loop(&owner) {}
    ~Transfer() {
      if (easy) curl_multi_remove_handle(loop->multi.get(), easy.get());
    }
    Transfer(const Transfer&) = delete;
    Transfer& operator=(const Transfer&) = delete;

    uint64_t id = 0;
    Impl* loop = nullptr;
    HeaderList headers;  // before `easy`, so the handle goes first
    EasyHandle easy;
    HttpRequest request;
    StreamCallbacks callbacks;
    TransferResult result;
    bool headers_seen = false;
    bool cancelled = false;
    std::size_t header_bytes = 0;
    char error[CURL_ERROR_SIZE] = {};
  };

  StreamLoopOptions options;
  UniqueFd epoll_fd{::epoll_create1(EPOLL_CLOEXEC)};
  UniqueFd wake_fd{::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)};
  CurlMulti multi;
  std::vector<EasyHandle> idle_easy;  // reset handles for reuse
  uint64_t next_id = 1;
  std::unordered_map<uint64_t, std::unique_ptr<Transfer>> transfers;
  std::vector<Transfer*> to_attach;  // added while inside libcurl
  bool in_curl = false;
  bool has_timer = false;
  SteadyTime timer_due{};
  bool woken = false;
  size_t cancelled_count = 0;

  explicit Impl(StreamLoopOptions o) : options(o) {
    if (!multi || !epoll_fd || !wake_fd)
      throw std::runtime_error("StreamLoop: curl_multi_init/epoll_create1/eventfd failed");
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kWakeTag;
    ::epoll_ctl(epoll_fd.get(), EPOLL_CTL_ADD, wake_fd.get(), &ev);
    CURLM* m = multi.get();
    curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, &Impl::socket_cb);
    curl_multi_setopt(m, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, &Impl::timer_cb);
    curl_multi_setopt(m, CURLMOPT_TIMERDATA, this);
    curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, options.max_connections);
    curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, options.max_connections);
    curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, options.max_connections);
    curl_multi_setopt(m, CURLMOPT_PIPELINING, long{CURLPIPE_NOTHING});
  }

  // Detaches a transfer from libcurl, keeps its easy handle for reuse and
  // frees its header list (not the Transfer).
  void release(Transfer& t) {
    if (t.easy) {
      curl_multi_remove_handle(multi.get(), t.easy.get());
      curl_easy_reset(t.easy.get());
      idle_easy.push_back(std::move(t.easy));
    }
    t.headers.reset();
  }

  // ---- libcurl callbacks

  static int socket_cb(CURL*, curl_socket_t s, int what, void* userp, void* socketp) {
    auto* self = static_cast<Impl*>(userp);
    if (what == CURL_POLL_REMOVE) {
      ::epoll_ctl(self->epoll_fd.get(), EPOLL_CTL_DEL, s, nullptr);  // may fail: already closed
      curl_multi_assign(self->multi.get(), s, nullptr);
      return 0;
    }
    epoll_event ev{};
    ev.events = (what & CURL_POLL_IN ? uint32_t{EPOLLIN} : 0u) | (what & CURL_POLL_OUT ? uint32_t{EPOLLOUT} : 0u);
    ev.data.u64 = static_cast<uint64_t>(s);
    if (socketp == nullptr) {
      if (::epoll_ctl(self->epoll_fd.get(), EPOLL_CTL_ADD, s, &ev) < 0 && errno == EEXIST)
        ::epoll_ctl(self->epoll_fd.get(), EPOLL_CTL_MOD, s, &ev);
      curl_multi_assign(self->multi.get(), s, self);  // any non-null marker: registered
    } else if (::epoll_ctl(self->epoll_fd.get(), EPOLL_CTL_MOD, s, &ev) < 0 && errno == ENOENT) {
      ::epoll_ctl(self->epoll_fd.get(), EPOLL_CTL_ADD, s, &ev);
    }
    return 0;
  }

  static int timer_cb(CURLM*, long timeout_ms, void* userp) {
    auto* self = static_cast<Impl*>(userp);
    if (timeout_ms < 0) {
      self->has_timer = false;
    } else {
      self->has_timer = true;
      self->timer_due = SteadyClock::now() + std::chrono::milliseconds(timeout_ms);
    }
    return 0;
  }

  static int prereq_cb(void* userp, char*, char*, int, int) {
    static_cast<Transfer*>(userp)->result.t_request_sent = SteadyClock::now();
    return CURL_PREREQFUNC_OK;
  }

  static size_t header_cb(char* data, size_t size, size_t n, void* userp) {
    auto* t = static_cast<Transfer*>(userp);
    const size_t len = size * n;
    if (t->cancelled) return 0;
    t->header_bytes += len;
    if (t->header_bytes > kMaxResponseHeaderBytes) {  // a flood: stop (CURLE_WRITE_ERROR)
      t->result.headers_too_large = true;
      t->result.stopped = headers_over_cap_reason();
      return 0;
    }
    std::string_view line(data, len);
    if (line == "\r\n" || line == "\n") {  // end of one header block
      long status = 0;
      curl_easy_getinfo(t->easy.get(), CURLINFO_RESPONSE_CODE, &status);
      if (status >= 200 && !t->headers_seen) {  // 1xx blocks are skipped
        t->headers_seen = true;
        t->result.t_headers = SteadyClock::now();
        t->result.http_status = status;
        if (t->callbacks.on_response_headers) t->callbacks.on_response_headers(status, t->result.t_headers);
      }
    }
    return len;
  }

  static size_t write_cb(char* data, size_t size, size_t n, void* userp) {
    const SteadyTime now = SteadyClock::now();
    auto* t = static_cast<Transfer*>(userp);
    const size_t len = size * n;
    if (t->cancelled) return 0;  // aborts the transfer (CURLE_WRITE_ERROR); no on_done follows
    const std::size_t cap = t->request.max_body_bytes;
    if (cap > 0 && t->result.body_bytes + len > cap) {  // stops reading (CURLE_WRITE_ERROR); on_done follows
      t->result.stopped = "response body over " + text::size_words(cap);
      return 0;
    }
    if (t->result.body_bytes == 0) t->result.t_first_byte = now;
    t->result.body_bytes += len;
    if (t->callbacks.on_data) t->callbacks.on_data(std::string_view(data, len), now);
    if (t->callbacks.stop_reason && !t->cancelled) {
      std::string why = t->callbacks.stop_reason();
      if (!why.empty()) {
        t->result.stopped = std::move(why);
        return 0;
      }
    }
    return len;
  }

  // ---- transfers

  EasyHandle take_easy() {
    if (!idle_easy.empty()) {
      EasyHandle e = std::move(idle_easy.back());
      idle_easy.pop_back();
      return e;
    }
    return EasyHandle(curl_easy_init());
  }

  uint64_t add(HttpRequest request, StreamCallbacks callbacks) {
    auto owned = std::make_unique<Transfer>(*this, next_id++);
    Transfer& t = *owned;
    t.request = std::move(request);
    t.callbacks = std::move(callbacks);
    t.easy = take_easy();
    if (!t.easy) throw std::runtime_error("curl_easy_init failed");
    configure(t);
    transfers.emplace(t.id, std::move(owned));
    if (in_curl) {
      to_attach.push_back(&t);
    } else {
      attach(t);
      kick();
    }
    return t.id;
  }

  void configure(Transfer& t) {
    CURL* e = t.easy.get();
    const HttpRequest& r = t.request;
    curl_easy_setopt(e, CURLOPT_URL, r.url.c_str());
    curl_easy_setopt(e, CURLOPT_PRIVATE, &t);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, long{CURL_HTTP_VERSION_1_1});
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t.error);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &Impl::write_cb);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &Impl::header_cb);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, &Impl::prereq_cb);
    curl_easy_setopt(e, CURLOPT_PREREQDATA, &t);
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, options.receive_buffer);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(r.timeout.count()));
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(r.connect_timeout.count()));
    if (!r.use_env_proxy) curl_easy_setopt(e, CURLOPT_PROXY, "");
    if (r.method == "GET") {
      curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else {
      if (r.method == "POST" || !r.body.empty()) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, r.body.data());
      }
      if (r.method != "POST") curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r.method.c_str());
    }
    t.headers = header_list(r.headers);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t.headers.get());
  }

  void attach(Transfer& t) {
    t.result.t_send = SteadyClock::now();
    CURLMcode rc = curl_multi_add_handle(multi.get(), t.easy.get());
    if (rc != CURLM_OK) {
      t.result.curl_code = CURLE_FAILED_INIT;
      t.result.error = curl_multi_strerror(rc);
      // Completed with an error at once; reported from the loop like any other.
      failed_at_attach.push_back(t.id);
    }
  }
  std::vector<uint64_t> failed_at_attach;

  void attach_pending() {
    std::vector<Transfer*> pending;
    pending.swap(to_attach);
    for (Transfer* t : pending)
      if (!t->cancelled) attach(*t);
    if (!pending.empty()) kick();
  }

  // Lets libcurl start what was just attached (connect, or write the request
  // on a reused connection) now, rather than after the next epoll_wait.
  void kick() {
    if (has_timer && timer_due <= SteadyClock::now()) {
      has_timer = false;
      socket_action(CURL_SOCKET_TIMEOUT, 0);
    }
  }

  bool cancel(uint64_t id) {
    auto it = transfers.find(id);
    if (it == transfers.end() || it->second->cancelled) return false;
    it->second->cancelled = true;
    ++cancelled_count;
    if (!in_curl) finish_cancelled();
    return true;
  }

  void finish_cancelled() {
    if (cancelled_count == 0) return;
    cancelled_count = 0;
    for (auto it = transfers.begin(); it != transfers.end();) {
      if (it->second->cancelled) {
        release(*it->second);  // also drops a completion message libcurl may hold for it
        it = transfers.erase(it);
      } else {
        ++it;
      }
    }
    to_attach.erase(std::remove_if(to_attach.begin(), to_attach.end(), [](Transfer* t) { return t->cancelled; }),
                    to_attach.end());
  }

  void socket_action(curl_socket_t s, int mask) {
    int running = 0;
    in_curl = true;
    curl_multi_socket_action(multi.get(), s, mask, &running);
    in_curl = false;
  }

  // libcurl refused a header line over its own cap before the headers ended:
  // the same flood as headers over kMaxResponseHeaderBytes.
  static void note_header_line_cap(Transfer& t) {
    TransferResult& r = t.result;
    const bool too_large = r.curl_code == CURLE_OUT_OF_MEMORY || r.curl_code == kCurleTooLarge;
    if (!too_large || t.headers_seen || t.header_bytes == 0 || r.headers_too_large) return;
    r.headers_too_large = true;
    r.stopped = headers_over_cap_reason() + " (a header line over libcurl's 100 KiB)";
  }

  void complete(Transfer& t, CURLcode code) {
    TransferResult& r = t.result;
    r.t_done = SteadyClock::now();
    if (r.curl_code == 0) r.curl_code = code;
    if (t.easy) {
      long status = 0;
      curl_easy_getinfo(t.easy.get(), CURLINFO_RESPONSE_CODE, &status);
      if (status) r.http_status = status;
      long connects = 0;
      curl_easy_getinfo(t.easy.get(), CURLINFO_NUM_CONNECTS, &connects);
      r.new_connections = connects;
    }
    note_header_line_cap(t);
    if (!r.stopped.empty()) r.error = r.stopped;
    if (r.curl_code != CURLE_OK && r.error.empty())
      r.error = t.error[0] ? std::string(t.error) : curl_easy_strerror(static_cast<CURLcode>(r.curl_code));
    r.outcome = r.headers_too_large ? TransferOutcome::http_error : classify_transfer(r.curl_code, r.http_status);
    StreamCallbacks callbacks = std::move(t.callbacks);
    TransferResult result = std::move(t.result);
    const uint64_t id = t.id;
    release(t);
    transfers.erase(id);  // t is gone from here on
    if (callbacks.on_done) callbacks.on_done(result);
  }

  void collect_done() {
    while (!failed_at_attach.empty()) {
      uint64_t id = failed_at_attach.back();
      failed_at_attach.pop_back();
      auto it = transfers.find(id);
      if (it != transfers.end()) complete(*it->second, CURLE_FAILED_INIT);
    }
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi.get(), &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      Transfer* t = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &t);
      CURLcode code = msg->data.result;
      if (!t) continue;
      if (t->cancelled) {
        const uint64_t id = t->id;
        release(*t);
        transfers.erase(id);
        continue;
      }
      complete(*t, code);
    }
  }

  // Runs until no transfer is left, `deadline`, a wake-up, or *until_done.
  bool run_until_idle_or(SteadyTime deadline, const bool* until_done = nullptr) {
    std::vector<epoll_event> events(256);
    for (;;) {
      attach_pending();
      finish_cancelled();
      collect_done();
      if (!to_attach.empty()) continue;  // on_done callbacks added more
      if (transfers.empty()) return true;
      if (until_done && *until_done) return true;
      if (woken && !until_done) {  // during fetch() a wake-up is kept for the caller's own run
        woken = false;
        return false;
      }
      SteadyTime now = SteadyClock::now();
      if (now >= deadline) return false;
      SteadyTime until = deadline;
      if (has_timer) until = std::min(until, timer_due);
      int wait_ms = 0;
      if (until > now) {
        auto us = std::chrono::duration_cast<std::chrono::microseconds>(until - now).count();
        wait_ms = static_cast<int>(std::min<long long>((us + 999) / 1000, 60'000));
      }
      int n = ::epoll_wait(epoll_fd.get(), events.data(), static_cast<int>(events.size()), wait_ms);
      if (n < 0 && errno != EINTR) throw std::runtime_error("StreamLoop: epoll_wait failed");
      for (int i = 0; i < n; ++i) {
        const epoll_event& ev = events[static_cast<size_t>(i)];
        if (ev.data.u64 == kWakeTag) {
          uint64_t v = 0;
          [[maybe_unused]] ssize_t r = ::read(wake_fd.get(), &v, sizeof v);
          woken = true;
          continue;
        }
        int mask = 0;
        if (ev.events & EPOLLIN) mask |= CURL_CSELECT_IN;
        if (ev.events & EPOLLOUT) mask |= CURL_CSELECT_OUT;
        if (ev.events & (EPOLLERR | EPOLLHUP)) mask |= CURL_CSELECT_ERR;
        socket_action(static_cast<curl_socket_t>(ev.data.u64), mask);
      }
      if (has_timer && SteadyClock::now() >= timer_due) {
        has_timer = false;  // libcurl sets it again when it needs one
        socket_action(CURL_SOCKET_TIMEOUT, 0);
      }
    }
  }
};

StreamLoop::StreamLoop(StreamLoopOptions options) : impl_(std::make_unique<Impl>(options)) {}
StreamLoop::~StreamLoop() = default;

uint64_t StreamLoop::add(HttpRequest request, StreamCallbacks callbacks) {
  return impl_->add(std::move(request), std::move(callbacks));
}

bool StreamLoop::cancel(uint64_t id) { return impl_->cancel(id); }

size_t StreamLoop::active() const {
  size_t n = 0;
  for (const auto& [id, t] : impl_->transfers) n += t->cancelled ? 0 : 1;
  return n;
}

bool StreamLoop::run_until_idle_or(SteadyTime deadline) { return impl_->run_until_idle_or(deadline); }

void StreamLoop::wakeup() {
  uint64_t one = 1;
  [[maybe_unused]] ssize_t r = ::write(impl_->wake_fd.get(), &one, sizeof one);
}

HttpResponse StreamLoop::fetch(HttpRequest request) {
  if (request.max_body_bytes == 0) request.max_body_bytes = kMaxFetchBodyBytes;
  HttpResponse response;
  bool done = false;
  StreamCallbacks cb;
  cb.on_data = [&response](std::string_view bytes, SteadyTime) { response.body.append(bytes); };
  cb.on_done = [&response, &done](const TransferResult& r) {
    response.result = r;
    done = true;
  };
  impl_->add(std::move(request), std::move(cb));
  // Runs the loop, and every other transfer on it, until this one is done.
  impl_->run_until_idle_or(SteadyTime::max(), &done);
  return response;
}

HttpResponse http_fetch(HttpRequest request) {
  StreamLoop loop;
  return loop.fetch(std::move(request));
}

HttpResponse http_get(std::string url, std::chrono::milliseconds timeout) {
  HttpRequest r;
  r.url = std::move(url);
  r.timeout = timeout;
  return http_fetch(std::move(r));
}

HttpResponse http_post_json(std::string url, std::string body, std::chrono::milliseconds timeout) {
  HttpRequest r;
  r.method = "POST";
  r.url = std::move(url);
  r.body = std::move(body);
  r.headers.push_back("Content-Type: application/json");
  r.timeout = timeout;
  return http_fetch(std::move(r));
}

}  // namespace tierscope::workloads

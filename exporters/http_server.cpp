#include "exporters/http_server.h"

#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <atomic>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "exporters/basic_auth.h"
#include "exporters/gzip.h"

namespace tierscope {

namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

// One TCP connection as the header-time sweep sees it.
struct ConnectionState {
  int fd = -1;
  SteadyClock::time_point waiting_since{};  // start of the wait for the next request
  bool in_request = false;                  // a request has arrived and is being answered
};

enum MHD_Result respond(MHD_Connection* c, unsigned status, std::string_view body,
                        std::initializer_list<std::pair<const char*, const char*>> headers = {}) {
  MHD_Response* r = MHD_create_response_from_buffer(body.size(), const_cast<char*>(body.data()), MHD_RESPMEM_MUST_COPY);
  if (!r) return MHD_NO;
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
  for (const auto& [name, value] : headers) MHD_add_response_header(r, name, value);
  enum MHD_Result rc = MHD_queue_response(c, status, r);
  MHD_destroy_response(r);
  return rc;
}

bool has_body(MHD_Connection* c) {
  return MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH) ||
         MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
}

bool accepts_gzip(MHD_Connection* c) {
  const char* v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING);
  return v && std::string_view(v).find("gzip") != std::string_view::npos;
}

// The client certificate, where the web config asks for one: false when the
// connection must be refused.
bool client_certificate_ok(MHD_Connection* c, ClientAuth mode) {
  if (mode == ClientAuth::none) return true;
  const MHD_ConnectionInfo* info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
  if (!info || !info->tls_session) return false;
  auto session = static_cast<gnutls_session_t>(info->tls_session);
  unsigned int count = 0;
  if (!gnutls_certificate_get_peers(session, &count) || count == 0) return mode == ClientAuth::verify_if_given;
  unsigned int status = 0;
  return gnutls_certificate_verify_peers2(session, &status) == GNUTLS_E_SUCCESS && status == 0;
}

}  // namespace

class MetricsServer::Impl {
 public:
  Impl(Listener listener, WebConfig web, MetricsBody body, Logger& log, unsigned max_connections)
      : listener_(std::move(listener)), body_(std::move(body)), log_(log), max_connections_(max_connections),
        web_(std::move(web)), auth_(web_.users) {
    client_auth_ = web_.tls ? web_.tls->client_auth : ClientAuth::none;
    daemon_ = start(listener_.fd.release(), web_);
    sweeper_ = std::thread([this] { sweep_loop(); });
  }

  ~Impl() {
    {
      std::lock_guard lock(sweep_mutex_);
      stopping_ = true;
    }
    sweep_wake_.notify_all();
    if (sweeper_.joinable()) sweeper_.join();
    if (daemon_) MHD_stop_daemon(daemon_);
  }

  int port() const { return listener_.port; }
  std::string url() const { return listener_.url(web_.tls.has_value()) + "/metrics"; }
  const WebConfig& web_config() const { return web_; }

  void reconfigure(WebConfig web) {
    if (web.tls == web_.tls) {  // users only: no restart
      std::lock_guard lock(auth_mutex_);
      auth_.set_users(web.users);
      web_ = std::move(web);
      return;
    }
    if (web.tls.has_value() != web_.tls.has_value())
      throw std::runtime_error("switching between HTTP and HTTPS needs a restart; still serving " + url());
    // Stop accepting on the old daemon, take its socket, start the new one on it.
    MHD_socket fd = MHD_quiesce_daemon(daemon_);
    if (fd == MHD_INVALID_SOCKET) throw std::runtime_error("cannot take over the listening socket");
    MHD_Daemon* next = nullptr;
    try {
      client_auth_ = web.tls->client_auth;
      next = start(fd, web);
    } catch (...) {
      MHD_stop_daemon(daemon_);  // closes connections only: the socket was handed back
      client_auth_ = web_.tls->client_auth;
      daemon_ = start(fd, web_);
      throw;
    }
    MHD_stop_daemon(daemon_);
    daemon_ = next;
    std::lock_guard lock(auth_mutex_);
    auth_.set_users(web.users);
    web_ = std::move(web);
  }

 private:
  MHD_Daemon* start(MHD_socket fd, const WebConfig& web) {
    std::vector<MHD_OptionItem> o{
        {MHD_OPTION_LISTEN_SOCKET, fd, nullptr},
        {MHD_OPTION_CONNECTION_TIMEOUT, static_cast<intptr_t>(kHeaderTimeout.count()), nullptr},
        {MHD_OPTION_CONNECTION_LIMIT, static_cast<intptr_t>(max_connections_), nullptr},
        {MHD_OPTION_CONNECTION_MEMORY_LIMIT, static_cast<intptr_t>(kMaxRequestBytes), nullptr},
        {MHD_OPTION_NOTIFY_CONNECTION, reinterpret_cast<intptr_t>(&Impl::on_connection), this},
        {MHD_OPTION_NOTIFY_COMPLETED, reinterpret_cast<intptr_t>(&Impl::on_completed), this},
        {MHD_OPTION_EXTERNAL_LOGGER, reinterpret_cast<intptr_t>(&Impl::on_log), this},
    };
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG;
    if (web.tls) {
      flags |= MHD_USE_TLS;
      o.push_back({MHD_OPTION_HTTPS_MEM_CERT, 0, const_cast<char*>(web.tls->cert_pem.c_str())});
      o.push_back({MHD_OPTION_HTTPS_MEM_KEY, 0, const_cast<char*>(web.tls->key_pem.c_str())});
      o.push_back({MHD_OPTION_HTTPS_PRIORITIES, 0, const_cast<char*>(web.tls->priorities.c_str())});
      if (!web.tls->client_ca_pem.empty())
        o.push_back({MHD_OPTION_HTTPS_MEM_TRUST, 0, const_cast<char*>(web.tls->client_ca_pem.c_str())});
    }
    o.push_back({MHD_OPTION_END, 0, nullptr});
    MHD_Daemon* d = MHD_start_daemon(flags, 0, nullptr, nullptr, &Impl::on_request, this, MHD_OPTION_ARRAY, o.data(),
                                     MHD_OPTION_END);
    if (!d) throw std::runtime_error("cannot start the HTTP server on " + listener_.url(web.tls.has_value()));
    return d;
  }

  // ---- libmicrohttpd callbacks (its one polling thread)

  static void on_log(void* cls, const char* format, va_list ap) {
    char line[512];
    std::vsnprintf(line, sizeof line, format, ap);
    std::string_view s(line);
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
    static_cast<Impl*>(cls)->log_.debug("http: " + std::string(s));
  }

  static void on_connection(void* cls, MHD_Connection* c, void** socket_context, enum MHD_ConnectionNotificationCode code) {
    auto* self = static_cast<Impl*>(cls);
    std::lock_guard lock(self->sweep_mutex_);
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
      const MHD_ConnectionInfo* info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
      auto& st = self->connections_[c];
      st.fd = info ? info->connect_fd : -1;
      st.waiting_since = SteadyClock::now();
      *socket_context = &st;
    } else {
      self->connections_.erase(c);  // before libmicrohttpd closes the descriptor
      *socket_context = nullptr;
    }
  }

  static void on_completed(void* cls, MHD_Connection* c, void**, enum MHD_RequestTerminationCode) {
    auto* self = static_cast<Impl*>(cls);
    std::lock_guard lock(self->sweep_mutex_);
    if (auto it = self->connections_.find(c); it != self->connections_.end()) {
      it->second.in_request = false;
      it->second.waiting_since = SteadyClock::now();
    }
  }

  static enum MHD_Result on_request(void* cls, MHD_Connection* c, const char* url, const char* method, const char*,
                                    const char*, size_t* upload_size, void** request) {
    auto* self = static_cast<Impl*>(cls);
    if (!*request) {  // first call: the headers are in
      *request = self;
      {
        std::lock_guard lock(self->sweep_mutex_);
        if (auto it = self->connections_.find(c); it != self->connections_.end()) it->second.in_request = true;
      }
      // A response queued on this first call counts, for libmicrohttpd, as an
      // answer before the request was read to its end, and it closes the
      // connection after it. So a request without a body is answered on the
      // next call, which keeps keep-alive (a Prometheus server reuses its
      // connection); one that announces a body is refused at once, and closed.
      if (!has_body(c)) return MHD_YES;
    }
    return self->answer(c, url, method, upload_size);
  }

  enum MHD_Result answer(MHD_Connection* c, std::string_view url, std::string_view method, size_t* upload_size) {
    if (*upload_size > 0 || has_body(c)) {
      *upload_size = 0;
      return respond(c, MHD_HTTP_CONTENT_TOO_LARGE, "a request body is not accepted here\n",
                     {{MHD_HTTP_HEADER_CONNECTION, "close"}});
    }
    if (!client_certificate_ok(c, client_auth_.load()))
      return respond(c, MHD_HTTP_FORBIDDEN, "a valid client certificate is required\n");
    if (url != "/metrics") return respond(c, MHD_HTTP_NOT_FOUND, "404 page not found: the metrics are at /metrics\n");
    if (method != MHD_HTTP_METHOD_GET && method != MHD_HTTP_METHOD_HEAD)
      return respond(c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET or HEAD only\n", {{MHD_HTTP_HEADER_ALLOW, "GET, HEAD"}});
    if (!authorized(c)) {
      MHD_Response* r = MHD_create_response_from_buffer(13, const_cast<char*>("Unauthorized\n"), MHD_RESPMEM_PERSISTENT);
      enum MHD_Result rc = MHD_queue_basic_auth_fail_response(c, "tierscope", r);
      MHD_destroy_response(r);
      return rc;
    }
    return metrics(c);
  }

  bool authorized(MHD_Connection* c) {
    std::lock_guard lock(auth_mutex_);
    if (!auth_.required()) return true;
    char* password = nullptr;
    char* user = MHD_basic_auth_get_username_password(c, &password);
    bool ok = user && password && auth_.check(user, password, SteadyClock::now());
    if (user) MHD_free(user);
    if (password) MHD_free(password);
    return ok;
  }

  enum MHD_Result metrics(MHD_Connection* c) {
    std::shared_ptr<const std::string> text = body_();
    const std::string* out = text.get();
    const bool gzip = accepts_gzip(c);
    if (gzip) {
      if (text != gzipped_for_) {
        gzipped_ = gzip_compress(*text);
        gzipped_for_ = text;
      }
      out = &gzipped_;
    }
    MHD_Response* r = MHD_create_response_from_buffer(out->size(), const_cast<char*>(out->data()), MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, kContentType);
    if (gzip) MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
    enum MHD_Result rc = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return rc;
  }

  // ---- the header-time limit: a connection that has not delivered a whole
  // request within kHeaderTimeout of waiting for one is shut down (which
  // libmicrohttpd sees as the client going away).
  void sweep_loop() {
    std::unique_lock lock(sweep_mutex_);
    while (!stopping_) {
      sweep_wake_.wait_for(lock, std::chrono::seconds(1));
      const auto cutoff = SteadyClock::now() - kHeaderTimeout;
      for (auto& [c, st] : connections_)
        if (!st.in_request && st.waiting_since < cutoff && st.fd >= 0) {
          ::shutdown(st.fd, SHUT_RDWR);
          st.fd = -1;  // once
        }
    }
  }

  Listener listener_;
  MetricsBody body_;
  Logger& log_;
  unsigned max_connections_;
  MHD_Daemon* daemon_ = nullptr;

  WebConfig web_;                        // the caller's thread only
  std::atomic<ClientAuth> client_auth_;  // read by the server thread
  std::mutex auth_mutex_;
  BasicAuth auth_;

  std::shared_ptr<const std::string> gzipped_for_;  // server thread only
  std::string gzipped_;

  std::mutex sweep_mutex_;  // connections_, stopping_
  std::condition_variable sweep_wake_;
  bool stopping_ = false;
  std::map<MHD_Connection*, ConnectionState> connections_;
  std::thread sweeper_;
};

MetricsServer::MetricsServer(Listener listener, WebConfig web, MetricsBody body, Logger& log, unsigned max_connections)
    : impl_(std::make_unique<Impl>(std::move(listener), std::move(web), std::move(body), log, max_connections)) {}
MetricsServer::~MetricsServer() = default;
int MetricsServer::port() const { return impl_->port(); }
std::string MetricsServer::url() const { return impl_->url(); }
const WebConfig& MetricsServer::web_config() const { return impl_->web_config(); }
void MetricsServer::reconfigure(WebConfig web) { impl_->reconfigure(std::move(web)); }

unsigned long raise_descriptor_limit(unsigned long wanted) {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return 0;
  rlim_t target = rl.rlim_max == RLIM_INFINITY ? wanted : std::min<rlim_t>(rl.rlim_max, wanted);
  if (rl.rlim_cur < target) {
    rl.rlim_cur = target;
    if (::setrlimit(RLIMIT_NOFILE, &rl) != 0) ::getrlimit(RLIMIT_NOFILE, &rl);
  }
  return rl.rlim_cur == RLIM_INFINITY ? wanted : rl.rlim_cur;
}

}  // namespace tierscope

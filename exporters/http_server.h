#pragma once
// The HTTP front of /metrics: event-driven (libmicrohttpd, one epoll thread),
// so slow, idle or non-reading clients cost a descriptor each and never a
// worker: a normal scrape is answered while hundreds of them are connected.
//
// Limits (each a way a client could otherwise hold the server):
//   header time     a request must arrive whole within kHeaderTimeout of the
//                   connection opening (or of the previous response on a
//                   kept-alive connection); then the connection is closed.
//                   This also bounds idle keep-alive connections.
//   send stall      a client that stops reading is dropped after
//                   kHeaderTimeout without progress.
//   connections     at most max_connections at once (the rest are closed on
//                   accept); the daemon raises its descriptor limit for them.
//   request size    headers over kMaxRequestBytes get 431; a request body is
//                   refused with 413 (nothing here takes one).
// Paths and methods: GET and HEAD of exactly /metrics; other paths 404, other
// methods 405. gzip when the client accepts it.
//
// TLS (GnuTLS, through libmicrohttpd) and basic auth (bcrypt through the
// system's libcrypt) come from a WebConfig (exporters/web_config.h);
// reconfigure() swaps them without closing the listening socket.

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "core/logging.h"
#include "exporters/listener.h"
#include "exporters/web_config.h"

namespace tierscope {

inline constexpr std::chrono::seconds kHeaderTimeout{10};
inline constexpr std::size_t kMaxRequestBytes = 32 * 1024;

// What GET /metrics returns: the text exposition. Called on the server
// thread, once per request; may return the same text again (the daemon
// caches it per sample), which lets the server reuse its gzip encoding.
using MetricsBody = std::function<std::shared_ptr<const std::string>()>;

class MetricsServer {
 public:
  // Starts serving on `listener` (whose socket it takes over). Throws
  // std::runtime_error when libmicrohttpd cannot start.
  MetricsServer(Listener listener, WebConfig web, MetricsBody body, Logger& log,
                unsigned max_connections = 1024);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  int port() const;
  // "http://127.0.0.1:9847/metrics" or "https://[::1]:9847/metrics".
  std::string url() const;
  const WebConfig& web_config() const;

  // New TLS material and users (a reload). The listening socket stays; the
  // connections of the old configuration are closed. Throws
  // std::runtime_error and keeps serving the old configuration when the new
  // one cannot start.
  void reconfigure(WebConfig web);

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Raises this process's soft limit of open descriptors to the hard limit (at
// most `wanted`), so the server's connection limit is not the descriptor
// limit; returns the soft limit now in force.
unsigned long raise_descriptor_limit(unsigned long wanted = 65536);

}  // namespace tierscope

#include "exporters/prometheus_exporter.h"

#include <chrono>
#include <stdexcept>

#include "core/metric_catalog.h"
#include "exporters/process_metrics.h"
#include "exporters/render.h"

namespace tierscope {

std::vector<prometheus::MetricFamily> collect_all(const Snapshot* snap, const DaemonStatus* status, bool with_process) {
  MetricWriter w;
  render_build_info(w);
  if (snap) render_snapshot(*snap, w);
  if (status) {
    w.add(metric::config_reloads, static_cast<double>(status->reloads_ok.load()), {{"result", "success"}});
    w.add(metric::config_reloads, static_cast<double>(status->reloads_failed.load()), {{"result", "failure"}});
    w.add(metric::config_last_reload_ok, status->last_load_ok.load() ? 1 : 0);
  }
  if (with_process) render_process_metrics(w);
  return std::move(w).finish();
}

std::vector<prometheus::MetricFamily> SnapshotCollector::Collect() const {
  auto snap = source_();
  if (status_)
    status_->last_scrape_steady_ns.store(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                             std::chrono::steady_clock::now().time_since_epoch())
                                             .count());
  return collect_all(snap.get(), status_, true);
}

std::unique_ptr<prometheus::Exposer> make_exposer(const std::string& listen) {
  try {
    // Two worker threads: Prometheus plus one person with curl; scrapes of one
    // endpoint are serialized by prometheus-cpp anyway. Keep-alive, because
    // prometheus-cpp's responses carry no "Connection: close" and clients
    // reuse the connection; TCP_NODELAY, or a kept-alive scrape waits out
    // Nagle against delayed ACKs (~40 ms).
    return std::make_unique<prometheus::Exposer>(std::vector<std::string>{
        "listening_ports", listen, "num_threads", "2", "request_timeout_ms", "10000", "enable_keep_alive", "yes",
        "keep_alive_timeout_ms", "5000", "tcp_nodelay", "1"});
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot listen on " + listen + ": " + e.what() +
                             " (address in use, or not an address of this host?)");
  }
}

}  // namespace tierscope

#include "exporters/prometheus_exporter.h"

#include <chrono>

#include "core/metric_catalog.h"
#include "exporters/json_output.h"
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
    if (status->recorder) render_recorder_metrics(*status->recorder, w);
  }
  if (with_process) render_process_metrics(w);
  return std::move(w).finish();
}

namespace {
void note_scrape(DaemonStatus* status) {
  if (status)
    status->last_scrape_steady_ns.store(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                            std::chrono::steady_clock::now().time_since_epoch())
                                            .count());
}
}  // namespace

std::vector<prometheus::MetricFamily> SnapshotCollector::Collect() const {
  auto snap = source_();
  note_scrape(status_);
  return collect_all(snap.get(), status_, true);
}

std::shared_ptr<const std::string> SnapshotCollector::body() {
  auto snap = source_();
  note_scrape(status_);
  // The reload counters only grow, so their sum (with the last result) tells
  // whether the reload state changed.
  const std::uint64_t reloads =
      status_ ? (status_->reloads_ok.load() + status_->reloads_failed.load()) * 2 + (status_->last_load_ok ? 1 : 0) : 0;
  std::lock_guard lock(cache_mutex_);
  if (!cached_text_ || snap != cached_snapshot_ || reloads != cached_reloads_) {
    cached_text_ = std::make_shared<const std::string>(to_prometheus_text(collect_all(snap.get(), status_, true)));
    cached_snapshot_ = std::move(snap);
    cached_reloads_ = reloads;
  }
  return cached_text_;
}

MetricsBody collectable_body(std::shared_ptr<prometheus::Collectable> collectable) {
  return [c = std::move(collectable)] { return std::make_shared<const std::string>(to_prometheus_text(c->Collect())); };
}

}  // namespace tierscope

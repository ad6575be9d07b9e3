#pragma once
// What /metrics shows: a prometheus-cpp Collectable that renders the latest
// published Snapshot, plus build info, config-reload state and the process_*
// footprint. Rendering does no probe I/O; it only formats what the sampler
// already read. The HTTP front is exporters/http_server.h.

#include <prometheus/collectable.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "core/metric_writer.h"
#include "exporters/http_server.h"
#include "exporters/recorder.h"
#include "probes/snapshot.h"

namespace tierscope {

// Daemon-level state that is not part of a sample.
struct DaemonStatus {
  std::atomic<std::uint64_t> reloads_ok{0};
  std::atomic<std::uint64_t> reloads_failed{0};
  std::atomic<bool> last_load_ok{true};
  // steady_clock nanoseconds of the last /metrics scrape; -1 before the first.
  std::atomic<std::int64_t> last_scrape_steady_ns{-1};
  // The continuous recording's counters (config key record); shown only
  // while recording is configured.
  std::shared_ptr<RecorderCounters> recorder = std::make_shared<RecorderCounters>();
};

class SnapshotCollector final : public prometheus::Collectable {
 public:
  using Source = std::function<std::shared_ptr<const Snapshot>()>;
  SnapshotCollector(Source source, DaemonStatus* status) : source_(std::move(source)), status_(status) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

  // The text exposition for a scrape. The text is kept and served again
  // until the sampler publishes another snapshot or the reload state changes:
  // a flood of scrapes costs a copy each, not a rendering (the process_*
  // footprint in it is as of the first scrape of that sample).
  std::shared_ptr<const std::string> body();

 private:
  Source source_;
  DaemonStatus* status_;
  std::mutex cache_mutex_;
  std::shared_ptr<const Snapshot> cached_snapshot_;
  std::uint64_t cached_reloads_ = ~std::uint64_t{0};
  std::shared_ptr<const std::string> cached_text_;
};

// Everything that a scrape or `tierscope probe` shows for one snapshot.
// `with_process`: include the process_* metrics of this process.
std::vector<prometheus::MetricFamily> collect_all(const Snapshot* snap, const DaemonStatus* status, bool with_process);

// The body of a scrape of any Collectable, rendered anew each time (the
// bench's live metrics).
MetricsBody collectable_body(std::shared_ptr<prometheus::Collectable> collectable);

}  // namespace tierscope

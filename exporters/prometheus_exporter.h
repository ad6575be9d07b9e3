#pragma once
// The /metrics endpoint: a prometheus-cpp Collectable that renders the latest
// published Snapshot at scrape time, plus build info, config-reload state and
// the process_* footprint. Collect() does no probe I/O; it only formats what
// the sampler already read.

#include <prometheus/collectable.h>
#include <prometheus/exposer.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/metric_writer.h"
#include "probes/snapshot.h"

namespace tierscope {

// Daemon-level state that is not part of a sample.
struct DaemonStatus {
  std::atomic<std::uint64_t> reloads_ok{0};
  std::atomic<std::uint64_t> reloads_failed{0};
  std::atomic<bool> last_load_ok{true};
  // steady_clock nanoseconds of the last /metrics scrape; -1 before the first.
  std::atomic<std::int64_t> last_scrape_steady_ns{-1};
};

class SnapshotCollector final : public prometheus::Collectable {
 public:
  using Source = std::function<std::shared_ptr<const Snapshot>()>;
  SnapshotCollector(Source source, DaemonStatus* status) : source_(std::move(source)), status_(status) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  Source source_;
  DaemonStatus* status_;
};

// Everything that a scrape or `tierscope probe` shows for one snapshot.
// `with_process`: include the process_* metrics of this process.
std::vector<prometheus::MetricFamily> collect_all(const Snapshot* snap, const DaemonStatus* status, bool with_process);

// Binds the listener ("HOST:PORT"; port 0 picks a free one). Throws
// std::runtime_error naming the address when it cannot bind.
std::unique_ptr<prometheus::Exposer> make_exposer(const std::string& listen);

}  // namespace tierscope

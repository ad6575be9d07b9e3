#pragma once
// A crash-safe recording of every sample (and of a run's other records) as
// JSON-lines segment files in a directory: samples-<seq>.jsonl, or
// samples-<seq>.jsonl.zst (one zstd frame per flush), rotated by size and age,
// fdatasync'ed at a period and at rotation and close; samples.csv on request.
// The format is described in docs/recording.md; exporters/recording.h reads it.
//
// Recording costs the caller (the sampler thread) only the formatting of a
// line into memory: a background thread writes, fsyncs, rotates and applies
// retention once per fsync period, so a slow disk never delays a sample. A
// write error (disk full, read-only file system, directory removed) logs one
// line, counts the records it lost and is retried at the next period, in a
// new segment when the old one is unusable; recording resumes by itself.

#include <nlohmann/json.hpp>
#include <prometheus/metric_family.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "core/metric_writer.h"

namespace YAML {
class Node;
}

namespace tierscope {

class Logger;
class YamlReader;

struct RecorderOptions {
  std::string dir;                                // the run directory (or the daemon's record.dir)
  std::uint64_t segment_max_bytes = 64ull << 20;  // rotate a segment at this size ...
  std::chrono::seconds segment_max_age{3600};     // ... or age
  std::chrono::milliseconds fsync_period{1000};   // write + fdatasync at this period and at rotation/close
  bool zstd = false;                              // samples-<seq>.jsonl.zst, one frame per flush
  bool csv = false;                               // also samples.csv (wide; a new header row when the series change)
  std::uint64_t retention_max_bytes = 0;          // closed segments beyond this total are deleted, oldest first; 0: keep all
  std::chrono::seconds retention_max_age{0};      // closed segments older than this are deleted; 0: keep all

  bool operator==(const RecorderOptions&) const = default;
};

class RecorderError : public std::runtime_error {
 public:
  RecorderError(std::string path_, int err_);
  std::string path;
  int err = 0;
};

// The recorder's counters, shared with whoever renders them (the daemon keeps
// one set across reloads that replace the recorder). Thread-safe.
struct RecorderCounters {
  std::atomic<bool> configured{false};               // render the metrics at all
  std::atomic<std::uint64_t> dropped{0};             // samples and events lost to write errors
  std::atomic<std::uint64_t> written_bytes{0};       // bytes written to segments (compressed when zstd)
  std::atomic<std::uint64_t> samples{0};             // sample records written
  std::atomic<std::uint64_t> events{0};              // other records written
  std::atomic<std::uint64_t> segments{0};            // segment files in the directory
};

// The tierscope_recorder_* metrics of `c` (nothing unless c.configured).
void render_recorder_metrics(const RecorderCounters& c, MetricWriter& w);

class Recorder {
 public:
  using MonoClock = std::chrono::steady_clock;

  // Creates the directory when missing and proves it writable (opens the
  // first segment and writes its header); throws RecorderError. When the
  // directory already holds segments (a restart), recording goes on in the
  // next segment number after a "gap" record. `counters`: null for a set of
  // its own.
  explicit Recorder(RecorderOptions options, Logger* log = nullptr,
                    std::shared_ptr<RecorderCounters> counters = nullptr);
  ~Recorder();  // writes what is pending, fsyncs, closes
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  // Every series of `families` as one line (a "series" record first when the
  // set of series differs from the previous sample's).
  void record_sample(std::uint64_t sequence, MonoClock::time_point mono, std::chrono::system_clock::time_point wall,
                     const std::vector<prometheus::MetricFamily>& families);
  // {"type":type, "wall":…, "mono":…, …body's members} (body: an object).
  void record_event(std::string_view type, const nlohmann::json& body);
  void flush();  // write out and fsync now
  std::uint64_t dropped_samples() const;
  // {from_wall, to_wall} (unix seconds) of the gap written at start, when resumed.
  std::optional<std::pair<double, double>> resumed_gap() const;
  const RecorderOptions& options() const;
  const std::shared_ptr<RecorderCounters>& counters() const { return counters_; }
  // The segment being written (tests, logs).
  std::string current_segment() const;

  // Tests: the clock that ages segments (rotation by age, retention by age
  // uses file times) and stops the background thread's periodic flush.
  void set_clock(std::function<MonoClock::time_point()> clock);
  void set_background_flush(bool on);

 private:
  struct Pending {
    std::string text;                // whole lines
    std::size_t records = 0;         // lines that count as records lost when dropped
    std::size_t samples = 0;
    std::string schema_line;         // the series record in force at the start of `text`
    std::string csv;
  };

  void flush_thread();
  void write_pending(Pending& p);                  // requires io_mutex_
  bool open_segment(std::string& error_path, int& err, const std::string& schema_line, bool gap_after_error);
  void close_segment();                            // requires io_mutex_
  bool write_all(const std::string& bytes, int& err);
  void apply_retention();                          // requires io_mutex_
  void count_segments();
  std::string header_line(MonoClock::time_point mono, std::chrono::system_clock::time_point wall) const;
  std::string frame(const std::string& text);      // zstd frame of text (or text when plain)
  void append_locked(std::string_view line);  // an event; requires mutex_

  RecorderOptions options_;
  Logger* log_;
  std::shared_ptr<RecorderCounters> counters_;
  std::function<MonoClock::time_point()> clock_ = [] { return MonoClock::now(); };

  // The sampler's side: guarded by mutex_.
  mutable std::mutex mutex_;
  Pending pending_;
  std::uint64_t schema_id_ = 0;
  std::string schema_line_;  // the last series record
  std::vector<std::string> schema_names_;    // identity of the last series set: family names ...
  std::vector<std::size_t> schema_counts_;   // ... series per family
  std::vector<Labels> schema_labels_;        // ... and each series' labels
  std::vector<prometheus::MetricType> schema_types_;
  std::string csv_header_;

  // The writer's side: guarded by io_mutex_.
  mutable std::mutex io_mutex_;
  int fd_ = -1;
  int csv_fd_ = -1;
  std::uint64_t seq_ = 0;
  std::string segment_path_;
  std::uint64_t segment_bytes_ = 0;  // whole bytes written to it
  MonoClock::time_point segment_opened_{};
  bool failing_ = false;              // the last write failed; the next flush opens a new segment
  std::uint64_t dropped_while_failing_ = 0;
  double last_written_wall_ = 0;      // of the last record written (for the gap after an error)
  void* zstd_ctx_ = nullptr;
  std::optional<std::pair<double, double>> resumed_gap_;

  std::atomic<bool> background_{true};
  std::mutex wake_mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

// Parses a `record:` section (daemon config and scenario files share it): dir,
// max_bytes, max_age (retention), segment_bytes, segment_age, fsync_period,
// compress (none|zstd), csv. `key`: the dotted key of the section, for messages.
RecorderOptions parse_recorder_options(const YamlReader& reader, const YAML::Node& node, const std::string& key);

// Formatting shared with the reader: a double as JSON (shortest exact form;
// NaN and infinities as the strings "NaN", "+Inf", "-Inf").
void append_json_number(std::string& out, double v);
// `name{a="x",b="y"}` (Prometheus text escaping of label values).
std::string series_key(std::string_view name, const Labels& labels);

}  // namespace tierscope

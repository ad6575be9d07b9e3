#include "exporters/recorder.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "core/build_info.h"
#include "core/duration.h"
#include "core/file_cache.h"
#include "core/logging.h"
#include "core/metric_catalog.h"
#include "core/text.h"
#include "core/yaml_reader.h"
#include "exporters/recording.h"

namespace tierscope {

namespace fs = std::filesystem;

namespace {

// The most a period's records may hold in memory; beyond it they are dropped
// and counted (a writer stuck on a dead disk must not grow without bound).
constexpr std::size_t kMaxPendingBytes = std::size_t{64} << 20;
constexpr int kFormatVersion = 1;

double seconds_of(std::chrono::system_clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}
double seconds_of(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

// prometheus-cpp releases after 1.0 add MetricType enumerators
// (ManualSummary) that tierscope never makes: `default`, not a case per
// enumerator, so the switch compiles (-Wswitch) against every version.
// Anything else is recorded as untyped.
std::string_view type_name(prometheus::MetricType t) {
  switch (t) {
    case prometheus::MetricType::Counter: return "counter";
    case prometheus::MetricType::Gauge: return "gauge";
    case prometheus::MetricType::Summary: return "summary";
    case prometheus::MetricType::Histogram: return "histogram";
    default: break;
  }
  return "untyped";
}

bool two_series(prometheus::MetricType t) {
  return t == prometheus::MetricType::Summary || t == prometheus::MetricType::Histogram;
}

void append_u64(std::string& out, std::uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void append_json_string(std::string& out, std::string_view s) {
  out += nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string boot_id() {
  std::string s;
  if (read_uncached("/proc/sys/kernel/random/boot_id", s, 128) != 0) return {};
  return std::string(text::trim(s));
}

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return {};
  return buf;
}

std::string segment_name(std::uint64_t seq, bool zstd) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "samples-%06llu.jsonl%s", static_cast<unsigned long long>(seq), zstd ? ".zst" : "");
  return buf;
}

// fsync of the directory, so a new segment's entry survives a crash.
void sync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

std::string csv_field(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace

RecorderError::RecorderError(std::string path_, int err_)
    : std::runtime_error(describe_errno(path_, err_)), path(std::move(path_)), err(err_) {}

void append_json_number(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "\"NaN\"";
  } else if (std::isinf(v)) {
    out += v > 0 ? "\"+Inf\"" : "\"-Inf\"";
  } else {
    char buf[32];
    // Most values are whole numbers (bytes, counts): the integer form is the
    // same text as the shortest double form and three times quicker to make.
    const bool whole = v == std::trunc(v) && std::fabs(v) < 1e15 && !(v == 0 && std::signbit(v));
    auto r = whole ? std::to_chars(buf, buf + sizeof buf, static_cast<std::int64_t>(v))
                   : std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
  }
}

std::string series_key(std::string_view name, const Labels& labels) {
  std::string out(name);
  if (labels.empty()) return out;
  out += '{';
  bool first = true;
  for (const auto& l : labels) {
    if (!first) out += ',';
    first = false;
    out += l.name;
    out += "=\"";
    for (char c : l.value) {
      if (c == '\\') out += "\\\\";
      else if (c == '"') out += "\\\"";
      else if (c == '\n') out += "\\n";
      else out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

void render_recorder_metrics(const RecorderCounters& c, MetricWriter& w) {
  if (!c.configured.load()) return;
  w.add(metric::recorder_dropped_samples, static_cast<double>(c.dropped.load()));
  w.add(metric::recorder_written_bytes, static_cast<double>(c.written_bytes.load()));
  w.add(metric::recorder_samples, static_cast<double>(c.samples.load()));
  w.add(metric::recorder_segments, static_cast<double>(c.segments.load()));
}

// ---- construction ---------------------------------------------------------

Recorder::Recorder(RecorderOptions options, Logger* log, std::shared_ptr<RecorderCounters> counters)
    : options_(std::move(options)), log_(log), counters_(counters ? std::move(counters) : std::make_shared<RecorderCounters>()) {
  counters_->configured = true;
  if (options_.dir.empty()) throw RecorderError("(record.dir)", ENOENT);
  std::error_code ec;
  fs::create_directories(options_.dir, ec);
  if (ec) throw RecorderError(options_.dir, ec.value());

  // A restart in the same directory: go on after the highest segment, and
  // say from when nothing was recorded.
  auto existing = list_segments(options_.dir);
  std::optional<LastRecord> last;
  if (!existing.empty()) {
    seq_ = existing.back().seq;
    last = last_record(options_.dir);
  }
  if (options_.zstd) {
    zstd_ctx_ = ZSTD_createCCtx();
    if (!zstd_ctx_) throw RecorderError(options_.dir, ENOMEM);
  }
  std::string first_lines;
  if (!existing.empty()) {
    const double now = seconds_of(std::chrono::system_clock::now());
    const double from = last ? last->wall : now;
    resumed_gap_ = std::pair(from, now);
    std::string gap = "{\"type\":\"gap\",\"from_wall\":";
    append_json_number(gap, from);
    gap += ",\"to_wall\":";
    append_json_number(gap, now);
    if (last && last->mono && !last->boot_id.empty() && last->boot_id == boot_id()) {
      gap += ",\"from_mono\":";
      append_json_number(gap, *last->mono);
      gap += ",\"to_mono\":";
      append_json_number(gap, seconds_of(MonoClock::now()));
    }
    gap += ",\"reason\":\"restart\"}\n";
    first_lines = std::move(gap);
  }
  std::string path;
  int err = 0;
  if (!open_segment(path, err, first_lines, false)) {
    if (zstd_ctx_) ZSTD_freeCCtx(static_cast<ZSTD_CCtx*>(zstd_ctx_));
    throw RecorderError(path, err);
  }
  if (options_.csv) {
    const std::string csv_path = (fs::path(options_.dir) / "samples.csv").native();
    csv_fd_ = ::open(csv_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (csv_fd_ < 0) {
      int e = errno;
      close_segment();
      if (zstd_ctx_) ZSTD_freeCCtx(static_cast<ZSTD_CCtx*>(zstd_ctx_));
      throw RecorderError(csv_path, e);
    }
  }
  thread_ = std::thread([this] { flush_thread(); });
}

Recorder::~Recorder() {
  {
    std::lock_guard lock(wake_mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  flush();
  std::lock_guard io(io_mutex_);
  close_segment();
  if (csv_fd_ >= 0) {
    ::fdatasync(csv_fd_);
    ::close(csv_fd_);
  }
  if (zstd_ctx_) ZSTD_freeCCtx(static_cast<ZSTD_CCtx*>(zstd_ctx_));
}

const RecorderOptions& Recorder::options() const { return options_; }
std::uint64_t Recorder::dropped_samples() const { return counters_->dropped.load(); }
std::optional<std::pair<double, double>> Recorder::resumed_gap() const { return resumed_gap_; }
std::string Recorder::current_segment() const {
  std::lock_guard io(io_mutex_);
  return segment_path_;
}
void Recorder::set_clock(std::function<MonoClock::time_point()> clock) {
  std::lock_guard io(io_mutex_);
  clock_ = std::move(clock);
  segment_opened_ = clock_();
}
void Recorder::set_background_flush(bool on) { background_ = on; }

// ---- the sampler's side ---------------------------------------------------

void Recorder::append_locked(std::string_view line) {
  if (pending_.text.size() + line.size() > kMaxPendingBytes) {
    counters_->dropped++;
    return;
  }
  pending_.text += line;
  pending_.records++;
}

void Recorder::record_sample(std::uint64_t sequence, MonoClock::time_point mono,
                             std::chrono::system_clock::time_point wall,
                             const std::vector<prometheus::MetricFamily>& families) {
  std::lock_guard lock(mutex_);
  // The same series as last time? Compared name by name and label by label:
  // exact, and cheap next to formatting the values.
  bool same = families.size() == schema_names_.size();
  for (std::size_t f = 0, k = 0; same && f < families.size(); ++f) {
    const auto& fam = families[f];
    same = fam.name == schema_names_[f] && fam.type == schema_types_[f] && fam.metric.size() == schema_counts_[f];
    for (std::size_t m = 0; same && m < fam.metric.size(); ++m, ++k) same = fam.metric[m].label == schema_labels_[k];
  }
  if (!same) {
    schema_names_.clear();
    schema_counts_.clear();
    schema_labels_.clear();
    schema_types_.clear();
    nlohmann::json series = nlohmann::json::array();
    csv_header_ = "wall,mono";
    for (const auto& fam : families) {
      schema_names_.push_back(fam.name);
      schema_counts_.push_back(fam.metric.size());
      schema_types_.push_back(fam.type);
      for (const auto& m : fam.metric) {
        schema_labels_.push_back(m.label);
        nlohmann::json labels = nlohmann::json::object();
        for (const auto& l : m.label) labels[l.name] = l.value;
        auto add = [&](const std::string& name) {
          series.push_back({{"name", name}, {"labels", labels}, {"type", type_name(fam.type)}});
          csv_header_ += ',';
          csv_header_ += csv_field(series_key(name, m.label));
        };
        if (two_series(fam.type)) {
          add(fam.name + "_count");
          add(fam.name + "_sum");
        } else {
          add(fam.name);
        }
      }
    }
    csv_header_ += '\n';
    ++schema_id_;
    nlohmann::json rec = {{"type", "series"}, {"id", schema_id_}, {"series", std::move(series)}};
    schema_line_ = rec.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    if (pending_.text.size() + schema_line_.size() <= kMaxPendingBytes) pending_.text += schema_line_;
    if (options_.csv) pending_.csv += csv_header_;
  }

  // Formatted in place at the end of what is pending: no copy.
  std::string& line = pending_.text;
  const std::size_t start = line.size();
  line += "{\"type\":\"sample\",\"seq\":";
  append_u64(line, sequence);
  line += ",\"wall\":";
  append_json_number(line, seconds_of(wall));
  line += ",\"mono\":";
  append_json_number(line, seconds_of(mono));
  line += ",\"schema\":";
  append_u64(line, schema_id_);
  line += ",\"values\":[";
  const std::size_t values_at = line.size();
  for (const auto& fam : families) {
    for (const auto& m : fam.metric) {
      switch (fam.type) {
        case prometheus::MetricType::Counter: append_json_number(line, m.counter.value); break;
        case prometheus::MetricType::Gauge: append_json_number(line, m.gauge.value); break;
        case prometheus::MetricType::Summary:
          append_json_number(line, static_cast<double>(m.summary.sample_count));
          line += ',';
          append_json_number(line, m.summary.sample_sum);
          break;
        case prometheus::MetricType::Histogram:
          append_json_number(line, static_cast<double>(m.histogram.sample_count));
          line += ',';
          append_json_number(line, m.histogram.sample_sum);
          break;
        default:  // Untyped, and what type_name() records as untyped
          append_json_number(line, m.untyped.value);
          break;
      }
      line += ',';
    }
  }
  if (line.size() > values_at) line.pop_back();
  line += "]}\n";
  if (line.size() > kMaxPendingBytes) {  // the writer is stuck: drop, count
    line.resize(start);
    counters_->dropped++;
    return;
  }
  pending_.records++;
  pending_.samples++;
  if (options_.csv) {
    std::string& row = pending_.csv;
    append_json_number(row, seconds_of(wall));
    row += ',';
    append_json_number(row, seconds_of(mono));
    row += ',';
    // The values as in the JSON line, strings unquoted.
    for (char c : std::string_view(line).substr(values_at, line.size() - values_at - 3))
      if (c != '"') row += c;
    row += '\n';
  }
}

void Recorder::record_event(std::string_view type, const nlohmann::json& body) {
  std::string line = "{\"type\":";
  append_json_string(line, type);
  line += ",\"wall\":";
  append_json_number(line, seconds_of(std::chrono::system_clock::now()));
  line += ",\"mono\":";
  append_json_number(line, seconds_of(MonoClock::now()));
  if (body.is_object()) {
    for (auto it = body.begin(); it != body.end(); ++it) {
      if (it.key() == "type" || it.key() == "wall" || it.key() == "mono") continue;
      line += ',';
      append_json_string(line, it.key());
      line += ':';
      line += it.value().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
  } else if (!body.is_null()) {
    line += ",\"value\":";
    line += body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  line += "}\n";
  std::lock_guard lock(mutex_);
  append_locked(line);
}

// ---- the writer's side ----------------------------------------------------

void Recorder::flush_thread() {
  std::unique_lock lock(wake_mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, options_.fsync_period, [this] { return stopping_; });
    if (stopping_) break;
    if (!background_) continue;
    lock.unlock();
    flush();
    lock.lock();
  }
}

void Recorder::flush() {
  std::lock_guard io(io_mutex_);
  Pending p;
  {
    std::lock_guard lock(mutex_);
    p = std::move(pending_);
    pending_ = Pending{};
    pending_.schema_line = schema_line_;
    // Room for as much as the last period held: the sampler's appends do not
    // grow (and copy) the buffer again and again.
    pending_.text.reserve(std::min(p.text.size() + p.text.size() / 4, kMaxPendingBytes));
  }
  write_pending(p);
}

std::string Recorder::frame(const std::string& text) {
  if (!zstd_ctx_ || text.empty()) return text;
  std::string out(ZSTD_compressBound(text.size()), '\0');
  auto n = ZSTD_compressCCtx(static_cast<ZSTD_CCtx*>(zstd_ctx_), out.data(), out.size(), text.data(), text.size(), 3);
  if (ZSTD_isError(n)) return {};
  out.resize(n);
  return out;
}

bool Recorder::write_all(const std::string& bytes, int& err) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    auto n = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      break;
    }
    if (n == 0) {
      err = EIO;
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  if (done == bytes.size() && ::fdatasync(fd_) == 0) return true;
  if (done == bytes.size()) err = errno;
  // Take back a partial write: a reader never sees half a line or frame
  // from a write error (only from a crash).
  // (Should that fail too, the segment is abandoned: the next flush opens
  // a new one, and a reader counts the cut line as torn.)
  [[maybe_unused]] int ignored = ::ftruncate(fd_, static_cast<off_t>(segment_bytes_));
  return false;
}

bool Recorder::open_segment(std::string& error_path, int& err, const std::string& first_lines, bool gap_after_error) {
  std::error_code ec;
  fs::create_directories(options_.dir, ec);
  if (ec) {
    error_path = options_.dir;
    err = ec.value();
    return false;
  }
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const std::uint64_t seq = seq_ + 1;
    const std::string path = (fs::path(options_.dir) / segment_name(seq, options_.zstd)).native();
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0 && errno == EEXIST) {
      seq_ = seq;  // someone else's (or an older run's other suffix): skip it
      continue;
    }
    if (fd < 0) {
      error_path = path;
      err = errno;
      return false;
    }
    fd_ = fd;
    seq_ = seq;
    segment_path_ = path;
    segment_bytes_ = 0;
    segment_opened_ = clock_();
    std::string text = header_line(MonoClock::now(), std::chrono::system_clock::now()) + first_lines;
    if (gap_after_error) {
      text += "{\"type\":\"gap\",\"from_wall\":";
      append_json_number(text, last_written_wall_);
      text += ",\"to_wall\":";
      append_json_number(text, seconds_of(std::chrono::system_clock::now()));
      text += ",\"reason\":\"write error\",\"dropped\":";
      append_u64(text, dropped_while_failing_);
      text += "}\n";
    }
    std::string bytes = frame(text);
    if (!write_all(bytes, err)) {
      error_path = path;
      ::close(fd_);
      fd_ = -1;
      ::unlink(path.c_str());
      segment_path_.clear();
      return false;
    }
    segment_bytes_ = bytes.size();
    counters_->written_bytes += bytes.size();
    last_written_wall_ = seconds_of(std::chrono::system_clock::now());
    sync_dir(options_.dir);
    apply_retention();
    count_segments();
    return true;
  }
  error_path = options_.dir;
  err = EEXIST;
  return false;
}

void Recorder::close_segment() {
  if (fd_ < 0) return;
  ::fdatasync(fd_);
  ::close(fd_);
  fd_ = -1;
  // A segment that holds nothing whole (its header failed) is no segment.
  if (segment_bytes_ == 0 && !segment_path_.empty()) ::unlink(segment_path_.c_str());
}

std::string Recorder::header_line(MonoClock::time_point mono, std::chrono::system_clock::time_point wall) const {
  nlohmann::json h = {{"type", "header"},
                      {"format", kFormatVersion},
                      {"segment", seq_},
                      {"host", host_name()},
                      {"pid", static_cast<long>(::getpid())},
                      {"boot_id", boot_id()},
                      {"version", build::kVersion},
                      {"compress", options_.zstd ? "zstd" : "none"}};
  std::string line = h.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  line.pop_back();  // '}'
  line += ",\"start_wall\":";
  append_json_number(line, seconds_of(wall));
  line += ",\"start_mono\":";
  append_json_number(line, seconds_of(mono));
  line += "}\n";
  return line;
}

void Recorder::write_pending(Pending& p) {
  const bool due_rotation =
      fd_ >= 0 && !failing_ &&
      (segment_bytes_ >= options_.segment_max_bytes ||
       (options_.segment_max_age.count() > 0 && clock_() - segment_opened_ >= options_.segment_max_age));
  if (p.text.empty() && !due_rotation) return;
  // A segment removed under us (the directory deleted, retention by hand):
  // what went on in it would be lost, so go on in a new one.
  struct stat st {};
  const bool removed = fd_ >= 0 && ::fstat(fd_, &st) == 0 && st.st_nlink == 0;
  if (removed && log_) log_->warn("recorder: " + segment_path_ + " was removed; going on in a new segment");
  const bool was_failing = failing_;
  // One line when writing starts to fail, one when it works again: never
  // one per period.
  auto failed = [&](const std::string& path, int err) {
    counters_->dropped += p.records;
    dropped_while_failing_ += p.records;
    if (!was_failing && log_)
      log_->error("recorder: cannot write " + describe_errno(path, err) +
                  "; samples are dropped and counted until it can (retried every " +
                  format_duration(options_.fsync_period) + ")");
    failing_ = true;
  };
  bool opened_now = false;
  if (failing_ || fd_ < 0 || due_rotation || removed) {
    close_segment();
    std::string path;
    int err = 0;
    if (!open_segment(path, err, std::string(), was_failing)) {
      failed(path, err);
      return;
    }
    opened_now = true;
    // A new segment restates the series its first sample refers to.
    if (!p.schema_line.empty()) p.text.insert(0, p.schema_line);
  }
  if (!p.text.empty()) {
    const std::string bytes = frame(p.text);
    int err = 0;
    if (bytes.empty() || !write_all(bytes, err)) {
      // A segment opened for this write holds only its header: not worth
      // keeping (close_segment removes an empty one).
      if (opened_now && ::ftruncate(fd_, 0) == 0) segment_bytes_ = 0;
      failed(segment_path_, bytes.empty() ? ENOMEM : err);
      return;
    }
    segment_bytes_ += bytes.size();
    counters_->written_bytes += bytes.size();
    counters_->samples += p.samples;
    counters_->events += p.records - p.samples;
    last_written_wall_ = seconds_of(std::chrono::system_clock::now());
  }
  if (was_failing) {
    if (log_)
      log_->info("recorder: recording again in " + segment_path_ + " after " + std::to_string(dropped_while_failing_) +
                 " dropped samples and events");
    failing_ = false;
    dropped_while_failing_ = 0;
  }
  if (csv_fd_ >= 0 && !p.csv.empty()) {
    std::size_t done = 0;
    while (done < p.csv.size()) {
      auto n = ::write(csv_fd_, p.csv.data() + done, p.csv.size() - done);
      if (n <= 0) break;
      done += static_cast<std::size_t>(n);
    }
    ::fdatasync(csv_fd_);
  }
}

void Recorder::apply_retention() {
  if (options_.retention_max_bytes == 0 && options_.retention_max_age.count() == 0) return;
  auto segs = list_segments(options_.dir);
  std::erase_if(segs, [this](const SegmentFile& s) { return s.path == segment_path_; });
  const auto now = fs::file_time_type::clock::now();
  std::uint64_t total = 0;
  for (const auto& s : segs) total += s.bytes;
  for (const auto& s : segs) {  // oldest first
    std::error_code ec;
    bool too_old = false;
    if (options_.retention_max_age.count() > 0) {
      auto mtime = fs::last_write_time(s.path, ec);
      too_old = !ec && now - mtime > options_.retention_max_age;
    }
    const bool too_big = options_.retention_max_bytes > 0 && total > options_.retention_max_bytes;
    if (!too_old && !too_big) continue;
    if (fs::remove(s.path, ec)) total -= s.bytes;
  }
}

void Recorder::count_segments() { counters_->segments = list_segments(options_.dir).size(); }

// ---- the record: section ----------------------------------------------------

RecorderOptions parse_recorder_options(const YamlReader& reader, const YAML::Node& node, const std::string& key) {
  RecorderOptions o;
  bool has_dir = false;
  using std::chrono::milliseconds;
  constexpr milliseconds kYear{366LL * 24 * 3600 * 1000};
  reader.each_key(node, key,
                  {"dir", "max_bytes", "max_age", "segment_bytes", "segment_age", "fsync_period", "compress", "csv"},
                  [&](const std::string& k, const std::string& full, const YAML::Node& v) {
                    if (k == "dir") {
                      o.dir = reader.scalar(v, full, "a directory path");
                      if (o.dir.empty()) reader.fail(v.Mark(), full, "expected a directory path, got an empty string");
                      has_dir = true;
                    } else if (k == "max_bytes") {
                      o.retention_max_bytes = reader.byte_size(v, full, 0, ~std::uint64_t{0});
                    } else if (k == "max_age") {
                      o.retention_max_age = std::chrono::duration_cast<std::chrono::seconds>(
                          reader.duration(v, full, milliseconds(0), kYear));
                    } else if (k == "segment_bytes") {
                      o.segment_max_bytes = reader.byte_size(v, full, 4096, std::uint64_t{1} << 40);
                    } else if (k == "segment_age") {
                      o.segment_max_age = std::chrono::duration_cast<std::chrono::seconds>(
                          reader.duration(v, full, milliseconds(1000), kYear));
                    } else if (k == "fsync_period") {
                      o.fsync_period = reader.duration(v, full, milliseconds(10), milliseconds(3600 * 1000));
                    } else if (k == "compress") {
                      o.zstd = reader.choice(v, full, {"none", "zstd"}) == "zstd";
                    } else if (k == "csv") {
                      o.csv = reader.boolean(v, full);
                    }
                  });
  if (!has_dir) reader.fail(node.Mark(), key + ".dir", "missing: the directory to record into");
  return o;
}

}  // namespace tierscope

#pragma once
// Reading a recording written by exporters/recorder.h (format:
// docs/recording.md): every segment of a directory in order, plain and zstd,
// each whole line parsed. A torn last line (or a truncated last zstd frame)
// of a segment is what a crash leaves: it is skipped and counted, never an
// error. A line that is not a JSON object with a "type" is counted as corrupt.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tierscope {

struct RecordingStats {
  std::size_t segments = 0, records = 0, torn = 0, corrupt = 0;
  std::size_t gaps = 0;     // "gap" records
  std::size_t samples = 0;  // sample records resolved
};

// Calls fn for each record in order. Samples come with their values resolved
// to series names: {"type":"sample","seq","wall","mono","values":{"name{labels}":value,...}}
// (value: a number, or "NaN", "+Inf", "-Inf"); every other record (header,
// series, gap, events) as written. A sample whose schema is unknown or whose
// values do not match it is counted as corrupt and not passed on.
RecordingStats read_recording(const std::string& dir, const std::function<void(const nlohmann::json&)>& fn);

// ---- the pieces, for the recorder's resume, the fuzz target and tests ----

struct SegmentFile {
  std::string path;
  std::uint64_t seq = 0;
  bool zstd = false;
  std::uint64_t bytes = 0;
};
// The segment files of `dir` (samples-<digits>.jsonl[.zst]), by sequence number.
std::vector<SegmentFile> list_segments(const std::string& dir);

// Splits one segment's bytes (zstd: frame by frame) into whole lines, parses
// each and calls fn with every record; counts torn and corrupt in `stats`.
void parse_segment(std::string_view bytes, bool zstd, RecordingStats& stats,
                   const std::function<void(nlohmann::json&&)>& fn);

// Turns sample records into resolved ones, following the series records.
class SampleResolver {
 public:
  // Learns a series record; false when it is malformed.
  bool learn(const nlohmann::json& series_record);
  // The resolved sample, or nullopt when its schema is unknown or its
  // values do not fit it.
  std::optional<nlohmann::json> resolve(const nlohmann::json& sample) const;
  void reset() { schemas_.clear(); }

 private:
  std::map<std::uint64_t, std::vector<std::string>> schemas_;  // id -> series keys
};

// The last whole record of the newest segment that has one: its wall time
// (a header's start_wall), its monotonic time and the boot id of its segment.
struct LastRecord {
  double wall = 0;
  std::optional<double> mono;
  std::string boot_id;
};
std::optional<LastRecord> last_record(const std::string& dir);

}  // namespace tierscope

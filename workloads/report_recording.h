#pragma once
// What the run report takes from a run's recording (exporters/recorder.h,
// format docs/recording.md): the sample times, the series the charts draw
// (memory composition, disk operations), and a soak's soak_point records.
// Only the wanted series are kept, as columns aligned with the sample times;
// a 24 h recording at 1 s is read in one pass without resolving every
// sample into names.
//
// Downsampling for charts: block_minmax keeps, per block of consecutive
// points, the lowest and the highest (in time order), so spikes survive;
// block_means averages each block (for stacked areas, whose layers must
// share their x).
// Threading: pure functions except digest_recording (file I/O).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "exporters/recording.h"

namespace tierscope::workloads {

struct RecordedSeries {
  std::string name;
  std::map<std::string, std::string> labels;
  std::vector<double> values;  // aligned with RecordingDigest::wall; NaN where the sample did not have it
};

struct RecordingDigest {
  std::vector<double> wall;                 // unix seconds of each sample, in recording order
  std::map<std::string, RecordedSeries> series;  // by `name{label="value",…}` (labels sorted by name)
  // soak_point records: "subject/tier" → (t: sampled seconds, value).
  std::map<std::string, std::vector<std::pair<double, double>>> soak_points;
  std::size_t gaps = 0;
  RecordingStats stats;
};

// Reads every segment of `dir`; keeps the series whose metric name `wanted` accepts.
// Plain segments: the recorder's own sample lines are read by
// parse_sample_line (no JSON tree), every other line by the JSON parser;
// torn and corrupt lines are counted as exporters/recording.h counts them.
// zstd segments go through exporters/recording.h parse_segment.
RecordingDigest digest_recording(const std::string& dir, const std::function<bool(std::string_view name)>& wanted);

// One sample line exactly as the recorder writes it:
// {"type":"sample","seq":N,"wall":X,"mono":X,"schema":N,"values":[v,…]} with
// no spaces, each v a JSON number or "NaN", "+Inf", "-Inf". False (and the
// caller parses the line as JSON) for anything else. Its results equal the
// JSON parser's for every line it accepts (fuzz_run_dir checks it).
// `keep` (optional): given the schema, which positions to convert; the others
// are checked as JSON numbers only and read as NaN.
bool parse_sample_line(std::string_view line, double& wall, std::uint64_t& schema, std::vector<double>& values,
                       const std::function<const std::vector<bool>*(std::uint64_t schema)>& keep = {});

struct XY {
  double x = 0, y = 0;
};
// At most about `max_points` points: the lowest and the highest y of each block
// of consecutive points (non-finite y are dropped first).
std::vector<XY> block_minmax(const std::vector<XY>& points, std::size_t max_points);
// The block size that block_means uses for `n` points and at most `max_points`.
std::size_t block_size(std::size_t n, std::size_t max_points);

}  // namespace tierscope::workloads

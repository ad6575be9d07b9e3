#pragma once
// What a soak keeps between its samples and across a restart: each subject's
// tier as a bounded series of points in sampled run time, and the run's
// state as soak.json holds it (docs/soak.md).
//
// A series keeps at most `capacity` points: when full, adjacent pairs are
// merged (the mean of their time, value and work done) and from then on each
// stored point is the mean of `stride` consecutive samples, the stride
// doubling at each merge. 24 h at 10 Hz (864 000 samples) thus fits in
// 20 000 points of 64 samples each, evenly spaced.
//
// Threading: plain values.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace tierscope::workloads {

struct SoakPoint {
  double t_s = 0;    // sampled run time, seconds (gaps excluded)
  double value = 0;  // bytes or a count
  std::optional<double> requests, tokens;  // cumulative work done at t_s; nullopt without load
};

class BoundedSeries {
 public:
  static constexpr std::size_t kDefaultCapacity = 20'000;
  explicit BoundedSeries(std::size_t capacity = kDefaultCapacity);

  void add(const SoakPoint& p);
  // The stored points, plus the partial mean of the samples not yet merged
  // into a stored point (so the last sample always counts).
  std::vector<SoakPoint> points() const;
  std::uint64_t samples() const { return samples_; }  // every point ever added
  std::uint64_t stride() const { return stride_; }    // samples per stored point
  std::size_t capacity() const { return capacity_; }

 private:
  struct Sum {
    double t = 0, v = 0, r = 0, k = 0;
    bool has_r = true, has_k = true;
    std::uint64_t n = 0;
    void add(const SoakPoint& p);
    SoakPoint mean() const;
  };
  std::size_t capacity_;
  std::uint64_t stride_ = 1;
  std::uint64_t samples_ = 0;
  std::vector<SoakPoint> points_;
  Sum pending_;
};

// "Threads:" of /proc/<pid>/status (the kernel's text); nullopt when the
// line is missing or its value is not a number.
std::optional<std::uint64_t> parse_status_threads(std::string_view status);

// A span of wall time during which the soak did not run.
struct SoakGap {
  double from_wall = 0, to_wall = 0;  // unix seconds
  double seconds() const { return to_wall > from_wall ? to_wall - from_wall : 0; }
};

// soak.json's run state: what a resumed run continues from.
struct SoakState {
  std::string name;             // the run (the output directory's name)
  std::string scenario_sha256;  // of the scenario text and its --set overrides
  std::string status = "running";  // running | done | interrupted
  std::string started, updated;    // UTC, e.g. 2026-12-02T10:00:00Z
  double elapsed_s = 0;            // sampled run time
  double duration_s = 0, idle_tail_s = 0;
  std::uint64_t samples = 0;
  std::uint64_t requests_ok = 0, requests_failed = 0, output_tokens = 0;
  std::uint64_t engine_restarts = 0;
  std::vector<SoakGap> gaps;

  double gap_seconds() const;
  nlohmann::json to_json() const;
  // Throws std::runtime_error naming the field when a field is missing or of the wrong type.
  static SoakState from_json(const nlohmann::json& j);
};

}  // namespace tierscope::workloads

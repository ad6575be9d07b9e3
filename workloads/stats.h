#pragma once
// Descriptive statistics for one metric of one benchmark step (TTFT, TPOT,
// ITL, E2E, tokens/s), and the protocol scenario's repetition score.
//
// Definitions (docs/benchmarks.md repeats them):
//   - Non-finite values (NaN, ±inf) are dropped first; `count` is what is left.
//   - Percentiles: linear interpolation between the closest ranks, numpy's
//     default ("linear", Hyndman & Fan type 7): on the sorted values x[0..n-1],
//     h = (n-1)·q, p(q) = x[⌊h⌋] + (h-⌊h⌋)·(x[⌊h⌋+1]-x[⌊h⌋]). median = p(0.5).
//   - std: sample standard deviation (divisor n-1). cv = std/mean (absent
//     when mean is 0).
//   - trimmed_mean: the mean after dropping ⌊f·n⌋ values from each end of the
//     sorted values (scipy.stats.trim_mean semantics); f defaults to 0.10 and
//     is clamped to [0, 0.5).
//   - ci95: mean ± t(0.975, n-1)·std/√n, Student's t with n-1 degrees of
//     freedom: the 95 % confidence interval of the mean.
//   - Empty input: every statistic absent, count 0. n = 1: std, cv and ci95
//     absent (the rest equal the one value).

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>
#include <utility>

#include <nlohmann/json_fwd.hpp>

namespace tierscope::workloads {

inline constexpr double kDefaultTrimFraction = 0.10;

struct Summary {
  std::size_t count = 0;
  std::optional<double> mean;
  std::optional<double> median;
  std::optional<double> p90;
  std::optional<double> p95;
  std::optional<double> p99;
  std::optional<double> min;
  std::optional<double> max;
  std::optional<double> stddev;  // sample (n-1)
  std::optional<double> cv;      // stddev / mean
  std::optional<double> trimmed_mean;
  std::optional<std::pair<double, double>> ci95;  // [low, high]
};

Summary summarize(std::span<const double> values, double trim_fraction = kDefaultTrimFraction);

// Percentile q ∈ [0, 1] (linear interpolation, as above) of the finite values;
// absent when there are none or q is out of range.
std::optional<double> percentile(std::span<const double> values, double q);
// Same on values already sorted ascending, all finite, non-empty.
double percentile_sorted(std::span<const double> sorted, double q);

// Quantile function of Student's t distribution: the t with P(T ≤ t) = p,
// for p ∈ (0, 1) and dof > 0 (dof = +inf gives the standard normal). Computed
// by safeguarded Newton iteration on the CDF, itself from the regularized
// incomplete beta function (continued fraction); closed forms for dof 1 and 2.
// Relative error well below 1e-9 for p ∈ [1e-10, 1-1e-10]. NaN outside the domain.
double student_t_quantile(double p, double dof);
// Standard normal quantile (Newton on erfc), same accuracy.
double normal_quantile(double p);
// Distribution function of Student's t: P(T ≤ t) for dof > 0 (dof = +inf
// gives the standard normal), from the same regularized incomplete beta
// function, P(T ≤ t) = ½·I_{dof/(dof+t²)}(dof/2, ½) for t ≤ 0; the upper
// half by symmetry, so tails keep their relative precision. NaN outside the
// domain (t NaN, dof ≤ 0).
double student_t_cdf(double t, double dof);
// Standard normal distribution function Φ(x) = ½·erfc(−x/√2).
double normal_cdf(double x);

// {"count", "mean", "median", "p90", "p95", "p99", "min", "max", "std", "cv",
//  "trimmed_mean", "ci95": [low, high]}: every key is always present, and an
// absent statistic is null (so a CSV/jq consumer sees a stable shape).
nlohmann::json to_json(const Summary& s);

// Repetition score of a generated text, for the protocol scenario: the share
// of repeated word n-grams.
//   words: maximal runs of ASCII letters/digits and of bytes >= 0x80 (so
//     UTF-8 letters stay inside words); every other byte separates; ASCII
//     letters are lowercased;
//   n-grams: every run of n consecutive words (n = 3 by default), total =
//     words - n + 1;
//   score = 1 - distinct n-grams / total n-grams: 0 when no n-gram repeats,
//     approaching 1 for a loop of one phrase; 0 when there are fewer than n
//     words (or n = 0).
double repetition_score(std::string_view text, std::size_t n = 3);

}  // namespace tierscope::workloads

#pragma once
// Leak verdicts for a soak run: is one memory tier (or count) of one subject
// leaking, filling a bounded cache, or clean? docs/soak.md ("Leak verdicts")
// repeats these definitions for users.
//
// Input: points (t_s, value), t_s in seconds of sampled run time, optionally
// the cumulative work done (requests, output tokens) at each point. Points
// with a non-finite t_s or value are dropped; the rest are ordered by t_s.
// Points with t_s >= idle_tail_from_s form the idle tail: they are left out of
// every fit and used only by the reclaim test. The rest are the "run".
//
// Statistics (α = 1 - confidence; z = normal_quantile(1 - α/2)):
//   - Downsampling (Theil–Sen only): when the run has n > max_points points,
//     consecutive blocks of k = ceil(n / max_points) points are replaced by
//     the median of their t_s and the median of their values (and of their
//     requests/tokens); the last block may be shorter. `downsampling` says
//     "none" or "block medians of k points".
//   - Theil–Sen slope (Sen 1968): the median of the pairwise slopes
//     (y_j - y_i)/(x_j - x_i) over every pair i < j with x_i != x_j; N is
//     their number.
//   - Its confidence interval (Sen 1968; Gilbert 1987, §16.5):
//     C = z·sqrt(Var(S)), M1 = (N - C)/2, M2 = (N + C)/2; on the pairwise
//     slopes sorted ascending, the low limit is the slope of rank M1 and the
//     high limit the slope of rank M2 + 1 (ranks from 1, interpolated
//     linearly between neighbouring ranks, clamped to [1, N]). Var(S) is the
//     Mann–Kendall variance of the fitted points (below), corrected for the
//     ties in the values and, as Sen does for repeated abscissae, for the
//     ties in x.
//   - Mann–Kendall trend test on block means: the run's points (not
//     downsampled) in `blocks` consecutive blocks of equal count (the first
//     n mod blocks blocks take one more), each replaced by its mean value;
//     with fewer points than blocks, the points themselves. On those m values:
//       S = Σ_{i<j} sign(y_j - y_i)
//       Var(S) = [m(m-1)(2m+5) - Σ_g t_g(t_g-1)(2t_g+5)] / 18, t_g the size of
//                each group of equal values (ties: RSS comes in pages)
//       Z = (S-1)/sqrt(Var) if S > 0, (S+1)/sqrt(Var) if S < 0, 0 otherwise
//           (continuity correction); Var = 0 gives Z = 0
//       p = erfc(|Z|/sqrt(2)), two-sided, normal approximation
//       tau-b = S / sqrt((n0 - n1)(n0 - n2)), n0 = m(m-1)/2,
//               n1 = Σ_g t_g(t_g-1)/2 over value ties, n2 likewise over the
//               ties of the block times (none: blocks are ordered)
//   - Work regression: the Theil–Sen slope (with its CI as above) of the value
//     against the cumulative requests, and against the cumulative tokens
//     (reported per 1000 tokens), on the run's points that carry them, when
//     there are at least min_points of them and the work grew.
//   - Plateau test: the run split into thirds by time; growth of a third =
//     the Theil–Sen slope of its (downsampled) points × a third of
//     duration_s: growth_first_third and growth_last_third.
//   - Reclaim test (when an idle tail has points): base = median of the first
//     10 % of the run's values, peak = median of the last 10 %, end = median
//     of the last 25 % of the tail's values (at least one point each);
//     idle_reclaimed = (peak - end) / (peak - base), when peak > base.
//   - Time to OOM: headroom / slope, when headroom is given, the slope is
//     positive and its CI lies above 0; its own range is headroom / high
//     slope .. headroom / low slope.
//   - first, last, min, max: over every point given (the idle tail included);
//     duration_s: the run's span (last t_s - first t_s, idle tail excluded).
//
// Verdict rules, in this order (growth = Theil–Sen slope × duration_s; a
// "significant rise" needs both tests: Mann–Kendall S > 0 with p < α AND the
// slope's CI above 0):
//   1. INCONCLUSIVE: the run has fewer than min_points points or lasts less
//      than min_duration_s.
//   2. CLEAN: growth < noise_floor (a fall included).
//   3. CLEAN: a significant fall (MK S < 0 with p < α and the CI below 0).
//   4. CLEAN: no significant rise: MK p >= α (or S <= 0), or the slope CI
//      includes 0 (the reason says which test did not see it).
//   5. INCONCLUSIVE: a significant rise whose CI straddles the noise floor:
//      the CI's low end × duration_s < noise_floor (a small leak cannot be
//      told from noise yet; a longer run decides).
//   6. BOUNDED-GROWTH: a significant rise that levels off: growth_first_third
//      > 0, growth_last_third <= plateau_ratio × growth_first_third and the
//      last third is not still rising. "Still rising": its own Mann–Kendall
//      (on blocks/3 block means, at least 3) has S > 0 with p < α, its
//      Theil–Sen CI lies above 0, and its growth is at least noise_floor.
//   7. BOUNDED-GROWTH: the idle tail gives back at least reclaim_fraction of
//      the growth.
//   8. LEAK otherwise: a significant rise sustained into the last third.
// A known bias, guarded by rules 2, 4 and 5: on an allocate/free sawtooth
// (slow rise, sudden drop) the pairs inside one rise all have large positive
// slopes, so the Theil–Sen median leans upward although nothing is kept.
// `reasons` holds the numbers behind the decision as sentences.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace tierscope::workloads {

enum class Verdict { leak, bounded_growth, clean, inconclusive };
std::string_view to_string(Verdict v);  // "LEAK", "BOUNDED-GROWTH", "CLEAN", "INCONCLUSIVE"

struct TrendPoint {
  double t_s = 0;                    // seconds of sampled run time (the caller removes gaps: time runs on only while sampled)
  double value = 0;                  // bytes, or a count (fds, threads)
  std::optional<double> requests;    // cumulative requests completed at t_s (work done); nullopt: unknown
  std::optional<double> tokens;      // cumulative output tokens at t_s
};

struct LeakOptions {
  std::size_t max_points = 2000;           // downsample (block medians) to at most this many for Theil–Sen
  std::size_t blocks = 40;                 // Mann–Kendall on this many block means (ties corrected)
  double confidence = 0.95;
  double min_duration_s = 300;             // shorter → INCONCLUSIVE (reason says so)
  std::size_t min_points = 30;             // fewer → INCONCLUSIVE
  std::optional<double> idle_tail_from_s;  // points with t_s >= this are the idle tail: excluded from the fits, used by the reclaim test
  std::optional<double> headroom;          // limit (or MemAvailable) minus current, same unit as value: time to OOM = headroom / slope
  double noise_floor = 4.0 * 1024 * 1024;  // growth over the run below this is CLEAN (for counts the caller passes e.g. 2)
  std::string unit = "bytes";              // "bytes" or "count": for messages
  double plateau_ratio = 0.10;             // last-third growth at most this share of the first third's: levelled off
  double reclaim_fraction = 0.75;          // the idle tail gives back at least this share of the growth: bounded
};

struct LeakResult {
  std::string subject, tier, unit;
  Verdict verdict = Verdict::inconclusive;
  std::vector<std::string> reasons;        // the numbers that decided it, as sentences
  std::size_t points = 0, points_used = 0; // given; used by Theil–Sen after downsampling
  std::string downsampling;                // e.g. "block medians of 43 points"
  double duration_s = 0;
  std::optional<double> first, last, min, max;
  std::optional<double> slope_per_s, slope_low_per_s, slope_high_per_s;  // Theil–Sen + its CI
  std::optional<double> mk_s, mk_var, mk_z, mk_p, mk_tau; std::size_t mk_blocks = 0;
  std::optional<double> per_request, per_request_low, per_request_high;      // value per request (Theil–Sen vs requests)
  std::optional<double> per_1k_tokens, per_1k_tokens_low, per_1k_tokens_high;
  std::optional<double> growth_first_third, growth_last_third;             // plateau test (value units)
  std::optional<double> idle_reclaimed;    // fraction of the growth given back during the idle tail
  std::optional<double> time_to_oom_s;
  std::optional<double> time_to_oom_low_s, time_to_oom_high_s;  // from the slope's CI
  nlohmann::json to_json() const;          // every field above, absent when nullopt
};

LeakResult analyze_leak(std::string subject, std::string tier, std::vector<TrendPoint> points,
                        const LeakOptions& options = {});

// The building blocks, exposed for tests and for callers that want one number.

struct MannKendall {
  double s = 0, var = 0, z = 0, p = 1, tau = 0;
  std::size_t n = 0;
};
// The test on `y` in the given order (above: S, tie-corrected Var(S),
// continuity-corrected Z, two-sided p, tau-b). n < 2: S = 0, p = 1.
MannKendall mann_kendall(const std::vector<double>& y);

// Var(S) of Mann–Kendall for n values whose groups of equal values have the
// sizes in `ties` (groups of one may be included: they add 0).
double mann_kendall_variance(std::size_t n, const std::vector<std::size_t>& ties);

struct SenSlope {
  double slope = 0, low = 0, high = 0;
  std::size_t pairs = 0;  // N: pairs with distinct x
};
// Theil–Sen slope of y against x with Sen's confidence interval at
// `confidence` (above). Absent when fewer than 2 pairs have distinct x.
std::optional<SenSlope> theil_sen(const std::vector<double>& x, const std::vector<double>& y,
                                  double confidence = 0.95);

}  // namespace tierscope::workloads

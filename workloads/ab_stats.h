#pragma once
// Two-sample statistics for A/B comparisons of one metric (TTFT, TPOT, E2E,
// tokens/s) between arm a and arm b. Every result is "b relative to a": the
// ratio is median(b)/median(a), the difference mean(b) − mean(a).
//
// Inputs: non-finite values are dropped first; `n` below counts the rest.
// Every function returns nullopt when its result is undefined for the data
// (too few values, a value ≤ 0 where a logarithm or a ratio is taken); the
// comparison then shows the statistic as absent, never as 0.
//
// Formulas and their sources (docs/ab.md repeats them):
//
// bootstrap_ratio_of_medians — Efron & Tibshirani, "An Introduction to the
//   Bootstrap" (1993), ch. 13: the percentile interval. The point estimate is
//   r = median(b)/median(a) (medians as stats.h: linear interpolation,
//   Hyndman & Fan type 7). Each of `resamples` replicates draws n_a values
//   from a with replacement and, independently, n_b values from b, and takes
//   the ratio of the two resample medians; the interval is the
//   (1−c)/2 and (1+c)/2 percentiles (type 7) of the sorted replicates, c the
//   confidence. The generator is std::mt19937_64 seeded with `seed`, each
//   output split in two 32-bit draws (low half first); an index in [0, n) is
//   the high half of draw·n, draws whose low half is below 2^32 mod n
//   rejected (Lemire 2019, unbiased), so the same seed gives the same
//   interval with any standard library. Needs 2 ≤ n < 2^32 in each arm and
//   every value > 0.
//
// welch_t — Welch (1947), "The generalization of 'Student's' problem when
//   several different population variances are involved", Biometrika 34;
//   degrees of freedom by Satterthwaite (1946):
//     d = mean(b) − mean(a), se² = s_a²/n_a + s_b²/n_b (sample variances, n−1),
//     t = d / se,  ν = se⁴ / ((s_a²/n_a)²/(n_a−1) + (s_b²/n_b)²/(n_b−1)),
//     CI = d ± t_{(1+c)/2, ν}·se,  p = 2·P(T_ν ≤ −|t|)  (stats.h student_t_cdf).
//   Needs n ≥ 2 in each arm and se > 0 (both arms constant: absent).
//
// mann_whitney_u — Mann & Whitney (1947), Ann. Math. Statist. 18: U of b =
//   R_b − n_b(n_b+1)/2, R_b the sum of b's ranks in the pooled sample, tied
//   values given the average of their ranks. U counts the pairs with b > a
//   (ties count ½); U / (n_a·n_b) estimates P(b > a).
//   Two-sided p:
//   - exact when there are no ties and n_a, n_b ≤ 20: the null distribution of
//     U (every arrangement of the pooled ranks equally likely) counted by the
//     recurrence f(u; m, n) = f(u; m − 1, n) + f(u − m; m, n − 1) (m values
//     in a, n in b; the largest pooled value is in a, or in b above all m),
//     p = min(1, 2·min(P(U ≤ u), P(U ≥ u)));
//   - otherwise the normal approximation with the tie correction (Lehmann,
//     "Nonparametrics", 1975, §1.4):
//       μ = n_a n_b / 2, σ² = n_a n_b/12 · ((N+1) − Σ(t³ − t)/(N(N−1))),
//       N = n_a + n_b, t the size of each group of ties,
//     and the continuity correction: z = sign(U − μ)·max(|U − μ| − ½, 0)/σ,
//     p = min(1, 2·(1 − Φ(|z|))). Every value tied (σ = 0): z = 0, p = 1.
//   `z` is reported for both (the exact case: the same formula, for reading).
//   Needs n ≥ 1 in each arm.
//
// tost_ratio — Schuirmann (1987), "A comparison of the two one-sided tests
//   procedure…", J. Pharmacokinet. Biopharm. 15: on x = ln a, y = ln b with
//   the Welch statistics above (d = mean(y) − mean(x), se, ν) and the bound
//   δ = ln(1 + margin):
//     H₀₁: d ≤ −δ, p₁ = P(T_ν ≥ (d + δ)/se);  H₀₂: d ≥ δ, p₂ = P(T_ν ≤ (d − δ)/se);
//     p = max(p₁, p₂); equivalent when p < alpha, that is when the
//     (1 − 2·alpha) Welch interval of d lies inside (−δ, δ): the ratio of
//     geometric means b/a within [1/(1+margin), 1+margin].
//   Both arms constant in logs (se = 0): p = 0 when |d| < δ, else 1.
//   Needs n ≥ 2 in each arm, every value > 0 and margin > 0.
//
// ab_verdict — the verdict of one metric:
//   better / worse  when the ratio CI excludes 1 (on the side of the metric's
//                   direction) and the Mann–Whitney p < 0.05;
//   equivalent      otherwise, when TOST says equivalent at the margin;
//   inconclusive    otherwise. Failing to find a difference is never a
//                   verdict of "no difference".
//   Wording (verdict_word): better → "faster", worse → "slower" for the
//   latency metrics (lower is better) and for tokens/s (higher is better).
//
// Threading: pure functions.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace tierscope::workloads {

struct BootstrapOptions {
  std::size_t resamples = 10000;
  std::uint64_t seed = 1;
  double confidence = 0.95;
};

struct RatioInterval {
  double ratio = 0, low = 0, high = 0;
  std::size_t resamples = 0;
  std::uint64_t seed = 0;
  std::string method;
};

// median(b) / median(a) with a percentile bootstrap CI (above).
std::optional<RatioInterval> bootstrap_ratio_of_medians(std::span<const double> a, std::span<const double> b,
                                                        const BootstrapOptions& o = {});

struct WelchResult {
  double diff = 0, low = 0, high = 0, t = 0, dof = 0, p = 0;  // mean(b) − mean(a), its CI, two-sided p
};
std::optional<WelchResult> welch_t(std::span<const double> a, std::span<const double> b, double confidence = 0.95);

struct MannWhitneyResult {
  double u = 0, z = 0, p = 0;  // U of b; two-sided p
  bool exact = false;
};
std::optional<MannWhitneyResult> mann_whitney_u(std::span<const double> a, std::span<const double> b);

struct TostResult {
  double margin = 0, p = 0;
  bool equivalent = false;
};
std::optional<TostResult> tost_ratio(std::span<const double> a, std::span<const double> b, double margin,
                                     double alpha = 0.05);

enum class AbVerdict { better, worse, equivalent, inconclusive };

struct MetricSpec {
  std::string name;
  bool lower_is_better;
};

// Significance level of the Mann–Whitney test in the verdict.
inline constexpr double kVerdictAlpha = 0.05;

AbVerdict ab_verdict(const std::optional<RatioInterval>& ratio, const std::optional<MannWhitneyResult>& mw,
                     const std::optional<TostResult>& tost, bool lower_is_better);
// "faster" | "slower" | "equivalent" | "inconclusive".
std::string_view verdict_word(AbVerdict verdict);
// "better" | "worse" | "equivalent" | "inconclusive".
std::string_view to_string(AbVerdict verdict);

// Largest arm for which mann_whitney_u computes the exact distribution.
inline constexpr std::size_t kMannWhitneyExactMax = 20;

}  // namespace tierscope::workloads

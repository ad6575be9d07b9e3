// A/B statistics (workloads/ab_stats.h) against reference values: published
// outputs of R's t.test / wilcox.test on small datasets (the source is named
// at each), values recomputed with mpmath at 30 digits, and second, naive
// implementations inside this file (U by counting pairs, the exact
// distribution by enumerating every split of the pooled sample). The
// bootstrap is checked by properties: reproducible per seed, the interval
// holds the estimate, shrinks as 1/√n, and covers a known true ratio in about
// 95 % of 200 simulated experiments.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <numbers>
#include <random>
#include <vector>

#include "workloads/ab_stats.h"
#include "workloads/stats.h"

using namespace tierscope::workloads;

namespace {

// Naive U of b: pairs with b > a, ties ½.
double naive_u(const std::vector<double>& a, const std::vector<double>& b) {
  double u = 0;
  for (double y : b)
    for (double x : a) u += y > x ? 1.0 : (y == x ? 0.5 : 0.0);
  return u;
}

// Exact two-sided p by enumerating every way to pick |b| of the pooled values
// as "b" (each equally likely under the null): 2·min(P(U ≤ u), P(U ≥ u)), capped at 1.
double enumerated_p(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> pooled = a;
  pooled.insert(pooled.end(), b.begin(), b.end());
  const double u = naive_u(a, b);
  const std::size_t n = pooled.size();
  std::vector<bool> pick(n, false);
  std::fill(pick.end() - static_cast<std::ptrdiff_t>(b.size()), pick.end(), true);
  double total = 0, at_most = 0, at_least = 0;
  do {
    std::vector<double> aa, bb;
    for (std::size_t i = 0; i < n; ++i) (pick[i] ? bb : aa).push_back(pooled[i]);
    const double v = naive_u(aa, bb);
    total += 1;
    at_most += v <= u ? 1 : 0;
    at_least += v >= u ? 1 : 0;
  } while (std::next_permutation(pick.begin(), pick.end()));
  return std::min(1.0, 2.0 * std::min(at_most, at_least) / total);
}

// A portable standard normal draw (Box–Muller on 53-bit uniforms), so the
// simulated data are the same with any standard library.
struct Normal {
  std::mt19937_64 rng;
  explicit Normal(std::uint64_t seed) : rng(seed) {}
  double uniform() { return (static_cast<double>(rng() >> 11) + 0.5) * 0x1.0p-53; }
  double operator()() {
    return std::sqrt(-2.0 * std::log(uniform())) * std::cos(2.0 * std::numbers::pi * uniform());
  }
};

// n log-normal values with median `median` and log-sd `sigma`.
std::vector<double> lognormal(Normal& g, std::size_t n, double median, double sigma) {
  std::vector<double> v;
  for (std::size_t i = 0; i < n; ++i) v.push_back(median * std::exp(sigma * g()));
  return v;
}

}  // namespace

TEST(AbStats, WelchMatchesRsTTestOutput) {
  // R: ts1 = c(11,9,10,11,10,12,9,11,12,9); ts2 = c(11,13,10,13,12,9,11,12,12,11);
  // t.test(ts1, ts2) → "Welch Two Sample t-test: t = -1.8325, df = 17.9, p-value = 0.08356,
  // 95 percent confidence interval: -2.1469104 0.1469104" (x − y; here b − a, so the signs flip).
  // mpmath at 30 digits: t = 1.83254166534, dof = 17.9003101462, p = 0.0835597916192,
  // CI [-0.146910366105, 2.1469103661].
  const std::vector<double> a = {11, 9, 10, 11, 10, 12, 9, 11, 12, 9};
  const std::vector<double> b = {11, 13, 10, 13, 12, 9, 11, 12, 12, 11};
  auto w = welch_t(a, b);
  ASSERT_TRUE(w);
  EXPECT_NEAR(w->diff, 1.0, 1e-12);
  EXPECT_NEAR(w->t, 1.83254166534, 1e-10);
  EXPECT_NEAR(w->dof, 17.9003101462, 1e-9);
  EXPECT_NEAR(w->p, 0.0835597916192, 1e-10);
  EXPECT_NEAR(w->low, -0.146910366105, 1e-9);
  EXPECT_NEAR(w->high, 2.1469103661, 1e-9);
  // Swapping the arms mirrors everything.
  auto back = welch_t(b, a);
  ASSERT_TRUE(back);
  EXPECT_NEAR(back->diff, -1.0, 1e-12);
  EXPECT_NEAR(back->p, w->p, 1e-14);
  EXPECT_NEAR(back->low, -w->high, 1e-12);
  // Too few values, or no spread at all: absent.
  EXPECT_FALSE(welch_t(std::vector<double>{1}, b));
  EXPECT_FALSE(welch_t(std::vector<double>{2, 2}, std::vector<double>{3, 3}));
  EXPECT_TRUE(welch_t(std::vector<double>{2, 2}, std::vector<double>{3, 4}));
}

TEST(AbStats, MannWhitneyExactMatchesPublishedAndEnumeration) {
  // R's ?wilcox.test example (Hollander & Wolfe 1973, p. 69): x = c(0.80, 0.83, 1.89, 1.04, 1.45, 1.38,
  // 1.91, 1.64, 0.73, 1.46), y = c(1.15, 0.88, 0.90, 0.74, 1.21); wilcox.test(x, y, alternative = "g") →
  // W = 35, p-value = 0.1272; two-sided: 2·0.1272. Enumeration of the 3003 splits: 0.2544122544.
  const std::vector<double> x = {0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46};
  const std::vector<double> y = {1.15, 0.88, 0.90, 0.74, 1.21};
  auto r = mann_whitney_u(y, x);  // U of b = W of x
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->exact);
  EXPECT_DOUBLE_EQ(r->u, 35);
  EXPECT_NEAR(r->p, 0.2544122544122544, 1e-12);
  EXPECT_NEAR(r->p / 2, 0.1272, 5e-5);
  // exactRankTests::wilcox.exact(1:10, 11:15) → W = 0, p-value = 0.000666 (= 2 / C(15, 5)).
  std::vector<double> low, high;
  for (int i = 1; i <= 10; ++i) low.push_back(i);
  for (int i = 11; i <= 15; ++i) high.push_back(i);
  r = mann_whitney_u(high, low);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->exact);
  EXPECT_DOUBLE_EQ(r->u, 0);
  EXPECT_NEAR(r->p, 2.0 / 3003.0, 1e-15);
  // wilcox.exact(c(1,3,5,7,9), c(2,4,6,8)) → W = 10, p-value = 1.
  r = mann_whitney_u(std::vector<double>{2, 4, 6, 8}, std::vector<double>{1, 3, 5, 7, 9});
  ASSERT_TRUE(r);
  EXPECT_DOUBLE_EQ(r->u, 10);
  EXPECT_DOUBLE_EQ(r->p, 1.0);

  // Random untied samples of 1..7 values each against the enumeration.
  std::mt19937_64 rng(7);
  for (int round = 0; round < 40; ++round) {
    const std::size_t na = 1 + rng() % 7, nb = 1 + rng() % 7;
    std::vector<double> a, b;
    for (std::size_t i = 0; i < na; ++i) a.push_back(static_cast<double>(rng() % 1000000) + 0.25);
    for (std::size_t i = 0; i < nb; ++i) b.push_back(static_cast<double>(rng() % 1000000) + 0.75 + (round % 3));
    auto m = mann_whitney_u(a, b);
    ASSERT_TRUE(m);
    EXPECT_TRUE(m->exact);
    EXPECT_DOUBLE_EQ(m->u, naive_u(a, b)) << round;
    EXPECT_NEAR(m->p, enumerated_p(a, b), 1e-12) << round;
  }
}

TEST(AbStats, MannWhitneyNormalApproximationWithTies) {
  // R (endmemo.com/r/wilcoxon.php): x = c(1,5,9,24,56,21,3,7,21,4), y = c(12,15,5,9,9,14,56,22,3,7,32,5);
  // wilcox.test(x, y) → "with continuity correction: W = 51.5, p-value = 0.5966" (ties: no exact p).
  // mpmath with the tie-corrected variance: z = 0.529300653082, p = 0.596596902628.
  const std::vector<double> x = {1, 5, 9, 24, 56, 21, 3, 7, 21, 4};
  const std::vector<double> y = {12, 15, 5, 9, 9, 14, 56, 22, 3, 7, 32, 5};
  auto r = mann_whitney_u(y, x);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->exact);
  EXPECT_DOUBLE_EQ(r->u, 51.5);
  EXPECT_DOUBLE_EQ(r->u, naive_u(y, x));
  EXPECT_NEAR(r->z, -0.529300653082, 1e-11);
  EXPECT_NEAR(r->p, 0.596596902628, 1e-11);
  // Same x, y = c(1233,4356,987,39999,1111,200000): W = 0, p-value = 0.001364 (mpmath 0.00136439295438).
  r = mann_whitney_u(std::vector<double>{1233, 4356, 987, 39999, 1111, 200000}, x);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->exact);
  EXPECT_DOUBLE_EQ(r->u, 0);
  EXPECT_NEAR(r->p, 0.00136439295438, 1e-13);
  // Beyond 20 values per arm without ties: the normal approximation too.
  std::vector<double> a, b;
  for (int i = 0; i < 25; ++i) {
    a.push_back(2 * i);
    b.push_back(2 * i + 1);
  }
  r = mann_whitney_u(a, b);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->exact);
  EXPECT_DOUBLE_EQ(r->u, naive_u(a, b));
  // Every value tied: no evidence at all.
  r = mann_whitney_u(std::vector<double>{3, 3, 3}, std::vector<double>{3, 3});
  ASSERT_TRUE(r);
  EXPECT_DOUBLE_EQ(r->p, 1.0);
  EXPECT_DOUBLE_EQ(r->z, 0.0);
  EXPECT_FALSE(mann_whitney_u(std::vector<double>{}, std::vector<double>{1}));
}

TEST(AbStats, BootstrapIsSeededAndHoldsTheEstimate) {
  Normal g(11);
  const auto a = lognormal(g, 40, 100, 0.3);
  const auto b = lognormal(g, 40, 150, 0.3);
  BootstrapOptions o;
  o.resamples = 4000;
  o.seed = 42;
  auto r1 = bootstrap_ratio_of_medians(a, b, o);
  auto r2 = bootstrap_ratio_of_medians(a, b, o);
  ASSERT_TRUE(r1 && r2);
  EXPECT_EQ(r1->low, r2->low);
  EXPECT_EQ(r1->high, r2->high);
  EXPECT_EQ(r1->seed, 42u);
  EXPECT_EQ(r1->resamples, 4000u);
  EXPECT_NE(r1->method.find("percentile"), std::string::npos);
  EXPECT_NEAR(r1->ratio, *percentile(b, 0.5) / *percentile(a, 0.5), 1e-12);
  EXPECT_LE(r1->low, r1->ratio);
  EXPECT_GE(r1->high, r1->ratio);
  EXPECT_LT(r1->low, r1->high);
  o.seed = 43;
  auto r3 = bootstrap_ratio_of_medians(a, b, o);
  ASSERT_TRUE(r3);
  EXPECT_EQ(r3->ratio, r1->ratio);
  EXPECT_TRUE(r3->low != r1->low || r3->high != r1->high);
  // Undefined: too few values, a non-positive value, no resamples.
  EXPECT_FALSE(bootstrap_ratio_of_medians(std::vector<double>{1}, b, o));
  EXPECT_FALSE(bootstrap_ratio_of_medians(std::vector<double>{1, 0}, b, o));
  o.resamples = 0;
  EXPECT_FALSE(bootstrap_ratio_of_medians(a, b, o));
}

TEST(AbStats, BootstrapWidthShrinksAsOneOverRootN) {
  // 16× the values: the interval about 4× narrower (averaged over 5 datasets each).
  BootstrapOptions o;
  o.resamples = 1000;
  double width_small = 0, width_large = 0;
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    Normal g(seed);
    auto a = lognormal(g, 50, 100, 0.4), b = lognormal(g, 50, 100, 0.4);
    auto small = bootstrap_ratio_of_medians(a, b, o);
    a = lognormal(g, 800, 100, 0.4);
    b = lognormal(g, 800, 100, 0.4);
    auto large = bootstrap_ratio_of_medians(a, b, o);
    ASSERT_TRUE(small && large);
    width_small += small->high - small->low;
    width_large += large->high - large->low;
  }
  const double shrink = width_small / width_large;
  std::printf("bootstrap CI width, n = 50 over n = 800: %.2f (1/sqrt(n) predicts 4)\n", shrink);
  EXPECT_GT(shrink, 3.0);
  EXPECT_LT(shrink, 5.3);
}

TEST(AbStats, BootstrapCoversTheTrueRatio) {
  // 200 simulated experiments, 30 log-normal values per arm, true medians 100 and 200 (ratio 2).
  BootstrapOptions o;
  o.resamples = 1000;
  int covered = 0;
  const int experiments = 200;
  for (int e = 0; e < experiments; ++e) {
    Normal g(1000 + static_cast<std::uint64_t>(e));
    const auto a = lognormal(g, 30, 100, 0.5);
    const auto b = lognormal(g, 30, 200, 0.5);
    o.seed = static_cast<std::uint64_t>(e) + 1;
    auto r = bootstrap_ratio_of_medians(a, b, o);
    ASSERT_TRUE(r);
    if (r->low <= 2.0 && 2.0 <= r->high) ++covered;
  }
  const double coverage = static_cast<double>(covered) / experiments;
  std::printf("bootstrap 95 %% CI coverage of the true ratio: %.3f (%d of %d)\n", coverage, covered, experiments);
  // Binomial sd at 0.95 over 200 is 0.015: below by 4 sd is too narrow an interval; 199 or 200 of 200
  // (above by 2.7 sd) too wide a one (a 99.9 % interval would cover nearly always).
  EXPECT_GE(coverage, 0.89);
  EXPECT_LE(coverage, 0.99);
}

TEST(AbStats, TostEquivalenceAndItsConsistencyWithWelchOnLogs) {
  // The same distribution, 2000 values per arm: equivalent within 5 %.
  Normal g(5);
  const auto a = lognormal(g, 2000, 100, 0.2);
  const auto same = lognormal(g, 2000, 100, 0.2);
  auto t = tost_ratio(a, same, 0.05);
  ASSERT_TRUE(t);
  EXPECT_TRUE(t->equivalent);
  EXPECT_LT(t->p, 0.05);
  EXPECT_EQ(t->margin, 0.05);
  // 20 % slower: not equivalent within 5 %, whatever n.
  const auto slower = lognormal(g, 2000, 120, 0.2);
  t = tost_ratio(a, slower, 0.05);
  ASSERT_TRUE(t);
  EXPECT_FALSE(t->equivalent);
  EXPECT_GT(t->p, 0.5);
  // TOST at alpha is the (1 − 2·alpha) Welch interval of the log difference inside ±ln(1 + margin).
  for (std::uint64_t seed = 1; seed <= 30; ++seed) {
    Normal h(seed);
    const auto x = lognormal(h, 12, 100, 0.05);
    const auto y = lognormal(h, 12, 100.0 * (0.97 + 0.002 * static_cast<double>(seed)), 0.05);
    std::vector<double> lx, ly;
    for (double v : x) lx.push_back(std::log(v));
    for (double v : y) ly.push_back(std::log(v));
    auto w = welch_t(lx, ly, 0.90);
    auto e = tost_ratio(x, y, 0.05);
    ASSERT_TRUE(w && e);
    const double bound = std::log(1.05);
    EXPECT_EQ(e->equivalent, w->low > -bound && w->high < bound) << seed;
  }
  // Constant arms: decided by the difference alone.
  EXPECT_TRUE(tost_ratio(std::vector<double>{10, 10}, std::vector<double>{10.2, 10.2}, 0.05)->equivalent);
  EXPECT_FALSE(tost_ratio(std::vector<double>{10, 10}, std::vector<double>{11, 11}, 0.05)->equivalent);
  EXPECT_FALSE(tost_ratio(a, same, 0));
  EXPECT_FALSE(tost_ratio(std::vector<double>{1, -1}, same, 0.05));
}

TEST(AbStats, VerdictNeedsBothTheIntervalAndTheTest) {
  RatioInterval slower{2.0, 1.9, 2.3, 1000, 1, "m"};
  RatioInterval faster{0.5, 0.4, 0.6, 1000, 1, "m"};
  RatioInterval straddles{1.02, 0.97, 1.08, 1000, 1, "m"};
  MannWhitneyResult significant{0, 0, 0.001, true};
  MannWhitneyResult not_significant{0, 0, 0.2, true};
  TostResult equivalent{0.05, 0.01, true};
  TostResult not_equivalent{0.05, 0.3, false};
  EXPECT_EQ(ab_verdict(slower, significant, not_equivalent, true), AbVerdict::worse);
  EXPECT_EQ(ab_verdict(slower, significant, not_equivalent, false), AbVerdict::better);  // tokens/s: higher
  EXPECT_EQ(ab_verdict(faster, significant, not_equivalent, true), AbVerdict::better);
  EXPECT_EQ(ab_verdict(slower, not_significant, not_equivalent, true), AbVerdict::inconclusive);
  EXPECT_EQ(ab_verdict(straddles, significant, not_equivalent, true), AbVerdict::inconclusive);
  EXPECT_EQ(ab_verdict(straddles, not_significant, equivalent, true), AbVerdict::equivalent);
  EXPECT_EQ(ab_verdict(std::nullopt, std::nullopt, std::nullopt, true), AbVerdict::inconclusive);
  EXPECT_EQ(verdict_word(AbVerdict::better), "faster");
  EXPECT_EQ(verdict_word(AbVerdict::worse), "slower");
  EXPECT_EQ(to_string(AbVerdict::inconclusive), "inconclusive");
}

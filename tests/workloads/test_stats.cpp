#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>
#include <numbers>
#include <vector>

#include "workloads/stats.h"

using namespace tierscope::workloads;

namespace {

void expect_relative(double actual, double expected, double tolerance) {
  EXPECT_LE(std::fabs(actual - expected), tolerance * std::fabs(expected)) << actual << " vs " << expected;
}

}  // namespace

TEST(Stats, StudentTMatchesPublishedTables) {
  // Two-sided 95 % critical values, as printed in t tables (4 decimals).
  struct Row {
    double dof, table;
  };
  for (auto [dof, table] : {Row{1, 12.7062}, Row{2, 4.3027}, Row{5, 2.5706}, Row{10, 2.2281}, Row{30, 2.0423},
                            Row{100, 1.9840}})
    EXPECT_NEAR(student_t_quantile(0.975, dof), table, 5e-5) << dof;
  EXPECT_NEAR(student_t_quantile(0.975, std::numeric_limits<double>::infinity()), 1.95996, 5e-6);
}

TEST(Stats, StudentTAccurateToOneInAMillion) {
  // Reference values to 10 significant digits (scipy.stats.t.ppf / R qt).
  struct Row {
    double p, dof, value;
  };
  for (auto [p, dof, value] : {
           Row{0.975, 1, 12.70620474}, Row{0.975, 2, 4.302652730}, Row{0.975, 3, 3.182446305},
           Row{0.975, 4, 2.776445105}, Row{0.975, 5, 2.570581836}, Row{0.975, 10, 2.228138852},
           Row{0.975, 30, 2.042272456}, Row{0.975, 100, 1.983971519}, Row{0.95, 1, 6.313751515},
           Row{0.95, 10, 1.812461123}, Row{0.995, 5, 4.032142984}, Row{0.995, 20, 2.845339710},
           Row{0.9, 3, 1.637744354}, Row{0.999, 2, 22.32712477},
       })
    expect_relative(student_t_quantile(p, dof), value, 1e-6);
  expect_relative(student_t_quantile(0.975, std::numeric_limits<double>::infinity()), 1.959963985, 1e-9);
  expect_relative(normal_quantile(0.975), 1.959963985, 1e-9);
  expect_relative(normal_quantile(0.995), 2.575829304, 1e-9);
  expect_relative(normal_quantile(1e-10), -6.361340889, 1e-8);
  // Large dof approaches the normal.
  EXPECT_NEAR(student_t_quantile(0.975, 1e6), 1.959966, 2e-6);
  // Fractional dof work (Welch); symmetric; the median is 0.
  EXPECT_NEAR(student_t_quantile(0.025, 7), -student_t_quantile(0.975, 7), 1e-12);
  EXPECT_EQ(student_t_quantile(0.5, 9), 0.0);
  EXPECT_TRUE(std::isfinite(student_t_quantile(0.975, 2.5)));
  EXPECT_TRUE(std::isnan(student_t_quantile(0, 5)));
  EXPECT_TRUE(std::isnan(student_t_quantile(1, 5)));
  EXPECT_TRUE(std::isnan(student_t_quantile(0.9, 0)));
}

TEST(Stats, StudentTCdfClosedFormsAndRoundTrip) {
  // Closed forms: dof 1 (Cauchy) P = ½ + atan(t)/π; dof 2: P = ½ + t/(2·√(2 + t²)).
  for (double t : {-30.0, -3.0, -0.5, 0.0, 0.7, 4.0, 50.0}) {
    EXPECT_NEAR(student_t_cdf(t, 1), 0.5 + std::atan(t) / std::numbers::pi, 1e-13) << t;
    EXPECT_NEAR(student_t_cdf(t, 2), 0.5 + t / (2.0 * std::sqrt(2.0 + t * t)), 1e-13) << t;
  }
  // The quantile's inverse, fractional dof included (Welch).
  for (double dof : {3.0, 7.5, 17.9, 120.0})
    for (double p : {1e-6, 0.025, 0.3, 0.5, 0.9, 0.975})
      EXPECT_NEAR(student_t_cdf(student_t_quantile(p, dof), dof), p, 1e-12 + 1e-9 * p) << dof << " " << p;
  // The lower tail keeps its relative precision: P(T ≤ −10), 5 dof = ½·I_{5/105}(5/2, ½)
  // = 8.54737878714818e-5 (mpmath betainc at 30 digits).
  expect_relative(student_t_cdf(-10, 5), 8.54737878714818e-5, 1e-10);
  EXPECT_NEAR(student_t_cdf(1.959963985, std::numeric_limits<double>::infinity()), 0.975, 1e-9);
  EXPECT_NEAR(normal_cdf(-1.959963985), 0.025, 1e-9);
  EXPECT_TRUE(std::isnan(student_t_cdf(1, 0)));
  EXPECT_TRUE(std::isnan(student_t_cdf(std::numeric_limits<double>::quiet_NaN(), 4)));
  EXPECT_EQ(student_t_cdf(-std::numeric_limits<double>::infinity(), 4), 0.0);
}

TEST(Stats, PercentilesInterpolateLikeNumpy) {
  const std::vector<double> v = {15, 20, 35, 40, 50};
  // numpy.percentile(v, [0, 25, 50, 90, 99, 100]) = 15, 20, 35, 46, 49.6, 50
  EXPECT_DOUBLE_EQ(*percentile(v, 0), 15);
  EXPECT_DOUBLE_EQ(*percentile(v, 0.25), 20);
  EXPECT_DOUBLE_EQ(*percentile(v, 0.5), 35);
  EXPECT_DOUBLE_EQ(*percentile(v, 0.9), 46);
  EXPECT_NEAR(*percentile(v, 0.99), 49.6, 1e-12);
  EXPECT_DOUBLE_EQ(*percentile(v, 1), 50);
  // Order does not matter; even counts interpolate the median.
  EXPECT_DOUBLE_EQ(*percentile(std::vector<double>{4, 1, 3, 2}, 0.5), 2.5);
  EXPECT_FALSE(percentile(std::vector<double>{}, 0.5));
  EXPECT_FALSE(percentile(v, 1.5));
  EXPECT_FALSE(percentile(v, -0.1));
}

TEST(Stats, SummaryOfKnownSample) {
  const std::vector<double> v = {2, 4, 4, 4, 5, 5, 7, 9};
  Summary s = summarize(v);
  EXPECT_EQ(s.count, 8u);
  EXPECT_DOUBLE_EQ(*s.mean, 5);
  EXPECT_DOUBLE_EQ(*s.median, 4.5);
  EXPECT_DOUBLE_EQ(*s.min, 2);
  EXPECT_DOUBLE_EQ(*s.max, 9);
  // Sample variance: sum of squares 32 / 7.
  EXPECT_NEAR(*s.stddev, std::sqrt(32.0 / 7.0), 1e-12);
  EXPECT_NEAR(*s.cv, std::sqrt(32.0 / 7.0) / 5.0, 1e-12);
  // p90: h = 7*0.9 = 6.3 → 7 + 0.3*(9-7) = 7.6; p95: h = 6.65 → 7 + 0.65*2 = 8.3;
  // p99: h = 6.93 → 8.86.
  EXPECT_NEAR(*s.p90, 7.6, 1e-12);
  EXPECT_NEAR(*s.p95, 8.3, 1e-12);
  EXPECT_NEAR(*s.p99, 8.86, 1e-12);
  // 10 % of 8 is 0.8: nothing trimmed (scipy.stats.trim_mean(v, 0.1) = 5).
  EXPECT_DOUBLE_EQ(*s.trimmed_mean, 5);
  // 95 % CI: 5 ± t(0.975, 7)·s/√8, t = 2.364624252.
  const double half = 2.364624252 * std::sqrt(32.0 / 7.0) / std::sqrt(8.0);
  ASSERT_TRUE(s.ci95);
  EXPECT_NEAR(s.ci95->first, 5 - half, 1e-8);
  EXPECT_NEAR(s.ci95->second, 5 + half, 1e-8);
}

TEST(Stats, TrimmedMeanCutsFloorOfFractionFromEachEnd) {
  std::vector<double> v;
  for (int i = 1; i <= 10; ++i) v.push_back(i);
  v.back() = 1000;  // an outlier
  // 10 % of 10 = 1 from each end: mean of 2..9.
  EXPECT_DOUBLE_EQ(*summarize(v).trimmed_mean, 5.5);
  // 25 %: floor(2.5) = 2 from each end: mean of 3..8.
  EXPECT_DOUBLE_EQ(*summarize(v, 0.25).trimmed_mean, 5.5);
  EXPECT_DOUBLE_EQ(*summarize(v, 0).trimmed_mean, *summarize(v).mean);
  // Clamped below one half: something always remains.
  EXPECT_DOUBLE_EQ(*summarize(v, 0.9).trimmed_mean, 5.5);
  EXPECT_DOUBLE_EQ(*summarize(std::vector<double>{1, 2}, 0.49).trimmed_mean, 1.5);
}

TEST(Stats, EmptyAndSingleValue) {
  Summary empty = summarize(std::vector<double>{});
  EXPECT_EQ(empty.count, 0u);
  EXPECT_FALSE(empty.mean || empty.median || empty.p90 || empty.p95 || empty.p99 || empty.min || empty.max || empty.stddev ||
               empty.cv || empty.trimmed_mean || empty.ci95);
  Summary one = summarize(std::vector<double>{3.5});
  EXPECT_EQ(one.count, 1u);
  EXPECT_DOUBLE_EQ(*one.mean, 3.5);
  EXPECT_DOUBLE_EQ(*one.median, 3.5);
  EXPECT_DOUBLE_EQ(*one.p95, 3.5);
  EXPECT_DOUBLE_EQ(*one.p99, 3.5);
  EXPECT_DOUBLE_EQ(*one.trimmed_mean, 3.5);
  EXPECT_FALSE(one.stddev);
  EXPECT_FALSE(one.cv);
  EXPECT_FALSE(one.ci95);
}

TEST(Stats, NonFiniteValuesAreDropped) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  Summary s = summarize(std::vector<double>{1, nan, 3, inf, -inf});
  EXPECT_EQ(s.count, 2u);
  EXPECT_DOUBLE_EQ(*s.mean, 2);
  EXPECT_EQ(summarize(std::vector<double>{nan}).count, 0u);
}

TEST(Stats, ZeroMeanHasNoCv) {
  Summary s = summarize(std::vector<double>{-1, 1});
  EXPECT_TRUE(s.stddev);
  EXPECT_FALSE(s.cv);
  Summary constant = summarize(std::vector<double>{2, 2, 2});
  EXPECT_DOUBLE_EQ(*constant.stddev, 0);
  EXPECT_DOUBLE_EQ(*constant.cv, 0);
  EXPECT_DOUBLE_EQ(constant.ci95->first, 2);
  EXPECT_DOUBLE_EQ(constant.ci95->second, 2);
}

TEST(Stats, JsonShapeIsStable) {
  nlohmann::json j = to_json(summarize(std::vector<double>{1, 2, 3}));
  for (const char* key : {"count", "mean", "median", "p90", "p95", "p99", "min", "max", "std", "cv", "trimmed_mean", "ci95"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j.size(), 12u);
  EXPECT_EQ(j["count"], 3);
  EXPECT_DOUBLE_EQ(j["mean"].get<double>(), 2);
  ASSERT_TRUE(j["ci95"].is_array());
  EXPECT_EQ(j["ci95"].size(), 2u);
  EXPECT_LT(j["ci95"][0].get<double>(), 2);
  EXPECT_GT(j["ci95"][1].get<double>(), 2);

  nlohmann::json one = to_json(summarize(std::vector<double>{7}));
  EXPECT_EQ(one.size(), 12u);
  EXPECT_TRUE(one["std"].is_null());
  EXPECT_TRUE(one["cv"].is_null());
  EXPECT_TRUE(one["ci95"].is_null());
  EXPECT_EQ(one["max"], 7.0);

  nlohmann::json none = to_json(summarize(std::vector<double>{}));
  EXPECT_EQ(none["count"], 0);
  EXPECT_TRUE(none["mean"].is_null());
  EXPECT_EQ(none.dump(), R"({"ci95":null,"count":0,"cv":null,"max":null,"mean":null,"median":null,"min":null,"p90":null,"p95":null,"p99":null,"std":null,"trimmed_mean":null})");
}

TEST(Stats, RepetitionScore) {
  // 6 words, 4 trigrams, all distinct.
  EXPECT_DOUBLE_EQ(repetition_score("The quick brown fox jumps over"), 0.0);
  // "a b c a b c a b c": 9 words, 7 trigrams, 3 distinct → 1 - 3/7.
  EXPECT_NEAR(repetition_score("a b c a b c a b c"), 1.0 - 3.0 / 7.0, 1e-12);
  // Case and punctuation do not matter.
  EXPECT_NEAR(repetition_score("A, b; C! a b c... A B C"), 1.0 - 3.0 / 7.0, 1e-12);
  // One word repeated: 10 words, 8 trigrams, 1 distinct.
  EXPECT_NEAR(repetition_score("la la la la la la la la la la"), 1.0 - 1.0 / 8.0, 1e-12);
  // Fewer than n words.
  EXPECT_DOUBLE_EQ(repetition_score("two words"), 0.0);
  EXPECT_DOUBLE_EQ(repetition_score(""), 0.0);
  EXPECT_DOUBLE_EQ(repetition_score("!!! ..."), 0.0);
  EXPECT_DOUBLE_EQ(repetition_score("x y z", 0), 0.0);
  // n = 1: share of repeated words.
  EXPECT_NEAR(repetition_score("a b a c", 1), 1.0 - 3.0 / 4.0, 1e-12);
  // UTF-8 letters stay inside words.
  EXPECT_DOUBLE_EQ(repetition_score("über café naïve über café résumé"), 0.0);
  EXPECT_NEAR(repetition_score("été été été été", 1), 0.75, 1e-12);
}

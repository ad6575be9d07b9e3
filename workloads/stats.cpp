#include "workloads/stats.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <string>
#include <unordered_set>
#include <vector>

namespace tierscope::workloads {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// ln B(a, b).
double log_beta(double a, double b) { return std::lgamma(a) + std::lgamma(b) - std::lgamma(a + b); }

// Continued fraction for the regularized incomplete beta function, evaluated
// with the modified Lentz method (converges for x < (a+1)/(a+b+2)).
double beta_continued_fraction(double a, double b, double x) {
  constexpr double kTiny = 1e-300;
  constexpr double kEpsilon = 1e-16;
  constexpr int kMaxIterations = 100000;  // large a (dof ~ 1e7) needs O(sqrt(a)) terms
  const double qab = a + b;
  const double qap = a + 1.0;
  const double qam = a - 1.0;
  double c = 1.0;
  double d = 1.0 - qab * x / qap;
  if (std::fabs(d) < kTiny) d = kTiny;
  d = 1.0 / d;
  double h = d;
  for (int m = 1; m <= kMaxIterations; ++m) {
    const double dm = m;
    const double m2 = 2.0 * dm;
    // Even step.
    double aa = dm * (b - dm) * x / ((qam + m2) * (a + m2));
    d = 1.0 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1.0 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    h *= d * c;
    // Odd step.
    aa = -(a + dm) * (qab + dm) * x / ((a + m2) * (qap + m2));
    d = 1.0 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1.0 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    const double delta = d * c;
    h *= delta;
    if (std::fabs(delta - 1.0) < kEpsilon) break;
  }
  return h;
}

// Regularized incomplete beta I_x(a, b).
double incomplete_beta(double a, double b, double x) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const double front = std::exp(a * std::log(x) + b * std::log1p(-x) - log_beta(a, b));
  if (x < (a + 1.0) / (a + b + 2.0)) return front * beta_continued_fraction(a, b, x) / a;
  return 1.0 - front * beta_continued_fraction(b, a, 1.0 - x) / b;
}

// P(T <= t) for t <= 0 (the lower tail, computed without cancellation).
double t_lower_tail(double t, double dof) {
  const double x = dof / (dof + t * t);
  return 0.5 * incomplete_beta(dof / 2.0, 0.5, x);
}

double t_density(double t, double dof) {
  const double log_norm = std::lgamma((dof + 1.0) / 2.0) - std::lgamma(dof / 2.0) - 0.5 * std::log(dof * std::numbers::pi);
  return std::exp(log_norm - (dof + 1.0) / 2.0 * std::log1p(t * t / dof));
}

double normal_lower_tail(double x) { return 0.5 * std::erfc(-x / std::numbers::sqrt2); }
double normal_density(double x) { return std::exp(-0.5 * x * x) / std::sqrt(2.0 * std::numbers::pi); }

// Solves cdf(x) = q for x in [lo, hi] (cdf increasing) by Newton steps,
// falling back to bisection whenever a step leaves the bracket.
template <typename Cdf, typename Pdf>
double solve_quantile(double q, double lo, double hi, double x, Cdf cdf, Pdf pdf) {
  for (int i = 0; i < 200; ++i) {
    const double f = cdf(x) - q;
    if (f == 0) return x;
    if (f < 0) {
      lo = x;
    } else {
      hi = x;
    }
    const double slope = pdf(x);
    double next = slope > 0 ? x - f / slope : kNaN;
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    if (std::fabs(next - x) <= 1e-15 * std::max(1.0, std::fabs(x))) return next;
    x = next;
  }
  return x;
}

}  // namespace

double normal_quantile(double p) {
  if (!(p > 0 && p < 1)) return kNaN;
  if (p == 0.5) return 0;
  // Solve in the lower tail, where erfc keeps relative precision.
  const double q = std::min(p, 1.0 - p);
  // Start: the classic tail approximation z ≈ -sqrt(-2 ln q) refined a bit.
  const double r = std::sqrt(-2.0 * std::log(q));
  const double start = -(r - (2.515517 + 0.802853 * r + 0.010328 * r * r) /
                                 (1.0 + 1.432788 * r + 0.189269 * r * r + 0.001308 * r * r * r));
  const double x = solve_quantile(q, -40.0, 0.0, std::clamp(start, -39.0, -1e-12), normal_lower_tail, normal_density);
  return p < 0.5 ? x : -x;
}

double normal_cdf(double x) { return normal_lower_tail(x); }

double student_t_cdf(double t, double dof) {
  if (std::isnan(t) || !(dof > 0)) return kNaN;
  if (std::isinf(dof)) return normal_cdf(t);
  if (std::isinf(t)) return t < 0 ? 0.0 : 1.0;
  return t <= 0 ? t_lower_tail(t, dof) : 1.0 - t_lower_tail(-t, dof);
}

double student_t_quantile(double p, double dof) {
  if (!(p > 0 && p < 1) || !(dof > 0)) return kNaN;
  if (std::isinf(dof)) return normal_quantile(p);
  if (p == 0.5) return 0;
  if (dof == 1.0) return std::tan(std::numbers::pi * (p - 0.5));  // Cauchy
  if (dof == 2.0) return (2.0 * p - 1.0) / std::sqrt(2.0 * p * (1.0 - p));
  const double q = std::min(p, 1.0 - p);
  // Start from the normal quantile with the first Cornish-Fisher correction.
  const double z = normal_quantile(q);
  double start = z + (z * z * z + z) / (4.0 * dof);
  // Bracket the lower-tail root: the t quantile is below the normal one.
  double lo = std::min(start, z) * 2.0 - 1.0;
  while (t_lower_tail(lo, dof) > q && lo > -1e300) lo *= 2.0;
  start = std::clamp(start, lo, 0.0);
  auto cdf = [dof](double t) { return t_lower_tail(t, dof); };
  auto pdf = [dof](double t) { return t_density(t, dof); };
  const double t = solve_quantile(q, lo, 0.0, start, cdf, pdf);
  return p < 0.5 ? t : -t;
}

double percentile_sorted(std::span<const double> sorted, double q) {
  const double h = static_cast<double>(sorted.size() - 1) * q;
  const double below = std::floor(h);
  const auto i = static_cast<std::size_t>(below);
  if (i + 1 >= sorted.size()) return sorted.back();
  return sorted[i] + (h - below) * (sorted[i + 1] - sorted[i]);
}

std::optional<double> percentile(std::span<const double> values, double q) {
  if (!(q >= 0 && q <= 1)) return std::nullopt;
  std::vector<double> sorted;
  sorted.reserve(values.size());
  for (double v : values)
    if (std::isfinite(v)) sorted.push_back(v);
  if (sorted.empty()) return std::nullopt;
  std::sort(sorted.begin(), sorted.end());
  return percentile_sorted(sorted, q);
}

Summary summarize(std::span<const double> values, double trim_fraction) {
  Summary s;
  std::vector<double> x;
  x.reserve(values.size());
  for (double v : values)
    if (std::isfinite(v)) x.push_back(v);
  s.count = x.size();
  if (x.empty()) return s;
  std::sort(x.begin(), x.end());
  const auto n = static_cast<double>(x.size());

  // Mean by Kahan-compensated summation: thousands of latencies of similar size.
  double sum = 0, compensation = 0;
  for (double v : x) {
    const double y = v - compensation;
    const double t = sum + y;
    compensation = (t - sum) - y;
    sum = t;
  }
  const double mean = sum / n;
  s.mean = mean;
  s.median = percentile_sorted(x, 0.5);
  s.p90 = percentile_sorted(x, 0.9);
  s.p95 = percentile_sorted(x, 0.95);
  s.p99 = percentile_sorted(x, 0.99);
  s.min = x.front();
  s.max = x.back();

  if (!(trim_fraction >= 0)) trim_fraction = 0;
  trim_fraction = std::min(trim_fraction, std::nextafter(0.5, 0.0));
  const auto cut = static_cast<std::size_t>(std::floor(trim_fraction * n));
  double trimmed = 0;
  for (std::size_t i = cut; i < x.size() - cut; ++i) trimmed += x[i];
  s.trimmed_mean = trimmed / static_cast<double>(x.size() - 2 * cut);

  if (x.size() >= 2) {
    double squares = 0;  // two-pass: numerically stable
    for (double v : x) squares += (v - mean) * (v - mean);
    const double stddev = std::sqrt(squares / (n - 1));
    s.stddev = stddev;
    if (mean != 0) s.cv = stddev / mean;
    const double half = student_t_quantile(0.975, n - 1) * stddev / std::sqrt(n);
    s.ci95 = std::pair{mean - half, mean + half};
  }
  return s;
}

nlohmann::json to_json(const Summary& s) {
  auto value = [](const std::optional<double>& v) -> nlohmann::json {
    if (v && std::isfinite(*v)) return *v;
    return nullptr;
  };
  nlohmann::json j = nlohmann::json::object();
  j["count"] = s.count;
  j["mean"] = value(s.mean);
  j["median"] = value(s.median);
  j["p90"] = value(s.p90);
  j["p95"] = value(s.p95);
  j["p99"] = value(s.p99);
  j["min"] = value(s.min);
  j["max"] = value(s.max);
  j["std"] = value(s.stddev);
  j["cv"] = value(s.cv);
  j["trimmed_mean"] = value(s.trimmed_mean);
  if (s.ci95) {
    j["ci95"] = nlohmann::json::array({s.ci95->first, s.ci95->second});
  } else {
    j["ci95"] = nullptr;
  }
  return j;
}

double repetition_score(std::string_view text, std::size_t n) {
  if (n == 0) return 0;
  std::vector<std::string> words;
  std::string word;
  auto is_word_byte = [](unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
  };
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (is_word_byte(c)) {
      word.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : ch);
    } else if (!word.empty()) {
      words.push_back(std::move(word));
      word.clear();
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  if (words.size() < n) return 0;
  const std::size_t total = words.size() - n + 1;
  std::unordered_set<std::string> distinct;
  distinct.reserve(total);
  std::string gram;
  for (std::size_t i = 0; i < total; ++i) {
    gram.clear();
    for (std::size_t k = 0; k < n; ++k) {
      if (k) gram.push_back(' ');  // words never contain a space
      gram += words[i + k];
    }
    distinct.insert(gram);
  }
  return 1.0 - static_cast<double>(distinct.size()) / static_cast<double>(total);
}

}  // namespace tierscope::workloads

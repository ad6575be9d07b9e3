#include "workloads/ab_stats.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "workloads/stats.h"

namespace tierscope::workloads {

namespace {

std::vector<double> finite_values(std::span<const double> values) {
  std::vector<double> out;
  out.reserve(values.size());
  for (double v : values)
    if (std::isfinite(v)) out.push_back(v);
  return out;
}

bool all_positive(const std::vector<double>& v) {
  return std::all_of(v.begin(), v.end(), [](double x) { return x > 0; });
}

std::vector<double> logs(const std::vector<double>& v) {
  std::vector<double> out;
  out.reserve(v.size());
  for (double x : v) out.push_back(std::log(x));
  return out;
}

// Median (type 7) of `v`, reordering it.
double median_in_place(std::vector<double>& v) {
  const std::size_t n = v.size();
  const std::size_t mid = n / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  const double upper = v[mid];
  if (n % 2 == 1) return upper;
  const double lower = *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid));
  return lower + 0.5 * (upper - lower);
}

// Uniform indexes in [0, n) from a std::mt19937_64: each 64-bit output gives
// two 32-bit draws (low half first); an index is the high half of draw·n
// (Lemire, "Fast random integer generation in an interval", ACM TOMACS
// 2019), the draws whose low half falls below 2^32 mod n rejected, so every
// index is equally likely. n ≤ 2^32 − 1.
class IndexDraw {
 public:
  explicit IndexDraw(std::uint64_t seed) : rng_(seed) {}
  std::size_t operator()(std::uint32_t n) {
    std::uint64_t m = std::uint64_t{next()} * n;
    auto low = static_cast<std::uint32_t>(m);
    if (low < n) {
      const std::uint32_t threshold = static_cast<std::uint32_t>(-n) % n;  // 2^32 mod n
      while (low < threshold) {
        m = std::uint64_t{next()} * n;
        low = static_cast<std::uint32_t>(m);
      }
    }
    return static_cast<std::size_t>(m >> 32);
  }

 private:
  std::uint32_t next() {
    if (have_high_) {
      have_high_ = false;
      return static_cast<std::uint32_t>(word_ >> 32);
    }
    word_ = rng_();
    have_high_ = true;
    return static_cast<std::uint32_t>(word_);
  }
  std::mt19937_64 rng_;
  std::uint64_t word_ = 0;
  bool have_high_ = false;
};

struct MeanVar {
  double mean = 0, var = 0;
  double n = 0;
};

MeanVar mean_var(const std::vector<double>& v) {
  MeanVar m;
  m.n = static_cast<double>(v.size());
  double sum = 0;
  for (double x : v) sum += x;
  m.mean = sum / m.n;
  double squares = 0;
  for (double x : v) squares += (x - m.mean) * (x - m.mean);
  m.var = squares / (m.n - 1);
  return m;
}

struct Welch {
  double diff = 0, se = 0, dof = 0;
};

// Welch–Satterthwaite on two samples of ≥ 2 values each.
Welch welch_parts(const std::vector<double>& a, const std::vector<double>& b) {
  const MeanVar ma = mean_var(a);
  const MeanVar mb = mean_var(b);
  const double va = ma.var / ma.n;
  const double vb = mb.var / mb.n;
  Welch w;
  w.diff = mb.mean - ma.mean;
  w.se = std::sqrt(va + vb);
  const double denominator = va * va / (ma.n - 1) + vb * vb / (mb.n - 1);
  w.dof = denominator > 0 ? (va + vb) * (va + vb) / denominator : std::numeric_limits<double>::infinity();
  return w;
}

// Number of arrangements of m a's and n b's (no ties) for each U of b = 0 … m·n:
// f(u; m, n) = f(u; m − 1, n) + f(u − m; m, n − 1), f(0; 0, n) = f(0; m, 0) = 1.
// Counts are exact in double up to C(40, 20) ≈ 1.4e11.
std::vector<double> mann_whitney_counts(std::size_t m, std::size_t n) {
  // table[i][j] = distribution for (i a's, j b's); built row by row over i.
  std::vector<std::vector<double>> previous(n + 1), current(n + 1);
  for (std::size_t j = 0; j <= n; ++j) previous[j] = {1.0};  // i = 0: U = 0 only
  for (std::size_t i = 1; i <= m; ++i) {
    current[0] = {1.0};
    for (std::size_t j = 1; j <= n; ++j) {
      std::vector<double> f(i * j + 1, 0.0);
      // The largest pooled value: in a, it is above no b (no pair) → f(u; i − 1, j);
      // in b, it is above all i a's (i pairs) → f(u − i; i, j − 1).
      const std::vector<double>& last_a = previous[j];
      const std::vector<double>& last_b = current[j - 1];
      for (std::size_t u = 0; u < last_a.size(); ++u) f[u] += last_a[u];
      for (std::size_t u = 0; u < last_b.size(); ++u) f[u + i] += last_b[u];
      current[j] = std::move(f);
    }
    std::swap(previous, current);
  }
  return previous[n];
}

}  // namespace

std::optional<RatioInterval> bootstrap_ratio_of_medians(std::span<const double> a_in, std::span<const double> b_in,
                                                        const BootstrapOptions& o) {
  const std::vector<double> a = finite_values(a_in);
  const std::vector<double> b = finite_values(b_in);
  if (a.size() < 2 || b.size() < 2 || !all_positive(a) || !all_positive(b)) return std::nullopt;
  constexpr std::size_t kMaxValues = std::numeric_limits<std::uint32_t>::max();
  if (a.size() > kMaxValues || b.size() > kMaxValues) return std::nullopt;
  if (o.resamples == 0 || !(o.confidence > 0 && o.confidence < 1)) return std::nullopt;
  RatioInterval r;
  {
    std::vector<double> sa = a, sb = b;
    r.ratio = median_in_place(sb) / median_in_place(sa);
  }
  IndexDraw draw(o.seed);
  const auto na = static_cast<std::uint32_t>(a.size()), nb = static_cast<std::uint32_t>(b.size());
  std::vector<double> ratios;
  ratios.reserve(o.resamples);
  std::vector<double> ra(a.size()), rb(b.size());
  for (std::size_t k = 0; k < o.resamples; ++k) {
    for (double& x : ra) x = a[draw(na)];
    for (double& x : rb) x = b[draw(nb)];
    ratios.push_back(median_in_place(rb) / median_in_place(ra));
  }
  std::sort(ratios.begin(), ratios.end());
  const double tail = (1.0 - o.confidence) / 2.0;
  r.low = percentile_sorted(ratios, tail);
  r.high = percentile_sorted(ratios, 1.0 - tail);
  r.resamples = o.resamples;
  r.seed = o.seed;
  r.method = "percentile bootstrap of median(b)/median(a), arms resampled independently, std::mt19937_64";
  return r;
}

std::optional<WelchResult> welch_t(std::span<const double> a_in, std::span<const double> b_in, double confidence) {
  const std::vector<double> a = finite_values(a_in);
  const std::vector<double> b = finite_values(b_in);
  if (a.size() < 2 || b.size() < 2 || !(confidence > 0 && confidence < 1)) return std::nullopt;
  const Welch w = welch_parts(a, b);
  if (!(w.se > 0)) return std::nullopt;
  WelchResult r;
  r.diff = w.diff;
  r.t = w.diff / w.se;
  r.dof = w.dof;
  r.p = std::min(1.0, 2.0 * student_t_cdf(-std::fabs(r.t), w.dof));
  const double half = student_t_quantile((1.0 + confidence) / 2.0, w.dof) * w.se;
  r.low = w.diff - half;
  r.high = w.diff + half;
  return r;
}

std::optional<MannWhitneyResult> mann_whitney_u(std::span<const double> a_in, std::span<const double> b_in) {
  const std::vector<double> a = finite_values(a_in);
  const std::vector<double> b = finite_values(b_in);
  if (a.empty() || b.empty()) return std::nullopt;
  struct Item {
    double value;
    bool in_b;
  };
  std::vector<Item> pooled;
  pooled.reserve(a.size() + b.size());
  for (double x : a) pooled.push_back({x, false});
  for (double x : b) pooled.push_back({x, true});
  std::sort(pooled.begin(), pooled.end(), [](const Item& l, const Item& r) { return l.value < r.value; });
  const auto total = static_cast<double>(pooled.size());
  double rank_sum_b = 0, tie_term = 0;
  bool ties = false;
  for (std::size_t i = 0; i < pooled.size();) {
    std::size_t j = i;
    while (j < pooled.size() && pooled[j].value == pooled[i].value) ++j;
    const double average_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;  // ranks i+1 … j
    const auto t = static_cast<double>(j - i);
    if (j - i > 1) {
      ties = true;
      tie_term += t * t * t - t;
    }
    for (std::size_t k = i; k < j; ++k)
      if (pooled[k].in_b) rank_sum_b += average_rank;
    i = j;
  }
  const auto na = static_cast<double>(a.size());
  const auto nb = static_cast<double>(b.size());
  MannWhitneyResult r;
  r.u = rank_sum_b - nb * (nb + 1) / 2.0;
  const double mu = na * nb / 2.0;
  const double variance = na * nb / 12.0 * ((total + 1) - (total > 1 ? tie_term / (total * (total - 1)) : 0.0));
  const double sigma = variance > 0 ? std::sqrt(variance) : 0.0;
  const double deviation = std::max(std::fabs(r.u - mu) - 0.5, 0.0);
  r.z = sigma > 0 ? std::copysign(deviation / sigma, r.u - mu) : 0.0;
  if (!ties && a.size() <= kMannWhitneyExactMax && b.size() <= kMannWhitneyExactMax) {
    const std::vector<double> counts = mann_whitney_counts(a.size(), b.size());
    double all = 0, at_most = 0, at_least = 0;
    const auto u = static_cast<std::size_t>(std::llround(r.u));  // an integer without ties
    for (std::size_t k = 0; k < counts.size(); ++k) {
      all += counts[k];
      if (k <= u) at_most += counts[k];
      if (k >= u) at_least += counts[k];
    }
    r.p = std::min(1.0, 2.0 * std::min(at_most, at_least) / all);
    r.exact = true;
    return r;
  }
  r.p = sigma > 0 ? std::min(1.0, 2.0 * normal_cdf(-std::fabs(r.z))) : 1.0;
  return r;
}

std::optional<TostResult> tost_ratio(std::span<const double> a_in, std::span<const double> b_in, double margin,
                                     double alpha) {
  const std::vector<double> a = finite_values(a_in);
  const std::vector<double> b = finite_values(b_in);
  if (a.size() < 2 || b.size() < 2 || !all_positive(a) || !all_positive(b)) return std::nullopt;
  if (!(margin > 0) || !std::isfinite(margin) || !(alpha > 0 && alpha < 1)) return std::nullopt;
  const Welch w = welch_parts(logs(a), logs(b));
  const double bound = std::log1p(margin);
  TostResult r;
  r.margin = margin;
  if (!(w.se > 0)) {
    r.p = std::fabs(w.diff) < bound ? 0.0 : 1.0;
  } else {
    const double p_lower = student_t_cdf(-(w.diff + bound) / w.se, w.dof);  // H01: d ≤ −δ
    const double p_upper = student_t_cdf((w.diff - bound) / w.se, w.dof);   // H02: d ≥ δ
    r.p = std::max(p_lower, p_upper);
  }
  r.equivalent = r.p < alpha;
  return r;
}

AbVerdict ab_verdict(const std::optional<RatioInterval>& ratio, const std::optional<MannWhitneyResult>& mw,
                     const std::optional<TostResult>& tost, bool lower_is_better) {
  if (ratio && mw && mw->p < kVerdictAlpha) {
    if (ratio->high < 1) return lower_is_better ? AbVerdict::better : AbVerdict::worse;
    if (ratio->low > 1) return lower_is_better ? AbVerdict::worse : AbVerdict::better;
  }
  if (tost && tost->equivalent) return AbVerdict::equivalent;
  return AbVerdict::inconclusive;
}

std::string_view verdict_word(AbVerdict verdict) {
  switch (verdict) {
    case AbVerdict::better: return "faster";
    case AbVerdict::worse: return "slower";
    case AbVerdict::equivalent: return "equivalent";
    case AbVerdict::inconclusive: break;
  }
  return "inconclusive";
}

std::string_view to_string(AbVerdict verdict) {
  switch (verdict) {
    case AbVerdict::better: return "better";
    case AbVerdict::worse: return "worse";
    case AbVerdict::equivalent: return "equivalent";
    case AbVerdict::inconclusive: break;
  }
  return "inconclusive";
}

}  // namespace tierscope::workloads

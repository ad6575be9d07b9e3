#include "workloads/leak.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <utility>

#include "workloads/stats.h"

namespace tierscope::workloads {

namespace {

// Sizes of the groups of equal values (groups of one included).
std::vector<std::size_t> tie_groups(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  std::vector<std::size_t> groups;
  for (std::size_t i = 0; i < v.size();) {
    std::size_t j = i + 1;
    while (j < v.size() && v[j] == v[i]) ++j;
    groups.push_back(j - i);
    i = j;
  }
  return groups;
}

double tie_pairs(const std::vector<std::size_t>& groups) {
  double sum = 0;
  for (std::size_t t : groups) {
    const double dt = static_cast<double>(t);
    sum += dt * (dt - 1) / 2;
  }
  return sum;
}

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return percentile_sorted(v, 0.5);
}

// Order statistics of the pairwise slopes: after one nth_element at the
// median's position `mid`, [0, mid) and (mid, N) hold exactly the slopes
// sorted below and above it, so each further rank is found within one half.
class RankedSlopes {
 public:
  RankedSlopes(std::vector<double>& slopes, std::size_t mid) : s_(slopes), mid_(mid) {
    std::nth_element(at(0), at(mid_), s_.end());
  }
  // The slope at 0-based sorted position k.
  double value_at(std::size_t k) {
    if (k == mid_) return s_[mid_];
    if (k < mid_) std::nth_element(at(0), at(k), at(mid_));
    else std::nth_element(at(mid_ + 1), at(k), s_.end());
    return s_[k];
  }
  // The slope at 1-based rank r, interpolated between neighbouring ranks,
  // r clamped to [1, N].
  double rank(double r) {
    r = std::clamp(r, 1.0, static_cast<double>(s_.size()));
    const double below = std::floor(r);
    const auto k = static_cast<std::size_t>(below) - 1;
    const double a = value_at(k);
    if (r == below || k + 1 >= s_.size()) return a;
    return a + (r - below) * (value_at(k + 1) - a);
  }

 private:
  std::vector<double>::iterator at(std::size_t k) { return s_.begin() + static_cast<std::ptrdiff_t>(k); }
  std::vector<double>& s_;
  std::size_t mid_;
};

std::string number(double v) {
  char buf[64];
  if (v != 0 && (std::fabs(v) >= 1e7 || std::fabs(v) < 1e-3))
    std::snprintf(buf, sizeof buf, "%.4g", v);
  else
    std::snprintf(buf, sizeof buf, "%.4f", v);
  std::string s = buf;
  if (s.find('.') != std::string::npos && s.find('e') == std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s;
}

// "5242880 bytes (5.00 MiB)" or "3 count".
std::string amount(double v, const std::string& unit) {
  if (unit != "bytes") return number(v) + " (" + unit + ")";
  char buf[96];
  std::snprintf(buf, sizeof buf, "%.0f bytes (%.2f MiB)", v, v / (1024.0 * 1024.0));
  return buf;
}

std::string per_hour(double per_s, const std::string& unit) { return amount(per_s * 3600.0, unit) + " per hour"; }

struct Series {
  std::vector<double> t, v, requests, tokens;  // requests/tokens: NaN where unknown
  std::size_t size() const { return t.size(); }
};

Series slice(const std::vector<TrendPoint>& points, std::size_t from, std::size_t to) {
  Series s;
  for (std::size_t i = from; i < to; ++i) {
    s.t.push_back(points[i].t_s);
    s.v.push_back(points[i].value);
    s.requests.push_back(points[i].requests.value_or(std::nan("")));
    s.tokens.push_back(points[i].tokens.value_or(std::nan("")));
  }
  return s;
}

// Block medians of k points each (the last block shorter); NaNs in a column
// are left out of its median, a block of only NaNs gives NaN.
Series downsample(const Series& s, std::size_t k) {
  if (k <= 1) return s;
  Series out;
  auto med = [](const std::vector<double>& col, std::size_t a, std::size_t b) {
    std::vector<double> v;
    for (std::size_t i = a; i < b; ++i)
      if (std::isfinite(col[i])) v.push_back(col[i]);
    return v.empty() ? std::nan("") : median_of(std::move(v));
  };
  for (std::size_t a = 0; a < s.size(); a += k) {
    const std::size_t b = std::min(s.size(), a + k);
    out.t.push_back(med(s.t, a, b));
    out.v.push_back(med(s.v, a, b));
    out.requests.push_back(med(s.requests, a, b));
    out.tokens.push_back(med(s.tokens, a, b));
  }
  return out;
}

// Means of `blocks` consecutive blocks of (nearly) equal count.
std::vector<double> block_means(const std::vector<double>& v, std::size_t blocks) {
  if (v.size() <= blocks || blocks == 0) return v;
  std::vector<double> out;
  const std::size_t base = v.size() / blocks, extra = v.size() % blocks;
  std::size_t a = 0;
  for (std::size_t b = 0; b < blocks; ++b) {
    const std::size_t len = base + (b < extra ? 1 : 0);
    double sum = 0;
    for (std::size_t i = a; i < a + len; ++i) sum += v[i];
    out.push_back(sum / static_cast<double>(len));
    a += len;
  }
  return out;
}

// Theil–Sen of y against x where both are finite.
std::optional<SenSlope> fit_finite(const std::vector<double>& x, const std::vector<double>& y, double confidence) {
  std::vector<double> fx, fy;
  for (std::size_t i = 0; i < x.size(); ++i)
    if (std::isfinite(x[i]) && std::isfinite(y[i])) {
      fx.push_back(x[i]);
      fy.push_back(y[i]);
    }
  return theil_sen(fx, fy, confidence);
}

std::size_t finite_count(const std::vector<double>& v) {
  return static_cast<std::size_t>(std::count_if(v.begin(), v.end(), [](double d) { return std::isfinite(d); }));
}

// Median of the values of s at indices [a, b).
double median_range(const std::vector<double>& v, std::size_t a, std::size_t b) {
  return median_of(std::vector<double>(v.begin() + static_cast<std::ptrdiff_t>(a),
                                       v.begin() + static_cast<std::ptrdiff_t>(b)));
}

}  // namespace

std::string_view to_string(Verdict v) {
  switch (v) {
    case Verdict::leak: return "LEAK";
    case Verdict::bounded_growth: return "BOUNDED-GROWTH";
    case Verdict::clean: return "CLEAN";
    case Verdict::inconclusive: return "INCONCLUSIVE";
  }
  return "INCONCLUSIVE";
}

double mann_kendall_variance(std::size_t n, const std::vector<std::size_t>& ties) {
  const double dn = static_cast<double>(n);
  double v = dn * (dn - 1) * (2 * dn + 5);
  for (std::size_t t : ties) {
    const double dt = static_cast<double>(t);
    v -= dt * (dt - 1) * (2 * dt + 5);
  }
  return v / 18.0;
}

MannKendall mann_kendall(const std::vector<double>& y) {
  MannKendall r;
  r.n = y.size();
  if (y.size() < 2) return r;
  long long s = 0;
  for (std::size_t i = 0; i + 1 < y.size(); ++i)
    for (std::size_t j = i + 1; j < y.size(); ++j) s += (y[j] > y[i]) - (y[j] < y[i]);
  r.s = static_cast<double>(s);
  const auto groups = tie_groups(y);
  r.var = mann_kendall_variance(y.size(), groups);
  if (r.var > 0) {
    if (s > 0) r.z = (r.s - 1) / std::sqrt(r.var);
    else if (s < 0) r.z = (r.s + 1) / std::sqrt(r.var);
  }
  r.p = std::erfc(std::fabs(r.z) / std::sqrt(2.0));
  const double n = static_cast<double>(y.size());
  const double n0 = n * (n - 1) / 2, n1 = tie_pairs(groups);
  const double denominator = std::sqrt((n0 - n1) * n0);
  r.tau = denominator > 0 ? r.s / denominator : 0;
  return r;
}

std::optional<SenSlope> theil_sen(const std::vector<double>& x, const std::vector<double>& y, double confidence) {
  const std::size_t n = std::min(x.size(), y.size());
  std::vector<double> slopes;
  slopes.reserve(n * (n - (n > 0 ? 1 : 0)) / 2);
  for (std::size_t i = 0; i + 1 < n; ++i)
    for (std::size_t j = i + 1; j < n; ++j)
      if (x[j] != x[i]) slopes.push_back((y[j] - y[i]) / (x[j] - x[i]));
  if (slopes.size() < 2) return std::nullopt;
  SenSlope r;
  r.pairs = slopes.size();
  const double big_n = static_cast<double>(slopes.size());
  // Variance of S: value ties (Gilbert) and abscissa ties (Sen) both corrected.
  auto ties = tie_groups(std::vector<double>(y.begin(), y.begin() + static_cast<std::ptrdiff_t>(n)));
  const auto x_ties = tie_groups(std::vector<double>(x.begin(), x.begin() + static_cast<std::ptrdiff_t>(n)));
  ties.insert(ties.end(), x_ties.begin(), x_ties.end());
  const double var = std::max(0.0, mann_kendall_variance(n, ties));
  const double z = normal_quantile(1 - (1 - confidence) / 2);
  const double c = z * std::sqrt(var);
  const double median_rank = (big_n + 1) / 2;  // the median: rank (N+1)/2
  RankedSlopes ranked(slopes, static_cast<std::size_t>(std::floor(median_rank)) - 1);
  r.slope = ranked.rank(median_rank);
  r.low = ranked.rank((big_n - c) / 2);
  r.high = ranked.rank((big_n + c) / 2 + 1);
  return r;
}

nlohmann::json LeakResult::to_json() const {
  nlohmann::json j;
  j["subject"] = subject;
  j["tier"] = tier;
  j["unit"] = unit;
  j["verdict"] = std::string(to_string(verdict));
  j["reasons"] = reasons;
  j["points"] = points;
  j["points_used"] = points_used;
  j["downsampling"] = downsampling;
  j["duration_s"] = duration_s;
  auto put = [&j](const char* key, const std::optional<double>& v) {
    if (v) j[key] = *v;
  };
  put("first", first);
  put("last", last);
  put("min", min);
  put("max", max);
  put("slope_per_s", slope_per_s);
  put("slope_low_per_s", slope_low_per_s);
  put("slope_high_per_s", slope_high_per_s);
  put("mk_s", mk_s);
  put("mk_var", mk_var);
  put("mk_z", mk_z);
  put("mk_p", mk_p);
  put("mk_tau", mk_tau);
  j["mk_blocks"] = mk_blocks;
  put("per_request", per_request);
  put("per_request_low", per_request_low);
  put("per_request_high", per_request_high);
  put("per_1k_tokens", per_1k_tokens);
  put("per_1k_tokens_low", per_1k_tokens_low);
  put("per_1k_tokens_high", per_1k_tokens_high);
  put("growth_first_third", growth_first_third);
  put("growth_last_third", growth_last_third);
  put("idle_reclaimed", idle_reclaimed);
  put("time_to_oom_s", time_to_oom_s);
  put("time_to_oom_low_s", time_to_oom_low_s);
  put("time_to_oom_high_s", time_to_oom_high_s);
  return j;
}

LeakResult analyze_leak(std::string subject, std::string tier, std::vector<TrendPoint> points,
                        const LeakOptions& options) {
  LeakResult r;
  r.subject = std::move(subject);
  r.tier = std::move(tier);
  r.unit = options.unit;
  const std::string& unit = options.unit;
  std::erase_if(points, [](const TrendPoint& p) { return !std::isfinite(p.t_s) || !std::isfinite(p.value); });
  std::stable_sort(points.begin(), points.end(),
                   [](const TrendPoint& a, const TrendPoint& b) { return a.t_s < b.t_s; });
  r.points = points.size();
  r.downsampling = "none";
  if (points.empty()) {
    r.reasons.push_back("No points were given.");
    return r;
  }
  r.first = points.front().value;
  r.last = points.back().value;
  auto [lo, hi] = std::minmax_element(points.begin(), points.end(),
                                      [](const TrendPoint& a, const TrendPoint& b) { return a.value < b.value; });
  r.min = lo->value;
  r.max = hi->value;

  std::size_t run_end = points.size();
  if (options.idle_tail_from_s) {
    run_end = static_cast<std::size_t>(
        std::lower_bound(points.begin(), points.end(), *options.idle_tail_from_s,
                         [](const TrendPoint& p, double t) { return p.t_s < t; }) -
        points.begin());
  }
  const Series run = slice(points, 0, run_end);
  const Series tail = slice(points, run_end, points.size());
  const std::size_t n = run.size();
  r.duration_s = n > 0 ? run.t.back() - run.t.front() : 0;
  const double alpha = 1 - options.confidence;
  const double pct = options.confidence * 100;

  if (n < 3) {
    r.reasons.push_back("The run has " + std::to_string(n) + " points (at least " +
                        std::to_string(options.min_points) + " are needed).");
    return r;
  }

  // Theil–Sen on time, after downsampling.
  const std::size_t max_points = std::max<std::size_t>(options.max_points, 3);
  const std::size_t k = (n + max_points - 1) / max_points;
  const Series fit = downsample(run, k);
  if (k > 1) r.downsampling = "block medians of " + std::to_string(k) + " points";
  r.points_used = fit.size();
  const auto time_fit = theil_sen(fit.t, fit.v, options.confidence);
  if (time_fit) {
    r.slope_per_s = time_fit->slope;
    r.slope_low_per_s = time_fit->low;
    r.slope_high_per_s = time_fit->high;
  }

  // Mann–Kendall on block means.
  const auto means = block_means(run.v, options.blocks);
  const MannKendall mk = mann_kendall(means);
  r.mk_s = mk.s;
  r.mk_var = mk.var;
  r.mk_z = mk.z;
  r.mk_p = mk.p;
  r.mk_tau = mk.tau;
  r.mk_blocks = means.size();

  // Work regression.
  auto work_fit = [&](const std::vector<double>& work) -> std::optional<SenSlope> {
    if (finite_count(work) < options.min_points) return std::nullopt;
    double first_w = std::nan(""), last_w = std::nan("");
    for (double w : work)
      if (std::isfinite(w)) {
        if (!std::isfinite(first_w)) first_w = w;
        last_w = w;
      }
    if (!(last_w > first_w)) return std::nullopt;
    return fit_finite(work, fit.v, options.confidence);
  };
  if (auto f = work_fit(fit.requests)) {
    r.per_request = f->slope;
    r.per_request_low = f->low;
    r.per_request_high = f->high;
  }
  if (auto f = work_fit(fit.tokens)) {
    r.per_1k_tokens = f->slope * 1000;
    r.per_1k_tokens_low = f->low * 1000;
    r.per_1k_tokens_high = f->high * 1000;
  }

  // Plateau test: thirds by time.
  bool last_third_rising = false;
  std::optional<SenSlope> last_fit;
  if (r.duration_s > 0) {
    const double t0 = run.t.front();
    const double third = r.duration_s / 3;
    auto third_of = [&](double from, double to) {
      Series s;
      for (std::size_t i = 0; i < fit.size(); ++i)
        if (fit.t[i] >= from && fit.t[i] <= to) {
          s.t.push_back(fit.t[i]);
          s.v.push_back(fit.v[i]);
        }
      return s;
    };
    const Series first = third_of(t0, t0 + third);
    const Series last = third_of(t0 + 2 * third, run.t.back());
    const auto first_fit = theil_sen(first.t, first.v, options.confidence);
    last_fit = theil_sen(last.t, last.v, options.confidence);
    if (first_fit && last_fit) {
      r.growth_first_third = first_fit->slope * third;
      r.growth_last_third = last_fit->slope * third;
      // The last third's own Mann–Kendall, on the run's (not downsampled) points.
      std::vector<double> last_values;
      for (std::size_t i = 0; i < n; ++i)
        if (run.t[i] >= t0 + 2 * third) last_values.push_back(run.v[i]);
      const MannKendall last_mk = mann_kendall(block_means(last_values, std::max<std::size_t>(options.blocks / 3, 3)));
      last_third_rising = last_mk.s > 0 && last_mk.p < alpha && last_fit->low > 0 &&
                          *r.growth_last_third >= options.noise_floor;
    }
  }

  // Reclaim test.
  if (!tail.v.empty()) {
    const std::size_t head = std::max<std::size_t>(1, n / 10);
    const double base = median_range(run.v, 0, head);
    const double peak = median_range(run.v, n - head, n);
    const std::size_t tail_n = std::max<std::size_t>(1, tail.size() / 4);
    const double end = median_range(tail.v, tail.size() - tail_n, tail.size());
    if (peak > base) r.idle_reclaimed = (peak - end) / (peak - base);
  }

  // Time to OOM.
  if (options.headroom && time_fit && time_fit->slope > 0 && time_fit->low > 0) {
    r.time_to_oom_s = *options.headroom / time_fit->slope;
    r.time_to_oom_low_s = *options.headroom / time_fit->high;
    r.time_to_oom_high_s = *options.headroom / time_fit->low;
  }

  // Verdict.
  auto say = [&r](std::string s) { r.reasons.push_back(std::move(s)); };
  if (n < options.min_points || r.duration_s < options.min_duration_s) {
    r.verdict = Verdict::inconclusive;
    if (n < options.min_points)
      say("The run has " + std::to_string(n) + " points; at least " + std::to_string(options.min_points) +
          " are needed.");
    if (r.duration_s < options.min_duration_s)
      say("The run lasted " + number(r.duration_s) + " s; at least " + number(options.min_duration_s) +
          " s are needed.");
    return r;
  }
  if (!time_fit) {
    r.verdict = Verdict::inconclusive;
    say("No Theil–Sen slope: the points have fewer than two distinct times.");
    return r;
  }
  const std::string slope_words = "Theil–Sen slope " + per_hour(time_fit->slope, unit) + ", " + number(pct) +
                                  " % CI [" + number(time_fit->low * 3600) + ", " + number(time_fit->high * 3600) +
                                  "] per hour";
  const std::string mk_words = "Mann–Kendall on " + std::to_string(means.size()) + " block means: S = " +
                               number(mk.s) + ", Z = " + number(mk.z) + ", p = " + number(mk.p) + ", tau-b = " +
                               number(mk.tau);
  const double growth = time_fit->slope * r.duration_s;
  if (growth < options.noise_floor) {
    r.verdict = Verdict::clean;
    say("Growth over the run " + amount(growth, unit) + " (" + slope_words + ", over " + number(r.duration_s) +
        " s) is below the noise floor of " + amount(options.noise_floor, unit) + ".");
    return r;
  }
  const bool mk_rise = mk.p < alpha && mk.s > 0, mk_fall = mk.p < alpha && mk.s < 0;
  const bool ci_above = time_fit->low > 0, ci_below = time_fit->high < 0;
  if (mk_fall && ci_below) {
    r.verdict = Verdict::clean;
    say("A significant fall, not a rise: " + mk_words + "; " + slope_words + ".");
    return r;
  }
  if (!mk_rise || !ci_above) {
    r.verdict = Verdict::clean;
    if (!mk_rise && !ci_above)
      say("No significant trend: " + mk_words + " (p >= " + number(alpha) + " or falling); the " + slope_words +
          " includes 0.");
    else if (mk_rise)
      say("No significant trend: " + mk_words + " says rising (p < " + number(alpha) + ") but the " + slope_words +
          " includes 0.");
    else
      say("No significant trend: the " + slope_words + " lies above 0 but " + mk_words +
          " is not a significant rise (p >= " + number(alpha) + ").");
    return r;
  }
  const double growth_low = time_fit->low * r.duration_s;
  if (growth_low < options.noise_floor) {
    r.verdict = Verdict::inconclusive;
    say("A significant rise (" + mk_words + "; " + slope_words + "), but the low end of its CI, " +
        amount(growth_low, unit) + " over the run, is below the noise floor of " + amount(options.noise_floor, unit) +
        ": a small leak cannot be told from noise yet; a longer run decides.");
    return r;
  }
  const std::string rise = "A significant rise: " + mk_words + "; " + slope_words + "; growth " + amount(growth, unit) +
                           " over " + number(r.duration_s) + " s.";
  if (r.growth_first_third && r.growth_last_third && *r.growth_first_third > 0 &&
      *r.growth_last_third <= options.plateau_ratio * *r.growth_first_third && !last_third_rising) {
    r.verdict = Verdict::bounded_growth;
    say(rise);
    say("It levels off: the last third grew " + amount(*r.growth_last_third, unit) + ", at most " +
        number(options.plateau_ratio * 100) + " % of the first third's " + amount(*r.growth_first_third, unit) +
        ", and is not itself a significant rise.");
    return r;
  }
  if (r.idle_reclaimed && *r.idle_reclaimed >= options.reclaim_fraction) {
    r.verdict = Verdict::bounded_growth;
    say(rise);
    say("The idle tail gave back " + number(*r.idle_reclaimed * 100) + " % of the growth (at least " +
        number(options.reclaim_fraction * 100) + " % counts as reclaimed).");
    return r;
  }
  r.verdict = Verdict::leak;
  say(rise);
  if (r.growth_first_third && r.growth_last_third)
    say("It goes on into the last third: grew " + amount(*r.growth_last_third, unit) + " there against " +
        amount(*r.growth_first_third, unit) + " in the first third" +
        (last_third_rising ? " (a significant rise of its own)." : "."));
  if (r.idle_reclaimed)
    say("The idle tail gave back " + number(*r.idle_reclaimed * 100) + " % of the growth (less than " +
        number(options.reclaim_fraction * 100) + " %).");
  if (r.per_request)
    say("Per request: " + amount(*r.per_request, unit) + ", " + number(pct) + " % CI [" +
        number(*r.per_request_low) + ", " + number(*r.per_request_high) + "].");
  if (r.per_1k_tokens)
    say("Per 1000 output tokens: " + amount(*r.per_1k_tokens, unit) + ", " + number(pct) + " % CI [" +
        number(*r.per_1k_tokens_low) + ", " + number(*r.per_1k_tokens_high) + "].");
  if (r.time_to_oom_s)
    say("Time to OOM at this slope: " + number(*r.time_to_oom_s) + " s (" + number(*r.time_to_oom_low_s) + " .. " +
        number(*r.time_to_oom_high_s) + " s).");
  return r;
}

}  // namespace tierscope::workloads

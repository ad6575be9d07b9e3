#include "workloads/svg_chart.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <system_error>

#include "core/text.h"

namespace tierscope::workloads::svg {
namespace {

// Values beyond this magnitude are treated like non-finite ones: an axis
// spanning them would have no finite length.
constexpr double kMaxMagnitude = 1e30;
// Coordinates are clamped to this before formatting (a guard; drawn points
// are inside the plot box).
constexpr double kCoordLimit = 1e6;
constexpr double kFontSize = 11;
constexpr double kTitleSize = 14;
constexpr double kNoteSize = 10;
// Bold glyphs are wider: the title's width is estimated at this font size.
constexpr double kBoldTitleWidth = kTitleSize * 1.1;
// Layout estimates of text width: an average glyph of sans-serif is about
// 0.6 of the font size wide.
constexpr double kGlyphWidth = 0.6;
constexpr double kPad = 12;
constexpr double kLegendRow = 16;
constexpr double kMarkerRow = 13;
constexpr double kNoteRow = 13;
constexpr double kGridRow = 28;
constexpr int kMaxMarkerRows = 3;
// A series with more points than this many per pixel column is drawn through
// each column's first, lowest, highest and last point (peaks stay visible).
constexpr double kPointsPerPixel = 4;
// Markers (circles) are left out of a line with more points than this.
constexpr std::size_t kMaxCircles = 60;

constexpr std::array<std::string_view, 8> kPalette{"#0072B2", "#E69F00", "#009E73", "#D55E00",
                                                  "#CC79A7", "#56B4E9", "#000000", "#F0E442"};

bool usable(double v) { return std::isfinite(v) && std::fabs(v) <= kMaxMagnitude; }

double text_width(std::string_view s, double font_size = kFontSize) {
  std::size_t glyphs = 0;
  for (const char c : s)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++glyphs;
  return static_cast<double>(glyphs) * font_size * kGlyphWidth;
}

std::string px(double v) { return format_fixed(std::clamp(v, -kCoordLimit, kCoordLimit), 2); }

// 10^k exactly as the decimal literal "1e<k>" reads (correctly rounded, the
// same on every platform, unlike a libm pow).
double pow10i(int k) {
  k = std::clamp(k, -300, 300);
  const std::string s = "1e" + std::to_string(k);
  double v = 1;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

std::string trim_zeros(std::string s) {
  if (s.find('.') == std::string::npos) return s;
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  if (s == "-0") s = "0";
  return s;
}

// About three significant digits for a magnitude `a` ≥ 0.
int significant_decimals(double a) {
  if (a == 0 || a >= 100) return 0;
  if (a >= 10) return 1;
  if (a >= 1) return 2;
  return std::clamp(2 - static_cast<int>(std::floor(std::log10(a))), 0, 12);
}

// The fewest decimals that write `step` (and so every multiple of it) exactly.
int step_decimals(double step) {
  step = std::fabs(step);
  for (int d = 0; d <= 10; ++d) {
    const double scaled = step * pow10i(d);
    if (std::fabs(scaled - std::round(scaled)) < 1e-6 * std::max(1.0, scaled)) return d;
  }
  return 10;
}

// How a unit writes a magnitude: the value is divided by `divisor` and
// written between prefix and suffix.
struct Display {
  double divisor = 1;
  std::string prefix, suffix;
};

bool unit_in_title(std::string_view unit) {
  return unit == "tokens" || unit == "tokens/s" || unit == "iops" ||
         !(unit.empty() || unit == "count" || unit == "bytes" || unit == "bytes/s" || unit == "ms" || unit == "s" ||
           unit == "ratio" || unit == "%" || unit == "$" || unit == "W" || unit == "J");
}

// `on_axis`: tick labels leave out unit words the axis title carries.
// Counts take k, M, … from `si_from` on (a log axis: from 1000, so its
// decades read 1k, 10k, 100k).
Display display_for(double mag, std::string_view unit, bool on_axis, double si_from = 1e4) {
  if (unit == "bytes" || unit == "bytes/s") {
    static constexpr std::array<std::string_view, 6> kNames{" B", " KiB", " MiB", " GiB", " TiB", " PiB"};
    std::size_t k = 0;
    double divisor = 1;
    while (k + 1 < kNames.size() && mag >= divisor * 1024) {
      divisor *= 1024;
      ++k;
    }
    return {divisor, "", std::string(kNames[k]) + (unit == "bytes/s" ? "/s" : "")};
  }
  if (unit == "ms") {
    if (mag < 1000) return {1, "", " ms"};
    if (mag < 120'000) return {1000, "", " s"};
    if (mag < 7'200'000) return {60'000, "", " min"};
    return {3'600'000, "", " h"};
  }
  if (unit == "s") {
    if (mag > 0 && mag < 1) return {0.001, "", " ms"};
    if (mag < 120) return {1, "", " s"};
    if (mag < 7200) return {60, "", " min"};
    if (mag < 172'800) return {3600, "", " h"};
    return {86'400, "", " d"};
  }
  if (unit == "ratio") return {0.01, "", " %"};
  if (unit == "%") return {1, "", " %"};
  if (unit == "W" || unit == "J") {
    static constexpr std::array<std::string_view, 4> kPrefixes{"", "k", "M", "G"};
    std::size_t k = 0;
    double divisor = 1;
    while (k + 1 < kPrefixes.size() && mag >= divisor * 1000) {
      divisor *= 1000;
      ++k;
    }
    return {divisor, "", " " + std::string(kPrefixes[k]) + std::string(unit)};
  }
  std::string word;
  if (unit == "tokens") word = " tokens";
  else if (unit == "tokens/s") word = " tokens/s";
  else if (unit == "iops") word = " IOPS";
  else if (!unit.empty() && unit != "count" && unit != "$") word = " " + std::string(unit);
  if (on_axis && unit_in_title(unit)) word.clear();
  const bool known = unit.empty() || unit == "count" || unit == "tokens" || unit == "tokens/s" || unit == "iops" ||
                     unit == "$";
  Display d{1, unit == "$" ? "$" : "", word};
  if (!known) return d;
  static constexpr std::array<std::string_view, 5> kSi{"", "k", "M", "G", "T"};
  std::size_t k = 0;
  while (k + 1 < kSi.size() && mag >= si_from * d.divisor) {
    d.divisor *= 1000;
    ++k;
  }
  d.suffix = std::string(kSi[k]) + word;
  return d;
}

std::string write_with(double v, const Display& d, int decimals, bool trim) {
  std::string digits = format_fixed(std::fabs(v) / d.divisor, decimals);
  if (trim) digits = trim_zeros(digits);
  const bool negative = v < 0 && digits.find_first_not_of("0.") != std::string::npos;
  return (negative ? "-" : "") + d.prefix + digits + d.suffix;
}

std::string label_value(double v, std::string_view unit, bool on_axis, double si_from = 1e4) {
  if (!std::isfinite(v)) return "n/a";
  const Display d = display_for(std::fabs(v), unit, on_axis, si_from);
  const double scaled = std::fabs(v) / d.divisor;
  if (unit == "$" && d.divisor == 1 && scaled >= 1 && scaled < 1000) return write_with(v, d, 2, false);
  return write_with(v, d, significant_decimals(scaled), true);
}

std::string axis_title(const Axis& a) {
  if (a.unit.empty() || !unit_in_title(a.unit)) return a.label;
  if (a.label.empty()) return a.unit;
  return a.label + " (" + a.unit + ")";
}

// Ticks on a clock: steps of 1, 2, 5, 10, 15, 20, 30, 60 (seconds, minutes)
// or 1, 2, 3, 6, 12, 24, 48 (hours) where nice decimal steps would give 25 h.
std::vector<double> clock_ticks(double lo, double hi, int target, bool hours) {
  static constexpr std::array<double, 8> kSixty{1, 2, 5, 10, 15, 20, 30, 60};
  static constexpr std::array<double, 7> kHours{1, 2, 3, 6, 12, 24, 48};
  const double raw = (hi - lo) / std::max(target, 1);
  if (!(raw >= 1)) return nice_ticks(lo, hi, target);
  auto ticks_of = [&](double step) {
    std::vector<double> ticks;
    const double last = std::ceil(hi / step - 1e-9);
    for (double k = std::floor(lo / step + 1e-9); k <= last; k += 1) ticks.push_back(k * step);
    return ticks;
  };
  if (hours) {
    for (const double step : kHours)
      if (step >= raw * (1 - 1e-9)) return ticks_of(step);
  } else {
    for (const double step : kSixty)
      if (step >= raw * (1 - 1e-9)) return ticks_of(step);
  }
  return nice_ticks(lo, hi, target);
}

// Where an axis maps values to pixels, with its ticks and their labels.
struct AxisPlan {
  Scale scale = Scale::linear;
  double lo = 0, hi = 1;  // value at p0, at p1
  double p0 = 0, p1 = 1;  // pixels
  std::vector<double> ticks;
  std::vector<std::string> labels;
  std::string title;

  double fraction(double v) const {
    if (scale == Scale::log10) return (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo));
    return (v - lo) / (hi - lo);
  }
  double map(double v) const { return p0 + fraction(v) * (p1 - p0); }
  bool accepts(double v) const { return usable(v) && (scale == Scale::linear || v > 0); }
  bool contains(double v) const {
    if (!accepts(v)) return false;
    const double f = fraction(v);
    return f >= -1e-9 && f <= 1 + 1e-9;
  }
  // The pixel of v held inside the axis (an interval end beyond it, or ≤ 0 on a log axis).
  double clamped(double v) const {
    if (scale == Scale::log10 && v <= 0) return p0;
    return p0 + std::clamp(fraction(v), 0.0, 1.0) * (p1 - p0);
  }
  double max_label_width() const {
    double w = 0;
    for (const auto& l : labels) w = std::max(w, text_width(l));
    return w;
  }
};

bool is_decade(double v) {
  const double e = std::log10(v);
  return std::fabs(e - std::round(e)) < 1e-9;
}

// Whether adjacent tick labels fit along `length` pixels.
bool labels_fit(const AxisPlan& p, double length, bool horizontal) {
  for (std::size_t i = 1; i < p.ticks.size(); ++i) {
    const double gap = (p.fraction(p.ticks[i]) - p.fraction(p.ticks[i - 1])) * length;
    const double need = horizontal ? (text_width(p.labels[i]) + text_width(p.labels[i - 1])) / 2 + 8 : kFontSize + 3;
    if (gap < need) return false;
  }
  return true;
}

void keep_ticks(AxisPlan& p, const std::vector<bool>& keep) {
  std::vector<double> ticks;
  std::vector<std::string> labels;
  for (std::size_t i = 0; i < p.ticks.size(); ++i)
    if (keep[i]) {
      ticks.push_back(p.ticks[i]);
      labels.push_back(p.labels[i]);
    }
  p.ticks = std::move(ticks);
  p.labels = std::move(labels);
}

// Ticks, labels and bounds for axis `a` over `values` (the data drawn
// against it), `length` pixels long.
AxisPlan plan_axis(const Axis& a, const std::vector<double>& values, bool include_zero, double length,
                   bool horizontal) {
  AxisPlan p;
  p.scale = a.scale;
  p.title = axis_title(a);
  const bool log = a.scale == Scale::log10;
  auto fits_scale = [&](double v) { return usable(v) && (!log || v > 0); };
  std::optional<double> forced_min = a.min && fits_scale(*a.min) ? a.min : std::nullopt;
  std::optional<double> forced_max = a.max && fits_scale(*a.max) ? a.max : std::nullopt;
  if (forced_min && forced_max && !(*forced_min < *forced_max)) forced_min = forced_max = std::nullopt;
  std::vector<double> forced_ticks;
  for (const double t : a.ticks)
    if (fits_scale(t)) forced_ticks.push_back(t);
  std::sort(forced_ticks.begin(), forced_ticks.end());
  forced_ticks.erase(std::unique(forced_ticks.begin(), forced_ticks.end()), forced_ticks.end());

  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const double v : values)
    if (fits_scale(v)) {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  for (const double t : forced_ticks) {
    lo = std::min(lo, t);
    hi = std::max(hi, t);
  }
  if (include_zero && !log && lo <= hi) {
    lo = std::min(lo, 0.0);
    hi = std::max(hi, 0.0);
  }
  if (lo > hi) {
    lo = log ? 1 : 0;
    hi = log ? 10 : 1;
  }
  if (forced_min) lo = *forced_min;
  if (forced_max) hi = *forced_max;
  if (!(lo < hi)) {
    if (log) {
      if (!forced_min) lo = std::min(lo, hi) / 10;
      if (!forced_max) hi = std::max(lo, hi) * 10;
      if (!(lo < hi)) lo = hi / 10;
    } else {
      const double pad = lo == 0 && hi == 0 ? 1 : std::max(std::fabs(lo), std::fabs(hi)) * 0.1;
      if (!forced_max) hi = std::max(lo, hi) + pad;
      else lo = std::min(lo, hi) - pad;
      if (!(lo < hi)) lo = hi - pad;
    }
  }

  auto set_bounds = [&](const std::vector<double>& ticks) {
    p.lo = forced_min ? *forced_min : (ticks.empty() ? lo : std::min(lo, ticks.front()));
    p.hi = forced_max ? *forced_max : (ticks.empty() ? hi : std::max(hi, ticks.back()));
    p.ticks.clear();
    for (const double t : ticks)
      if (p.contains(t)) p.ticks.push_back(t);
  };

  if (!forced_ticks.empty()) {
    set_bounds(forced_ticks);
    p.lo = forced_min ? *forced_min : lo;
    p.hi = forced_max ? *forced_max : hi;
    double mag = 0;
    for (const double t : p.ticks) mag = std::max(mag, std::fabs(t));
    const Display d = display_for(mag, a.unit, true);
    int decimals = 0;
    for (const double t : p.ticks) decimals = std::max(decimals, std::min(3, step_decimals(t / d.divisor)));
    for (const double t : p.ticks) p.labels.push_back(log ? label_value(t, a.unit, true, 1e3) : write_with(t, d, decimals, true));
  } else if (log) {
    set_bounds(log_ticks(lo, hi));
    for (const double t : p.ticks) p.labels.push_back(label_value(t, a.unit, true, 1e3));
    if (!labels_fit(p, length, horizontal)) {
      std::vector<bool> keep;
      for (const double t : p.ticks) keep.push_back(is_decade(t));
      keep_ticks(p, keep);
    }
  } else {
    const Display d = display_for(std::max(std::fabs(lo), std::fabs(hi)), a.unit, true);
    int target = std::clamp(static_cast<int>(length / (horizontal ? 100 : 45)), 2, 8);
    for (;; --target) {
      const bool clock = (a.unit == "s" || a.unit == "ms") && (d.suffix == " s" || d.suffix == " min" || d.suffix == " h");
      std::vector<double> ticks = clock ? clock_ticks(lo / d.divisor, hi / d.divisor, target, d.suffix == " h")
                                        : nice_ticks(lo / d.divisor, hi / d.divisor, target);
      const double step = ticks.size() >= 2 ? ticks[1] - ticks[0] : 1;
      for (double& t : ticks) t *= d.divisor;
      set_bounds(ticks);
      p.labels.clear();
      const int decimals = step_decimals(step);
      for (const double t : p.ticks) p.labels.push_back(write_with(t, d, decimals, true));
      if (target <= 2 || labels_fit(p, length, horizontal)) break;
    }
  }
  // Still crowded: every k-th tick.
  for (std::size_t k = 2; k < 64 && p.ticks.size() > 2 && !labels_fit(p, length, horizontal); ++k) {
    AxisPlan trial = p;
    std::vector<bool> keep;
    for (std::size_t i = 0; i < p.ticks.size(); ++i) keep.push_back(i % k == 0);
    keep_ticks(trial, keep);
    if (labels_fit(trial, length, horizontal) || k == 63) {
      p = std::move(trial);
      break;
    }
  }
  return p;
}

// Words of `text` in lines of at most `width` pixels.
std::vector<std::string> wrap(std::string_view text, double width, double font_size) {
  std::vector<std::string> lines;
  std::string line;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    std::size_t j = i;
    while (j < text.size() && text[j] != ' ') ++j;
    if (j == i) break;
    const std::string_view word = text.substr(i, j - i);
    if (!line.empty() && text_width(line + " " + std::string(word), font_size) > width) {
      lines.push_back(line);
      line.clear();
    }
    if (!line.empty()) line += ' ';
    line += word;
    i = j;
  }
  if (!line.empty()) lines.push_back(line);
  return lines;
}

std::string join_notes(const std::string& note, const std::vector<std::string>& automatic) {
  std::string all = note;
  for (const auto& n : automatic) {
    if (!all.empty()) all += all.back() == '.' ? " " : "; ";
    all += n;
  }
  return all;
}

std::string count_words(std::size_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

// A legend entry: a swatch (line, dashed line, circle, filled box) and a name.
struct LegendItem {
  std::string name, color;
  bool dashed = false, circle = false, box = false, line = true;
};

struct LegendPlacement {
  std::vector<std::pair<double, double>> at;  // x, baseline y of each item's swatch start
  double height = 0;
};

constexpr double kSwatch = 18;

LegendPlacement place_legend(const std::vector<LegendItem>& items, double top, double width) {
  LegendPlacement lp;
  if (items.empty()) return lp;
  double x = kPad, y = top + kFontSize;
  for (const auto& item : items) {
    const double w = kSwatch + 5 + text_width(item.name) + 14;
    if (x > kPad && x + w > width - kPad) {
      x = kPad;
      y += kLegendRow;
    }
    lp.at.emplace_back(x, y);
    x += w;
  }
  lp.height = y - top + 6;
  return lp;
}

void draw_legend(std::string& out, const std::vector<LegendItem>& items, const LegendPlacement& lp) {
  if (items.empty()) return;
  out += "<g class=\"legend\">\n";
  for (std::size_t i = 0; i < items.size(); ++i) {
    const auto& item = items[i];
    const auto [x, y] = lp.at[i];
    const double mid = y - 4;
    if (item.box) {
      out += "<rect x=\"" + px(x + 2) + "\" y=\"" + px(mid - 5) + "\" width=\"14.00\" height=\"10.00\" fill=\"" +
             item.color + "\" stroke=\"" + item.color + "\"/>";
    } else if (item.line) {
      out += "<line x1=\"" + px(x) + "\" y1=\"" + px(mid) + "\" x2=\"" + px(x + kSwatch) + "\" y2=\"" + px(mid) +
             "\" stroke=\"" + item.color + "\" stroke-width=\"2\"" + (item.dashed ? " stroke-dasharray=\"6 4\"" : "") +
             "/>";
    }
    if (item.circle) {
      out += "<circle cx=\"" + px(x + kSwatch / 2) + "\" cy=\"" + px(mid) + "\" r=\"3\" fill=\"" + item.color + "\"/>";
    }
    out += "<text x=\"" + px(x + kSwatch + 5) + "\" y=\"" + px(y) + "\">" + escape_xml(item.name) + "</text>\n";
  }
  out += "</g>\n";
}

// `text` cut to `width` pixels with an ellipsis.
std::string fit_text(const std::string& text, double width, double font_size) {
  if (text_width(text, font_size) <= width) return text;
  std::string cut;
  for (std::size_t i = 0; i < text.size();) {
    std::size_t j = i + 1;
    while (j < text.size() && (static_cast<unsigned char>(text[j]) & 0xC0) == 0x80) ++j;
    const std::string next = cut + text.substr(i, j - i);
    if (text_width(next + "…", font_size) > width) break;
    cut = next;
    i = j;
  }
  return cut + "…";
}

std::string chart_id(const std::string& id) { return id.empty() ? std::string("chart") : id; }

void open_svg(std::string& out, const std::string& raw_id, const std::string& title, double width, double height) {
  const std::string id = escape_xml(chart_id(raw_id));
  out += "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"" + id + "\" data-chart=\"" + id + "\" viewBox=\"0 0 " +
         px(width) + " " + px(height) + "\" width=\"" + px(width) + "\" height=\"" + px(height) +
         "\" role=\"img\" aria-labelledby=\"" + id + "-title\" font-family=\"sans-serif\" font-size=\"11\">\n";
  out += "<title id=\"" + id + "-title\">" + escape_xml(title.empty() ? chart_id(raw_id) : title) + "</title>\n";
  out += "<rect class=\"background\" x=\"0\" y=\"0\" width=\"" + px(width) + "\" height=\"" + px(height) +
         "\" fill=\"#ffffff\"/>\n";
  if (!title.empty())
    out += "<text class=\"chart-title\" x=\"" + px(kPad) + "\" y=\"" + px(kPad + 7) +
           "\" font-size=\"14\" font-weight=\"bold\">" + escape_xml(fit_text(title, width - 2 * kPad, kBoldTitleWidth)) +
           "</text>\n";
}

void draw_note(std::string& out, const std::vector<std::string>& lines, double top) {
  if (lines.empty()) return;
  out += "<g class=\"note\" font-size=\"10\" fill=\"#444444\">\n";
  for (std::size_t i = 0; i < lines.size(); ++i)
    out += "<text x=\"" + px(kPad) + "\" y=\"" + px(top + kNoteSize + static_cast<double>(i) * kNoteRow) + "\">" +
           escape_xml(lines[i]) + "</text>\n";
  out += "</g>\n";
}

double title_height(const std::string& title) { return title.empty() ? kPad : kPad + kTitleSize + 8; }

std::string no_data(const std::string& id, const std::string& title, int width_in, int height_in,
                    const std::string& note, std::string_view message) {
  const double width = std::clamp(width_in, 200, 4000);
  const std::vector<std::string> note_lines = wrap(note, width - 2 * kPad, kNoteSize);
  const double top = title_height(title);
  const double box_bottom = std::max(top + 60, std::clamp(height_in, 100, 4000) - kPad -
                                                   static_cast<double>(note_lines.size()) * kNoteRow);
  const double height = box_bottom + kPad + static_cast<double>(note_lines.size()) * kNoteRow;
  std::string out;
  open_svg(out, id, title, width, height);
  out += "<rect class=\"plot\" x=\"" + px(kPad) + "\" y=\"" + px(top) + "\" width=\"" + px(width - 2 * kPad) +
         "\" height=\"" + px(box_bottom - top) + "\" fill=\"none\" stroke=\"#cccccc\"/>\n";
  out += "<text class=\"no-data\" x=\"" + px(width / 2) + "\" y=\"" + px((top + box_bottom) / 2 + 5) +
         "\" text-anchor=\"middle\" font-size=\"14\" fill=\"#666666\">" + escape_xml(message) + "</text>\n";
  draw_note(out, note_lines, box_bottom + 4);
  out += "</svg>\n";
  return out;
}

struct MarkerStyle {
  std::string_view color, dash;
  double width;
};

MarkerStyle marker_style(std::string_view kind) {
  if (kind == "failure") return {"#B2182B", "5 3", 1.5};
  if (kind == "prediction") return {"#555555", "2 3", 1.5};
  if (kind == "peak") return {"#8C510A", "", 1.2};
  return {"#999999", "", 1};
}

// Marker labels in up to kMaxMarkerRows rows above the plot so neighbours
// do not overlap; returns the row of each drawn marker.
struct MarkerPlacement {
  std::vector<std::size_t> drawn;  // indices into the markers
  std::vector<int> row;
  int rows = 0;
};

MarkerPlacement place_markers(const std::vector<Marker>& markers, const AxisPlan& xa, double width) {
  MarkerPlacement mp;
  std::array<double, kMaxMarkerRows> right{};
  right.fill(-1e9);
  for (std::size_t i = 0; i < markers.size(); ++i) {
    if (!xa.contains(markers[i].x)) continue;
    const double x = xa.map(markers[i].x);
    const double w = text_width(markers[i].label);
    const double left = std::clamp(x - w / 2, 0.0, std::max(0.0, width - w));
    int row = 0;
    while (row < kMaxMarkerRows && left < right[static_cast<std::size_t>(row)] + 4) ++row;
    if (row == kMaxMarkerRows) row = 0;
    right[static_cast<std::size_t>(row)] = std::max(right[static_cast<std::size_t>(row)], left + w);
    mp.drawn.push_back(i);
    mp.row.push_back(row);
    if (!markers[i].label.empty()) mp.rows = std::max(mp.rows, row + 1);
  }
  return mp;
}

void draw_markers(std::string& out, const std::vector<Marker>& markers, const MarkerPlacement& mp,
                  const AxisPlan& xa, double top, double bottom, double width) {
  for (std::size_t k = 0; k < mp.drawn.size(); ++k) {
    const Marker& m = markers[mp.drawn[k]];
    const MarkerStyle st = marker_style(m.kind);
    const double x = xa.map(m.x);
    out += "<g class=\"marker\" data-kind=\"" + escape_xml(m.kind) + "\">";
    out += "<line x1=\"" + px(x) + "\" y1=\"" + px(top) + "\" x2=\"" + px(x) + "\" y2=\"" + px(bottom) +
           "\" stroke=\"" + std::string(st.color) + "\" stroke-width=\"" + format_fixed(st.width, 1) + "\"" +
           (st.dash.empty() ? "" : " stroke-dasharray=\"" + std::string(st.dash) + "\"") + "/>";
    if (!m.label.empty()) {
      const double w = text_width(m.label);
      const double cx = std::clamp(x, w / 2 + 2, std::max(w / 2 + 2, width - w / 2 - 2));
      const double y = top - 4 - static_cast<double>(mp.row[k]) * kMarkerRow;
      out += "<text x=\"" + px(cx) + "\" y=\"" + px(y) + "\" text-anchor=\"middle\" fill=\"" + std::string(st.color) +
             "\">" + escape_xml(m.label) + "</text>";
    }
    out += "</g>\n";
  }
}

// The plot frame, grid lines, tick labels and axis titles.
void draw_axes(std::string& out, const AxisPlan& xa, const AxisPlan& ya, const AxisPlan* y2, double width) {
  const double x0 = xa.p0, x1 = xa.p1, y0 = ya.p1, y1 = ya.p0;
  out += "<g class=\"grid\" stroke=\"#e6e6e6\" stroke-width=\"1\">\n";
  for (const double t : xa.ticks)
    out += "<line x1=\"" + px(xa.map(t)) + "\" y1=\"" + px(y0) + "\" x2=\"" + px(xa.map(t)) + "\" y2=\"" + px(y1) +
           "\"/>\n";
  for (const double t : ya.ticks)
    out += "<line x1=\"" + px(x0) + "\" y1=\"" + px(ya.map(t)) + "\" x2=\"" + px(x1) + "\" y2=\"" + px(ya.map(t)) +
           "\"/>\n";
  out += "</g>\n";
  out += "<rect class=\"plot\" x=\"" + px(x0) + "\" y=\"" + px(y0) + "\" width=\"" + px(x1 - x0) + "\" height=\"" +
         px(y1 - y0) + "\" fill=\"none\" stroke=\"#333333\"/>\n";
  out += "<g class=\"x-axis\" text-anchor=\"middle\" fill=\"#333333\">\n";
  for (std::size_t i = 0; i < xa.ticks.size(); ++i)
    out += "<text x=\"" + px(xa.map(xa.ticks[i])) + "\" y=\"" + px(y1 + 15) + "\">" + escape_xml(xa.labels[i]) +
           "</text>\n";
  if (!xa.title.empty())
    out += "<text class=\"axis-title\" x=\"" + px((x0 + x1) / 2) + "\" y=\"" + px(y1 + 33) + "\">" +
           escape_xml(xa.title) + "</text>\n";
  out += "</g>\n";
  auto vertical = [&](const AxisPlan& a, bool right) {
    out += std::string("<g class=\"") + (right ? "y2-axis" : "y-axis") + "\" text-anchor=\"" +
           (right ? "start" : "end") + "\" fill=\"#333333\">\n";
    const double lx = right ? x1 + 6 : x0 - 6;
    for (std::size_t i = 0; i < a.ticks.size(); ++i)
      out += "<text x=\"" + px(lx) + "\" y=\"" + px(a.map(a.ticks[i]) + 4) + "\">" + escape_xml(a.labels[i]) +
             "</text>\n";
    if (!a.title.empty()) {
      const double tx = right ? width - kPad - 4 : kPad + 4;
      out += "<text class=\"axis-title\" text-anchor=\"middle\" transform=\"translate(" + px(tx) + " " +
             px((y0 + y1) / 2) + ") rotate(" + (right ? "90" : "-90") + ")\">" + escape_xml(a.title) + "</text>\n";
    }
    out += "</g>\n";
  };
  vertical(ya, false);
  if (y2) vertical(*y2, true);
}

struct PixelPoint {
  double x = 0, y = 0;
  std::optional<double> low, high;
};

// One column's first, lowest, highest and last point, in their order.
std::vector<PixelPoint> decimate(const std::vector<PixelPoint>& run, double x0) {
  std::vector<PixelPoint> out;
  std::size_t i = 0;
  while (i < run.size()) {
    const double column = std::floor(run[i].x - x0);
    std::size_t j = i, lowest = i, highest = i;
    while (j < run.size() && std::floor(run[j].x - x0) == column) {
      if (run[j].y < run[lowest].y) lowest = j;
      if (run[j].y > run[highest].y) highest = j;
      ++j;
    }
    std::array<std::size_t, 4> keep{i, lowest, highest, j - 1};
    std::sort(keep.begin(), keep.end());
    for (std::size_t k = 0; k < keep.size(); ++k)
      if (k == 0 || keep[k] != keep[k - 1]) out.push_back(run[keep[k]]);
    i = j;
  }
  return out;
}

void path_point(std::string& d, char command, double x, double y) {
  if (!d.empty()) d += ' ';
  d += command;
  d += px(x) + " " + px(y);
}

std::string item_name(const Series& s, std::size_t i) {
  return s.name.empty() ? "series " + std::to_string(i + 1) : s.name;
}

}  // namespace

std::string format_fixed(double v, int decimals) {
  if (!std::isfinite(v)) return "0";
  decimals = std::clamp(decimals, 0, 17);
  std::array<char, 400> buf{};
  const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), v, std::chars_format::fixed, decimals);
  if (r.ec != std::errc{}) return "0";
  std::string s(buf.data(), r.ptr);
  if (s[0] == '-' && s.find_first_not_of("0.", 1) == std::string::npos) s.erase(0, 1);
  return s;
}

std::string_view palette_color(std::size_t i) { return kPalette[i % kPalette.size()]; }

std::string escape_xml(std::string_view text) {
  std::string valid(text);
  text::make_valid_utf8(valid);
  std::string out;
  out.reserve(valid.size());
  for (const char c : valid) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') out += '?';
        else out += c;
    }
  }
  return out;
}

std::string format_value(double v, std::string_view unit) { return label_value(v, unit, false); }

std::vector<double> nice_ticks(double lo, double hi, int target) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) return {};
  if (lo > hi) std::swap(lo, hi);
  target = std::clamp(target, 2, 50);
  if (lo == hi) {
    const double pad = lo == 0 ? 1 : std::fabs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const double span = hi - lo;
  if (!std::isfinite(span) || span <= 0) return {lo, hi};
  const double raw = span / target;
  const int exponent = static_cast<int>(std::floor(std::log10(raw)));
  const double magnitude = pow10i(exponent);
  double step = 10 * magnitude;
  for (const double m : {1.0, 2.0, 2.5, 5.0})
    if (m * magnitude >= raw * (1 - 1e-9)) {
      step = m * magnitude;
      break;
    }
  const double first = std::floor(lo / step + 1e-9);
  const double last = std::ceil(hi / step - 1e-9);
  if (!std::isfinite(first) || !std::isfinite(last) || last - first > 1000) return {lo, hi};
  std::vector<double> ticks;
  for (double k = first; k <= last; k += 1) ticks.push_back(k * step);
  return ticks;
}

std::vector<double> log_ticks(double lo, double hi) {
  if (!std::isfinite(lo) || !std::isfinite(hi) || !(lo > 0) || !(hi > 0)) return {};
  if (lo > hi) std::swap(lo, hi);
  if (hi <= lo * (1 + 1e-9)) hi = lo * 10;
  const int e0 = static_cast<int>(std::floor(std::log10(lo) + 1e-9));
  int e1 = static_cast<int>(std::ceil(std::log10(hi) - 1e-9));
  if (e1 <= e0) e1 = e0 + 1;
  const int decades = e1 - e0;
  std::vector<double> candidates;
  if (decades <= 3) {
    for (int e = e0; e <= e1; ++e)
      for (const double m : {1.0, 2.0, 5.0}) candidates.push_back(m * pow10i(e));
  } else {
    const int step = (decades + 9) / 10;
    int e = e0;
    for (; e < e1; e += step) candidates.push_back(pow10i(e));
    candidates.push_back(pow10i(e));
  }
  // The last candidate ≤ lo through the first ≥ hi.
  std::size_t begin = 0, end = candidates.size();
  for (std::size_t i = 0; i < candidates.size(); ++i)
    if (candidates[i] <= lo * (1 + 1e-9)) begin = i;
  for (std::size_t i = candidates.size(); i-- > 0;)
    if (candidates[i] >= hi * (1 - 1e-9)) end = i + 1;
  return {candidates.begin() + static_cast<std::ptrdiff_t>(begin), candidates.begin() + static_cast<std::ptrdiff_t>(end)};
}

namespace {

// The frame of a chart with axes: both (or three) axis plans with their
// pixels, the marker label rows, the note's lines and the final height.
struct Frame {
  AxisPlan xa, ya, y2a;
  bool use_y2 = false;
  MarkerPlacement mp;
  std::vector<std::string> note_lines;
  double height = 0;
};

struct FrameInput {
  std::string title;
  double width = 0, height = 0, legend_height = 0;
  const Axis* x = nullptr;
  const Axis* y = nullptr;
  const Axis* y2 = nullptr;  // nullptr: no right axis
  std::vector<double> xs, ys, y2s;
  const std::vector<Marker>* markers = nullptr;
  std::string note;
  std::vector<std::string> auto_notes;
  // Points inside the data but outside forced axis bounds (for the note).
  std::function<std::size_t(const AxisPlan& xa, const AxisPlan& ya, const AxisPlan& y2a)> count_outside;
};

// The marker label rows depend on the x axis, which depends on the width of
// the y axis labels, which depends on the height left: a few passes settle it.
Frame layout(const FrameInput& in) {
  Frame f;
  f.use_y2 = in.y2 != nullptr;
  const auto& markers = *in.markers;
  int marker_rows =
      std::any_of(markers.begin(), markers.end(), [](const Marker& m) { return !m.label.empty(); }) ? 1 : 0;
  const double legend_top = title_height(in.title);
  double top = 0, bottom = 0;
  for (int pass = 0; pass < 3; ++pass) {
    auto notes = in.auto_notes;
    top = legend_top + in.legend_height + static_cast<double>(marker_rows) * kMarkerRow + 6;
    const double plot_height = std::max(40.0, in.height - top - 44);
    f.ya = plan_axis(*in.y, in.ys, true, plot_height, false);
    if (f.use_y2) f.y2a = plan_axis(*in.y2, in.y2s, true, plot_height, false);
    const double left = kPad + (f.ya.title.empty() ? 0 : 16) + f.ya.max_label_width() + 8;
    const double right = f.use_y2 ? kPad + (f.y2a.title.empty() ? 0 : 16) + f.y2a.max_label_width() + 8 : 24;
    f.xa = plan_axis(*in.x, in.xs, false, std::max(40.0, in.width - left - right), true);
    f.xa.p0 = left;
    f.xa.p1 = std::max(left + 40, in.width - right);
    f.mp = place_markers(markers, f.xa, in.width);
    std::size_t outside_markers = 0;
    for (const auto& m : markers)
      if (!f.xa.contains(m.x)) ++outside_markers;
    if (outside_markers > 0)
      notes.push_back(count_words(outside_markers, "marker", "markers") + " outside the x axis, not drawn");
    if (in.count_outside)
      if (const std::size_t outside = in.count_outside(f.xa, f.ya, f.y2a); outside > 0)
        notes.push_back(count_words(outside, "point", "points") + " outside the axis bounds, not drawn");
    f.note_lines = wrap(join_notes(in.note, notes), in.width - 2 * kPad, kNoteSize);
    bottom = (f.xa.title.empty() ? 24 : 42) + static_cast<double>(f.note_lines.size()) * kNoteRow + 4;
    if (f.mp.rows == marker_rows) break;
    marker_rows = f.mp.rows;
  }
  f.height = std::max(in.height, top + bottom + 60);
  f.ya.p0 = f.y2a.p0 = f.height - bottom;
  f.ya.p1 = f.y2a.p1 = top;
  return f;
}

}  // namespace

std::string render(const LineChart& c) {
  const double width = std::clamp(c.width, 200, 4000);
  const bool use_y2 = std::any_of(c.series.begin(), c.series.end(), [](const Series& s) { return s.right_axis; });
  const Axis y2_axis = c.y2 ? *c.y2 : Axis{};
  auto axis_of = [&](const Series& s) -> const Axis& { return s.right_axis ? y2_axis : c.y; };

  // What can be drawn, and what cannot (said in the note).
  FrameInput in;
  std::size_t non_finite = 0, non_positive = 0, drawable = 0;
  for (const auto& s : c.series) {
    const Axis& ya = axis_of(s);
    for (const auto& pt : s.points) {
      if (!usable(pt.x) || !usable(pt.y)) {
        ++non_finite;
        continue;
      }
      if ((c.x.scale == Scale::log10 && pt.x <= 0) || (ya.scale == Scale::log10 && pt.y <= 0)) {
        ++non_positive;
        continue;
      }
      ++drawable;
      in.xs.push_back(pt.x);
      auto& values = s.right_axis ? in.y2s : in.ys;
      values.push_back(pt.y);
      if (s.interval != Series::Interval::none)
        for (const auto& v : {pt.low, pt.high})
          if (v && usable(*v) && (ya.scale == Scale::linear || *v > 0)) values.push_back(*v);
    }
  }
  if (non_finite > 0) in.auto_notes.push_back(count_words(non_finite, "point", "points") + " not finite, not drawn");
  if (non_positive > 0)
    in.auto_notes.push_back(count_words(non_positive, "non-positive value", "non-positive values") +
                            " skipped on the log axis");
  if (drawable == 0) return no_data(c.id, c.title, c.width, c.height, join_notes(c.note, in.auto_notes), "no data");
  for (const auto& m : c.markers)
    if (usable(m.x) && (c.x.scale == Scale::linear || m.x > 0)) in.xs.push_back(m.x);

  std::vector<LegendItem> legend;
  std::vector<std::string> colors;
  std::size_t next_color = 0;
  for (std::size_t i = 0; i < c.series.size(); ++i) {
    const Series& s = c.series[i];
    colors.push_back(s.color.empty() ? std::string(palette_color(next_color++)) : escape_xml(s.color));
    LegendItem item;
    item.name = item_name(s, i) + (s.right_axis ? " (right axis)" : "");
    item.color = colors.back();
    item.dashed = s.dashed;
    item.line = s.kind != Series::Kind::markers;
    item.circle = s.kind == Series::Kind::markers || s.kind == Series::Kind::line_markers;
    legend.push_back(item);
  }
  if (c.series.size() < 2) legend.clear();
  const LegendPlacement lp = place_legend(legend, title_height(c.title), width);

  in.title = c.title;
  in.width = width;
  in.height = std::clamp(c.height, 150, 4000);
  in.legend_height = lp.height;
  in.x = &c.x;
  in.y = &c.y;
  in.y2 = use_y2 ? &y2_axis : nullptr;
  in.markers = &c.markers;
  in.note = c.note;
  in.count_outside = [&](const AxisPlan& xa, const AxisPlan& ya, const AxisPlan& y2a) {
    std::size_t outside = 0;
    for (const auto& s : c.series) {
      const AxisPlan& a = s.right_axis ? y2a : ya;
      for (const auto& pt : s.points)
        if (xa.accepts(pt.x) && a.accepts(pt.y) && (!xa.contains(pt.x) || !a.contains(pt.y))) ++outside;
    }
    return outside;
  };
  const Frame f = layout(in);
  const AxisPlan& xa = f.xa;

  std::string out;
  out.reserve(8192);
  open_svg(out, c.id, c.title, width, f.height);
  draw_axes(out, xa, f.ya, f.use_y2 ? &f.y2a : nullptr, width);

  for (std::size_t si = 0; si < c.series.size(); ++si) {
    const Series& s = c.series[si];
    const AxisPlan& a = s.right_axis ? f.y2a : f.ya;
    const std::string& color = colors[si];
    // Runs of consecutive drawable points: anything else breaks the line.
    std::vector<std::vector<PixelPoint>> runs(1);
    for (const auto& pt : s.points) {
      if (!xa.contains(pt.x) || !a.contains(pt.y)) {
        if (!runs.back().empty()) runs.emplace_back();
        continue;
      }
      PixelPoint p{xa.map(pt.x), a.map(pt.y), std::nullopt, std::nullopt};
      if (s.interval != Series::Interval::none) {
        const bool has_low = pt.low && usable(*pt.low), has_high = pt.high && usable(*pt.high);
        if (has_low) p.low = a.clamped(*pt.low);
        if (has_high) p.high = a.clamped(*pt.high);
      }
      runs.back().push_back(p);
    }
    if (runs.back().empty()) runs.pop_back();
    std::size_t total = 0;
    for (auto& run : runs) {
      const bool ascending =
          std::is_sorted(run.begin(), run.end(), [](const PixelPoint& l, const PixelPoint& r) { return l.x < r.x; });
      if (s.interval == Series::Interval::none && ascending &&
          static_cast<double>(run.size()) > kPointsPerPixel * (xa.p1 - xa.p0))
        run = decimate(run, xa.p0);
      total += run.size();
    }
    out += "<g class=\"series\" data-name=\"" + escape_xml(item_name(s, si)) + "\">\n";
    if (s.interval == Series::Interval::band) {
      for (const auto& run : runs) {
        std::string d;
        for (const auto& p : run) path_point(d, d.empty() ? 'M' : 'L', p.x, p.high.value_or(p.y));
        for (auto it = run.rbegin(); it != run.rend(); ++it) path_point(d, 'L', it->x, it->low.value_or(it->y));
        out += "<path class=\"band\" d=\"" + d + " Z\" fill=\"" + color + "\" fill-opacity=\"0.18\" stroke=\"none\"/>\n";
      }
    }
    if (s.interval == Series::Interval::bars) {
      std::string d;
      for (const auto& run : runs)
        for (const auto& p : run) {
          if (!p.low && !p.high) continue;
          const double lo = p.low.value_or(p.y), hi = p.high.value_or(p.y);
          path_point(d, 'M', p.x, lo);
          path_point(d, 'L', p.x, hi);
          for (const double y : {lo, hi}) {
            path_point(d, 'M', std::max(xa.p0, p.x - 3), y);
            path_point(d, 'L', std::min(xa.p1, p.x + 3), y);
          }
        }
      if (!d.empty())
        out += "<path class=\"ci\" d=\"" + d + "\" fill=\"none\" stroke=\"" + color + "\" stroke-width=\"1.2\"/>\n";
    }
    if (s.kind != Series::Kind::markers) {
      std::string d;
      for (const auto& run : runs)
        for (std::size_t i = 0; i < run.size(); ++i) {
          if (i == 0) {
            path_point(d, 'M', run[i].x, run[i].y);
            continue;
          }
          if (s.kind == Series::Kind::step) path_point(d, 'L', run[i].x, run[i - 1].y);
          path_point(d, 'L', run[i].x, run[i].y);
        }
      if (!d.empty())
        out += "<path class=\"line\" d=\"" + d + "\" fill=\"none\" stroke=\"" + color + "\" stroke-width=\"2\"" +
               (s.dashed ? " stroke-dasharray=\"6 4\"" : "") + " stroke-linejoin=\"round\"/>\n";
    }
    if (s.kind == Series::Kind::markers || (s.kind == Series::Kind::line_markers && total <= kMaxCircles))
      for (const auto& run : runs)
        for (const auto& p : run)
          out += "<circle cx=\"" + px(p.x) + "\" cy=\"" + px(p.y) + "\" r=\"3\" fill=\"" + color + "\"/>\n";
    out += "</g>\n";
  }
  draw_markers(out, c.markers, f.mp, xa, f.ya.p1, f.ya.p0, width);
  draw_legend(out, legend, lp);
  draw_note(out, f.note_lines, f.ya.p0 + (xa.title.empty() ? 24 : 42));
  out += "</svg>\n";
  return out;
}

namespace {

// Which samples of a stack to draw when there are more than a few per pixel
// column: per column the first and last, the highest and lowest total, and
// the first with a gap.
std::vector<std::size_t> stack_samples(const std::vector<double>& px_x, const std::vector<std::optional<double>>& total,
                                       const std::vector<bool>& gap, double x0, double plot_width) {
  std::vector<std::size_t> all;
  for (std::size_t i = 0; i < px_x.size(); ++i) all.push_back(i);
  if (static_cast<double>(px_x.size()) <= kPointsPerPixel * plot_width) return all;
  std::vector<std::size_t> keep;
  std::size_t i = 0;
  while (i < px_x.size()) {
    const double column = std::floor(px_x[i] - x0);
    std::size_t j = i;
    std::optional<std::size_t> lowest, highest, first_gap;
    while (j < px_x.size() && std::floor(px_x[j] - x0) == column) {
      if (total[j]) {
        if (!lowest || *total[j] < *total[*lowest]) lowest = j;
        if (!highest || *total[j] > *total[*highest]) highest = j;
      }
      if (gap[j] && !first_gap) first_gap = j;
      ++j;
    }
    std::vector<std::size_t> column_keep{i, j - 1};
    for (const auto& k : {lowest, highest, first_gap})
      if (k) column_keep.push_back(*k);
    std::sort(column_keep.begin(), column_keep.end());
    column_keep.erase(std::unique(column_keep.begin(), column_keep.end()), column_keep.end());
    keep.insert(keep.end(), column_keep.begin(), column_keep.end());
    i = j;
  }
  return keep;
}

}  // namespace

std::string render(const StackedArea& c) {
  const double width = std::clamp(c.width, 200, 4000);
  const std::size_t n = c.x_values.size();
  const std::size_t layer_count = c.layers.size();
  const bool log_x = c.x.scale == Scale::log10;
  // tops[l][i]: the top of layer l at sample i, when it and every layer
  // below it have a value there (else its base is unknown: a gap).
  std::vector<std::vector<std::optional<double>>> tops(layer_count, std::vector<std::optional<double>>(n));
  std::vector<bool> sample_ok(n, false), gap(n, false);
  std::vector<std::optional<double>> total(n);
  std::size_t non_finite = 0, non_positive = 0, gaps = 0, defined = 0;
  FrameInput in;
  in.ys.push_back(0);
  for (std::size_t i = 0; i < n; ++i) {
    const double x = c.x_values[i];
    if (!usable(x)) {
      ++non_finite;
      continue;
    }
    if (log_x && x <= 0) {
      ++non_positive;
      continue;
    }
    sample_ok[i] = true;
    double base = 0;
    bool ok = true;
    for (std::size_t l = 0; l < layer_count; ++l) {
      const auto& ys = c.layers[l].y;
      const std::optional<double> v = i < ys.size() ? ys[i] : std::nullopt;
      if (!ok || !v || !usable(*v) || !usable(base + *v)) {
        ok = false;
        continue;
      }
      base += *v;
      tops[l][i] = base;
      total[i] = base;
      in.ys.push_back(base);
    }
    if (!ok) {
      gap[i] = true;
      ++gaps;
    }
    if (total[i]) {
      ++defined;
      in.xs.push_back(x);
    }
  }
  if (non_finite > 0)
    in.auto_notes.push_back(count_words(non_finite, "sample", "samples") + " with a non-finite x, not drawn");
  if (non_positive > 0)
    in.auto_notes.push_back(count_words(non_positive, "non-positive x", "non-positive x values") +
                            " skipped on the log axis");
  if (gaps > 0)
    in.auto_notes.push_back("gaps: " + count_words(gaps, "sample", "samples") + " of " + std::to_string(n) +
                            " without data in every layer");
  if (defined == 0 || layer_count == 0)
    return no_data(c.id, c.title, c.width, c.height, join_notes(c.note, in.auto_notes), "no data");
  for (const auto& m : c.markers)
    if (usable(m.x) && (!log_x || m.x > 0)) in.xs.push_back(m.x);

  std::vector<LegendItem> legend;
  std::vector<std::string> colors;
  std::size_t next_color = 0;
  for (std::size_t l = 0; l < layer_count; ++l) {
    colors.push_back(c.layers[l].color.empty() ? std::string(palette_color(next_color++))
                                               : escape_xml(c.layers[l].color));
    LegendItem item;
    item.name = c.layers[l].name.empty() ? "layer " + std::to_string(l + 1) : c.layers[l].name;
    item.color = colors.back();
    item.box = true;
    legend.push_back(item);
  }
  if (layer_count < 2) legend.clear();
  const LegendPlacement lp = place_legend(legend, title_height(c.title), width);

  Axis y_axis = c.y;
  y_axis.scale = Scale::linear;
  in.title = c.title;
  in.width = width;
  in.height = std::clamp(c.height, 150, 4000);
  in.legend_height = lp.height;
  in.x = &c.x;
  in.y = &y_axis;
  in.markers = &c.markers;
  in.note = c.note;
  in.count_outside = [&](const AxisPlan& xa, const AxisPlan& ya, const AxisPlan&) {
    std::size_t outside = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (!sample_ok[i]) continue;
      bool in_box = xa.contains(c.x_values[i]);
      for (std::size_t l = 0; l < layer_count; ++l)
        if (tops[l][i] && !ya.contains(*tops[l][i])) in_box = false;
      if (total[i] && !in_box) ++outside;
    }
    return outside;
  };
  const Frame f = layout(in);
  const AxisPlan& xa = f.xa;
  const AxisPlan& ya = f.ya;

  // A sample is drawn when x and every top are inside the axes.
  std::vector<double> px_x(n, 0);
  std::vector<bool> inside(n, false);
  for (std::size_t i = 0; i < n; ++i) {
    if (!sample_ok[i] || !xa.contains(c.x_values[i])) continue;
    bool ok = true;
    for (std::size_t l = 0; l < layer_count; ++l)
      if (tops[l][i] && !ya.contains(*tops[l][i])) ok = false;
    inside[i] = ok;
    px_x[i] = xa.map(c.x_values[i]);
  }
  std::vector<std::size_t> order;
  std::vector<double> order_px;
  std::vector<std::optional<double>> order_total;
  std::vector<bool> order_gap;
  for (std::size_t i = 0; i < n; ++i)
    if (inside[i]) {
      order.push_back(i);
      order_px.push_back(px_x[i]);
      order_total.push_back(total[i]);
      order_gap.push_back(gap[i]);
    }
  std::vector<std::size_t> samples;
  for (const std::size_t k : stack_samples(order_px, order_total, order_gap, xa.p0, xa.p1 - xa.p0))
    samples.push_back(order[k]);

  std::string out;
  out.reserve(8192);
  open_svg(out, c.id, c.title, width, f.height);
  draw_axes(out, xa, ya, nullptr, width);
  for (std::size_t l = 0; l < layer_count; ++l) {
    out += "<g class=\"series\" data-name=\"" + escape_xml(legend.empty() ? c.layers[l].name : legend[l].name) +
           "\" fill=\"" + colors[l] + "\" fill-opacity=\"0.8\" stroke=\"" + colors[l] + "\" stroke-width=\"1\">\n";
    // Runs of consecutive drawn samples where this layer has a top.
    std::vector<std::size_t> run;
    auto flush = [&] {
      if (run.size() == 1) {
        const std::size_t i = run[0];
        const double base = l == 0 ? 0 : tops[l - 1][i].value_or(0);
        out += "<path class=\"area\" d=\"M" + px(px_x[i]) + " " + px(ya.map(base)) + " L" + px(px_x[i]) + " " +
               px(ya.map(*tops[l][i])) + "\" stroke-width=\"2\"/>\n";
      } else if (run.size() > 1) {
        std::string d;
        for (const std::size_t i : run) path_point(d, d.empty() ? 'M' : 'L', px_x[i], ya.map(*tops[l][i]));
        for (auto it = run.rbegin(); it != run.rend(); ++it)
          path_point(d, 'L', px_x[*it], ya.map(l == 0 ? 0 : *tops[l - 1][*it]));
        out += "<path class=\"area\" d=\"" + d + " Z\"/>\n";
      }
      run.clear();
    };
    std::size_t previous = 0;
    bool has_previous = false;
    for (const std::size_t i : samples) {
      // A sample between two drawn ones that could not be drawn, or where
      // this layer has no top, breaks the run.
      bool broken = false;
      if (has_previous)
        for (std::size_t k = previous + 1; k < i && !broken; ++k)
          if (!inside[k] || !tops[l][k]) broken = true;
      if (has_previous && (broken || !tops[l][previous])) flush();
      if (tops[l][i]) run.push_back(i);
      else flush();
      previous = i;
      has_previous = true;
    }
    flush();
    out += "</g>\n";
  }
  draw_markers(out, c.markers, f.mp, xa, ya.p1, ya.p0, width);
  draw_legend(out, legend, lp);
  draw_note(out, f.note_lines, ya.p0 + (xa.title.empty() ? 24 : 42));
  out += "</svg>\n";
  return out;
}

namespace {

struct Rgb {
  double r, g, b;
};

std::string hex(const Rgb& c) {
  static constexpr std::string_view kDigits = "0123456789ABCDEF";
  std::string s = "#";
  for (const double v : {c.r, c.g, c.b}) {
    const long byte = std::clamp(std::lround(v), 0L, 255L);
    s += kDigits[static_cast<std::size_t>(byte / 16)];
    s += kDigits[static_cast<std::size_t>(byte % 16)];
  }
  return s;
}

// Red at 0, amber at 0.5, green at 1.
Rgb heat(double v) {
  static constexpr Rgb kRed{215, 48, 39}, kAmber{253, 174, 97}, kGreen{26, 152, 80};
  v = std::clamp(v, 0.0, 1.0);
  const Rgb& a = v < 0.5 ? kRed : kAmber;
  const Rgb& b = v < 0.5 ? kAmber : kGreen;
  const double t = v < 0.5 ? v * 2 : (v - 0.5) * 2;
  return {a.r + (b.r - a.r) * t, a.g + (b.g - a.g) * t, a.b + (b.b - a.b) * t};
}

// Black or white, whichever contrasts more with the background (WCAG
// relative luminance).
std::string_view text_color_on(const Rgb& c) {
  auto linear = [](double channel) {
    const double s = static_cast<double>(std::clamp(std::lround(channel), 0L, 255L)) / 255.0;
    return s <= 0.03928 ? s / 12.92 : std::pow((s + 0.055) / 1.055, 2.4);
  };
  const double luminance = 0.2126 * linear(c.r) + 0.7152 * linear(c.g) + 0.0722 * linear(c.b);
  const double with_black = (luminance + 0.05) / 0.05, with_white = 1.05 / (luminance + 0.05);
  return with_black >= with_white ? "#000000" : "#FFFFFF";
}

constexpr Rgb kNotRun{217, 217, 217};

}  // namespace

std::string render(const Grid& c) {
  const double width = std::clamp(c.width, 200, 4000);
  if (c.rows.empty() || c.cols.empty()) return no_data(c.id, c.title, c.width, 160, c.note, "no data");
  double label_width = text_width(c.row_label);
  for (const auto& r : c.rows) label_width = std::max(label_width, text_width(r));
  const double left = kPad + std::min(label_width + 4, width * 0.35) + 10;
  const double cell_width = (width - left - kPad) / static_cast<double>(c.cols.size());
  const double top = title_height(c.title) + (c.col_label.empty() ? 0 : 16) + 18;
  const double grid_bottom = top + static_cast<double>(c.rows.size()) * kGridRow;
  const double legend_y = grid_bottom + 22;
  const std::vector<std::string> note_lines = wrap(c.note, width - 2 * kPad, kNoteSize);
  const double height = legend_y + 10 + static_cast<double>(note_lines.size()) * kNoteRow + 6;

  std::string out;
  out.reserve(4096);
  open_svg(out, c.id, c.title, width, height);
  if (!c.col_label.empty())
    out += "<text class=\"axis-title\" x=\"" + px(left + (width - left - kPad) / 2) + "\" y=\"" +
           px(title_height(c.title) + 11) + "\" text-anchor=\"middle\" fill=\"#333333\">" + escape_xml(c.col_label) +
           "</text>\n";
  if (!c.row_label.empty())
    out += "<text class=\"axis-title\" x=\"" + px(left - 10) + "\" y=\"" + px(top - 6) +
           "\" text-anchor=\"end\" fill=\"#333333\" font-weight=\"bold\">" +
           escape_xml(fit_text(c.row_label, left - kPad - 10, kFontSize)) + "</text>\n";
  out += "<g class=\"columns\" text-anchor=\"middle\" fill=\"#333333\" font-weight=\"bold\">\n";
  for (std::size_t j = 0; j < c.cols.size(); ++j)
    out += "<text x=\"" + px(left + (static_cast<double>(j) + 0.5) * cell_width) + "\" y=\"" + px(top - 6) + "\">" +
           escape_xml(fit_text(c.cols[j], cell_width - 4, kFontSize)) + "</text>\n";
  out += "</g>\n";
  for (std::size_t i = 0; i < c.rows.size(); ++i) {
    const double y = top + static_cast<double>(i) * kGridRow;
    out += "<g class=\"row\">\n<text x=\"" + px(left - 10) + "\" y=\"" + px(y + kGridRow / 2 + 4) +
           "\" text-anchor=\"end\" fill=\"#333333\">" + escape_xml(fit_text(c.rows[i], left - kPad - 10, kFontSize)) +
           "</text>\n";
    for (std::size_t j = 0; j < c.cols.size(); ++j) {
      const GridCell empty;
      const GridCell& cell = i < c.cells.size() && j < c.cells[i].size() ? c.cells[i][j] : empty;
      const bool has_value = cell.value && std::isfinite(*cell.value);
      const Rgb background = has_value ? heat(*cell.value) : kNotRun;
      std::string text = cell.text;
      if (text.empty()) text = has_value ? format_value(*cell.value, "ratio") : cell.value ? "n/a" : "not run";
      const double x = left + static_cast<double>(j) * cell_width;
      out += "<g class=\"cell\"><title>" + escape_xml(c.rows[i] + ", " + c.cols[j] + ": " + text) + "</title><rect x=\"" +
             px(x) + "\" y=\"" + px(y) + "\" width=\"" + px(cell_width) + "\" height=\"" + px(kGridRow) +
             "\" fill=\"" + hex(background) + "\" stroke=\"#FFFFFF\" stroke-width=\"2\"/><text x=\"" +
             px(x + cell_width / 2) + "\" y=\"" + px(y + kGridRow / 2 + 4) + "\" text-anchor=\"middle\" fill=\"" +
             std::string(text_color_on(background)) + "\">" + escape_xml(fit_text(text, cell_width - 4, kFontSize)) +
             "</text></g>\n";
    }
    out += "</g>\n";
  }
  // The colour scale: 0 % … 100 % in eleven steps, and "not run".
  out += "<g class=\"legend\">\n";
  double x = kPad;
  out += "<text x=\"" + px(x) + "\" y=\"" + px(legend_y) + "\">0 %</text>\n";
  x += text_width("0 %") + 4;
  for (int k = 0; k <= 10; ++k) {
    out += "<rect x=\"" + px(x) + "\" y=\"" + px(legend_y - 9) + "\" width=\"12.00\" height=\"10.00\" fill=\"" +
           hex(heat(k / 10.0)) + "\"/>";
    x += 12;
  }
  out += "\n<text x=\"" + px(x + 4) + "\" y=\"" + px(legend_y) + "\">100 %</text>\n";
  x += 4 + text_width("100 %") + 16;
  out += "<rect x=\"" + px(x) + "\" y=\"" + px(legend_y - 9) + "\" width=\"12.00\" height=\"10.00\" fill=\"" +
         hex(kNotRun) + "\"/><text x=\"" + px(x + 16) + "\" y=\"" + px(legend_y) + "\">not run</text>\n";
  out += "</g>\n";
  draw_note(out, note_lines, legend_y + 6);
  out += "</svg>\n";
  return out;
}

LineChart cdf_chart(std::string id, std::string title, Axis x,
                    const std::vector<std::pair<std::string, std::vector<double>>>& samples) {
  LineChart chart;
  chart.id = std::move(id);
  chart.title = std::move(title);
  chart.x = std::move(x);
  chart.y = Axis{"fraction of values ≤ x", "ratio", Scale::linear, 0.0, 1.0, {}};
  std::size_t dropped = 0;
  for (const auto& [name, values] : samples) {
    std::vector<double> finite;
    for (const double v : values)
      if (usable(v)) finite.push_back(v);
      else ++dropped;
    std::sort(finite.begin(), finite.end());
    Series s;
    s.name = name + " (n=" + std::to_string(finite.size()) + ")";
    s.kind = Series::Kind::step;
    s.interval = Series::Interval::none;
    const double count = static_cast<double>(finite.size());
    if (!finite.empty()) s.points.push_back({finite.front(), 0, std::nullopt, std::nullopt});
    std::size_t last_bucket = 0;
    for (std::size_t i = 0; i < finite.size(); ++i) {
      if (i + 1 < finite.size() && finite[i + 1] == finite[i]) continue;  // ties: the last of them
      const std::size_t bucket = (i + 1) * kCdfMaxPoints / finite.size();
      const bool last = i + 1 == finite.size();
      if (!last && s.points.size() > 1 && bucket == last_bucket) continue;
      last_bucket = bucket;
      s.points.push_back({finite[i], static_cast<double>(i + 1) / count, std::nullopt, std::nullopt});
    }
    chart.series.push_back(std::move(s));
  }
  chart.note = "empirical CDF: the fraction of values at or below x";
  if (dropped > 0) chart.note += "; " + count_words(dropped, "value", "values") + " not finite, left out";
  return chart;
}

}  // namespace tierscope::workloads::svg

#pragma once
// Charts for run reports as standalone SVG text: line charts (with CI error
// bars or bands, a right axis, dashed series, vertical failure/prediction/peak
// markers), stacked areas with gaps, heatmap grids and empirical CDFs.
//
// Pure and deterministic: no I/O, no locale, no clock; the same input gives
// the same bytes on every compiler and architecture (every number goes
// through one formatter built on std::to_chars; nothing iterates an unordered
// container). The output is self-contained: an <svg> root with xmlns,
// viewBox, role="img", aria-labelledby, data-chart="<id>" and a <title>; no
// script, no external reference, font-family is the generic sans-serif; a
// white background so it prints. It can be embedded inline in HTML or
// written as a .svg file.
//
// Never throws on data: non-finite points are skipped (a gap in the line),
// non-positive values are skipped on a log axis (the note under the chart
// says how many), an empty chart says "no data".

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tierscope::workloads::svg {

enum class Scale { linear, log10 };

// Units drive tick labels: "bytes" (binary: KiB, MiB, GiB, TiB), "bytes/s",
// "ms", "s" (a duration in seconds: s, min, h), "tokens", "tokens/s",
// "ratio" (0..1 shown as %), "%" (already percent), "count", "iops", "W",
// "J", "$", "" (plain number). An unknown unit is written after the number.
struct Axis {
  std::string label;
  std::string unit;
  Scale scale = Scale::linear;
  std::optional<double> min, max;  // forced bounds (else from the data, padded to nice ticks)
  std::vector<double> ticks;       // forced tick positions (empty: nice_ticks / log_ticks)
};

struct Point {
  double x = 0, y = 0;
  std::optional<double> low, high;  // CI (error bar or band)
};

// A line with more than 4 points per pixel column (a 24 h soak at 1 s) is
// drawn through each column's first, lowest, highest and last point, so
// peaks stay; circles are left out of a line_markers series above 60 points.
struct Series {
  std::string name;           // legend ("series N" when empty)
  std::vector<Point> points;  // drawn in the x order given; non-finite points are skipped (a gap in the line)
  enum class Kind { line, line_markers, markers, step } kind = Kind::line_markers;
  enum class Interval { none, bars, band } interval = Interval::bars;  // how low/high are drawn
  bool dashed = false;        // e.g. a prediction
  bool right_axis = false;    // plotted against LineChart::y2
  std::string color;          // "" = the palette's next colour (palette is colour-blind safe, fixed order)
};

// A vertical marker at x (failed step, peak): a line and a label at the top.
struct Marker {
  double x = 0;
  std::string label;
  std::string kind;  // "failure" (red, dashed), "prediction" (grey, dotted), "peak" (brown), else "info" (light grey)
};

struct LineChart {
  std::string id;  // unique in a document; becomes <svg id=…> and data-chart="…"
  std::string title;
  Axis x, y;
  std::optional<Axis> y2;
  std::vector<Series> series;
  std::vector<Marker> markers;
  int width = 720, height = 360;
  std::string note;  // small text under the plot (e.g. "p99 with 95 % CI"); what was not drawn is added to it
};

// y aligned with StackedArea::x_values; nullopt = no data (a gap in this
// layer and the layers above it, whose base is unknown there).
struct AreaLayer {
  std::string name;
  std::vector<std::optional<double>> y;
  std::string color;  // "" = palette
};

// The y axis is linear (a stack has no meaning on a log scale).
struct StackedArea {
  std::string id, title;
  Axis x, y;                      // as in LineChart
  std::vector<double> x_values;   // ascending
  std::vector<AreaLayer> layers;  // stacked bottom-up in this order
  std::vector<Marker> markers;
  int width = 720, height = 360;
  std::string note;
};

// value 0..1 → colour (red 0, amber 0.5, green 1) with `text` in the cell
// (the value as % when text is empty); nullopt = grey "not run" (or `text`).
struct GridCell {
  std::optional<double> value;
  std::string text;
};

// A heatmap, e.g. context × configuration → completion rate.
struct Grid {
  std::string id, title, row_label, col_label;
  std::vector<std::string> rows, cols;
  std::vector<std::vector<GridCell>> cells;  // [row][col]; missing cells are "not run"
  int width = 720;                           // height follows the rows
  std::string note;
};

std::string render(const LineChart& chart);  // a complete <svg xmlns=… viewBox=… role="img" aria-labelledby=…> with <title>
std::string render(const StackedArea& chart);
std::string render(const Grid& chart);

// Empirical CDF series (x = value, y = fraction 0..1 of values ≤ x, step
// kind, y axis "ratio" 0..1) of the finite values; one series per sample,
// several on one chart. A sample of more than kCdfMaxPoints distinct values
// is drawn through evenly spaced ranks (the step is below a pixel).
inline constexpr std::size_t kCdfMaxPoints = 2000;
LineChart cdf_chart(std::string id, std::string title, Axis x,
                    const std::vector<std::pair<std::string, std::vector<double>>>& samples);

// Ticks: "nice" numbers (1, 2, 2.5, 5 × 10^k) covering [lo, hi] with about
// `target` ticks (first ≤ lo, last ≥ hi); lo == hi gets a range around it;
// NaN/inf gives no ticks.
std::vector<double> nice_ticks(double lo, double hi, int target = 5);
// log10: the decades covering [lo, hi] (and 2, 5 × 10^k when there are at
// most 3 decades; every other decade when there are more than 10); lo and
// hi must be > 0 and finite, else no ticks.
std::vector<double> log_ticks(double lo, double hi);

// One value with its unit for a label: "1.5 GiB", "250 ms", "2 s", "12.5
// tokens/s", "40 %", "$0.42". About three significant digits; "n/a" for NaN.
std::string format_value(double v, std::string_view unit);

// The SVG/XML text of `text`: & < > " ' escaped, control characters (not
// allowed in XML 1.0) as '?', invalid UTF-8 as U+FFFD.
std::string escape_xml(std::string_view text);

// The fixed colour-blind safe palette (Okabe–Ito), in order; i wraps around.
std::string_view palette_color(std::size_t i);

// The one number formatter of the output: fixed with `decimals` places via
// std::to_chars (no locale), "-0.00" written as "0.00", non-finite as "0".
std::string format_fixed(double v, int decimals = 2);

}  // namespace tierscope::workloads::svg

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "workloads/svg_chart.h"

using namespace tierscope::workloads::svg;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kGiB = 1024.0 * 1024 * 1024;

void expect_ticks(const std::vector<double>& actual, const std::vector<double>& expected) {
  ASSERT_EQ(actual.size(), expected.size()) << ::testing::PrintToString(actual);
  for (std::size_t i = 0; i < expected.size(); ++i)
    EXPECT_NEAR(actual[i], expected[i], 1e-9 * std::max(1.0, std::fabs(expected[i]))) << i;
}

// The step between ticks is 1, 2, 2.5 or 5 × 10^k.
bool nice_step(double step) {
  const double magnitude = std::pow(10.0, std::floor(std::log10(step) + 1e-12));
  const double m = step / magnitude;
  for (const double nice : {1.0, 2.0, 2.5, 5.0})
    if (std::fabs(m - nice) < 1e-9) return true;
  return false;
}

// ---- a small XML-ish reader for the structural checks -------------------

struct Tag {
  std::string name;
  std::vector<std::pair<std::string, std::string>> attributes;
  bool closing = false, self_closing = false;
  std::size_t end = 0;  // offset after '>'
};

// The tag starting at text[at] == '<'; name empty when it is malformed.
Tag read_tag(const std::string& text, std::size_t at) {
  Tag tag;
  std::size_t i = at + 1;
  if (i < text.size() && text[i] == '/') {
    tag.closing = true;
    ++i;
  }
  while (i < text.size() && (std::isalnum(static_cast<unsigned char>(text[i])) || text[i] == '-')) tag.name += text[i++];
  for (;;) {
    while (i < text.size() && text[i] == ' ') ++i;
    if (i >= text.size()) return {};
    if (text[i] == '>') break;
    if (text.compare(i, 2, "/>") == 0) {
      tag.self_closing = true;
      ++i;
      break;
    }
    std::string key;
    while (i < text.size() && text[i] != '=' && text[i] != ' ' && text[i] != '>') key += text[i++];
    if (i + 1 >= text.size() || text[i] != '=' || text[i + 1] != '"') return {};
    i += 2;
    const std::size_t close = text.find('"', i);
    if (close == std::string::npos) return {};
    const std::string value = text.substr(i, close - i);
    if (value.find('<') != std::string::npos) return {};
    tag.attributes.emplace_back(key, value);
    i = close + 1;
  }
  tag.end = i + 1;
  return tag;
}

std::string attribute(const Tag& tag, const std::string& key) {
  for (const auto& [k, v] : tag.attributes)
    if (k == key) return v;
  return {};
}

std::vector<double> numbers_in(const std::string& value) {
  std::vector<double> out;
  std::size_t i = 0;
  while (i < value.size()) {
    if (std::isdigit(static_cast<unsigned char>(value[i])) || value[i] == '-' || value[i] == '.') {
      std::size_t used = 0;
      out.push_back(std::stod(value.substr(i), &used));
      i += used;
    } else {
      ++i;
    }
  }
  return out;
}

// What would make a chart broken even when its golden file was regenerated
// from it: unbalanced tags, a missing title or data-chart, a reference
// outside the file, a script, a non-finite coordinate, a series point
// outside the plot box.
void expect_well_formed(const std::string& svg, const std::string& id) {
  SCOPED_TRACE(id);
  ASSERT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0U);
  EXPECT_NE(svg.find("data-chart=\"" + id + "\""), std::string::npos);
  EXPECT_NE(svg.find("<title"), std::string::npos);
  EXPECT_EQ(svg.find("<script"), std::string::npos);
  EXPECT_EQ(svg.find("href"), std::string::npos);
  std::size_t http = 0;
  for (std::size_t at = svg.find("http"); at != std::string::npos; at = svg.find("http", at + 1)) ++http;
  EXPECT_EQ(http, 1U) << "only the xmlns names a URL";

  std::vector<std::string> open;
  std::size_t roots = 0;
  std::vector<double> plot;  // x0 y0 x1 y1
  int series_depth = -1;     // depth of the open <g class="series">, -1 when none
  std::size_t points_checked = 0;
  std::vector<std::pair<double, double>> series_points;
  for (std::size_t at = svg.find('<'); at != std::string::npos; at = svg.find('<', at + 1)) {
    const Tag tag = read_tag(svg, at);
    ASSERT_FALSE(tag.name.empty()) << "malformed tag at " << at << ": " << svg.substr(at, 60);
    if (tag.closing) {
      ASSERT_FALSE(open.empty()) << "</" << tag.name << "> without an open tag";
      ASSERT_EQ(open.back(), tag.name) << "at " << at;
      open.pop_back();
      if (series_depth >= 0 && static_cast<int>(open.size()) == series_depth) series_depth = -1;
      continue;
    }
    if (open.empty()) ++roots;
    for (const auto& [key, value] : tag.attributes) {
      static const std::vector<std::string> kNumeric{"x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r",
                                                     "width", "height", "d", "viewBox"};
      if (std::find(kNumeric.begin(), kNumeric.end(), key) != kNumeric.end()) {
        EXPECT_EQ(value.find_first_not_of("0123456789.- MLZ"), std::string::npos) << key << "=\"" << value << "\"";
      }
      std::string lower;
      for (const char c : value) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (key != "data-name" && key != "data-kind" && key != "data-chart" && key != "id" && key != "aria-labelledby") {
        EXPECT_EQ(lower.find("nan"), std::string::npos) << key;
        EXPECT_EQ(lower.find("inf"), std::string::npos) << key;
      }
    }
    if (tag.name == "rect" && attribute(tag, "class") == "plot") {
      const double x = std::stod(attribute(tag, "x")), y = std::stod(attribute(tag, "y"));
      plot = {x, y, x + std::stod(attribute(tag, "width")), y + std::stod(attribute(tag, "height"))};
    }
    if (series_depth >= 0) {
      if (tag.name == "circle") series_points.emplace_back(std::stod(attribute(tag, "cx")), std::stod(attribute(tag, "cy")));
      if (tag.name == "path") {
        const auto numbers = numbers_in(attribute(tag, "d"));
        EXPECT_EQ(numbers.size() % 2, 0U);
        for (std::size_t i = 0; i + 1 < numbers.size(); i += 2) series_points.emplace_back(numbers[i], numbers[i + 1]);
      }
    }
    if (tag.name == "g" && attribute(tag, "class") == "series") {
      EXPECT_LT(series_depth, 0) << "nested series";
      series_depth = static_cast<int>(open.size());
    }
    if (!tag.self_closing) open.push_back(tag.name);
  }
  EXPECT_TRUE(open.empty()) << "unclosed <" << (open.empty() ? "" : open.back()) << ">";
  EXPECT_EQ(roots, 1U);
  if (!series_points.empty()) {
    ASSERT_EQ(plot.size(), 4U) << "series without a plot box";
  }
  for (const auto& [x, y] : series_points) {
    EXPECT_GE(x, plot[0] - 0.01);
    EXPECT_LE(x, plot[2] + 0.01);
    EXPECT_GE(y, plot[1] - 0.01);
    EXPECT_LE(y, plot[3] + 0.01);
    ++points_checked;
  }
  (void)points_checked;
}

// ---- golden files --------------------------------------------------------

std::string golden_path(const std::string& name) {
  return std::string(TIERSCOPE_SOURCE_DIR) + "/tests/workloads/golden/svg/" + name + ".svg";
}

void expect_golden(const std::string& name, const std::string& svg) {
  const std::string path = golden_path(name);
  const char* update = std::getenv("TIERSCOPE_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << svg;
    ASSERT_TRUE(out.good()) << "cannot write " << path;
    return;
  }
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in.good()) << path << " is missing (TIERSCOPE_UPDATE_GOLDEN=1 writes it)";
  std::ostringstream expected;
  expected << in.rdbuf();
  if (expected.str() == svg) return;
  // The first differing line, to say where.
  std::istringstream a(expected.str()), b(svg);
  std::string la, lb;
  int line = 1;
  while (std::getline(a, la) && std::getline(b, lb) && la == lb) ++line;
  FAIL() << path << " differs at line " << line << "\n  golden: " << la << "\n  now:    " << lb
         << "\n(TIERSCOPE_UPDATE_GOLDEN=1 rewrites it after a deliberate change; look at the result)";
}

LineChart memory_wall() {
  LineChart c;
  c.id = "memory-wall";
  c.title = "Memory wall: TTFT and decode speed by context";
  c.x = {"context", "tokens", Scale::log10, std::nullopt, std::nullopt, {}};
  c.y = {"time to first token", "ms", Scale::linear, std::nullopt, std::nullopt, {}};
  c.y2 = Axis{"decode", "tokens/s", Scale::linear, std::nullopt, std::nullopt, {}};
  Series p50{"TTFT p50", {}, Series::Kind::line_markers, Series::Interval::bars, false, false, ""};
  Series p99{"TTFT p99", {}, Series::Kind::line_markers, Series::Interval::bars, false, false, ""};
  Series decode{"decode tokens/s", {}, Series::Kind::line, Series::Interval::none, false, true, ""};
  const double contexts[] = {1024, 2048, 4096, 8192, 16384};
  const double median[] = {95, 180, 390, 850, 1900};
  const double tail[] = {140, 260, 610, 1400, 3300};
  const double speed[] = {48.5, 46.2, 41.0, 33.7, 22.9};
  for (int i = 0; i < 5; ++i) {
    p50.points.push_back({contexts[i], median[i], median[i] * 0.92, median[i] * 1.07});
    p99.points.push_back({contexts[i], tail[i], tail[i] * 0.85, tail[i] * 1.2});
    decode.points.push_back({contexts[i], speed[i], std::nullopt, std::nullopt});
  }
  c.series = {p50, p99, decode};
  c.markers = {{32768, "oom", "failure"}, {24576, "predicted wall", "prediction"}};
  c.note = "p50 and p99 with 95 % CI (bootstrap); the step at 32k tokens failed with oom";
  return c;
}

StackedArea memory_composition() {
  StackedArea c;
  c.id = "memory-composition";
  c.title = "Memory composition over the run";
  c.x = {"time since start", "s", Scale::linear, std::nullopt, std::nullopt, {}};
  c.y = {"memory", "bytes", Scale::linear, std::nullopt, std::nullopt, {}};
  AreaLayer vram{"VRAM", {}, ""}, anon{"RAM anon", {}, ""}, cache{"page cache", {}, ""}, swap{"swap", {}, ""};
  for (int i = 0; i <= 60; ++i) {
    const double t = i * 10.0;
    c.x_values.push_back(t);
    vram.y.push_back(std::min(7.5, 2 + i * 0.2) * kGiB);
    anon.y.push_back((1.5 + 0.05 * i) * kGiB);
    cache.y.push_back(i >= 20 && i < 25 ? std::nullopt : std::optional<double>((0.5 + 0.03 * (i % 17)) * kGiB));
    swap.y.push_back(i > 40 ? (i - 40) * 0.1 * kGiB : 0.0);
  }
  c.layers = {vram, anon, cache, swap};
  c.markers = {{600, "peak 14.7 GiB", "peak"}};
  c.note = "per device, from the recording at 10 s";
  return c;
}

Grid completion_grid() {
  Grid g;
  g.id = "oom-vs-success";
  g.title = "Completion rate by context and configuration";
  g.row_label = "context";
  g.col_label = "configuration";
  g.rows = {"4k", "8k", "16k", "32k"};
  g.cols = {"offload off", "offload on", "-ngl 20"};
  auto cell = [](double v, std::string text) { return GridCell{v, std::move(text)}; };
  g.cells = {{cell(1, "5/5 ok"), cell(1, "5/5 ok"), cell(1, "5/5 ok")},
             {cell(1, "5/5 ok"), cell(1, "5/5 ok"), cell(0.8, "4/5 ok")},
             {cell(0.4, "2/5 ok, 3 oom"), cell(1, "5/5 ok"), cell(0.6, "")},
             {cell(0, "5/5 oom"), cell(1, "5/5 ok"), GridCell{std::nullopt, ""}}};
  g.note = "cell: completed requests of those sent";
  return g;
}

LineChart ttft_cdf() {
  std::vector<double> a, b;
  for (int i = 0; i < 40; ++i) {
    a.push_back(120 + 7.5 * i + (i % 7) * 3.0);
    b.push_back(180 + 11.0 * i + (i % 5) * 9.0);
  }
  b.push_back(kNaN);
  return cdf_chart("ttft-cdf", "TTFT distribution at 8k context", {"time to first token", "ms", Scale::linear,
                                                                  std::nullopt, std::nullopt, {}},
                   {{"offload off", a}, {"offload on", b}});
}

LineChart empty_chart() {
  LineChart c;
  c.id = "iops-peaks";
  c.title = "SSD IOPS";
  c.x = {"time", "s", Scale::linear, std::nullopt, std::nullopt, {}};
  c.y = {"IOPS", "iops", Scale::linear, std::nullopt, std::nullopt, {}};
  c.series = {Series{"nvme0n1", {}, Series::Kind::line, Series::Interval::none, false, false, ""}};
  c.note = "the recording has no NVMe samples";
  return c;
}

}  // namespace

TEST(SvgTicks, NiceTicksOnHandPickedRanges) {
  expect_ticks(nice_ticks(0, 1), {0, 0.2, 0.4, 0.6, 0.8, 1});
  expect_ticks(nice_ticks(0, 97), {0, 20, 40, 60, 80, 100});
  expect_ticks(nice_ticks(97, 0), {0, 20, 40, 60, 80, 100});
  expect_ticks(nice_ticks(0, 12), {0, 2.5, 5, 7.5, 10, 12.5});
  expect_ticks(nice_ticks(-3.7, 12.1), {-5, 0, 5, 10, 15});
  expect_ticks(nice_ticks(-250, -30), {-250, -200, -150, -100, -50, 0});
  expect_ticks(nice_ticks(0, 0), {-1, -0.5, 0, 0.5, 1});
  expect_ticks(nice_ticks(0.001, 0.0042, 3), {0, 0.002, 0.004, 0.006});
  const auto same = nice_ticks(5, 5);
  ASSERT_GE(same.size(), 2U);
  EXPECT_LT(same.front(), 5);
  EXPECT_GT(same.back(), 5);
  EXPECT_TRUE(nice_step(same[1] - same[0]));
  EXPECT_TRUE(nice_ticks(kNaN, 1).empty());
  EXPECT_TRUE(nice_ticks(0, kInf).empty());
  for (const double t : nice_ticks(-1e308, 1e308)) EXPECT_TRUE(std::isfinite(t));
  // Any range: nice steps covering it.
  for (const auto& [lo, hi] : std::vector<std::pair<double, double>>{{3, 1e6}, {-1e-6, 2e-6}, {17, 17.3}, {1e12, 3e12}}) {
    const auto ticks = nice_ticks(lo, hi);
    ASSERT_GE(ticks.size(), 2U) << lo;
    EXPECT_LE(ticks.front(), lo);
    EXPECT_GE(ticks.back(), hi);
    EXPECT_LE(ticks.size(), 12U);
    EXPECT_TRUE(nice_step(ticks[1] - ticks[0])) << ticks[1] - ticks[0];
  }
}

TEST(SvgTicks, LogTicksAreDecadesAndTwoFiveWhenFew) {
  expect_ticks(log_ticks(1e-3, 1e4), {1e-3, 1e-2, 1e-1, 1, 10, 100, 1e3, 1e4});
  expect_ticks(log_ticks(1024, 131072), {1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5});
  expect_ticks(log_ticks(3, 7), {2, 5, 10});
  expect_ticks(log_ticks(100, 100), {100, 200, 500, 1000});
  const auto wide = log_ticks(1e-30, 1e30);  // 60 decades: every sixth
  ASSERT_EQ(wide.size(), 11U);
  EXPECT_DOUBLE_EQ(wide.front(), 1e-30);
  EXPECT_DOUBLE_EQ(wide[1], 1e-24);
  EXPECT_DOUBLE_EQ(wide.back(), 1e30);
  EXPECT_TRUE(log_ticks(0, 10).empty());
  EXPECT_TRUE(log_ticks(-1, 10).empty());
  EXPECT_TRUE(log_ticks(kNaN, 10).empty());
  EXPECT_TRUE(log_ticks(1, kInf).empty());
}

TEST(SvgFormat, ValuesWithUnits) {
  EXPECT_EQ(format_value(1.5 * kGiB, "bytes"), "1.5 GiB");
  EXPECT_EQ(format_value(512, "bytes"), "512 B");
  EXPECT_EQ(format_value(1536, "bytes"), "1.5 KiB");
  EXPECT_EQ(format_value(0, "bytes"), "0 B");
  EXPECT_EQ(format_value(3.0 * 1024 * 1024, "bytes/s"), "3 MiB/s");
  EXPECT_EQ(format_value(250, "ms"), "250 ms");
  EXPECT_EQ(format_value(1500, "ms"), "1.5 s");
  EXPECT_EQ(format_value(0.25, "ms"), "0.25 ms");
  EXPECT_EQ(format_value(2, "s"), "2 s");
  EXPECT_EQ(format_value(0.25, "s"), "250 ms");
  EXPECT_EQ(format_value(90, "s"), "90 s");
  EXPECT_EQ(format_value(5400, "s"), "90 min");
  EXPECT_EQ(format_value(86400, "s"), "24 h");
  EXPECT_EQ(format_value(12.5, "tokens/s"), "12.5 tokens/s");
  EXPECT_EQ(format_value(32768, "tokens"), "32.8k tokens");
  EXPECT_EQ(format_value(0.4, "ratio"), "40 %");
  EXPECT_EQ(format_value(0.123, "ratio"), "12.3 %");
  EXPECT_EQ(format_value(40, "%"), "40 %");
  EXPECT_EQ(format_value(0.42, "$"), "$0.42");
  EXPECT_EQ(format_value(1.5, "$"), "$1.50");
  EXPECT_EQ(format_value(0.0042, "$"), "$0.0042");
  EXPECT_EQ(format_value(-2, "$"), "-$2.00");
  EXPECT_EQ(format_value(350, "W"), "350 W");
  EXPECT_EQ(format_value(1500, "J"), "1.5 kJ");
  EXPECT_EQ(format_value(3.14159, ""), "3.14");
  EXPECT_EQ(format_value(12345, ""), "12.3k");
  EXPECT_EQ(format_value(7, "count"), "7");
  EXPECT_EQ(format_value(1200, "iops"), "1200 IOPS");
  EXPECT_EQ(format_value(42, "widgets"), "42 widgets");
  EXPECT_EQ(format_value(-0.0001, ""), "-0.0001");
  EXPECT_EQ(format_value(-0.0, ""), "0");
  EXPECT_EQ(format_value(kNaN, "ms"), "n/a");
  EXPECT_EQ(format_value(kInf, "ms"), "n/a");
}

TEST(SvgFormat, FixedNumbersAndEscaping) {
  EXPECT_EQ(format_fixed(1234.5678), "1234.57");
  EXPECT_EQ(format_fixed(-0.001), "0.00");
  EXPECT_EQ(format_fixed(-12.345, 1), "-12.3");
  EXPECT_EQ(format_fixed(kNaN), "0");
  EXPECT_EQ(format_fixed(1e20, 0), "100000000000000000000");
  EXPECT_EQ(escape_xml("<a & 'b'>\""), "&lt;a &amp; &#39;b&#39;&gt;&quot;");
  EXPECT_EQ(escape_xml(std::string("x\x01y", 3)), "x?y");
  EXPECT_EQ(escape_xml("\xff"), "\xEF\xBF\xBD");
  EXPECT_EQ(escape_xml("≤ 2 s"), "≤ 2 s");
  EXPECT_EQ(palette_color(0), "#0072B2");
  EXPECT_EQ(palette_color(8), palette_color(0));
}

TEST(SvgGolden, MemoryWall) {
  const std::string svg = render(memory_wall());
  expect_well_formed(svg, "memory-wall");
  EXPECT_NE(svg.find(">oom</text>"), std::string::npos);
  EXPECT_NE(svg.find("data-kind=\"prediction\""), std::string::npos);
  EXPECT_NE(svg.find("class=\"y2-axis\""), std::string::npos);
  EXPECT_NE(svg.find("class=\"ci\""), std::string::npos);
  EXPECT_NE(svg.find("class=\"legend\""), std::string::npos);
  EXPECT_NE(svg.find(">10k</text>"), std::string::npos) << "decade tick on the log axis";
  expect_golden("memory_wall", svg);
  EXPECT_EQ(render(memory_wall()), svg);
}

TEST(SvgGolden, StackedAreaWithGapAndPeak) {
  const std::string svg = render(memory_composition());
  expect_well_formed(svg, "memory-composition");
  EXPECT_NE(svg.find("data-kind=\"peak\""), std::string::npos);
  EXPECT_NE(svg.find(" GiB</text>"), std::string::npos);
  EXPECT_NE(svg.find("gaps: 5 samples of 61"), std::string::npos);
  // The page cache layer (and swap above it) is drawn in two pieces around the gap.
  const std::size_t cache = svg.find("data-name=\"page cache\"");
  ASSERT_NE(cache, std::string::npos);
  const std::size_t end = svg.find("</g>", cache);
  std::size_t areas = 0;
  for (std::size_t at = svg.find("class=\"area\"", cache); at < end; at = svg.find("class=\"area\"", at + 1)) ++areas;
  EXPECT_EQ(areas, 2U);
  expect_golden("stacked_area", svg);
}

TEST(SvgGolden, GridWithNotRunCell) {
  const std::string svg = render(completion_grid());
  expect_well_formed(svg, "oom-vs-success");
  EXPECT_NE(svg.find(">not run</text></g>"), std::string::npos);
  EXPECT_NE(svg.find("fill=\"#D73027\""), std::string::npos) << "0 % is red";
  EXPECT_NE(svg.find("fill=\"#1A9850\""), std::string::npos) << "100 % is green";
  EXPECT_NE(svg.find(">60 %</text>"), std::string::npos) << "a cell without text shows its value";
  expect_golden("grid", svg);
}

TEST(SvgGolden, CdfOfTwoSamples) {
  const LineChart chart = ttft_cdf();
  ASSERT_EQ(chart.series.size(), 2U);
  EXPECT_EQ(chart.series[1].name, "offload on (n=40)");
  // Steps: starts at 0 at the smallest value, ends at 1 at the largest.
  EXPECT_EQ(chart.series[0].points.front().y, 0);
  EXPECT_EQ(chart.series[0].points.back().y, 1);
  EXPECT_EQ(chart.series[0].points.back().x, 120 + 7.5 * 39 + 4 * 3.0);
  const std::string svg = render(chart);
  expect_well_formed(svg, "ttft-cdf");
  EXPECT_NE(svg.find("1 value not finite"), std::string::npos);
  expect_golden("cdf", svg);
}

TEST(SvgGolden, NoData) {
  const std::string svg = render(empty_chart());
  expect_well_formed(svg, "iops-peaks");
  EXPECT_NE(svg.find(">no data</text>"), std::string::npos);
  expect_golden("no_data", svg);
}

TEST(SvgCdf, TiesAndLargeSamples) {
  const LineChart ties = cdf_chart("t", "", {}, {{"a", {1, 1, 2, 2, 2, 3}}});
  ASSERT_EQ(ties.series[0].points.size(), 4U);
  EXPECT_DOUBLE_EQ(ties.series[0].points[1].y, 2.0 / 6);
  EXPECT_DOUBLE_EQ(ties.series[0].points[2].y, 5.0 / 6);
  std::vector<double> many;
  for (int i = 0; i < 86400; ++i) many.push_back(i % 9973);
  const LineChart big = cdf_chart("b", "", {}, {{"a", many}});
  EXPECT_LE(big.series[0].points.size(), kCdfMaxPoints + 2);
  EXPECT_EQ(big.series[0].points.back().y, 1);
  double previous = -1;
  for (const auto& p : big.series[0].points) {
    EXPECT_GE(p.y, previous);
    previous = p.y;
  }
  const LineChart empty = cdf_chart("e", "", {}, {{"a", {kNaN}}});
  EXPECT_NE(render(empty).find(">no data</text>"), std::string::npos);
}

TEST(SvgRobust, AnyNumbersRenderWellFormedCharts) {
  const std::vector<double> nasty{kNaN, kInf, -kInf, 1e300, -1e300, 0, -5, 1e-300, 5e-324, 42};
  int case_number = 0;
  for (const Scale xs : {Scale::linear, Scale::log10})
    for (const Scale ys : {Scale::linear, Scale::log10}) {
      LineChart c;
      c.id = "robust-" + std::to_string(case_number++);
      c.title = "<b>&\"quotes\"</b>";
      c.x.scale = xs;
      c.y.scale = ys;
      c.y2 = Axis{"", "bytes", ys, kNaN, -kInf, {kNaN, 3}};
      Series s{"s", {}, Series::Kind::line_markers, Series::Interval::bars, false, false, ""};
      Series r{"r", {}, Series::Kind::step, Series::Interval::band, true, true, "red\" onload=\"x"};
      for (const double a : nasty)
        for (const double b : nasty) {
          s.points.push_back({a, b, b - 1, kInf});
          r.points.push_back({b, a, kNaN, a * 2});
        }
      c.series = {s, r, Series{}};
      c.markers = {{kNaN, "nan", "failure"}, {1e300, "far", "peak"}, {42, "m", "???"}};
      c.width = -5;
      c.height = 1 << 30;
      const std::string svg = render(c);
      expect_well_formed(svg, c.id);
      EXPECT_EQ(svg.find("onload=\""), std::string::npos) << "attribute injection through a colour";
    }
  // Forced bounds that exclude most points; inverted and equal bounds.
  LineChart bounded;
  bounded.id = "bounded";
  bounded.x = {"x", "", Scale::linear, 2.0, 4.0, {}};
  bounded.y = {"y", "", Scale::linear, 5.0, 5.0, {}};
  Series line{"l", {}, Series::Kind::line_markers, Series::Interval::bars, false, false, ""};
  for (int i = 0; i < 10; ++i) line.points.push_back({double(i), double(i * i), i - 3.0, i * i + 100.0});
  bounded.series = {line};
  const std::string svg = render(bounded);
  expect_well_formed(svg, "bounded");
  EXPECT_NE(svg.find("outside the axis bounds"), std::string::npos);
  // One point; all equal values; forced ticks.
  LineChart one;
  one.id = "one";
  one.x.ticks = {0, 0.5, 1};
  one.series = {Series{"p", {{3, 3, std::nullopt, std::nullopt}}, Series::Kind::markers, Series::Interval::none,
                       false, false, ""}};
  expect_well_formed(render(one), "one");
  // An empty id and title still give a title and a data-chart.
  LineChart anonymous;
  anonymous.series = {Series{"p", {{1, 1, std::nullopt, std::nullopt}}, Series::Kind::line, Series::Interval::none,
                             false, false, ""}};
  expect_well_formed(render(anonymous), "chart");
}

TEST(SvgRobust, LongSeriesAreDecimatedKeepingPeaks) {
  LineChart c;
  c.id = "soak";
  c.x = {"time", "s", Scale::linear, std::nullopt, std::nullopt, {}};
  c.y = {"RSS", "bytes", Scale::linear, std::nullopt, std::nullopt, {}};
  Series s{"rss", {}, Series::Kind::line_markers, Series::Interval::none, false, false, ""};
  for (int i = 0; i < 86400; ++i) s.points.push_back(
        {double(i), (i == 43210 ? 9.0 : 1.0 + (i % 60) / 600.0) * kGiB, std::nullopt, std::nullopt});
  c.series = {s};
  const std::string svg = render(c);
  expect_well_formed(svg, "soak");
  EXPECT_LT(svg.size(), 200'000U) << "86 400 points drawn through at most four per pixel column";
  EXPECT_NE(svg.find(">6 h</text>"), std::string::npos) << "hours in steps of a clock, not 5 h";
  EXPECT_NE(svg.find(">24 h</text>"), std::string::npos);
  // The one-sample spike reaches the top of the plot (the y axis ends at its nice tick, 10 GiB).
  const std::size_t plot = svg.find("class=\"plot\"");
  ASSERT_NE(plot, std::string::npos);
  EXPECT_NE(svg.find(">10 GiB</text>"), std::string::npos);
  const std::string top_y = svg.substr(svg.find("y=\"", plot) + 3, svg.find('"', svg.find("y=\"", plot) + 3) -
                                                                        svg.find("y=\"", plot) - 3);
  const double plot_top = std::stod(top_y), plot_height = std::stod(svg.substr(svg.find("height=\"", plot) + 8));
  const double spike_y = plot_top + plot_height * (1 - 0.9);
  const std::string line = svg.substr(svg.find("class=\"line\""));
  bool found = false;
  for (std::size_t at = line.find(' ', 0); at != std::string::npos && !found; at = line.find(' ', at + 1)) {
    if (line.compare(at + 1, 1, "L") != 0) continue;
    const std::size_t space = line.find(' ', at + 2);
    if (space == std::string::npos) break;
    if (std::fabs(std::stod(line.substr(space + 1)) - spike_y) < 0.02) found = true;
  }
  EXPECT_TRUE(found) << "the spike is drawn";

  StackedArea area;
  area.id = "area-robust";
  AreaLayer a{"a", {}, ""}, b{"b", {1.0, kNaN, kInf}, ""};
  for (int i = 0; i < 20000; ++i) {
    area.x_values.push_back(i == 7 ? kNaN : i);
    a.y.push_back(i % 100 == 0 ? std::nullopt : std::optional<double>(i % 13));
  }
  area.layers = {a, b, AreaLayer{}};
  area.markers = {{-1, "before", "info"}, {kInf, "", "peak"}};
  expect_well_formed(render(area), "area-robust");
  StackedArea empty_area;
  empty_area.id = "empty-area";
  EXPECT_NE(render(empty_area).find(">no data</text>"), std::string::npos);

  Grid ragged;
  ragged.id = "ragged";
  ragged.rows = {"a", "a very long row label that does not fit in a third of the chart's width at all"};
  ragged.cols = {"x", "y", "z"};
  ragged.cells = {{GridCell{kNaN, ""}, GridCell{-3, ""}}, {GridCell{7, "<&>"}}};
  ragged.width = 1;
  const std::string grid = render(ragged);
  expect_well_formed(grid, "ragged");
  EXPECT_NE(grid.find(">n/a</text>"), std::string::npos);
  EXPECT_NE(grid.find(">not run</text>"), std::string::npos);
  Grid empty_grid;
  EXPECT_NE(render(empty_grid).find(">no data</text>"), std::string::npos);
}

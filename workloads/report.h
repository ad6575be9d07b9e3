#pragma once
// The run report (`tierscope report`, docs/report.md): one or several run
// directories (workloads/run_dir.h) turned into a document of sections,
// tables and charts, rendered as one self-contained HTML file (inline CSS and
// SVG, a Content-Security-Policy that allows nothing from outside, no
// script) and as Markdown with the charts as SVG files beside it.
//
// Every table names the file and the fields its numbers come from; what a
// run directory lacks is said in the report itself. Deterministic: the same
// run directories give the same bytes (no clock, no locale; the dates shown
// are the run's own).
// Threading: build_report reads the recordings (file I/O); the renderers are pure.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "workloads/run_dir.h"

namespace tierscope::workloads {

struct ReportTable {
  std::string caption;
  std::string source;                    // file and fields the numbers come from
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::string note;                      // under the table
};

struct ReportChart {
  std::string id;     // unique in the report: charts/<id>.svg beside report.md
  std::string title;
  std::string svg;    // the complete <svg> (workloads/svg_chart.h)
  std::string source;
};

struct ReportBlock {
  enum class Kind { text, table, chart, embedded } kind = Kind::text;
  std::string text;   // text: a paragraph; embedded: the file's text (shown escaped, folded)
  std::string label;  // embedded: its name (e.g. "manifest.json")
  ReportTable table;
  ReportChart chart;
};

struct ReportSection {
  std::string id;  // anchor
  std::string title;
  int level = 2;   // 2: a run or "Across runs"; 3: within a run
  std::vector<ReportBlock> blocks;
};

struct Report {
  std::string title;
  std::vector<std::string> lead;  // paragraphs under the title
  std::vector<ReportSection> sections;
  std::vector<ReportChart> charts() const;  // every chart, in document order
};

// Goodput's service level objective when neither summary.json nor scenario.yaml has `slo`.
inline constexpr double kDefaultSloTtftMs = 2000, kDefaultSloTpotMs = 100;
// Points per chart line (block min/max beyond it) and per stacked area (block means).
inline constexpr std::size_t kMaxChartPoints = 2000;

// The q-quantile's distribution-free confidence interval from order statistics:
// [x(l), x(u)] of the sorted finite values with P(l ≤ B ≤ u−1) ≥ conf for
// B ~ Binomial(n, q), l the largest and u the smallest index that keep each
// tail at most (1−conf)/2; absent when n is too small for that coverage (a
// median needs n ≥ 6, a p99 n ≥ 368). The memory wall's error bars.
std::optional<std::pair<double, double>> quantile_ci(std::vector<double> values, double q, double conf = 0.95);

Report build_report(const std::vector<RunDir>& runs);

std::string render_markdown(const Report& report);  // charts as ![title](charts/<id>.svg)
std::string render_html(const Report& report);      // one self-contained file

}  // namespace tierscope::workloads

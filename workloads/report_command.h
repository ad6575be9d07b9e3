#pragma once
// `tierscope report RUN_DIR… [--out DIR] [--format html,md]`: the run report
// (workloads/report.h) of one or several run directories, written as
// report.html (self-contained) and report.md with charts/<id>.svg.
// docs/report.md describes the contents and where every number comes from.

#include <string>
#include <vector>

namespace tierscope::workloads {

struct ReportArgs {
  std::vector<std::string> run_dirs;
  std::string out;                 // "": the run directory for one run, ./report-<UTC timestamp> for several
  bool html = true, markdown = true;
};

// Exit codes: 0 written (each warning as a "warning: …" line on stderr), 65
// no run directory has anything usable, 73 the output cannot be written.
int run_report(const ReportArgs& args);

}  // namespace tierscope::workloads

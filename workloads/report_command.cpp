#include "workloads/report_command.h"

#include <filesystem>
#include <iostream>
#include <stdexcept>
#include <system_error>

#include "core/exit_codes.h"
#include "workloads/report.h"
#include "workloads/run_dir.h"
#include "workloads/summary.h"

namespace tierscope::workloads {

int run_report(const ReportArgs& args) {
  std::vector<RunDir> runs;
  bool any = false;
  for (const auto& dir : args.run_dirs) {
    runs.push_back(load_run_dir(dir));
    for (const auto& w : runs.back().warnings) std::cerr << "warning: " << dir << ": " << w << "\n";
    any = any || runs.back().usable();
  }
  if (!any) {
    std::cerr << "tierscope report: nothing to report: no summary.json, soak.json, requests.jsonl or recording in "
              << (args.run_dirs.size() == 1 ? args.run_dirs.front() : "any of the run directories") << "\n";
    return exit_code::data_err;
  }
  const Report report = build_report(runs);
  const std::string out = !args.out.empty() ? args.out
                          : args.run_dirs.size() == 1 ? args.run_dirs.front()
                                                      : utc_now("report-%Y%m%dT%H%M%SZ");
  const std::filesystem::path dir(out);
  std::vector<std::string> written;
  try {
    std::filesystem::create_directories(dir);
    if (args.html) {
      write_atomically((dir / "report.html").string(), render_html(report));
      written.push_back((dir / "report.html").string());
    }
    if (args.markdown) {
      std::filesystem::create_directories(dir / "charts");
      for (const auto& c : report.charts()) write_atomically((dir / "charts" / (c.id + ".svg")).string(), c.svg);
      write_atomically((dir / "report.md").string(), render_markdown(report));
      written.push_back((dir / "report.md").string());
    }
  } catch (const std::exception& e) {
    std::cerr << "tierscope report: cannot write the report to " << out << ": " << e.what() << "\n";
    return exit_code::cant_create;
  }
  std::cout << "report:";
  for (const auto& w : written) std::cout << " " << w;
  if (args.markdown) std::cout << " (" << report.charts().size() << " charts in " << (dir / "charts").string() << ")";
  std::cout << "\n";
  return exit_code::ok;
}

}  // namespace tierscope::workloads

#include "exporters/process_metrics.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <string>

#include "core/file_cache.h"
#include "core/metric_catalog.h"
#include "core/text.h"
#include "core/unique_fd.h"

namespace tierscope {

namespace {

bool slurp(const char* path, std::string& out) { return read_uncached(path, out, 1 << 16) == 0 && !out.empty(); }

std::optional<double> boot_time_seconds() {
  std::string stat;
  if (!slurp("/proc/stat", stat)) return std::nullopt;
  text::Lines lines(stat);
  std::string_view line;
  while (lines.next(line)) {
    if (line.substr(0, 6) != "btime ") continue;
    if (auto v = text::parse_u64(text::trim(line.substr(6)))) return static_cast<double>(*v);
  }
  return std::nullopt;
}

// Field 22 of /proc/self/stat is the start time in clock ticks since boot; the
// command name (field 2) may hold spaces, so fields are counted from its ')'.
std::optional<double> process_start_time() {
  std::string buf;
  if (!slurp("/proc/self/stat", buf)) return std::nullopt;
  auto close = buf.rfind(')');
  auto btime = boot_time_seconds();
  if (close == std::string::npos || !btime) return std::nullopt;
  text::Fields f(std::string_view(buf).substr(close + 1));
  std::string_view tok;
  for (int field = 3; field <= 22; ++field) tok = f.next();
  auto ticks = text::parse_u64(tok);
  if (!ticks) return std::nullopt;
  return *btime + static_cast<double>(*ticks) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

}  // namespace

void render_process_metrics(MetricWriter& w) {
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  std::string buf;
  if (slurp("/proc/self/statm", buf)) {
    text::Fields f(buf);
    auto size = text::parse_u64(f.next());
    auto resident = text::parse_u64(f.next());
    if (size) w.add(metric::process_vms, static_cast<double>(*size) * page);
    if (resident) w.add(metric::process_rss, static_cast<double>(*resident) * page);
  }
  struct rusage ru{};
  if (::getrusage(RUSAGE_SELF, &ru) == 0) {
    auto secs = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; };
    w.add(metric::process_cpu, secs(ru.ru_utime) + secs(ru.ru_stime));
  }
  if (UniqueDir d(::opendir("/proc/self/fd")); d) {
    long n = 0;
    while (const dirent* e = ::readdir(d.get()))
      if (e->d_name[0] != '.') ++n;
    w.add(metric::process_open_fds, static_cast<double>(n - 1));  // minus the one opendir holds
  }
  struct rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
    w.add(metric::process_max_fds, static_cast<double>(rl.rlim_cur));
  // The start time never changes: read it once.
  static const std::optional<double> start_time = process_start_time();
  if (start_time) w.add(metric::process_start, *start_time);
}

}  // namespace tierscope

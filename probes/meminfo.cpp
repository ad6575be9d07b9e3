#include "probes/meminfo.h"

#include <limits>

#include "exporters/metric_catalog.h"
#include "probes/snapshot.h"
#include "probes/text.h"

namespace tierscope {

std::optional<std::uint64_t> MemInfo::get(std::string_view name) const {
  for (const auto& f : fields)
    if (f.name == name) return f.value;
  return std::nullopt;
}

MemInfo parse_meminfo(std::string_view text) {
  MemInfo m;
  m.fields.reserve(64);
  text::Lines lines(text);
  std::string_view line;
  while (lines.next(line)) {
    auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) continue;
    auto name = line.substr(0, colon);
    text::Fields f(line.substr(colon + 1));
    auto value = text::parse_u64(f.next());
    if (!value) continue;
    auto unit = f.next();
    if (!f.done()) continue;
    bool seen = false;  // a repeated name would make two identical series
    for (const auto& existing : m.fields) seen = seen || existing.name == name;
    if (seen) continue;
    MemInfo::Field field{std::string(name), *value, false};
    if (unit == "kB") {
      if (*value > std::numeric_limits<std::uint64_t>::max() / 1024) continue;
      field.value = *value * 1024;
      field.bytes = true;
    } else if (!unit.empty()) {
      continue;
    }
    m.fields.push_back(std::move(field));
  }
  return m;
}

ProbeOutcome MemInfoProbe::sample(ProbeContext& ctx, Snapshot& out) {
  auto path = ctx.roots.proc("meminfo");
  if (int err = ctx.files.read(path, ctx.scratch)) return ProbeOutcome::failed(describe_errno(path, err));
  auto m = parse_meminfo(ctx.scratch);
  if (m.fields.empty()) return ProbeOutcome::failed(path.native() + ": no parsable field");
  out.meminfo = std::move(m);
  return ProbeOutcome::ok();
}

namespace {

// "Active(anon)" -> "Active_anon", as node_exporter names its meminfo series.
std::string metric_suffix(std::string_view field) {
  std::string s;
  s.reserve(field.size());
  for (char c : field) {
    if (c == ')') continue;
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    s.push_back(ok ? c : '_');
  }
  return s;
}

}  // namespace

void render_meminfo(const MemInfo& m, MetricWriter& w) {
  for (const auto& f : m.fields) {
    std::string name = "tierscope_meminfo_" + metric_suffix(f.name);
    std::string help;
    if (f.bytes) {
      name += "_bytes";
      help = f.name + " of /proc/meminfo (kB x 1024), bytes.";
    } else {
      help = f.name + " of /proc/meminfo, as the kernel reports it (a count, no unit).";
    }
    w.add(name, help, metric::kGauge, static_cast<double>(f.value));
  }

  const Labels host_ram{{"tier", "ram"}, {"device", "host"}};
  auto total = m.get("MemTotal");
  auto available = m.get("MemAvailable");
  if (total) w.add(metric::memory_capacity, static_cast<double>(*total), host_ram);
  if (total && available && *available <= *total)
    w.add(metric::memory_used, static_cast<double>(*total - *available), host_ram);
  if (available) w.add(metric::memory_available, static_cast<double>(*available));
  auto active_file = m.get("Active(file)");
  auto inactive_file = m.get("Inactive(file)");
  if (active_file && inactive_file)
    w.add(metric::memory_page_cache, static_cast<double>(*active_file + *inactive_file));
  if (auto anon = m.get("AnonPages")) w.add(metric::memory_anon, static_cast<double>(*anon));
  if (auto shmem = m.get("Shmem")) w.add(metric::memory_shmem, static_cast<double>(*shmem));
}

}  // namespace tierscope

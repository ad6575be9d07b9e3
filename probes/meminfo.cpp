#include "probes/meminfo.h"

#include <limits>
#include <unordered_set>

#include "core/metric_catalog.h"
#include "core/text.h"
#include "probes/registry.h"
#include "probes/snapshot.h"

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
  if (auto err = ctx.read_proc("meminfo"); !err.empty()) return ProbeOutcome::failed(err);
  auto m = parse_meminfo(ctx.scratch);
  if (m.fields.empty()) return ProbeOutcome::failed(ctx.roots.proc("meminfo").native() + ": no parsable field");
  out.put(kMeminfo, std::move(m));
  return ProbeOutcome::ok();
}

namespace {

bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

// The kernel's field name in snake_case, as Prometheus naming wants it:
// "MemTotal" -> "mem_total", "Active(anon)" -> "active_anon",
// "SReclaimable" -> "s_reclaimable", "NFS_Unstable" -> "nfs_unstable",
// "DirectMap2M" -> "direct_map_2m", "HugePages_Total" -> "huge_pages_total".
std::string meminfo_metric_suffix(std::string_view field) {
  // Where the kernel's abbreviation would read as a unit to Prometheus linters
  // (a lone "s" or "sec" token), spell out what the kernel documents.
  static constexpr std::pair<std::string_view, std::string_view> kSpelledOut[] = {
      {"SReclaimable", "slab_reclaimable"},
      {"SUnreclaim", "slab_unreclaimable"},
      {"KReclaimable", "kernel_reclaimable"},
      {"SecPageTables", "secondary_page_tables"},
  };
  for (auto [kernel, spelled] : kSpelledOut)
    if (field == kernel) return std::string(spelled);
  std::string s;
  s.reserve(field.size() + 8);
  auto push_separator = [&] {
    if (!s.empty() && s.back() != '_') s.push_back('_');
  };
  for (std::size_t i = 0; i < field.size(); ++i) {
    char c = field[i];
    char prev = i > 0 ? field[i - 1] : '\0';
    char next = i + 1 < field.size() ? field[i + 1] : '\0';
    if (is_upper(c)) {
      // A word starts at an upper-case letter after a lower-case one, or at
      // the last capital of an acronym that runs into a word (S|Reclaimable).
      if (is_lower(prev) || (is_upper(prev) && is_lower(next))) push_separator();
      s.push_back(static_cast<char>(c - 'A' + 'a'));
    } else if (is_digit(c)) {
      if (is_lower(prev) || is_upper(prev)) push_separator();
      s.push_back(c);
    } else if (is_lower(c)) {
      s.push_back(c);
    } else {
      push_separator();  // '(', ')', '_' and anything else
    }
  }
  while (!s.empty() && s.back() == '_') s.pop_back();
  // Any other token that reads as an abbreviated unit (promtool's list) is
  // joined to the word after it, so a future field cannot fail the lint.
  static constexpr std::string_view kUnitTokens[] = {"s", "ms", "us", "ns", "sec", "b", "kb", "mb", "gb",
                                                      "tb", "pb", "m", "h", "d"};
  std::string out;
  std::size_t start = 0;
  while (start <= s.size()) {
    auto end = s.find('_', start);
    if (end == std::string::npos) end = s.size();
    auto token = std::string_view(s).substr(start, end - start);
    out += token;
    bool unit_like = false;
    for (auto u : kUnitTokens) unit_like = unit_like || token == u;
    if (end < s.size() && !unit_like) out += '_';
    start = end + 1;
  }
  return out;
}

void render_meminfo(const MemInfo& m, MetricWriter& w) {
  // Two kernel names could map to one metric name ("Active(anon)" and
  // "Active_anon"); the first keeps it, as a second series would be a duplicate.
  std::unordered_set<std::string> emitted;
  for (const auto& f : m.fields) {
    std::string name = "tierscope_meminfo_" + meminfo_metric_suffix(f.name);
    std::string help;
    if (f.bytes) {
      name += "_bytes";
      help = f.name + " of /proc/meminfo (kB x 1024), bytes.";
    } else {
      // The only unitless fields are the HugePages_* counts.
      name += "_pages";
      help = f.name + " of /proc/meminfo, in pages as the kernel reports it.";
    }
    if (!emitted.insert(name).second) continue;
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
  // Checked: a corrupt file must not wrap the sum into a small number.
  if (active_file && inactive_file && *active_file <= std::numeric_limits<std::uint64_t>::max() - *inactive_file)
    w.add(metric::memory_page_cache, static_cast<double>(*active_file + *inactive_file));
  if (auto anon = m.get("AnonPages")) w.add(metric::memory_anon, static_cast<double>(*anon));
  if (auto shmem = m.get("Shmem")) w.add(metric::memory_shmem, static_cast<double>(*shmem));
}

constinit const ProbeRegistration kMeminfoProbe{
    .name = "meminfo",
    .make = [](const ProbeSettings&) -> std::unique_ptr<Probe> { return std::make_unique<MemInfoProbe>(); },
    .render =
        [](const Snapshot& snap, MetricWriter& w) {
          if (const auto* r = snap.get(kMeminfo)) render_meminfo(*r, w);
        },
};

}  // namespace tierscope

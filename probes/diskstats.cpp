#include "probes/diskstats.h"

#include <limits>
#include <unordered_set>

#include "core/metric_catalog.h"
#include "core/text.h"
#include "probes/registry.h"
#include "probes/snapshot.h"

namespace tierscope {

std::vector<DiskStat> parse_diskstats(std::string_view text) {
  std::vector<DiskStat> out;
  std::unordered_set<std::string_view> names;  // views into `text`
  text::Lines lines(text);
  std::string_view line;
  while (lines.next(line)) {
    text::Fields f(line);
    auto major = text::parse_u64(f.next());
    auto minor = text::parse_u64(f.next());
    auto name = f.next();
    if (!major || !minor || name.empty() || *major > std::numeric_limits<unsigned>::max() ||
        *minor > std::numeric_limits<unsigned>::max())
      continue;
    DiskStat d;
    d.major = static_cast<unsigned>(*major);
    d.minor = static_cast<unsigned>(*minor);
    bool bad = false;
    for (auto tok = f.next(); !tok.empty(); tok = f.next()) {
      auto v = text::parse_u64(tok);
      if (!v) { bad = true; break; }
      if (d.field_count < DiskStat::kFieldCount) d.values[d.field_count++] = *v;
    }
    if (bad || d.field_count < 11) continue;
    if (!names.insert(name).second) continue;  // a repeated name would make duplicate series
    d.name = std::string(name);
    out.push_back(std::move(d));
  }
  return out;
}

DeviceFilter::DeviceFilter(const std::string& include, const std::string& exclude) {
  constexpr auto flags = std::regex::ECMAScript | std::regex::optimize;
  if (!include.empty()) include_.emplace(include, flags);
  if (!exclude.empty()) exclude_.emplace(exclude, flags);
}

bool DeviceFilter::keep(const std::string& name) {
  auto it = cache_.find(name);
  if (it != cache_.end()) return it->second;
  bool keep = (!include_ || std::regex_search(name, *include_)) && !(exclude_ && std::regex_search(name, *exclude_));
  if (cache_.size() > limit_) cache_.clear();  // bound memory on hosts that churn device names
  cache_.emplace(name, keep);
  return keep;
}

ProbeOutcome DiskStatsProbe::sample(ProbeContext& ctx, Snapshot& out) {
  if (auto err = ctx.read_proc("diskstats"); !err.empty()) return ProbeOutcome::failed(err);
  DiskStats d;
  d.devices = parse_diskstats(ctx.scratch);
  filter_.expect(d.devices.size());
  std::erase_if(d.devices, [&](const DiskStat& s) { return !filter_.keep(s.name); });
  out.put(kDiskstats, std::move(d));
  return ProbeOutcome::ok();
}

void render_diskstats(const DiskStats& d, MetricWriter& w) {
  using F = DiskStat::Field;
  struct Column {
    F field;
    const MetricDef& def;
    double multiply;  // sectors -> bytes
    double divide;    // ms -> seconds (a division rounds exactly; x 1e-3 would not)
  };
  static const Column columns[] = {
      {F::reads_completed, metric::disk_reads, 1, 1},        {F::reads_merged, metric::disk_reads_merged, 1, 1},
      {F::sectors_read, metric::disk_read_bytes, 512, 1},    {F::read_ms, metric::disk_read_time, 1, 1000},
      {F::writes_completed, metric::disk_writes, 1, 1},      {F::writes_merged, metric::disk_writes_merged, 1, 1},
      {F::sectors_written, metric::disk_written_bytes, 512, 1}, {F::write_ms, metric::disk_write_time, 1, 1000},
      {F::in_progress, metric::disk_in_progress, 1, 1},      {F::io_ms, metric::disk_io_time, 1, 1000},
      {F::weighted_io_ms, metric::disk_io_weighted, 1, 1000},
      {F::discards_completed, metric::disk_discards, 1, 1},  {F::discards_merged, metric::disk_discards_merged, 1, 1},
      {F::sectors_discarded, metric::disk_discarded_bytes, 512, 1}, {F::discard_ms, metric::disk_discard_time, 1, 1000},
      {F::flushes_completed, metric::disk_flushes, 1, 1},    {F::flush_ms, metric::disk_flush_time, 1, 1000},
  };
  for (const auto& dev : d.devices) {
    for (const auto& c : columns) {
      if (auto v = dev.get(c.field)) w.add(c.def, static_cast<double>(*v) * c.multiply / c.divide, {{"device", dev.name}});
    }
  }
}

namespace {

// std::regex compiles recursively: bound the pattern so a long one cannot
// exhaust the stack. Device-name patterns are short.
constexpr std::size_t kMaxRegexLength = 1024;

void parse_diskstats_section(const YamlReader& p, const YAML::Node& v, const std::string& key, ProbeSettings& out) {
  DiskstatsSettings s = out.get<DiskstatsSettings>();
  p.each_key(v, key, {"device_include", "device_exclude"}, [&](const std::string& k, const std::string& f, const YAML::Node& n) {
    auto re = n.IsNull() ? std::string() : p.scalar(n, f, "a regular expression (ECMAScript syntax)");
    if (re.size() > kMaxRegexLength)
      p.fail(n.Mark(), f, "expected a regular expression of at most " + std::to_string(kMaxRegexLength) +
                              " characters, got " + std::to_string(re.size()));
    try {
      std::regex check(re, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      p.fail(n.Mark(), f, "expected a regular expression (ECMAScript syntax): " + std::string(e.what()));
    }
    (k == "device_include" ? s.device_include : s.device_exclude) = re;
  });
  out.set(std::move(s));
}

constexpr ConfigSection kDiskstatsSection{"diskstats", parse_diskstats_section};

}  // namespace

constinit const ProbeRegistration kDiskstatsProbe{
    .name = "diskstats",
    .section = &kDiskstatsSection,
    .make =
        [](const ProbeSettings& settings) -> std::unique_ptr<Probe> {
          const auto& s = settings.get<DiskstatsSettings>();
          return std::make_unique<DiskStatsProbe>(DeviceFilter(s.device_include, s.device_exclude));
        },
    .render =
        [](const Snapshot& snap, MetricWriter& w) {
          if (const auto* r = snap.get(kDiskstats)) render_diskstats(*r, w);
        },
};

}  // namespace tierscope

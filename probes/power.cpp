#include "probes/power.h"

#include <algorithm>
#include <cerrno>
#include <map>
#include <set>
#include <system_error>
#include <utility>

#include "core/metric_catalog.h"
#include "core/text.h"
#include "probes/hwmon.h"
#include "probes/sysfs.h"

namespace tierscope {

namespace fs = std::filesystem;

std::optional<std::uint64_t> rapl_energy_delta_uj(std::uint64_t last, std::uint64_t now,
                                                  std::optional<std::uint64_t> max_energy_range_uj) {
  if (now >= last) return now - last;
  if (!max_energy_range_uj || last > *max_energy_range_uj) return std::nullopt;
  // (now - last) mod (range + 1) with now < last <= range: no overflow, as
  // the result is at most range.
  return (*max_energy_range_uj - last) + now + 1;
}

std::vector<std::string> unique_zone_labels(const std::vector<ZoneName>& zones) {
  std::map<std::string, int> uses;
  for (const auto& z : zones) ++uses[z.name];
  std::vector<std::string> labels;
  labels.reserve(zones.size());
  for (const auto& z : zones)
    labels.push_back(uses[z.name] == 1 || z.parent_name.empty() ? z.name : z.parent_name + "/" + z.name);
  // What still repeats takes its directory name; a name may equal another
  // zone's directory, so again until nothing repeats (directories are unique).
  for (bool changed = true; changed;) {
    changed = false;
    std::map<std::string, int> label_uses;
    for (const auto& l : labels) ++label_uses[l];
    for (std::size_t i = 0; i < labels.size(); ++i)
      if (label_uses[labels[i]] > 1 && labels[i] != zones[i].directory) {
        labels[i] = zones[i].directory;
        changed = true;
      }
  }
  return labels;
}

namespace {

// "intel-rapl:0", "intel-rapl:0:1", "amd-rapl:0": a prefix, then one or two
// ":<number>". intel-rapl-mmio:* is left out: it is the package counter of
// intel-rapl:* read again through MMIO, and summing both would count it twice.
bool is_rapl_zone(std::string_view dir) {
  for (std::string_view prefix : {"intel-rapl:", "amd-rapl:"}) {
    if (dir.substr(0, prefix.size()) != prefix) continue;
    auto rest = dir.substr(prefix.size());
    auto colon = rest.find(':');
    if (!text::parse_u64(rest.substr(0, colon))) return false;
    return colon == std::string_view::npos || text::parse_u64(rest.substr(colon + 1)).has_value();
  }
  return false;
}

// "intel-rapl:0:1" -> "intel-rapl:0"; "" for a top zone.
std::string parent_zone(std::string_view dir) {
  auto first = dir.find(':'), last = dir.rfind(':');
  return first == last ? std::string() : std::string(dir.substr(0, last));
}

bool is_cpu_sensor_chip(std::string_view name) {
  return name == "coretemp" || name == "k10temp" || name == "zenpower" || name == "cpu_thermal";
}

// "cpu12" -> true
bool is_cpu_dir(std::string_view name) {
  return name.size() > 3 && name.substr(0, 3) == "cpu" && text::parse_u64(name.substr(3)).has_value();
}

// Errors of a sensor that has no value at this moment (hwmon drivers answer
// ENODATA or EAGAIN for a channel they cannot read now; ENXIO for a device
// going away): the reading is absent, not a failure.
bool is_no_value_now(int err) { return err == ENOENT || err == ENODATA || err == EAGAIN || err == ENXIO; }

}  // namespace

struct PowerProbe::State {
  struct Zone {
    std::string label, directory;
    fs::path energy;
    std::optional<std::uint64_t> range;
  };
  struct Counter {
    std::optional<std::uint64_t> last;  // raw energy_uj of the last reading
    std::uint64_t total_uj = 0;         // counted since the first reading
  };
  struct Sensor {
    std::string chip, label;
    fs::path input;
    std::optional<double> max, crit;
  };
  struct Cpu {
    fs::path core, package;
    std::int64_t package_id = -1;  // topology/physical_package_id; -1 unknown
  };

  HostRoots roots;
  bool discovered = false;
  std::chrono::steady_clock::time_point discovered_at{};
  bool throttle_read = false;
  std::chrono::steady_clock::time_point throttle_read_at{};
  std::optional<std::uint64_t> core_throttle_total, package_throttle_total;
  std::string throttle_errors;  // of the last read, reported until the next
  std::vector<Zone> zones;
  std::map<std::string, Counter> counters;  // by zone directory; kept across rediscovery
  std::vector<Sensor> sensors;
  std::vector<Cpu> cpus;

  void discover(ProbeContext& ctx, std::chrono::steady_clock::time_point now);
  void discover_zones(ProbeContext& ctx);
  void discover_sensors(ProbeContext& ctx);
  void discover_cpus(ProbeContext& ctx);
};

PowerProbe::PowerProbe(Clock clock) : state_(std::make_unique<State>()), clock_(std::move(clock)) {}
PowerProbe::~PowerProbe() = default;

void PowerProbe::State::discover(ProbeContext& ctx, std::chrono::steady_clock::time_point now) {
  discover_zones(ctx);
  discover_sensors(ctx);
  discover_cpus(ctx);
  discovered = true;
  discovered_at = now;
  throttle_read = false;  // the CPUs may have changed: read their counts now
}

void PowerProbe::State::discover_zones(ProbeContext& ctx) {
  const fs::path base = ctx.roots.sys("class/powercap");
  std::vector<ZoneName> names;
  std::vector<std::optional<std::uint64_t>> ranges;
  std::map<std::string, std::string> name_of;  // directory -> name
  for (const auto& dir : sysfs::list_dir(base)) {
    if (!is_rapl_zone(dir)) continue;
    auto name = sysfs::read_attribute(ctx.files, base / dir / "name", ctx.scratch);
    std::string zone_name = name && !name->empty() ? *name : dir;
    name_of[dir] = zone_name;
    names.push_back({dir, zone_name, {}});
    auto range = sysfs::read_attribute(ctx.files, base / dir / "max_energy_range_uj", ctx.scratch);
    ranges.push_back(range ? text::parse_u64(*range) : std::nullopt);
  }
  for (auto& n : names) {
    auto parent = parent_zone(n.directory);
    if (parent.empty()) continue;
    auto it = name_of.find(parent);
    n.parent_name = it != name_of.end() ? it->second : parent;
  }
  auto labels = unique_zone_labels(names);
  zones.clear();
  for (std::size_t i = 0; i < names.size(); ++i)
    zones.push_back({labels[i], names[i].directory, base / names[i].directory / "energy_uj", ranges[i]});
}

void PowerProbe::State::discover_sensors(ProbeContext& ctx) {
  const fs::path base = ctx.roots.sys("class/hwmon");
  struct Chip {
    std::string name, device, hwmon;
  };
  std::vector<Chip> chips;
  for (const auto& dir : sysfs::list_dir(base)) {
    auto name = sysfs::read_attribute(ctx.files, base / dir / "name", ctx.scratch);
    if (!name || !is_cpu_sensor_chip(*name)) continue;
    std::error_code ec;
    auto device = fs::read_symlink(base / dir / "device", ec);  // ../../devices/platform/coretemp.1
    chips.push_back({*name, ec ? std::string() : device.filename().string(), dir});
  }
  // The chip label: its name, with the device (coretemp.1, the PCI address of
  // a k10temp) when several chips share the name, or the hwmon directory
  // when the device does not tell them apart.
  std::map<std::string, int> uses;
  for (const auto& c : chips) ++uses[c.name];
  std::set<std::string> taken;
  sensors.clear();
  for (const auto& c : chips) {
    std::string chip = c.name;
    if (uses[c.name] > 1) chip += "/" + (c.device.empty() || taken.count(c.name + "/" + c.device) ? c.hwmon : c.device);
    taken.insert(chip);
    const fs::path dir = base / c.hwmon;
    std::set<std::string> labels;
    for (auto& t : hwmon_temperatures(ctx.files, dir, ctx.scratch)) {
      // Labels repeat in a chip only in a broken driver; keep the series apart.
      std::string label = labels.insert(t.label).second ? t.label : t.base;
      labels.insert(label);
      auto threshold = [&](std::string_view suffix) -> std::optional<double> {
        auto text = sysfs::read_attribute(ctx.files, dir / (t.base + std::string(suffix)), ctx.scratch);
        return text ? parse_hwmon_millicelsius(*text) : std::nullopt;
      };
      sensors.push_back({chip, std::move(label), dir / (t.base + "_input"), threshold("_max"), threshold("_crit")});
    }
  }
}

void PowerProbe::State::discover_cpus(ProbeContext& ctx) {
  const fs::path base = ctx.roots.sys("devices/system/cpu");
  cpus.clear();
  for (const auto& dir : sysfs::list_dir(base)) {
    if (!is_cpu_dir(dir)) continue;
    const fs::path throttle = base / dir / "thermal_throttle";
    std::error_code ec;
    if (!fs::is_directory(throttle, ec)) continue;
    auto id = sysfs::read_attribute(ctx.files, base / dir / "topology/physical_package_id", ctx.scratch);
    auto package = id ? text::parse_i64(*id) : std::nullopt;
    cpus.push_back({throttle / "core_throttle_count", throttle / "package_throttle_count", package.value_or(-1)});
  }
}

ProbeOutcome PowerProbe::sample(ProbeContext& ctx, Snapshot& out) {
  State& s = *state_;
  if (!(s.roots == ctx.roots)) {
    *state_ = State{};
    s.roots = ctx.roots;
  }
  const auto now = clock_();
  if (!s.discovered || now - s.discovered_at >= kRediscoverAfter) s.discover(ctx, now);
  if (s.zones.empty() && s.sensors.empty() && s.cpus.empty()) return ProbeOutcome::no_data();

  Power p;
  std::string errors;
  auto fail = [&](std::string why) { errors += (errors.empty() ? "" : "; ") + std::move(why); };
  // One attribute as a number; nullopt (and `err` set) when unreadable, nullopt
  // with a failure noted when it is not a number.
  auto read_u64 = [&](const fs::path& path, int& err) -> std::optional<std::uint64_t> {
    err = ctx.files.read(path, ctx.scratch, FileCache::Read::attribute);
    if (err) return std::nullopt;
    auto v = text::parse_u64(text::trim(ctx.scratch));
    if (!v) fail(path.native() + ": not a whole number: " + text::quoted(text::trim(ctx.scratch)));
    return v;
  };

  for (const auto& z : s.zones) {
    int err = 0;
    auto raw = read_u64(z.energy, err);
    if (err == EACCES || err == EPERM) {
      if (p.energy_problem.empty())
        p.energy_problem = describe_errno(z.energy, err) +
                           ": RAPL energy counters are readable by root only since Linux 5.10 (CVE-2020-8694); "
                           "tierscope_cpu_energy_joules_total is absent (the systemd unit runs tierscope as root)";
      continue;
    }
    if (err == ENOENT) continue;  // a zone with power limits but no energy counter
    if (err) fail(describe_errno(z.energy, err));
    if (!raw) continue;
    auto& c = s.counters[z.directory];
    if (c.last) {
      if (auto delta = rapl_energy_delta_uj(*c.last, *raw, z.range)) c.total_uj += *delta;
    }
    c.last = raw;
    p.zones.push_back({z.label, z.directory, static_cast<double>(c.total_uj) / 1e6, z.range});
  }

  for (const auto& t : s.sensors) {
    int err = ctx.files.read(t.input, ctx.scratch, FileCache::Read::attribute);
    if (is_no_value_now(err)) continue;
    if (err) {
      fail(describe_errno(t.input, err));
      continue;
    }
    auto celsius = parse_hwmon_millicelsius(ctx.scratch);
    if (!celsius) {
      fail(t.input.native() + ": not millidegrees: " + text::quoted(text::trim(ctx.scratch)));
      continue;
    }
    p.temperatures.push_back({t.chip, t.label, *celsius, t.max, t.crit});
  }

  if (!s.throttle_read || now - s.throttle_read_at >= kThrottleReadEvery) {
    std::string others = std::exchange(errors, std::string());
    std::optional<std::uint64_t> core_total;
    std::map<std::int64_t, std::uint64_t> package_max;
    for (const auto& cpu : s.cpus) {
      int err = 0;
      if (auto v = read_u64(cpu.core, err)) core_total = core_total.value_or(0) + *v;
      else if (err && err != ENOENT) fail(describe_errno(cpu.core, err));  // ENOENT: the CPU went offline
      if (auto v = read_u64(cpu.package, err)) package_max[cpu.package_id] = std::max(package_max[cpu.package_id], *v);
      else if (err && err != ENOENT) fail(describe_errno(cpu.package, err));
    }
    s.core_throttle_total = core_total;
    s.package_throttle_total.reset();
    if (!package_max.empty()) {
      std::uint64_t sum = 0;
      for (const auto& [package, count] : package_max) sum += count;
      s.package_throttle_total = sum;
    }
    s.throttle_read = true;
    s.throttle_read_at = now;
    s.throttle_errors = std::exchange(errors, std::move(others));
  }
  if (!s.throttle_errors.empty()) fail(s.throttle_errors);
  p.core_throttle_total = s.core_throttle_total;
  p.package_throttle_total = s.package_throttle_total;

  out.put(kPower, std::move(p));
  if (!errors.empty()) return ProbeOutcome::failed(errors);
  return ProbeOutcome::ok();
}

void render_power(const Power& p, MetricWriter& w) {
  for (const auto& z : p.zones) w.add(metric::cpu_energy, z.energy_joules, {{"zone", z.zone}});
  for (const auto& t : p.temperatures) {
    const Labels labels{{"chip", t.chip}, {"sensor", t.sensor}};
    w.add(metric::cpu_temperature, t.celsius, labels);
    if (t.max_celsius) w.add(metric::cpu_temperature_max, *t.max_celsius, labels);
    if (t.critical_celsius) w.add(metric::cpu_temperature_critical, *t.critical_celsius, labels);
  }
  if (p.core_throttle_total)
    w.add(metric::cpu_thermal_throttle, static_cast<double>(*p.core_throttle_total), {{"kind", "core"}});
  if (p.package_throttle_total)
    w.add(metric::cpu_thermal_throttle, static_cast<double>(*p.package_throttle_total), {{"kind", "package"}});
}

void PowerLog::observe(const Snapshot& snap, Logger& log) {
  const auto* p = snap.get(kPower);
  if (!p) return;
  if (!p->energy_problem.empty() && p->energy_problem != last_)
    log.warn("power: " + p->energy_problem);
  else if (p->energy_problem.empty() && !last_.empty())
    log.info("power: RAPL energy counters readable again");
  last_ = p->energy_problem;
}

constinit const ProbeRegistration kPowerProbe{
    .name = "power",
    .make = [](const ProbeSettings&) -> std::unique_ptr<Probe> { return std::make_unique<PowerProbe>(); },
    .render =
        [](const Snapshot& snap, MetricWriter& w) {
          if (const auto* r = snap.get(kPower)) render_power(*r, w);
        },
};

constinit const PostSampleRegistration kPowerLogStep{
    .name = "power_log",
    .make = []() -> std::unique_ptr<PostSampleStep> { return std::make_unique<PowerLog>(); },
};

}  // namespace tierscope

#include "probes/nvme.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <limits>

#include "core/duration.h"
#include "core/metric_catalog.h"
#include "core/text.h"
#include "probes/nvme_libnvme.h"
#include "probes/offload.h"
#include "probes/snapshot.h"
#include "probes/sysfs.h"

namespace fs = std::filesystem;

namespace tierscope {

namespace {
// Reads "nvme<digits>" at the front of s; returns the digits or empty.
std::string_view take_number(std::string_view& s) {
  std::size_t n = 0;
  while (n < s.size() && s[n] >= '0' && s[n] <= '9') ++n;
  auto digits = s.substr(0, n);
  s.remove_prefix(n);
  return digits;
}
}  // namespace

bool is_nvme_controller_name(std::string_view name) {
  if (name.substr(0, 4) != "nvme") return false;
  name.remove_prefix(4);
  return !take_number(name).empty() && name.empty();
}

std::optional<std::string> nvme_namespace_block_device(std::string_view name) {
  if (name.substr(0, 4) != "nvme") return std::nullopt;
  std::string_view rest = name.substr(4);
  auto subsys = take_number(rest);
  if (subsys.empty() || rest.empty()) return std::nullopt;
  if (rest.front() == 'c') {  // hidden per-path device of native multipath
    rest.remove_prefix(1);
    if (take_number(rest).empty()) return std::nullopt;
  }
  if (rest.empty() || rest.front() != 'n') return std::nullopt;
  rest.remove_prefix(1);
  auto nsid = take_number(rest);
  if (nsid.empty() || !rest.empty()) return std::nullopt;
  return "nvme" + std::string(subsys) + "n" + std::string(nsid);
}

// ---- admin data: pure parsers ---------------------------------------------

namespace {

// Little-endian 32-bit words of an unsigned integer, rounded once to the
// nearest double (ties to even).
double words_to_double(std::span<const std::uint32_t> w) {
  std::size_t top = w.size();
  while (top > 0 && w[top - 1] == 0) --top;
  if (top <= 2) {  // below 2^64: the conversion of the uint64 rounds once
    std::uint64_t v = top == 0 ? 0 : w[0];
    if (top == 2) v |= std::uint64_t{w[1]} << 32;
    return static_cast<double>(v);
  }
  // The 64 bits from the highest set bit down, with every bit below them
  // folded into the lowest (a sticky bit): a double keeps 53, so that bit
  // only decides ties, as the bits it stands for would.
  const std::size_t bits = top * 32 - static_cast<std::size_t>(std::countl_zero(w[top - 1]));
  const std::size_t shift = bits - 64;
  const std::size_t word = shift / 32, offset = shift % 32;
  const std::uint64_t low = w[word] | std::uint64_t{w[word + 1]} << 32;
  const std::uint64_t high = word + 2 < w.size() ? w[word + 2] : 0;
  std::uint64_t m = offset == 0 ? low : (low >> offset) | (high << (64 - offset));
  bool sticky = offset != 0 && (low & ((std::uint64_t{1} << offset) - 1)) != 0;
  for (std::size_t i = 0; i < word; ++i) sticky = sticky || w[i] != 0;
  if (sticky) m |= 1;
  return std::ldexp(static_cast<double>(m), static_cast<int>(shift));
}

std::array<std::uint32_t, 4> words_of(NvmeU128 v) {
  return {static_cast<std::uint32_t>(v.lo), static_cast<std::uint32_t>(v.lo >> 32),
          static_cast<std::uint32_t>(v.hi), static_cast<std::uint32_t>(v.hi >> 32)};
}

std::uint16_t le16(std::span<const std::uint8_t> b, std::size_t at) {
  return static_cast<std::uint16_t>(b[at] | b[at + 1] << 8);
}
std::uint32_t le32(std::span<const std::uint8_t> b, std::size_t at) {
  return std::uint32_t{le16(b, at)} | std::uint32_t{le16(b, at + 2)} << 16;
}
std::uint64_t le64(std::span<const std::uint8_t> b, std::size_t at) {
  return std::uint64_t{le32(b, at)} | std::uint64_t{le32(b, at + 4)} << 32;
}
NvmeU128 le128(std::span<const std::uint8_t> b, std::size_t at) { return {le64(b, at), le64(b, at + 8)}; }
std::optional<std::uint16_t> kelvin(std::span<const std::uint8_t> b, std::size_t at) {
  auto k = le16(b, at);
  if (k == 0) return std::nullopt;  // not implemented / not reported
  return k;
}

// An ASCII field of Identify, padding (spaces, NULs) trimmed at both ends.
std::string identify_string(std::span<const std::uint8_t> b, std::size_t at, std::size_t size) {
  std::string s(reinterpret_cast<const char*>(b.data() + at), size);
  auto padding = [](char ch) { return ch == ' ' || ch == '\0'; };
  auto first = std::find_if_not(s.begin(), s.end(), padding);
  auto last = std::find_if_not(s.rbegin(), s.rend(), padding).base();
  return first < last ? std::string(first, last) : std::string();
}

}  // namespace

double nvme_u128_to_double(NvmeU128 value) { return words_to_double(words_of(value)); }

double nvme_u128_times(NvmeU128 value, std::uint32_t factor) {
  auto in = words_of(value);
  std::array<std::uint32_t, 5> product{};
  std::uint64_t carry = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    std::uint64_t v = std::uint64_t{in[i]} * factor + carry;  // < 2^64
    product[i] = static_cast<std::uint32_t>(v);
    carry = v >> 32;
  }
  product[4] = static_cast<std::uint32_t>(carry);
  return words_to_double(product);
}

std::optional<NvmeIdentify> parse_nvme_identify_controller(std::span<const std::uint8_t> data) {
  if (data.size() != kNvmeIdentifySize) return std::nullopt;
  NvmeIdentify id;
  id.vid = le16(data, 0);
  id.ssvid = le16(data, 2);
  id.serial = identify_string(data, 4, 20);
  id.model = identify_string(data, 24, 40);
  id.firmware = identify_string(data, 64, 8);
  return id;
}

std::optional<NvmeHealth> parse_nvme_smart_log(std::span<const std::uint8_t> page) {
  if (page.size() != kNvmeSmartLogSize) return std::nullopt;
  NvmeHealth h;
  h.critical_warning = page[0];
  h.composite_temperature_k = kelvin(page, 1);
  h.available_spare_percent = page[3];
  h.available_spare_threshold_percent = page[4];
  h.percentage_used = page[5];
  h.data_units_read = le128(page, 32);
  h.data_units_written = le128(page, 48);
  h.host_read_commands = le128(page, 64);
  h.host_write_commands = le128(page, 80);
  h.controller_busy_minutes = le128(page, 96);
  h.power_cycles = le128(page, 112);
  h.power_on_hours = le128(page, 128);
  h.unsafe_shutdowns = le128(page, 144);
  h.media_errors = le128(page, 160);
  h.error_log_entries = le128(page, 176);
  h.warning_temperature_minutes = le32(page, 192);
  h.critical_temperature_minutes = le32(page, 196);
  for (std::size_t i = 0; i < h.sensor_temperature_k.size(); ++i) h.sensor_temperature_k[i] = kelvin(page, 200 + 2 * i);
  return h;
}

std::string_view nvme_admin_hint(int errnum) {
  switch (errnum) {
    case EACCES:
    case EPERM:
      return "run as root or grant CAP_SYS_ADMIN (the systemd unit does)";
    case ENOENT:
      return "no device node: give the daemon the host's /dev (roots.devfs; in a container, pass the "
             "controller's character device in)";
    default:
      return "";
  }
}

// ---- the probe ---------------------------------------------------------------

NvmeProbe::NvmeProbe(std::shared_ptr<NvmeAdminChannel> admin, std::chrono::milliseconds health_interval, Clock clock)
    : admin_(std::move(admin)), health_interval_(health_interval), clock_(std::move(clock)) {}

void NvmeProbe::read_admin(const HostRoots& roots, NvmeController& c, Cached& cache) {
  cache.identify.reset();
  cache.health.reset();
  cache.problem.clear();
  auto failed = [](std::string_view what, const NvmeAdminReply& r) {
    std::string s = std::string(what) + " not readable: " + r.error;
    if (auto hint = nvme_admin_hint(r.errnum); !hint.empty()) s += "; " + std::string(hint);
    return s;
  };
  // Admin commands to a controller that is resetting, connecting or dead
  // wait for the kernel's admin timeout: skip them until it is live again.
  if (c.state && *c.state != "live") {
    cache.problem = "health log not read: controller state is " + *c.state + ", not live";
    return;
  }
  auto id = admin_->identify_controller(roots, c.name);
  if (id.ok()) {
    cache.identify = parse_nvme_identify_controller(id.data);
    if (!cache.identify)
      cache.problem = "Identify Controller not readable: " + std::to_string(id.data.size()) + " bytes, expected " +
                      std::to_string(kNvmeIdentifySize);
  } else if (id.errnum != 0) {
    // The device could not be opened or the ioctl refused: the health log
    // would fail the same way, so it is not tried.
    cache.problem = failed("health log", id);
    return;
  } else {
    cache.problem = failed("Identify Controller", id);
  }
  auto log = admin_->smart_log(roots, c.name);
  if (!log.ok()) {
    cache.problem = failed("health log", log);
    return;
  }
  cache.health = parse_nvme_smart_log(log.data);
  if (!cache.health)
    cache.problem = "health log not readable: " + std::to_string(log.data.size()) + " bytes, expected " +
                    std::to_string(kNvmeSmartLogSize);
}

ProbeOutcome NvmeProbe::sample(ProbeContext& ctx, Snapshot& out) {
  const fs::path cls = ctx.roots.sys("class/nvme");
  std::error_code ec;
  if (!fs::is_directory(cls, ec)) return ProbeOutcome::no_data();
  NvmeInventory inv;
  auto attr = [&](const fs::path& p) { return sysfs::read_attribute(ctx.files, p, ctx.scratch); };
  auto hex = [&](const fs::path& p) -> std::optional<std::uint32_t> {
    auto s = attr(p);
    if (!s) return std::nullopt;
    auto v = text::parse_hex(*s);
    if (!v || *v > std::numeric_limits<std::uint32_t>::max()) return std::nullopt;
    return static_cast<std::uint32_t>(*v);
  };
  for (const auto& name : sysfs::list_dir(cls)) {
    if (!is_nvme_controller_name(name)) continue;
    const fs::path dir = cls / name;
    NvmeController c;
    c.name = name;
    c.model = attr(dir / "model");
    c.serial = attr(dir / "serial");
    c.firmware = attr(dir / "firmware_rev");
    c.state = attr(dir / "state");
    c.transport = attr(dir / "transport");
    c.address = attr(dir / "address");
    // The PCI function behind the controller; absent for fabrics controllers.
    c.pci_vendor = hex(dir / "device/vendor");
    c.pci_device = hex(dir / "device/device");
    c.pci_subsystem_vendor = hex(dir / "device/subsystem_vendor");
    for (const auto& entry : sysfs::list_dir(dir)) {
      auto block = nvme_namespace_block_device(entry);
      if (!block) continue;
      NvmeNamespace ns;
      ns.name = entry;
      ns.block_device = *block;
      if (auto size = attr(dir / entry / "size")) {
        auto sectors = text::parse_u64(*size);
        if (sectors && *sectors <= std::numeric_limits<std::uint64_t>::max() / 512) ns.size_bytes = *sectors * 512;
      }
      c.namespaces.push_back(std::move(ns));
    }
    inv.controllers.push_back(std::move(c));
  }
  if (admin_ && health_interval_.count() > 0) {
    const auto now = clock_();
    std::map<std::string, Cached> kept;  // controllers that are gone are forgotten
    for (auto& c : inv.controllers) {
      auto it = cache_.find(c.name);
      Cached entry;
      if (it != cache_.end()) entry = std::move(it->second);
      if (it == cache_.end() || now - entry.read_at >= health_interval_) {
        read_admin(ctx.roots, c, entry);
        entry.read_at = now;
      }
      c.admin = NvmeAdminStatus{entry.problem, std::chrono::duration<double>(now - entry.read_at).count()};
      c.identify = entry.identify;
      c.health = entry.health;
      kept.emplace(c.name, std::move(entry));
    }
    cache_ = std::move(kept);
  }
  if (inv.controllers.empty()) return ProbeOutcome::no_data();
  out.put(kNvme, std::move(inv));
  return ProbeOutcome::ok();
}

namespace {
std::string hex16(const std::optional<std::uint32_t>& v) {
  if (!v) return "";
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%04x", *v);
  return buf;
}

void render_nvme_health(const std::string& controller, const NvmeHealth& h, double age_seconds, MetricWriter& w) {
  const Labels labels{{"controller", controller}};
  auto count = [&](const MetricDef& def, NvmeU128 v, std::uint32_t factor = 1) {
    w.add(def, factor == 1 ? nvme_u128_to_double(v) : nvme_u128_times(v, factor), labels);
  };
  w.add(metric::nvme_health_log_age, age_seconds, labels);
  w.add(metric::nvme_critical_warning, h.critical_warning, labels);
  if (h.composite_temperature_k) w.add(metric::nvme_temperature, nvme_kelvin_to_celsius(*h.composite_temperature_k), labels);
  for (std::size_t i = 0; i < h.sensor_temperature_k.size(); ++i)
    if (h.sensor_temperature_k[i])
      w.add(metric::nvme_temperature_sensor, nvme_kelvin_to_celsius(*h.sensor_temperature_k[i]),
            {{"controller", controller}, {"sensor", std::to_string(i + 1)}});
  w.add(metric::nvme_available_spare, h.available_spare_percent / 100.0, labels);
  w.add(metric::nvme_available_spare_threshold, h.available_spare_threshold_percent / 100.0, labels);
  w.add(metric::nvme_percentage_used, h.percentage_used / 100.0, labels);
  count(metric::nvme_data_read, h.data_units_read, 512'000);
  count(metric::nvme_data_written, h.data_units_written, 512'000);
  count(metric::nvme_host_read_commands, h.host_read_commands);
  count(metric::nvme_host_write_commands, h.host_write_commands);
  count(metric::nvme_controller_busy, h.controller_busy_minutes, 60);
  count(metric::nvme_power_cycles, h.power_cycles);
  count(metric::nvme_power_on, h.power_on_hours, 3600);
  count(metric::nvme_unsafe_shutdowns, h.unsafe_shutdowns);
  count(metric::nvme_media_errors, h.media_errors);
  count(metric::nvme_error_log_entries, h.error_log_entries);
  w.add(metric::nvme_warning_temperature_time, h.warning_temperature_minutes * 60.0, labels);
  w.add(metric::nvme_critical_temperature_time, h.critical_temperature_minutes * 60.0, labels);
}

}  // namespace

void render_nvme(const NvmeInventory& inv, const OffloadVerdict& verdict, MetricWriter& w) {
  for (const auto& c : inv.controllers) {
    bool phison = std::find(verdict.phison_controllers.begin(), verdict.phison_controllers.end(), c.name) !=
                  verdict.phison_controllers.end();
    w.add(metric::nvme_info, 1,
          {{"controller", c.name},
           {"model", c.model.value_or("")},
           {"serial", c.serial.value_or("")},
           {"firmware", c.firmware.value_or("")},
           {"transport", c.transport.value_or("")},
           {"pci_vendor", hex16(c.pci_vendor)},
           {"pci_subsystem_vendor", hex16(c.pci_subsystem_vendor)},
           {"phison", phison ? "true" : "false"}});
    if (c.state) w.add(metric::nvme_state, 1, {{"controller", c.name}, {"state", *c.state}});
    for (const auto& ns : c.namespaces) {
      w.add(metric::nvme_namespace_info, 1,
            {{"controller", c.name}, {"namespace", ns.name}, {"device", ns.block_device}});
      if (ns.size_bytes)
        w.add(metric::nvme_namespace_capacity, static_cast<double>(*ns.size_bytes),
              {{"controller", c.name}, {"device", ns.block_device}});
    }
    if (c.identify)
      w.add(metric::nvme_identify_info, 1,
            {{"controller", c.name},
             {"vid", hex16(c.identify->vid)},
             {"ssvid", hex16(c.identify->ssvid)},
             {"model", c.identify->model},
             {"serial", c.identify->serial},
             {"firmware", c.identify->firmware}});
    if (c.admin) w.add(metric::nvme_health_log_up, c.health ? 1 : 0, {{"controller", c.name}});
    if (c.health) render_nvme_health(c.name, *c.health, c.admin ? c.admin->age_seconds : 0, w);
  }
}

void NvmeAdminLog::observe(const Snapshot& snap, Logger& log) {
  std::map<std::string, std::string> now;
  if (const auto* nvme = snap.get(kNvme))
    for (const auto& c : nvme->controllers)
      if (c.admin) now.emplace(c.name, c.admin->problem);
  for (const auto& [controller, problem] : now) {
    auto it = last_.find(controller);
    if (!problem.empty() && (it == last_.end() || it->second != problem))
      log.warn(controller + ": " + problem);
    else if (problem.empty() && it != last_.end() && !it->second.empty())
      log.info(controller + ": Identify Controller and health log readable again");
  }
  last_ = std::move(now);
}

namespace {

constexpr std::chrono::milliseconds kMinNvmeHealthInterval{1'000};
constexpr std::chrono::milliseconds kMaxNvmeHealthInterval{3'600'000};

void parse_nvme_section(const YamlReader& p, const YAML::Node& v, const std::string& key, ProbeSettings& out) {
  NvmeSettings s = out.get<NvmeSettings>();
  p.each_key(v, key, {"health_interval"}, [&](const std::string&, const std::string& f, const YAML::Node& n) {
    const std::string expected = "a duration from " + format_duration(kMinNvmeHealthInterval) + " to " +
                                 format_duration(kMaxNvmeHealthInterval) + " (e.g. 30s, 5m), or off";
    auto text = p.scalar(n, f, expected);
    // off (or 0) disables the admin reads; the sysfs identity stays.
    auto d = text == "off" ? std::optional(std::chrono::milliseconds{0}) : parse_duration(text);
    if (!d || (d->count() != 0 && (*d < kMinNvmeHealthInterval || *d > kMaxNvmeHealthInterval)))
      p.fail(n.Mark(), f, "expected " + expected + ", got " + text::quoted(text));
    s.health_interval = *d;
  });
  out.set(std::move(s));
}

constexpr ConfigSection kNvmeSection{"nvme", parse_nvme_section};

}  // namespace

constinit const ProbeRegistration kNvmeProbe{
    .name = "nvme",
    .section = &kNvmeSection,
    .make =
        [](const ProbeSettings& settings) -> std::unique_ptr<Probe> {
          return std::make_unique<NvmeProbe>(std::make_shared<LibnvmeAdminChannel>(),
                                             settings.get<NvmeSettings>().health_interval);
        },
    .render =
        [](const Snapshot& snap, MetricWriter& w) {
          const auto* inv = snap.get(kNvme);
          if (!inv) return;
          const auto* verdict = snap.get(kOffload);
          render_nvme(*inv, verdict ? *verdict : OffloadVerdict{}, w);
        },
};

constinit const PostSampleRegistration kNvmeAdminLogStep{
    .name = "nvme_admin_log",
    .make = []() -> std::unique_ptr<PostSampleStep> { return std::make_unique<NvmeAdminLog>(); },
};

}  // namespace tierscope

#include "probes/gpu_amdgpu.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/text.h"
#include "probes/hwmon.h"
#include "probes/registry.h"
#include "probes/snapshot.h"
#include "probes/sysfs.h"
#include "probes/workload.h"

namespace fs = std::filesystem;

namespace tierscope {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex_digit(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool all_hex(std::string_view s) { return std::all_of(s.begin(), s.end(), is_hex_digit); }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// Highest clock a DPM level can plausibly name (MHz); beyond it the text is garbage.
constexpr std::uint64_t kMaxDpmMhz = 100'000;

}  // namespace

// ---- Pure parsers ----

bool is_drm_card_name(std::string_view name) {
  constexpr std::string_view prefix = "card";
  if (name.size() <= prefix.size() || name.substr(0, prefix.size()) != prefix) return false;
  name.remove_prefix(prefix.size());
  return std::all_of(name.begin(), name.end(), is_digit);
}

std::optional<std::string_view> uevent_value(std::string_view uevent, std::string_view key) {
  if (key.empty()) return std::nullopt;
  text::Lines lines(uevent);
  std::string_view line;
  while (lines.next(line)) {
    if (line.size() > key.size() && line.substr(0, key.size()) == key && line[key.size()] == '=')
      return line.substr(key.size() + 1);
  }
  return std::nullopt;
}

bool is_pci_address(std::string_view s) {
  // <domain>:<bus>:<device>.<function>, e.g. 0000:c3:00.0; VMD domains have 5+ digits.
  auto colon = s.find(':');
  if (colon == std::string_view::npos || colon < 4 || colon > 8 || !all_hex(s.substr(0, colon))) return false;
  auto rest = s.substr(colon + 1);
  return rest.size() == 7 && is_hex_digit(rest[0]) && is_hex_digit(rest[1]) && rest[2] == ':' &&
         is_hex_digit(rest[3]) && is_hex_digit(rest[4]) && rest[5] == '.' && rest[6] >= '0' && rest[6] <= '7';
}

std::optional<std::uint32_t> parse_pci_id_device(std::string_view pci_id) {
  auto colon = pci_id.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  auto device = text::trim(pci_id.substr(colon + 1));
  if (device.empty() || device.size() > 4 || !all_hex(device)) return std::nullopt;
  auto v = text::parse_hex(device);
  if (!v) return std::nullopt;
  return static_cast<std::uint32_t>(*v);
}

std::optional<double> parse_pp_dpm_current_hz(std::string_view text) {
  // amdgpu_pm.c / smu_cmn.c print one level a line, "%d: %uMhz %s\n" with "*"
  // on the current one; deep sleep is "S: %uMhz *". Older powerplay code
  // writes "Mhz", some callers "MHz"; the star may follow without a space.
  text::Lines lines(text);
  std::string_view line;
  while (lines.next(line)) {
    auto star = line.find('*');
    if (star == std::string_view::npos) continue;
    auto colon = line.find(':');
    if (colon == std::string_view::npos || colon > star || text::trim(line.substr(0, colon)).empty())
      return std::nullopt;
    if (!text::trim(line.substr(star + 1)).empty()) return std::nullopt;
    auto value = text::trim(line.substr(colon + 1, star - colon - 1));  // "1800Mhz"
    std::size_t digits = 0;
    while (digits < value.size() && is_digit(value[digits])) ++digits;
    auto mhz = text::parse_u64(value.substr(0, digits));
    if (!mhz || *mhz > kMaxDpmMhz || !iequals(text::trim(value.substr(digits)), "mhz")) return std::nullopt;
    return static_cast<double>(*mhz) * 1e6;
  }
  return std::nullopt;
}

std::optional<double> parse_busy_ratio(std::string_view text) {
  auto v = text::parse_u64(text::trim(text));
  if (!v || *v > 100) return std::nullopt;
  return static_cast<double>(*v) / 100.0;
}

std::optional<GpuMetricsHeader> parse_gpu_metrics_header(std::string_view bytes) {
  // struct metrics_table_header { uint16_t structure_size; uint8_t
  // format_revision; uint8_t content_revision; } at the start of the binary
  // file; amdgpu_get_gpu_metrics() copies the table as the CPU holds it.
  if (bytes.size() < 4) return std::nullopt;
  GpuMetricsHeader h;
  std::memcpy(&h.structure_size, bytes.data(), sizeof h.structure_size);
  h.format_revision = static_cast<std::uint8_t>(bytes[2]);
  h.content_revision = static_cast<std::uint8_t>(bytes[3]);
  if (h.structure_size < 4 || h.format_revision == 0) return std::nullopt;
  return h;
}

// ---- The APU verdict ----
//
// amdgpu decides with its AMD_IS_APU flag, which sysfs does not show (only the
// AMDGPU_INFO ioctl does, as AMDGPU_IDS_FLAGS_FUSION). Each of these sysfs
// consequences of it is sufficient, checked in this order:
//
//  1. hwmon in1 labelled "vddnb": hwmon_attributes_visible() in
//     drivers/gpu/drm/amd/pm/amdgpu_pm.c hides in1_input/in1_label unless the
//     device is AMD_IS_APU ("only APUs have vddnb"; since MI300 support also
//     hidden on GC 9.4.3, so MI300A needs rule 3).
//  2. The GC (graphics) IP version in device/ip_discovery/die/0/GC/0/ is one
//     amdgpu_discovery_set_ip_blocks() (amdgpu_discovery.c) flags AMD_IS_APU.
//     Exists on chips enumerated by IP discovery (Navi and later).
//  3. The PCI device id is an APU's integrated GPU: the pciidlist entries with
//     AMD_IS_APU in amdgpu_drv.c (chips before IP discovery, Kaveri..Cyan
//     Skillfish), the APU ids of libdrm's data/amdgpu.ids for newer ones, and
//     MI300A (0x74a0), whose GC 9.4.3 it shares with the discrete MI300X: the
//     kernel tells those two apart only by the SMUIO package type.
//  4. Only when 1-3 say nothing (one read per card: it queries the SMU): the
//     gpu_metrics table is format 2 or 3. gpu_metrics_v2_x and v3_0 in
//     drivers/gpu/drm/amd/include/kgd_pp_interface.h are the APU layouts
//     ("gfx temperature on APUs", CPU core temperatures, smu_v14_0_0 writes
//     v3_0 for Strix); dGPUs and Instinct (MI300 included) write v1_x.
//
// Not used: the VRAM size (the Strix Halo BIOS carve-out ranges from 512 MB to
// 96 GB, dGPUs can have 4 GB), the PCI bus number (Strix Halo sits at c3:00.0),
// and mem_info_vram_vendor (absent whenever the VBIOS names no vendor).

bool is_apu_gc_version(const IpVersion& gc) {
  // amdgpu_discovery.c, the switch on GC_HWIP that sets adev->flags |= AMD_IS_APU
  // (Linux 7.0: up to 11.5.4; 11.5.6, 11.7.0 and 11.7.1 from the amd-gfx patches
  // that add them with the same flag).
  static constexpr IpVersion kApuGc[] = {
      {9, 1, 0},   {9, 2, 2},   {9, 3, 0},   {10, 1, 3},  {10, 1, 4},  {10, 3, 1},  {10, 3, 3},
      {10, 3, 6},  {10, 3, 7},  {11, 0, 1},  {11, 0, 4},  {11, 5, 0},  {11, 5, 1},  {11, 5, 2},
      {11, 5, 3},  {11, 5, 4},  {11, 5, 6},  {11, 7, 0},  {11, 7, 1},
  };
  return std::find(std::begin(kApuGc), std::end(kApuGc), gc) != std::end(kApuGc);
}

bool is_known_apu_pci_device(std::uint32_t id) {
  struct Range {
    std::uint32_t first, last;
  };
  static constexpr Range kApuIds[] = {
      {0x1304, 0x131d},  // Kaveri (amdgpu_drv.c CHIP_KAVERI|AMD_IS_APU)
      {0x9830, 0x983f},  // Kabini
      {0x9850, 0x985f},  // Mullins
      {0x9870, 0x9870}, {0x9874, 0x9877},  // Carrizo
      {0x98e4, 0x98e4},  // Stoney
      {0x15dd, 0x15dd}, {0x15d8, 0x15d8},  // Raven, Picasso / Raven2
      {0x15e7, 0x15e7}, {0x1636, 0x1636}, {0x1638, 0x1638}, {0x164c, 0x164c},  // Renoir, Barcelo, Cezanne, Lucienne
      {0x163f, 0x163f},  // Van Gogh (Steam Deck)
      {0x164d, 0x164d}, {0x1681, 0x1681},  // Yellow Carp / Rembrandt (Radeon 680M)
      {0x13fe, 0x13fe},  // Cyan Skillfish
      // IP-discovery chips, from libdrm data/amdgpu.ids:
      {0x1506, 0x1506},  // Mendocino (Radeon 610M)
      {0x164e, 0x164e},  // Raphael / Granite Ridge iGPU (Radeon 610M)
      {0x15bf, 0x15bf}, {0x15c8, 0x15c8},  // Phoenix, Phoenix2 (Radeon 780M/760M/740M)
      {0x1900, 0x1901},  // Hawk Point (Radeon 780M/760M/740M)
      {0x150e, 0x150e},  // Strix Point (Radeon 890M/880M)
      {0x1114, 0x1114},  // Krackan Point (Radeon 860M/840M)
      {0x1902, 0x1902},  // Radeon 840M/820M
      {0x1586, 0x1586},  // Strix Halo (Radeon 8060S/8050S/8040S)
      {0x74a0, 0x74a0},  // Instinct MI300A
  };
  return std::any_of(std::begin(kApuIds), std::end(kApuIds),
                     [id](const Range& r) { return id >= r.first && id <= r.last; });
}

AmdApuSignal amd_apu_signal(const AmdApuEvidence& e) {
  if (e.hwmon_vddnb) return AmdApuSignal::hwmon_vddnb;
  if (e.gc_version && is_apu_gc_version(*e.gc_version)) return AmdApuSignal::gc_version;
  if (e.pci_device_id && is_known_apu_pci_device(*e.pci_device_id)) return AmdApuSignal::pci_device_id;
  if (e.gpu_metrics && (e.gpu_metrics->format_revision == 2 || e.gpu_metrics->format_revision == 3))
    return AmdApuSignal::gpu_metrics;
  return AmdApuSignal::none;
}

// ---- The probe ----

// Facts of a card that hold while the same device stays bound to amdgpu; they
// are learnt again when its uevent (driver, PCI id and slot) changes.
struct GpuAmdgpuProbe::State {
  struct Card {
    std::string uevent;
    fs::path device;  // <sysfs>/class/drm/cardN/device
    std::optional<std::string> pci_bus_id, name, uuid;
    std::optional<fs::path> hwmon;
    std::vector<HwmonTemperature> temperatures;
    bool apu = false;
    bool seen = false;
  };
  std::map<std::string, Card> cards;
};

GpuAmdgpuProbe::GpuAmdgpuProbe() : state_(std::make_unique<State>()) {}
GpuAmdgpuProbe::~GpuAmdgpuProbe() = default;

namespace {

class Reader {
 public:
  explicit Reader(ProbeContext& ctx) : ctx_(ctx) {}

  // The file's content in ctx.scratch, or nullptr when it cannot be read.
  const std::string* raw(const fs::path& p) {
    if (ctx_.files.read(p, ctx_.scratch, FileCache::Read::attribute) != 0) return nullptr;
    return &ctx_.scratch;
  }
  std::optional<std::string> line(const fs::path& p) { return sysfs::read_attribute(ctx_.files, p, ctx_.scratch); }
  std::optional<std::uint64_t> u64(const fs::path& p) {
    auto* s = raw(p);
    return s ? text::parse_u64(text::trim(*s)) : std::nullopt;
  }
  template <typename Parse>
  std::optional<double> value(const fs::path& p, Parse parse) {
    auto* s = raw(p);
    return s ? parse(std::string_view(*s)) : std::nullopt;
  }
  FileCache& files() { return ctx_.files; }
  std::string& scratch() { return ctx_.scratch; }

 private:
  ProbeContext& ctx_;
};

std::optional<fs::path> find_hwmon(const fs::path& device) {
  for (const auto& name : sysfs::list_dir(device / "hwmon"))
    if (name.rfind("hwmon", 0) == 0) return device / "hwmon" / name;
  return std::nullopt;
}

std::optional<IpVersion> read_ip_version(Reader& rd, const fs::path& instance) {
  auto major = rd.u64(instance / "major"), minor = rd.u64(instance / "minor"), rev = rd.u64(instance / "revision");
  if (!major || !minor || !rev || *major > 255 || *minor > 255 || *rev > 255) return std::nullopt;
  return IpVersion{static_cast<unsigned>(*major), static_cast<unsigned>(*minor), static_cast<unsigned>(*rev)};
}

void learn(Reader& rd, GpuAmdgpuProbe::State::Card& c, const fs::path& card_dir) {
  const std::string_view uevent = c.uevent;
  c.device = card_dir / "device";
  const fs::path& dev = c.device;

  // The PCI address is the name of the device the link points to; a copied
  // tree without links still has it in the uevent.
  c.pci_bus_id.reset();
  std::error_code ec;
  auto canonical = fs::canonical(dev, ec);
  if (!ec && is_pci_address(canonical.filename().string())) {
    c.pci_bus_id = canonical.filename().string();
  } else if (auto slot = uevent_value(uevent, "PCI_SLOT_NAME"); slot && is_pci_address(*slot)) {
    c.pci_bus_id = std::string(*slot);
  }

  std::optional<std::uint32_t> device_id;
  if (auto s = rd.line(dev / "device")) {
    auto v = text::parse_hex(*s);
    if (v && *v <= 0xffff) device_id = static_cast<std::uint32_t>(*v);
  }
  if (!device_id) {
    if (auto pci_id = uevent_value(uevent, "PCI_ID")) device_id = parse_pci_id_device(*pci_id);
  }

  // product_name comes from the board's FRU EEPROM (server and Pro cards);
  // consumer cards leave it empty or do not have it.
  c.name.reset();
  if (auto product = rd.line(dev / "product_name"); product && !product->empty()) {
    c.name = std::move(*product);
  } else if (device_id) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "AMD GPU 0x%04x", *device_id);
    c.name = buf;
  }
  c.uuid.reset();
  if (auto uid = rd.line(dev / "unique_id"); uid && !uid->empty()) c.uuid = std::move(*uid);

  c.hwmon = find_hwmon(dev);
  c.temperatures = c.hwmon ? hwmon_temperatures(rd.files(), *c.hwmon, rd.scratch()) : std::vector<HwmonTemperature>{};

  AmdApuEvidence evidence;
  if (c.hwmon) {
    auto label = rd.line(*c.hwmon / "in1_label");
    evidence.hwmon_vddnb = label && *label == "vddnb";
  }
  evidence.gc_version = read_ip_version(rd, dev / "ip_discovery/die/0/GC/0");
  evidence.pci_device_id = device_id;
  if (amd_apu_signal(evidence) == AmdApuSignal::none) {
    if (const auto* bytes = rd.raw(dev / "gpu_metrics")) evidence.gpu_metrics = parse_gpu_metrics_header(*bytes);
  }
  c.apu = amd_apu_signal(evidence) != AmdApuSignal::none;
}

}  // namespace

ProbeOutcome GpuAmdgpuProbe::sample(ProbeContext& ctx, Snapshot& out) {
  const fs::path cls = ctx.roots.sys("class/drm");
  std::error_code ec;
  if (!fs::is_directory(cls, ec)) return ProbeOutcome::no_data();
  Reader rd(ctx);
  for (auto& [name, card] : state_->cards) card.seen = false;

  GpuInventory inv;
  std::optional<std::string> driver_version;
  bool driver_version_read = false;
  for (const auto& name : sysfs::list_dir(cls)) {
    if (!is_drm_card_name(name)) continue;
    const fs::path card_dir = cls / name;
    const std::string* uevent = rd.raw(card_dir / "device/uevent");
    if (!uevent || uevent_value(*uevent, "DRIVER") != "amdgpu") continue;

    auto& c = state_->cards[name];
    c.seen = true;
    if (c.uevent != *uevent || c.device.empty()) {
      c.uevent = *uevent;
      learn(rd, c, card_dir);
    }
    if (!driver_version_read) {
      // Only an out-of-tree (DKMS) amdgpu has a module version.
      driver_version = rd.line(ctx.roots.sys("module/amdgpu/version"));
      if (driver_version && driver_version->empty()) driver_version.reset();
      driver_version_read = true;
    }

    const fs::path& dev = c.device;
    GpuReading g;
    g.id = name;
    g.vendor = "amd";
    // An APU's "VRAM" is a BIOS carve-out of system RAM and its GTT is system
    // RAM too: both stay separate tiers, never one summed GPU memory figure.
    g.memory_model = c.apu ? "unified" : "discrete";
    g.power_includes_cpu = c.apu;  // APU hwmon power is the package (socket) power
    g.pci_bus_id = c.pci_bus_id;
    g.name = c.name;
    g.uuid = c.uuid;
    g.driver_version = driver_version;

    g.vram_total_bytes = rd.u64(dev / "mem_info_vram_total");
    g.vram_used_bytes = rd.u64(dev / "mem_info_vram_used");
    g.visible_vram_total_bytes = rd.u64(dev / "mem_info_vis_vram_total");
    g.visible_vram_used_bytes = rd.u64(dev / "mem_info_vis_vram_used");
    g.gtt_total_bytes = rd.u64(dev / "mem_info_gtt_total");
    g.gtt_used_bytes = rd.u64(dev / "mem_info_gtt_used");

    g.utilization_ratio = rd.value(dev / "gpu_busy_percent", parse_busy_ratio);
    g.memory_utilization_ratio = rd.value(dev / "mem_busy_percent", parse_busy_ratio);
    g.graphics_clock_hz = rd.value(dev / "pp_dpm_sclk", parse_pp_dpm_current_hz);
    g.memory_clock_hz = rd.value(dev / "pp_dpm_mclk", parse_pp_dpm_current_hz);

    if (c.hwmon) {
      const fs::path& h = *c.hwmon;
      // power1_average is the averaged board/socket power; parts without it
      // (most APUs on recent kernels) report power1_input.
      g.power_watts = rd.value(h / "power1_average", parse_hwmon_micro);
      if (!g.power_watts) g.power_watts = rd.value(h / "power1_input", parse_hwmon_micro);
      g.energy_joules = rd.value(h / "energy1_input", parse_hwmon_micro);
      for (const auto& t : c.temperatures) {
        if (auto celsius = rd.value(h / (t.base + "_input"), parse_hwmon_millicelsius))
          g.temperatures.push_back({t.label, *celsius});
      }
    }
    inv.gpus.push_back(std::move(g));
  }
  std::erase_if(state_->cards, [](const auto& entry) { return !entry.second.seen; });

  if (inv.gpus.empty()) return ProbeOutcome::no_data();
  out.put(kGpuAmdgpu, std::move(inv));
  return ProbeOutcome::ok();
}

constinit const ProbeRegistration kGpuAmdgpuProbe{
    .name = "gpu_amdgpu",
    .make = [](const ProbeSettings&) -> std::unique_ptr<Probe> { return std::make_unique<GpuAmdgpuProbe>(); },
    .render =
        [](const Snapshot& snap, MetricWriter& w) {
          if (const auto* inv = snap.get(kGpuAmdgpu)) render_gpus(*inv, snap.get(kWorkload), w);
        },
};

}  // namespace tierscope

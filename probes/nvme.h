#pragma once
// NVMe controllers and namespaces from sysfs (/sys/class/nvme), with the PCI
// identity behind each controller's `device` link: the part that needs no
// privilege. Identify Controller and the SMART/health log (Log Identifier
// 02h) come from admin commands on the controller's character device
// (<devfs>/nvmeX) through an NvmeAdminChannel: libnvme ioctls in
// probes/nvme_libnvme.h, a fake in the tests. Those need CAP_SYS_ADMIN; without
// it (or without the device node) the health series are absent and the sysfs
// part still works. The bytes they return are parsed here, by pure functions.

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/logging.h"
#include "probes/probe.h"
#include "probes/registry.h"
#include "probes/snapshot.h"

namespace tierscope {

class MetricWriter;
struct OffloadVerdict;

inline constexpr std::uint32_t kPhisonPciVendor = 0x1987;

struct NvmeNamespace {
  std::string name;          // sysfs directory: nvme0n1, or nvme0c0n1 under native multipath
  std::string block_device;  // the block device that serves it: nvme0n1
  std::optional<std::uint64_t> size_bytes;  // `size` (512-byte sectors) x 512
};

inline constexpr std::size_t kNvmeIdentifySize = 4096;  // Identify Controller data structure
inline constexpr std::size_t kNvmeSmartLogSize = 512;   // SMART / Health Information log page

// An unsigned 128-bit counter of the health log, as the drive reports it.
struct NvmeU128 {
  std::uint64_t lo = 0, hi = 0;  // value = hi x 2^64 + lo
  bool operator==(const NvmeU128&) const = default;
};

// value rounded to the nearest double (ties to even): exact below 2^53, and
// the one correctly rounded double above (not hi x 2^64 + lo in doubles,
// which rounds twice).
double nvme_u128_to_double(NvmeU128 value);
// value x factor, computed exactly (160 bits) and then rounded once.
double nvme_u128_times(NvmeU128 value, std::uint32_t factor);

// Identify Controller (CNS 01h), the fields we export. Strings are ASCII,
// space padded in the structure; padding (spaces, NULs) is trimmed at both
// ends, as the sysfs attributes are read.
struct NvmeIdentify {
  std::uint16_t vid = 0;    // bytes 0-1: PCI vendor id
  std::uint16_t ssvid = 0;  // bytes 2-3: PCI subsystem vendor id
  std::string serial;       // bytes 4-23 (SN)
  std::string model;        // bytes 24-63 (MN)
  std::string firmware;     // bytes 64-71 (FR)
  bool operator==(const NvmeIdentify&) const = default;
};

// SMART / Health Information log page (Log Identifier 02h), NVMe Base
// Specification 2.0 figure 207; every multi-byte field little-endian. The page
// has a fixed layout, so a parsed page has every field; only temperatures
// that the drive does not implement (0 K) are absent.
struct NvmeHealth {
  std::uint8_t critical_warning = 0;                      // byte 0, bit field
  std::optional<std::uint16_t> composite_temperature_k;   // bytes 1-2, kelvin; absent when 0
  std::uint8_t available_spare_percent = 0;               // byte 3
  std::uint8_t available_spare_threshold_percent = 0;     // byte 4
  std::uint8_t percentage_used = 0;                       // byte 5, percent of rated life (may exceed 100, max 255)
  NvmeU128 data_units_read, data_units_written;           // bytes 32-47, 48-63: units of 1000 x 512 bytes
  NvmeU128 host_read_commands, host_write_commands;       // bytes 64-79, 80-95
  NvmeU128 controller_busy_minutes;                       // bytes 96-111
  NvmeU128 power_cycles;                                  // bytes 112-127
  NvmeU128 power_on_hours;                                // bytes 128-143
  NvmeU128 unsafe_shutdowns;                              // bytes 144-159
  NvmeU128 media_errors;                                  // bytes 160-175: media and data integrity errors
  NvmeU128 error_log_entries;                             // bytes 176-191: error information log entries
  std::uint32_t warning_temperature_minutes = 0;          // bytes 192-195
  std::uint32_t critical_temperature_minutes = 0;         // bytes 196-199
  std::array<std::optional<std::uint16_t>, 8> sensor_temperature_k;  // bytes 200-215, sensors 1-8; absent when 0
  bool operator==(const NvmeHealth&) const = default;
};

// nullopt unless `data` is exactly kNvmeIdentifySize / kNvmeSmartLogSize bytes.
std::optional<NvmeIdentify> parse_nvme_identify_controller(std::span<const std::uint8_t> data);
std::optional<NvmeHealth> parse_nvme_smart_log(std::span<const std::uint8_t> page);

// NVMe reports integer kelvin; Celsius is K - 273, as nvme-cli (smart-log)
// and smartctl print it and smartctl_exporter exports it, so the numbers
// match what field engineers compare them with.
inline double nvme_kelvin_to_celsius(std::uint16_t kelvin) { return static_cast<double>(kelvin) - 273.0; }

// How the last attempt to read a controller's admin data went. Carried in the
// snapshot so the sampler can log changes (probes have no logger).
struct NvmeAdminStatus {
  // "" when the health log (and Identify) were read; otherwise one sentence
  // for the log: "health log not readable: /dev/nvme0: Permission denied; run
  // as root or grant CAP_SYS_ADMIN (...)".
  std::string problem;
  double age_seconds = 0;  // since that attempt (reads are cached for the health interval)
  bool operator==(const NvmeAdminStatus&) const = default;
};

struct NvmeController {
  std::string name;  // nvme0
  std::optional<std::string> model, serial, firmware, state, transport, address;
  std::optional<std::uint32_t> pci_vendor, pci_device, pci_subsystem_vendor;
  std::vector<NvmeNamespace> namespaces;
  // Admin data; all absent when no read was attempted (no channel, health
  // reads off). health/identify are absent when their read failed.
  std::optional<NvmeAdminStatus> admin;
  std::optional<NvmeIdentify> identify;
  std::optional<NvmeHealth> health;
};

struct NvmeInventory {
  std::vector<NvmeController> controllers;
};

// "nvme0c1n2" -> "nvme0n2"; "nvme0n1" -> "nvme0n1"; nullopt for anything that
// is not a namespace name.
std::optional<std::string> nvme_namespace_block_device(std::string_view name);
bool is_nvme_controller_name(std::string_view name);

// What one admin command returned: the data, or why there is none.
struct NvmeAdminReply {
  std::vector<std::uint8_t> data;  // Identify: 4096 bytes; health log: 512 bytes
  int errnum = 0;                  // errno of a failed open/ioctl (EACCES, EPERM, ENOENT, ...); 0 otherwise
  std::string error;               // "" on success, else the device path and what failed
  bool ok() const { return error.empty(); }
  static NvmeAdminReply failure(int errnum, std::string error) { return {{}, errnum, std::move(error)}; }
};

// The seam to the controller: admin commands on <devfs>/<controller>.
// libnvme in probes/nvme_libnvme.h; tests plug in a fake returning literal pages.
class NvmeAdminChannel {
 public:
  virtual ~NvmeAdminChannel() = default;
  virtual NvmeAdminReply identify_controller(const HostRoots& roots, std::string_view controller) = 0;
  virtual NvmeAdminReply smart_log(const HostRoots& roots, std::string_view controller) = 0;
};

// What to do about a failed open/ioctl, appended to the log line ("" when
// there is nothing to suggest).
std::string_view nvme_admin_hint(int errnum);

// Config section `nvme`.
struct NvmeSettings {
  // Cadence of the admin reads (Identify, health log); 0 = never read them.
  std::chrono::milliseconds health_interval{30'000};
  bool operator==(const NvmeSettings&) const = default;
};

class NvmeProbe final : public Probe {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  // Without a channel, or with an interval of 0, only sysfs is read. A
  // controller's admin data is read on the first sample that sees it, then
  // once per `health_interval` (failed reads too: a missing privilege is not
  // retried every tick); samples in between carry the cached reading.
  explicit NvmeProbe(std::shared_ptr<NvmeAdminChannel> admin = nullptr,
                     std::chrono::milliseconds health_interval = NvmeSettings{}.health_interval,
                     Clock clock = [] { return std::chrono::steady_clock::now(); });
  std::string_view name() const override { return "nvme"; }
  ProbeOutcome sample(ProbeContext& ctx, Snapshot& out) override;

 private:
  struct Cached {
    std::chrono::steady_clock::time_point read_at{};
    std::optional<NvmeIdentify> identify;
    std::optional<NvmeHealth> health;
    std::string problem;
  };
  void read_admin(const HostRoots& roots, NvmeController& c, Cached& cache);

  std::shared_ptr<NvmeAdminChannel> admin_;
  std::chrono::milliseconds health_interval_;
  Clock clock_;
  std::map<std::string, Cached> cache_;  // by controller name
};

// Identity, state and namespaces, and the admin data (Identify, health log)
// where it was read; the phison label comes from the verdict.
void render_nvme(const NvmeInventory& inv, const OffloadVerdict& verdict, MetricWriter& w);

// What the nvme probe puts in the snapshot.
inline constexpr ReadingKey<NvmeInventory> kNvme{"nvme"};

// Logs changes in whether each NVMe controller's admin data (Identify, health
// log) could be read: one warning when a read fails (and when the reason
// changes), one info line when it works again; nothing while it stays the
// same. A post-sample step, so its memory outlives a reload (which re-creates
// the probes).
class NvmeAdminLog final : public PostSampleStep {
 public:
  void observe(const Snapshot& snap, Logger& log);
  void configure(const SamplerConfig&) override {}
  void run(Snapshot& snap, Logger& log) override { observe(snap, log); }

 private:
  std::map<std::string, std::string> last_;  // controller -> problem ("" = readable)
};

// The registration entries (probes/registry.h).
extern const ProbeRegistration kNvmeProbe;
extern const PostSampleRegistration kNvmeAdminLogStep;

}  // namespace tierscope

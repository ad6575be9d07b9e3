#pragma once
// CPU energy and temperatures: the powercap RAPL energy counters
// (<sysfs>/class/powercap/intel-rapl:N[:M], also amd-rapl:*; AMD CPUs appear
// under the intel-rapl names on recent kernels), the hwmon temperatures of
// the CPU's own sensor drivers (coretemp, k10temp, zenpower, cpu_thermal) and
// the x86 thermal throttle counters (<sysfs>/devices/system/cpu/cpuN/
// thermal_throttle). Each part is absent where the host lacks it or cannot be
// read; docs/metrics.md says what each series means.
//
// The energy counter. energy_uj is a wrapping counter of the zone's energy in
// microjoules whose range is max_energy_range_uj (Documentation/power/
// powercap/powercap.rst: "Range of the above energy counter in
// micro-joules"). The RAPL driver reports there the largest value the counter
// can show (ENERGY_STATUS_MASK converted to µJ), so the counter takes the
// values 0 ... max_energy_range_uj inclusive and between two readings the zone
// used
//     (raw - last) mod (max_energy_range_uj + 1)  microjoules.
// The hardware wraps at 2^32 energy units, one unit (about 61 µJ) above the
// range: a wrap may be off by that much. Two wraps between readings cannot be
// told from one (about 262 kJ per wrap: 14 minutes at 300 W); the sampler
// reads far more often. A write of 0 to energy_uj (root) looks like a wrap.
// tierscope_cpu_energy_joules_total counts from 0 at the first reading of the
// zone: a restarted daemon then looks like a counter reset, which Prometheus'
// rate() handles exactly, where starting from the raw value would add the raw
// value as a spurious increase.
//
// energy_uj is readable by root only since Linux 5.10 (CVE-2020-8694,
// "Platypus"): unprivileged, the energy series are absent and the reason is
// logged once (power_log below); the probe still succeeds.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "probes/probe.h"
#include "probes/registry.h"
#include "probes/snapshot.h"

namespace tierscope {

class MetricWriter;

struct RaplZone {
  std::string zone;       // label: the name file ("package-0", "dram"), made unique ("package-1/core")
  std::string directory;  // "intel-rapl:0:0"
  double energy_joules = 0;                        // counted since the first reading of the zone
  std::optional<std::uint64_t> max_energy_range_uj;  // absent: wraps cannot be corrected
};

struct CpuTemperature {
  std::string chip;    // hwmon name, made unique ("coretemp/coretemp.1")
  std::string sensor;  // temp*_label ("Package id 0", "Core 4", "Tctl"), else "temp1"
  double celsius = 0;
  std::optional<double> max_celsius, critical_celsius;  // temp*_max, temp*_crit
};

struct Power {
  std::vector<RaplZone> zones;  // only zones whose energy_uj was read
  std::vector<CpuTemperature> temperatures;
  // Thermal throttle events. core: core_throttle_count summed over the CPUs;
  // package: package_throttle_count of each package (its CPUs each keep a
  // copy: the highest one), summed over the packages. Absent without
  // thermal_throttle directories (not x86, or no Intel thermal interrupt).
  std::optional<std::uint64_t> core_throttle_total, package_throttle_total;
  // Why RAPL energy_uj could not be read for lack of permission ("" when it
  // could, or when there is no RAPL): logged once by the power_log step.
  std::string energy_problem;
};

// Microjoules used between two readings of energy_uj, `last` then `now`, with
// the wrap at `max_energy_range_uj` (inclusive, see above). nullopt when the
// counter went backwards and no usable range is known (missing, or below
// `last`): the increase is unknowable and the reading becomes the new base.
std::optional<std::uint64_t> rapl_energy_delta_uj(std::uint64_t last, std::uint64_t now,
                                                  std::optional<std::uint64_t> max_energy_range_uj);

// Labels of powercap zones. Each entry: the zone's `name` file (or its
// directory name when that is unreadable) and its parent's (empty for a top
// zone). A name used once is the label; a repeated subzone name is prefixed
// with its parent's ("package-0/core"); what still repeats becomes the
// directory name, which is unique.
struct ZoneName {
  std::string directory, name, parent_name;
};
std::vector<std::string> unique_zone_labels(const std::vector<ZoneName>& zones);

class PowerProbe final : public Probe {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  // How often the zones, sensors and CPUs are looked for again (a module
  // loaded, a CPU brought online); what is known is read every sample.
  static constexpr std::chrono::seconds kRediscoverAfter{60};
  // How often the thermal throttle counts are read: two files per CPU (384
  // reads on a 192-CPU host, about 190 µs) for counters of rare events; in
  // between, the last counts are exported again.
  static constexpr std::chrono::seconds kThrottleReadEvery{10};

  explicit PowerProbe(Clock clock = [] { return std::chrono::steady_clock::now(); });
  ~PowerProbe() override;
  std::string_view name() const override { return "power"; }
  ProbeOutcome sample(ProbeContext& ctx, Snapshot& out) override;

  struct State;  // what was discovered and the energy counted so far (power.cpp)

 private:
  std::unique_ptr<State> state_;
  Clock clock_;
};

void render_power(const Power& p, MetricWriter& w);

// Logs, once per change, that RAPL energy cannot be read (and when it can
// again).
class PowerLog final : public PostSampleStep {
 public:
  void observe(const Snapshot& snap, Logger& log);
  void configure(const SamplerConfig&) override {}
  void reset() override { last_.clear(); }
  void run(Snapshot& snap, Logger& log) override { observe(snap, log); }

 private:
  std::string last_;
};

// What the power probe puts in the snapshot.
inline constexpr ReadingKey<Power> kPower{"power"};

// The registration entries (probes/registry.h).
extern const ProbeRegistration kPowerProbe;
extern const PostSampleRegistration kPowerLogStep;

}  // namespace tierscope

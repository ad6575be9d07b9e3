#pragma once
// /proc/vmstat: the paging and swapping counters of the memory-tier view.

#include <cstdint>
#include <optional>
#include <string_view>

#include "probes/probe.h"
#include "probes/snapshot.h"

namespace tierscope {

struct ProbeRegistration;

class MetricWriter;

struct VmStat {
  std::optional<std::uint64_t> pswpin;      // pages
  std::optional<std::uint64_t> pswpout;     // pages
  std::optional<std::uint64_t> pgmajfault;  // faults
  std::optional<std::uint64_t> pgpgin;      // KiB
  std::optional<std::uint64_t> pgpgout;     // KiB
  std::optional<std::uint64_t> oom_kill;    // kills (kernel 4.13+)
};

// Lines "name value"; unknown names ignored, malformed lines skipped.
VmStat parse_vmstat(std::string_view text);

class VmStatProbe final : public Probe {
 public:
  std::string_view name() const override { return "vmstat"; }
  ProbeOutcome sample(ProbeContext& ctx, Snapshot& out) override;
};

void render_vmstat(const VmStat& v, MetricWriter& w);

// What the vmstat probe puts in the snapshot.
inline constexpr ReadingKey<VmStat> kVmstat{"vmstat"};

// The registration entry (probes/registry.h).
extern const ProbeRegistration kVmstatProbe;

}  // namespace tierscope

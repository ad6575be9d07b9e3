#pragma once
// /proc/meminfo: every field, in bytes where the kernel gives kB.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "probes/probe.h"
#include "probes/snapshot.h"

namespace tierscope {

struct ProbeRegistration;

class MetricWriter;

struct MemInfo {
  struct Field {
    std::string name;           // as the kernel spells it, e.g. "Active(anon)"
    std::uint64_t value = 0;    // bytes when `bytes`, else a plain count (HugePages_*)
    bool bytes = false;
  };
  std::vector<Field> fields;    // in file order

  std::optional<std::uint64_t> get(std::string_view name) const;
};

// Lines "Name:   <value> [kB]". Malformed lines are skipped; a value whose
// byte count would overflow 64 bits is skipped.
MemInfo parse_meminfo(std::string_view text);

class MemInfoProbe final : public Probe {
 public:
  std::string_view name() const override { return "meminfo"; }
  ProbeOutcome sample(ProbeContext& ctx, Snapshot& out) override;
};

// Metric name part for a field: snake_case of the kernel's name.
std::string meminfo_metric_suffix(std::string_view field);

void render_meminfo(const MemInfo& m, MetricWriter& w);

// What the meminfo probe puts in the snapshot.
inline constexpr ReadingKey<MemInfo> kMeminfo{"meminfo"};

// The registration entry (probes/registry.h).
extern const ProbeRegistration kMeminfoProbe;

}  // namespace tierscope

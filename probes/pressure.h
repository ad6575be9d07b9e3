#pragma once
// Pressure stall information, /proc/pressure/{cpu,memory,io,irq} (kernel 4.20+,
// CONFIG_PSI). A kernel without PSI, or booted with psi=0, is "no data".

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

struct PressureLine {
  double avg10 = 0, avg60 = 0, avg300 = 0;  // percent of wall time
  std::uint64_t total_us = 0;               // cumulative stall, microseconds
};

struct PressureResource {
  std::string resource;  // cpu, memory, io, irq
  std::optional<PressureLine> some;
  std::optional<PressureLine> full;  // cpu "full" needs kernel 5.13+; irq has only "full"
};

struct Pressure {
  std::vector<PressureResource> resources;
};

// One file's content: lines "some|full avg10=X avg60=Y avg300=Z total=N". A
// line missing total= or with an unparsable value is dropped; unknown keys are
// tolerated (newer kernels may add some).
PressureResource parse_pressure(std::string_view resource, std::string_view text);

class PressureProbe final : public Probe {
 public:
  std::string_view name() const override { return "pressure"; }
  ProbeOutcome sample(ProbeContext& ctx, Snapshot& out) override;
};

void render_pressure(const Pressure& p, MetricWriter& w);

// What the pressure probe puts in the snapshot.
inline constexpr ReadingKey<Pressure> kPressure{"pressure"};

// The registration entry (probes/registry.h).
extern const ProbeRegistration kPressureProbe;

}  // namespace tierscope

#pragma once
// Every probe and every post-sample step the sampler knows, each described by
// one registration entry that lives in the probe's own file:
//
//   name                the `probes:` key in tierscope.yaml, the `probe` label
//                       of tierscope_probe_success, the log name
//   enabled_by_default  its value when `probes:` does not name it
//   section             the config section it reads (null: none)
//   after               probes whose readings it reads while sampling: it runs
//                       after them (an ordering, not a requirement: a disabled
//                       dependency just leaves its reading absent)
//   make                builds the probe from the parsed settings
//   render              its metrics, from a finished snapshot
//
// The sampler runs the enabled probes in an order derived from `after` (ties
// keep the order of the table in registry.cpp), then the post-sample steps in
// the order of their list. docs/architecture.md says how to add a probe.

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/logging.h"
#include "core/metric_writer.h"
#include "probes/probe.h"
#include "probes/settings.h"
#include "probes/snapshot.h"

namespace tierscope {

struct SamplerConfig;

struct ProbeRegistration {
  std::string_view name;
  bool enabled_by_default = true;
  const ConfigSection* section = nullptr;
  std::span<const std::string_view> after = {};
  std::unique_ptr<Probe> (*make)(const ProbeSettings& settings) = nullptr;
  void (*render)(const Snapshot& snap, MetricWriter& w) = nullptr;
};

// Work done on the whole snapshot once every probe has run: derivations that
// need several probes' readings (the offload verdict needs nvme and swaps) or
// the history of samples (peaks), and the log lines about what changed. A
// step object lives as long as the sampler, across reloads.
class PostSampleStep {
 public:
  virtual ~PostSampleStep() = default;
  // The config in force; called before the first run and after each reload.
  virtual void configure(const SamplerConfig& config) = 0;
  // The roots changed: forget what earlier samples (of another host) left.
  virtual void reset() {}
  virtual void run(Snapshot& snap, Logger& log) = 0;
};

struct PostSampleRegistration {
  std::string_view name;
  const ConfigSection* section = nullptr;
  std::unique_ptr<PostSampleStep> (*make)() = nullptr;
  void (*render)(const Snapshot& snap, MetricWriter& w) = nullptr;  // null: renders nothing
};

// A set of probes and post-sample steps. The sampler, the config reader and
// the renderer work from one (a snapshot remembers which made it); `builtin()`
// is the table in registry.cpp, and tests build their own around it.
struct ProbeRegistry {
  std::vector<const ProbeRegistration*> probes;     // in table order
  std::vector<const PostSampleRegistration*> steps;  // in the order they run

  // The config sections of all of them, each once, in table order.
  std::vector<const ConfigSection*> sections() const;
  const ProbeRegistration* find(std::string_view name) const;

  static const ProbeRegistry& builtin();
};

// `probes` in an order where each one comes after every probe of `after`
// that is in the list; among probes free to go, table order. Throws
// std::logic_error naming the probes of a dependency cycle.
std::vector<const ProbeRegistration*> run_order(std::vector<const ProbeRegistration*> probes);

}  // namespace tierscope

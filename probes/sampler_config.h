#pragma once
// What the sampler runs and how: the cadence, the peak window, where the host
// is read from, which probes are on, and each probe's settings. The daemon's
// config file holds these keys beside its own (listen, log_level); other
// commands that sample (probe, later soak) read the same keys the same way.

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/host_roots.h"
#include "core/yaml_reader.h"
#include "probes/settings.h"

namespace tierscope {

struct ProbeRegistry;

inline constexpr std::chrono::milliseconds kMinInterval{100};
inline constexpr std::chrono::milliseconds kMaxInterval{60'000};
inline constexpr std::chrono::milliseconds kMaxPeakWindow{600'000};

struct SamplerConfig {
  std::chrono::milliseconds sample_interval{1000};
  std::chrono::milliseconds peak_window{15'000};
  HostRoots roots;
  std::map<std::string, bool> probes;  // every registered probe -> enabled
  ProbeSettings settings;              // what each config section said
  const ProbeRegistry* registry;       // the probes and steps these keys are about

  // Every probe of `registry` at its default (enabled_by_default).
  SamplerConfig();  // ProbeRegistry::builtin()
  explicit SamplerConfig(const ProbeRegistry& registry);
  bool probe_enabled(std::string_view name) const;
  std::size_t enabled_probe_count() const;
  // The settings of one section (its defaults when the file has none).
  template <typename T>
  const T& section() const {
    return settings.get<T>();
  }
};

// Reads the sampler's top-level keys of a config file. The caller owns the
// document and its other keys: it lists keys() among the known ones, hands
// each sampler key to read(), and calls finish() after the last key.
class SamplerConfigReader {
 public:
  SamplerConfigReader(const YamlReader& reader, SamplerConfig& out) : p_(reader), c_(out) {}

  // sample_interval, peak_window, roots, probes, then each config section of
  // the registry's probes and post-sample steps.
  std::vector<std::string_view> keys() const;

  void read(const std::string& key, const std::string& full, const YAML::Node& value);
  // Checks across keys (peak_window ≥ sample_interval); `document` is the
  // mark of the whole document, for a message when peak_window was not given.
  void finish(const YAML::Mark& document);

 private:
  const YamlReader& p_;
  SamplerConfig& c_;
  std::optional<YAML::Mark> window_mark_;
};

}  // namespace tierscope

#include "probes/sampler_config.h"

#include "core/text.h"
#include "core/duration.h"
#include "probes/registry.h"

namespace tierscope {

SamplerConfig::SamplerConfig() : SamplerConfig(ProbeRegistry::builtin()) {}

SamplerConfig::SamplerConfig(const ProbeRegistry& r) : registry(&r) {
  for (const auto* p : r.probes) probes.emplace(std::string(p->name), p->enabled_by_default);
}

bool SamplerConfig::probe_enabled(std::string_view name) const {
  auto it = probes.find(std::string(name));
  return it != probes.end() && it->second;
}

std::size_t SamplerConfig::enabled_probe_count() const {
  std::size_t n = 0;
  for (const auto& [name, on] : probes) n += on ? 1 : 0;
  return n;
}

std::vector<std::string_view> SamplerConfigReader::keys() const {
  std::vector<std::string_view> keys{"sample_interval", "peak_window", "roots", "probes"};
  for (const auto* s : c_.registry->sections()) keys.push_back(s->key);
  return keys;
}

void SamplerConfigReader::read(const std::string& key, const std::string& full, const YAML::Node& v) {
  if (key == "sample_interval") {
    c_.sample_interval = p_.duration(v, full, kMinInterval, kMaxInterval);
  } else if (key == "peak_window") {
    c_.peak_window = p_.duration(v, full, kMinInterval, kMaxPeakWindow);
    window_mark_ = v.Mark();
  } else if (key == "roots") {
    p_.each_key(v, full, {"procfs", "sysfs", "devfs"}, [&](const std::string& k, const std::string& f, const YAML::Node& n) {
      auto dir = p_.scalar(n, f, "a directory path");
      if (dir.empty() || dir.front() != '/') p_.fail(n.Mark(), f, "expected an absolute directory path, got " + text::quoted(dir));
      (k == "procfs" ? c_.roots.procfs : k == "sysfs" ? c_.roots.sysfs : c_.roots.devfs) = dir;
    });
  } else if (key == "probes") {
    std::vector<std::string_view> names;
    for (const auto* p : c_.registry->probes) names.push_back(p->name);
    p_.each_key(v, full, names, [&](const std::string& k, const std::string& f, const YAML::Node& n) {
      c_.probes[k] = p_.boolean(n, f);
    });
  } else {
    for (const auto* s : c_.registry->sections())
      if (s->key == key) return s->parse(p_, v, full, c_.settings);
    p_.fail(v.Mark(), full, "not a sampler key");  // the caller listed keys() as known: not reached
  }
}

void SamplerConfigReader::finish(const YAML::Mark& document) {
  if (c_.peak_window < c_.sample_interval)
    p_.fail(window_mark_.value_or(document), "peak_window",
            "expected at least sample_interval (" + format_duration(c_.sample_interval) + "), got " +
                format_duration(c_.peak_window));
}

}  // namespace tierscope

#pragma once
// Each probe's (and post-sample step's) settings, parsed from its own config
// section by the code in its own file. The sampler's config holds them in a
// ProbeSettings bag, one value per settings type, so adding a probe adds no
// field anywhere else.

#include <yaml-cpp/yaml.h>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <typeindex>
#include <utility>

#include "core/yaml_reader.h"

namespace tierscope {

class ProbeSettings {
 public:
  // The settings of type T: what its section said, or T's defaults when the
  // config file has no such section.
  template <typename T>
  const T& get() const {
    auto it = values_.find(std::type_index(typeid(T)));
    if (it == values_.end()) {
      static const T defaults{};
      return defaults;
    }
    return *static_cast<const T*>(it->second.get());
  }

  template <typename T>
  void set(T value) {
    values_[std::type_index(typeid(T))] = std::make_shared<const T>(std::move(value));
  }

 private:
  // Values are immutable once set: copies of the bag share them.
  std::map<std::type_index, std::shared_ptr<const void>> values_;
};

// A top-level section of tierscope.yaml that belongs to a probe or a
// post-sample step: its key, and the parser that reads the section's node
// (strictly: unknown keys and bad values fail through the reader, naming
// `key`) into the bag. Several probes may read one section's settings (the
// gpu section: cadence of the workload's process scans).
struct ConfigSection {
  std::string_view key;
  void (*parse)(const YamlReader& reader, const YAML::Node& node, const std::string& key, ProbeSettings& out);
};

}  // namespace tierscope

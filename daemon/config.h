#pragma once
// The daemon's configuration (config/tierscope.yaml documents every key).
// Parsing is strict: unknown keys, wrong types and out-of-range values are
// errors that name the file, line, column and key, say what was expected, and
// suggest the nearest known key for a misspelt one.

#include <chrono>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/host_roots.h"
#include "core/logging.h"
#include "probes/gpu_nvml.h"
#include "probes/nvme.h"
#include "probes/offload.h"
#include "probes/workload.h"

namespace tierscope {

inline constexpr std::chrono::milliseconds kMinInterval{100};
inline constexpr std::chrono::milliseconds kMaxInterval{60'000};
inline constexpr std::chrono::milliseconds kMaxPeakWindow{600'000};
inline constexpr std::chrono::milliseconds kMinNvmeHealthInterval{1'000};
inline constexpr std::chrono::milliseconds kMaxNvmeHealthInterval{3'600'000};

struct Config {
  std::chrono::milliseconds sample_interval{1000};
  std::chrono::milliseconds peak_window{15'000};
  std::string listen{"127.0.0.1:9847"};
  LogLevel log_level = LogLevel::info;
  HostRoots roots;
  std::map<std::string, bool> probes;  // every known probe name -> enabled
  std::string device_include;          // regex; empty = every device
  std::string device_exclude;          // regex; empty = none
  OffloadSelection offload;
  NvmeSettings nvme;            // config section nvme
  NvmlSettings nvml;            // config section gpu
  WorkloadSelection workload;   // config section workload

  Config();  // the defaults, as documented in config/tierscope.yaml
  bool probe_enabled(std::string_view name) const;
};

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// `file` is used in messages only. Throws ConfigError.
Config parse_config(std::string_view yaml, const std::string& file);
// Reads and parses; an unreadable file is a ConfigError too.
Config load_config(const std::string& path);

}  // namespace tierscope

#pragma once
// The daemon's configuration (config/tierscope.yaml documents every key): the
// sampler's keys (probes/sampler_config.h: cadence, roots, probes and each
// probe's section) plus the daemon's own, listen and log_level.
// Parsing is strict: unknown keys, wrong types and out-of-range values are
// errors that name the file, line, column and key, say what was expected, and
// suggest the nearest known key for a misspelt one.

#include <stdexcept>
#include <string>
#include <string_view>

#include <optional>

#include "core/logging.h"
#include "exporters/recorder.h"
#include "probes/sampler_config.h"

namespace tierscope {

struct Config : SamplerConfig {
  std::string listen{"127.0.0.1:9847"};
  LogLevel log_level = LogLevel::info;
  std::string web_config_file;  // TLS and basic auth (exporters/web_config.h); "": plain HTTP
  std::optional<RecorderOptions> record;  // continuous recording of every sample; nullopt: off
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

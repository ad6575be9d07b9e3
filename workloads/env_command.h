#pragma once
// `tierscope env [--format yaml|json] [--model PATH] [--os-release FILE]
// [--config FILE] [--procfs DIR --sysfs DIR --devfs DIR]`: prints the audit
// manifest of this machine (workloads/manifest.h), and of a model file with
// --model, without running anything.

#include <optional>
#include <string>

#include "probes/sampler_config.h"

namespace tierscope::workloads {

struct EnvArgs {
  SamplerConfig sampler;             // the probe set and roots, as `tierscope probe` reads them
  std::string format = "yaml";       // yaml | json
  std::optional<std::string> model;  // a model file to describe and hash
  std::optional<std::string> os_release;  // default: /etc/os-release, then /usr/lib/os-release
};

// Exit codes: 0 printed (probes that failed are listed in
// machine.probe_errors), 1 the model file could not be read.
int run_env(const EnvArgs& args);

}  // namespace tierscope::workloads

#pragma once
// The subcommands. main() parses the command line and calls one of these;
// each returns the process exit code (daemon/cli.h).

#include <string>

#include "core/logging.h"
#include "daemon/cli.h"
#include "daemon/config.h"

namespace tierscope {

inline constexpr const char* kSystemConfigPath = "/etc/tierscope/tierscope.yaml";

// Which file a command reads: --config, else the system file if present, else
// none (built-in defaults).
std::string config_path_for(const CliOptions& opts);
// Loads it (or the defaults) and applies the command-line overrides. Throws ConfigError.
Config effective_config(const CliOptions& opts, const std::string& path);

int run_daemon(const CliOptions& opts);
int run_probe(const CliOptions& opts);
// `tierscope recording DIR`: prints a recording (exporters/recording.h).
int run_recording(const CliOptions& opts);

}  // namespace tierscope

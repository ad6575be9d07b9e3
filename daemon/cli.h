#pragma once
// Command line: `tierscope daemon|probe [options]`, `tierscope bench SCENARIO.yaml
// [options]`, `--help`, `--version`.
// Parsing is separate from running so every error path is testable.

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace tierscope {

namespace exit_code {
inline constexpr int ok = 0;
inline constexpr int failure = 1;  // runtime failure (cannot bind, a probe failed in `probe`)
inline constexpr int usage = 64;   // EX_USAGE: bad command line
inline constexpr int config = 78;  // EX_CONFIG: bad configuration file
}  // namespace exit_code

enum class Command { daemon, probe, bench, help, version };

struct CliOptions {
  Command command = Command::help;
  std::string help_topic;  // "", "daemon" or "probe" for Command::help
  std::optional<std::string> config, listen, procfs, sysfs, devfs, log_level;
  std::string format = "prometheus";  // probe: prometheus | json
  std::optional<std::string> interval;  // probe: time between its two samples
  // bench: the scenario file, --url, --out and the --set key=value overrides.
  std::string scenario;
  std::optional<std::string> url, out;
  std::vector<std::string> sets;
};

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// `args` excludes argv[0]. Throws UsageError with a one-line message.
CliOptions parse_cli(const std::vector<std::string>& args);
std::string usage_text(std::string_view command);
std::string version_text();

}  // namespace tierscope

#pragma once
// Command line: `tierscope daemon|probe|env [options]`, `tierscope recording DIR`, `tierscope report
// RUN_DIR…`, `tierscope bench
// SCENARIO.yaml [options]`, `tierscope run-capped [options] -- CMD ARGS…`,
// `--help`, `--version`.
// Parsing is separate from running so every error path is testable.

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/exit_codes.h"

namespace tierscope {

enum class Command { daemon, probe, bench, soak, run_capped, env, recording, report, help, version };

struct CliOptions {
  Command command = Command::help;
  std::string help_topic;  // "", "daemon", "probe", "bench", "soak", "run-capped" or "env" for Command::help
  std::optional<std::string> config, listen, procfs, sysfs, devfs, log_level;
  std::optional<std::string> web_config_file;  // daemon: --web.config.file
  std::string format = "prometheus";  // probe: prometheus | json; env: yaml (its default) | json
  std::optional<std::string> interval;  // probe: time between its two samples
  // bench, soak: the scenario file, --url (bench), --out and the --set key=value overrides.
  std::string scenario;
  std::optional<std::string> url, out;
  std::vector<std::string> sets;
  // run-capped: the budget flags as given (sizes checked), the command after `--`.
  std::optional<std::string> memory_max, memory_high, swap_max, backend, cgroup_parent, name;
  std::vector<std::string> command_line;
  // env: --model (a model file to hash and describe), --os-release.
  std::optional<std::string> model, os_release;
  // recording: the directory (format: jsonl | csv) and --series REGEX.
  std::string recording_dir;
  std::optional<std::string> series;
  // report: the run directories (--out above; --format html,md in `format`).
  std::vector<std::string> run_dirs;
};

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// `args` excludes argv[0]. Throws UsageError with a one-line message.
CliOptions parse_cli(const std::vector<std::string>& args);
std::string usage_text(std::string_view command);
// Prints usage_text(topic) to stdout and returns 0, or says there is no such
// topic on stderr and returns the usage exit code.
int print_help(const std::string& topic);

// What both executables do first: parses `args` into `opts`, and answers what
// needs no command (usage errors, --help, --version). Returns the exit code
// when it answered, nullopt when `opts` holds a command to run.
std::optional<int> parse_or_answer(const std::vector<std::string>& args, CliOptions& opts);
std::string version_text();

}  // namespace tierscope

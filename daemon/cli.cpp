#include "daemon/cli.h"

#include <iostream>
#include <regex>

#include "core/text.h"
#include "core/build_info.h"
#include "core/byte_size.h"
#include "core/did_you_mean.h"
#include "core/duration.h"
#include "core/listen_address.h"
#include "core/logging.h"
#include "daemon/config.h"

namespace tierscope {

namespace {

// run-capped's smallest --memory-max / --memory-high (as a scenario's limits).
constexpr std::uint64_t kMinCappedMemory = std::uint64_t{4} << 20;

struct Flag {
  std::string_view name;
  std::string_view value_hint;
};

// Flags shared by daemon and probe.
constexpr Flag kCommonFlags[] = {
    {"--config", "FILE"}, {"--procfs", "DIR"}, {"--sysfs", "DIR"}, {"--devfs", "DIR"}, {"--log-level", "LEVEL"}};

std::vector<Flag> flags_for(Command c) {
  if (c == Command::bench) return {{"--url", "URL"}, {"--out", "DIR"}, {"--set", "KEY=VALUE"}, {"--help", ""}};
  if (c == Command::soak) return {{"--out", "DIR"}, {"--set", "KEY=VALUE"}, {"--help", ""}};
  if (c == Command::recording) return {{"--format", "jsonl|csv"}, {"--series", "REGEX"}, {"--help", ""}};
  if (c == Command::report) return {{"--out", "DIR"}, {"--format", "html,md"}, {"--help", ""}};
  if (c == Command::run_capped)
    return {{"--memory-max", "SIZE"}, {"--memory-high", "SIZE"}, {"--swap-max", "SIZE"},
            {"--backend", "auto|systemd|cgroup"}, {"--cgroup-parent", "CGROUP"}, {"--name", "NAME"},
            {"--interval", "DURATION"}, {"--out", "DIR"}, {"--help", ""}};
  std::vector<Flag> flags(std::begin(kCommonFlags), std::end(kCommonFlags));
  // env samples once with probe failures recorded in its output, not logged.
  if (c == Command::env) std::erase_if(flags, [](const Flag& f) { return f.name == "--log-level"; });
  if (c == Command::daemon) {
    flags.push_back({"--listen", "HOST:PORT"});
    flags.push_back({"--web.config.file", "FILE"});
  }
  if (c == Command::probe) {
    flags.push_back({"--format", "prometheus|json"});
    flags.push_back({"--interval", "DURATION"});
  }
  if (c == Command::env) {
    flags.push_back({"--format", "yaml|json"});
    flags.push_back({"--model", "FILE"});
    flags.push_back({"--os-release", "FILE"});
  }
  flags.push_back({"--help", ""});
  return flags;
}

std::string_view command_name(Command c) {
  return c == Command::daemon       ? "daemon"
         : c == Command::bench      ? "bench"
         : c == Command::soak       ? "soak"
         : c == Command::run_capped ? "run-capped"
         : c == Command::env        ? "env"
         : c == Command::recording  ? "recording"
         : c == Command::report     ? "report"
                                    : "probe";
}

// A run-capped size flag: checked here, passed on as given.
void take_size(std::optional<std::string>& into, const std::string& arg, const std::string& v, const std::string& prefix,
               std::uint64_t lo) {
  auto r = parse_byte_size(v);
  if (!r.bytes) throw UsageError(prefix + arg + ": expected a size such as 512M or 16G, got " + text::quoted(v) + ": " + r.error);
  if (*r.bytes < lo)
    throw UsageError(prefix + arg + ": expected at least " + format_byte_size(lo) + ", got " + text::quoted(v));
  into = v;
}

// Validates and stores the value of one flag of the command's list.
void take_value(CliOptions& o, const std::string& arg, const std::string& v, const std::string& prefix) {
  if (arg == "--memory-max") {
    take_size(o.memory_max, arg, v, prefix, kMinCappedMemory);
  } else if (arg == "--memory-high") {
    take_size(o.memory_high, arg, v, prefix, kMinCappedMemory);
  } else if (arg == "--swap-max") {
    take_size(o.swap_max, arg, v, prefix, 0);
  } else if (arg == "--backend") {
    if (v != "auto" && v != "systemd" && v != "cgroup")
      throw UsageError(prefix + "--backend: expected auto, systemd or cgroup, got " + text::quoted(v));
    o.backend = v;
  } else if (arg == "--cgroup-parent") {
    o.cgroup_parent = v;
  } else if (arg == "--name") {
    o.name = v;
  } else if (arg == "--url") {
    if (v.rfind("http://", 0) != 0 && v.rfind("https://", 0) != 0)
      throw UsageError(prefix + "--url: expected an http:// or https:// URL, got " + text::quoted(v));
    o.url = v;
  } else if (arg == "--out") {
    o.out = v;
  } else if (arg == "--set") {
    auto eq = v.find('=');
    if (eq == std::string::npos || eq == 0)
      throw UsageError(prefix + "--set: expected KEY=VALUE (e.g. repetitions=3), got " + text::quoted(v));
    o.sets.push_back(v);
  } else if (arg == "--config") {
    o.config = v;
  } else if (arg == "--procfs") {
    o.procfs = v;
  } else if (arg == "--sysfs") {
    o.sysfs = v;
  } else if (arg == "--devfs") {
    o.devfs = v;
  } else if (arg == "--web.config.file") {
    o.web_config_file = v;
  } else if (arg == "--listen") {
    if (auto problem = listen_address_problem(v)) throw UsageError(prefix + "--listen: " + *problem + ", got " + text::quoted(v));
    o.listen = v;
  } else if (arg == "--log-level") {
    if (!parse_log_level(v)) throw UsageError(prefix + "--log-level: expected error, warn, info or debug, got " + text::quoted(v));
    o.log_level = v;
  } else if (arg == "--format" && o.command == Command::recording) {
    if (v != "jsonl" && v != "csv") throw UsageError(prefix + "--format: expected jsonl or csv, got " + text::quoted(v));
    o.format = v;
  } else if (arg == "--format" && o.command == Command::report) {
    bool html = false, md = false;
    std::string_view rest = v;
    while (true) {
      const auto comma = rest.find(',');
      const auto item = rest.substr(0, comma);
      if (item == "html") html = true;
      else if (item == "md") md = true;
      else throw UsageError(prefix + "--format: expected html, md or html,md, got " + text::quoted(v));
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
    o.format = html && md ? "html,md" : html ? "html" : "md";
  } else if (arg == "--series") {
    try {
      std::regex check(v, std::regex::extended);
    } catch (const std::regex_error& e) {
      throw UsageError(prefix + "--series: not a regular expression: " + text::quoted(v) + ": " + e.what());
    }
    o.series = v;
  } else if (arg == "--format" && o.command == Command::env) {
    if (v != "yaml" && v != "json") throw UsageError(prefix + "--format: expected yaml or json, got " + text::quoted(v));
    o.format = v;
  } else if (arg == "--format") {
    if (v != "prometheus" && v != "json") throw UsageError(prefix + "--format: expected prometheus or json, got " + text::quoted(v));
    o.format = v;
  } else if (arg == "--model") {
    o.model = v;
  } else if (arg == "--os-release") {
    o.os_release = v;
  } else if (arg == "--interval") {
    auto d = parse_duration(v);
    if (!d || *d < kMinInterval || *d > kMaxInterval)
      throw UsageError(prefix + "--interval: expected a duration from 100ms to 60s (e.g. 500ms, 1s), got " + text::quoted(v));
    o.interval = v;
  }
}

}  // namespace

CliOptions parse_cli(const std::vector<std::string>& args) {
  CliOptions o;
  if (args.empty()) throw UsageError("missing command (daemon, probe, bench, soak, run-capped, env, recording or report)");
  const std::string& first = args[0];
  if (first == "--help" || first == "-h" || first == "help") {
    o.command = Command::help;
    if (args.size() > 1) o.help_topic = args[1];
    return o;
  }
  if (first == "--version" || first == "-V") {
    o.command = Command::version;
    return o;
  }
  if (first == "daemon") o.command = Command::daemon;
  else if (first == "probe") o.command = Command::probe;
  else if (first == "bench") o.command = Command::bench;
  else if (first == "soak") o.command = Command::soak;
  else if (first == "run-capped") o.command = Command::run_capped;
  else if (first == "env") o.command = Command::env;
  else if (first == "recording") o.command = Command::recording;
  else if (first == "report") o.command = Command::report;
  else {
    std::string msg = "unknown command '" + first + "'";
    if (auto g = did_you_mean(first, {"daemon", "probe", "bench", "soak", "run-capped", "env", "recording", "report"}))
      msg += "; did you mean '" + *g + "'?";
    else msg += " (expected daemon, probe, bench, soak, run-capped, env, recording or report)";
    throw UsageError(msg);
  }
  if (o.command == Command::env) o.format = "yaml";
  if (o.command == Command::recording) o.format = "jsonl";
  if (o.command == Command::report) o.format = "html,md";
  const auto flags = flags_for(o.command);
  const std::string prefix = std::string(command_name(o.command)) + ": ";
  for (std::size_t i = 1; i < args.size(); ++i) {
    std::string arg = args[i];
    // run-capped: the command starts after `--`, or at the first argument that is not an option.
    if (o.command == Command::run_capped && (arg == "--" || (!arg.empty() && arg[0] != '-'))) {
      o.command_line.assign(args.begin() + static_cast<std::ptrdiff_t>(i + (arg == "--" ? 1 : 0)), args.end());
      break;
    }
    if (arg == "--help" || arg == "-h") {
      o.command = Command::help;
      o.help_topic = first;
      return o;
    }
    std::optional<std::string> value;
    if (auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    }
    if ((o.command == Command::bench || o.command == Command::soak) && (arg.empty() || arg[0] != '-')) {
      if (!o.scenario.empty()) throw UsageError(prefix + "unexpected argument '" + arg + "' (one scenario file only)");
      o.scenario = arg;
      continue;
    }
    if (o.command == Command::recording && (arg.empty() || arg[0] != '-')) {
      if (!o.recording_dir.empty()) throw UsageError(prefix + "unexpected argument '" + arg + "' (one directory only)");
      o.recording_dir = arg;
      continue;
    }
    if (o.command == Command::report && (arg.empty() || arg[0] != '-')) {
      if (arg.empty()) throw UsageError(prefix + "a run directory is an empty string");
      o.run_dirs.push_back(arg);
      continue;
    }
    const Flag* flag = nullptr;
    for (const auto& f : flags)
      if (f.name == arg) flag = &f;
    if (!flag) {
      std::vector<std::string_view> names;
      for (const auto& f : flags) names.push_back(f.name);
      std::string msg = prefix + (arg.rfind('-', 0) == 0 ? "unknown option '" : "unexpected argument '") + arg + "'";
      if (auto g = did_you_mean(arg, names)) msg += "; did you mean '" + *g + "'?";
      throw UsageError(msg);
    }
    if (!value) {
      if (i + 1 >= args.size()) throw UsageError(prefix + std::string(arg) + " needs a value (" + std::string(flag->value_hint) + ")");
      value = args[++i];
    }
    if (value->empty())
      throw UsageError(prefix + arg + ": expected " + std::string(flag->value_hint) + ", got an empty value");
    take_value(o, arg, *value, prefix);
  }
  if (o.command == Command::bench && o.scenario.empty())
    throw UsageError(prefix + "missing the scenario file (tierscope bench SCENARIO.yaml)");
  if (o.command == Command::soak && o.scenario.empty())
    throw UsageError(prefix + "missing the scenario file (tierscope soak SCENARIO.yaml)");
  if (o.command == Command::recording && o.recording_dir.empty())
    throw UsageError(prefix + "missing the directory (tierscope recording DIR)");
  if (o.command == Command::report && o.run_dirs.empty())
    throw UsageError(prefix + "missing the run directory (tierscope report RUN_DIR...)");
  if (o.command == Command::run_capped) {
    if (!o.memory_max && !o.memory_high && !o.swap_max)
      throw UsageError(prefix + "expected at least one of --memory-max, --memory-high, --swap-max");
    if (o.command_line.empty()) throw UsageError(prefix + "missing the command (tierscope run-capped --memory-max 8G -- CMD ARGS...)");
    if (o.command_line.front().empty()) throw UsageError(prefix + "the command's program is an empty string");
  }
  return o;
}

namespace {

constexpr std::string_view kDaemonUsage = R"(Usage: tierscope daemon [OPTIONS]

Samples memory tiers, swap, pressure, block devices and NVMe controllers and
serves them as Prometheus metrics until SIGTERM/SIGINT. SIGHUP reloads the
config file; an invalid new config is rejected and the running one stays.

Options:
  --config FILE        YAML config (default: /etc/tierscope/tierscope.yaml if it
                       exists, else built-in defaults; see config/tierscope.yaml)
  --listen HOST:PORT   where /metrics is served (default 127.0.0.1:9847;
                       [::1]:9847 for IPv6; port 0 picks a free port, logged
                       at start)
  --web.config.file FILE
                       TLS and basic auth, in the Prometheus exporter web
                       config format (promtool check web-config); re-read on
                       SIGHUP, so certificates rotate without a restart
  --procfs DIR         procfs root (default /proc)
  --sysfs DIR          sysfs root (default /sys)
  --devfs DIR          devfs root (default /dev)
  --log-level LEVEL    error, warn, info or debug (default info)
  --help               this text

Command-line options override the config file, also across reloads.
Every config key: docs/configuration.md and the commented config/tierscope.yaml.
Exit codes: 0 clean stop, 1 runtime failure (e.g. cannot listen), 64 bad
usage, 78 bad config or web config.
)";

constexpr std::string_view kProbeUsage = R"(Usage: tierscope probe [OPTIONS]

Takes one sample of every enabled probe, prints it and exits. Rates and peaks
need two samples, so it samples twice, one interval apart.

Options:
  --config FILE        YAML config (default: /etc/tierscope/tierscope.yaml if it
                       exists, else built-in defaults)
  --procfs DIR         procfs root (default /proc)
  --sysfs DIR          sysfs root (default /sys)
  --devfs DIR          devfs root (default /dev)
  --format FORMAT      prometheus (text exposition, default) or json
  --interval DURATION  time between the two samples (default: sample_interval)
  --log-level LEVEL    error, warn, info or debug (default warn)
  --help               this text

Exit codes: 0 every probe succeeded or found nothing to report, 1 a probe
failed (the output still shows the rest), 64 bad usage, 78 bad config.
)";

constexpr std::string_view kBenchUsage = R"(Usage: tierscope bench SCENARIO.yaml [--url URL] [--out DIR] [--set KEY=VALUE]...

Runs a benchmark scenario against an inference engine (llama.cpp, Ollama,
vLLM, OpenAI-compatible): a context sweep, a concurrency sweep or a prompt
protocol, with every request measured (TTFT, inter-token latency, E2E,
tokens). Scenario keys: docs/benchmarks.md; examples in config/scenarios/.

Options:
  --url URL            engine base URL (overrides engine.url)
  --out DIR            output directory (default ./bench-<UTC timestamp>):
                       requests.jsonl, summary.json, summary.csv, scenario.yaml,
                       manifest.json and manifest.yaml (see `tierscope env`)
  --set KEY=VALUE      override a scenario key before validation; dotted keys,
                       YAML values: --set repetitions=3 --set contexts=[1024,2048]
  --help               this text

SIGINT/SIGTERM stop the run; completed requests and the summary stay.
Exit codes: 0 the run finished (also when a sweep hit its wall or was
interrupted), 1 runtime failure (engine down or not ready at start, output
not writable), 64 bad usage, 78 bad scenario.
)";

constexpr std::string_view kSoakUsage = R"(Usage: tierscope soak SCENARIO.yaml [--out DIR] [--set KEY=VALUE]...

Runs a soak (scenario: soak) for its duration, hours or days: samples the
workload and tierscope itself, records every sample crash-safe in the output
directory, sends steady load to the scenario's engine (launching it, and
relaunching it when it dies, with engine.launch), leaves an idle tail without
load, and gives a leak verdict per subject and memory tier (LEAK,
BOUNDED-GROWTH, CLEAN, INCONCLUSIVE) with the slope and its confidence
interval. Scenario keys and outputs: docs/soak.md; examples in
config/scenarios/soak*.yaml.

Options:
  --out DIR            output directory (default ./soak-<UTC timestamp>):
                       soak.json (checkpointed), soak.md, samples-*.jsonl,
                       requests.jsonl, engine.log and workload.jsonl; the same
                       --out of an unfinished run continues that run
  --set KEY=VALUE      override a scenario key before validation; dotted keys,
                       YAML values: --set duration=2h --set users=4
  --help               this text

SIGINT/SIGTERM stop the run with the verdict so far (status interrupted; the
same command continues it). Under systemd (NOTIFY_SOCKET) it sends READY=1,
WATCHDOG=1 and STATUS= lines.
Exit codes: 0 the run ended (done or interrupted), 1 runtime failure (the
engine never came up), 64 bad usage, or --out holds a finished run or another
scenario's, 73 --out cannot be created or written, 78 bad scenario.
)";

constexpr std::string_view kRunCappedUsage = R"(Usage: tierscope run-capped [OPTIONS] -- CMD [ARGS]...

Runs CMD under a memory budget and watches where its memory lives: RAM
(anonymous, page cache, shmem, kernel), swap, and its IO per block device,
from its own cgroup. The budget goes into a transient systemd scope
(tierscope-NAME-engine.scope) where systemd is PID 1, else into a cgroup
(v2, or the v1 memory controller) below tierscope's own. (A systemd scope
on a cgroup v1 memory controller takes --memory-max only: systemd applies
MemoryHigh= and MemorySwapMax= on v2 alone.) The limits are read back from
CMD's cgroup before CMD runs: if they are not what was asked, nothing runs. CMD is run directly, never through a shell; its output goes to
tierscope's output.

Options:
  --memory-max SIZE    hard limit (memory.max; v1 memory.limit_in_bytes),
                       e.g. 512M, 16G (at least 4M; K, M, G, T are powers of 1024)
  --memory-high SIZE   throttling limit (memory.high; cgroup v2 only)
  --swap-max SIZE      swap limit (memory.swap.max; v1: memory + swap =
                       memory-max + swap-max); 0 forbids swap
  --backend B          auto (default), systemd or cgroup
  --cgroup-parent CG   cgroup (or, with systemd, slice) to create it below
  --name NAME          names the scope/cgroup (default capped-<pid>)
  --interval DURATION  how often the cgroup is read (default 1s)
  --out DIR            also write run-capped.json and samples.jsonl there
  --help               this text

Exit codes: CMD's own exit status (128+N when killed by signal N, e.g. 137
after the kernel's OOM killer), 1 the budget cannot be applied or read back
(the message says why: no memory controller, not delegated, not root, a
limit that reads back different), 64 bad usage.
)";

constexpr std::string_view kEnvUsage = R"(Usage: tierscope env [--format yaml|json] [--model FILE] [OPTIONS]

Prints the audit manifest of this machine, the one `tierscope bench` writes
into every run directory (manifest.yaml, manifest.json): kernel, distro, CPU
model, cores and flags, RAM and swap areas, cgroup version, GPUs, NVMe
controllers (Phison verdict), tierscope's version and the libraries linked.
Values that cannot be read are left out, never printed as 0. Every field:
docs/manifest.md.

Options:
  --format FORMAT      yaml (default) or json
  --model FILE         also describe a model file: size, sha256 (streamed,
                       progress on a terminal; an Ollama blob named
                       sha256-<hex> is not re-hashed), GGUF metadata and the
                       KV cache bytes per token
  --os-release FILE    distro file (default /etc/os-release, then
                       /usr/lib/os-release)
  --config FILE        YAML config: the probes and their settings, as for
                       `tierscope probe`
  --procfs DIR         procfs root (default /proc)
  --sysfs DIR          sysfs root (default /sys)
  --devfs DIR          devfs root (default /dev)
  --help               this text

Exit codes: 0 printed (probes that failed are listed in machine.probe_errors),
1 the model file cannot be read, 64 bad usage, 78 bad config.
)";

constexpr std::string_view kRecordingUsage = R"(Usage: tierscope recording DIR [--format jsonl|csv] [--series REGEX]

Prints a recording (the daemon's record.dir, or a soak's run directory):
every segment samples-*.jsonl[.zst] in order, one sample per line with its
series resolved to names, {"type":"sample","seq","wall","mono","values":
{"name{labels}":value}}, and the other records (gap, run events) as written.
A torn last line (what a crash leaves) is skipped and counted. Format:
docs/recording.md.

Options:
  --format FORMAT      jsonl (default) or csv (samples only: wall, mono and
                       one column per series; a new header row when the
                       series change)
  --series REGEX       only the series whose name{labels} matches (POSIX
                       extended regex, searched anywhere in the name)
  --help               this text

The count of segments, records, torn and corrupt lines goes to stderr.
Exit codes: 0 printed, 1 no segment in DIR or a corrupt line, 64 bad usage.
)";

constexpr std::string_view kReportUsage = R"(Usage: tierscope report RUN_DIR... [--out DIR] [--format html,md]

Writes the report of one or several run directories (bench, A/B and soak
runs): a header with the run, its status and host, the environment from the
manifest, per-step statistics with 95 % confidence intervals and p50/p95/p99,
outcomes, and charts (memory wall, OOM vs success, concurrency, latency
distributions, memory composition and disk operations from the recording,
soak verdicts with their fitted slopes), the A/B comparison and the cost
when the run has them. report.html is one self-contained file (inline CSS
and SVG, nothing loaded from anywhere, printable); report.md has the same
tables, with the charts as charts/<id>.svg beside it. Every table names the
file and fields its numbers come from. Contents: docs/report.md.

Options:
  --out DIR            where to write (default: the run directory itself for
                       one run, ./report-<UTC timestamp> for several)
  --format FORMATS     html, md or html,md (default)
  --help               this text

What a run directory lacks or holds broken (a torn last line, no
summary.json, an unknown layout version) is a "warning: " line on stderr
and is said in the report, which shows what exists.
Exit codes: 0 written, 64 bad usage, 65 no run directory has anything to
report, 73 the output cannot be written.
)";

constexpr std::string_view kUsage = R"(Usage: tierscope COMMAND [OPTIONS]

Commands:
  daemon     sample continuously and serve Prometheus metrics on /metrics
  probe      take one sample, print it (Prometheus text or JSON), exit
  bench      run a benchmark scenario against an inference engine
  soak       run a soak for hours or days and give leak verdicts per memory tier
  run-capped run a command under a memory budget and show where its memory lives
  env        print this machine's audit manifest (YAML or JSON), exit
  recording  print a recording of samples (record.dir) with names resolved
  report     write the HTML and Markdown report of run directories

Options:
  --help     this text; `tierscope COMMAND --help` for a command's options
  --version  version, git revision and compiler

Documentation: README.md and docs/*.md (installed in /usr/share/doc/tierscope):
metrics.md, configuration.md, benchmarks.md, soak.md, recording.md, report.md, systemd.md, architecture.md.
)";

}  // namespace

std::string usage_text(std::string_view command) {
  if (command == "daemon") return std::string(kDaemonUsage);
  if (command == "probe") return std::string(kProbeUsage);
  if (command == "bench") return std::string(kBenchUsage);
  if (command == "soak") return std::string(kSoakUsage);
  if (command == "run-capped") return std::string(kRunCappedUsage);
  if (command == "env") return std::string(kEnvUsage);
  if (command == "recording") return std::string(kRecordingUsage);
  if (command == "report") return std::string(kReportUsage);
  return std::string(kUsage);
}

int print_help(const std::string& topic) {
  if (!topic.empty() && topic != "daemon" && topic != "probe" && topic != "bench" && topic != "soak" &&
      topic != "run-capped" && topic != "env" && topic != "recording" && topic != "report") {
    std::cerr << "tierscope: no help for '" << topic << "' (commands: daemon, probe, bench, soak, run-capped, env, recording, report)\n";
    return exit_code::usage;
  }
  std::cout << usage_text(topic);
  return exit_code::ok;
}

std::optional<int> parse_or_answer(const std::vector<std::string>& args, CliOptions& opts) {
  try {
    opts = parse_cli(args);
  } catch (const UsageError& e) {
    std::cerr << "tierscope: " << e.what() << " (see tierscope --help)\n";
    return exit_code::usage;
  }
  if (opts.command == Command::help) return print_help(opts.help_topic);
  if (opts.command == Command::version) {
    std::cout << version_text();
    return exit_code::ok;
  }
  return std::nullopt;
}

std::string version_text() {
  return std::string("tierscope ") + build::kVersion + " (revision " + build::kRevision + ", " + build::kCompiler + ")\n";
}

}  // namespace tierscope

#include <gtest/gtest.h>

#include "daemon/cli.h"

using namespace tierscope;

namespace {
std::string usage_error(std::vector<std::string> args) {
  try {
    parse_cli(args);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(Cli, DaemonFlagsInBothSpellings) {
  auto o = parse_cli({"daemon", "--config", "c.yaml", "--listen=127.0.0.1:0", "--procfs", "/p", "--sysfs=/s",
                      "--devfs", "/d", "--log-level", "debug"});
  EXPECT_EQ(o.command, Command::daemon);
  EXPECT_EQ(o.config, "c.yaml");
  EXPECT_EQ(o.listen, "127.0.0.1:0");
  EXPECT_EQ(o.procfs, "/p");
  EXPECT_EQ(o.sysfs, "/s");
  EXPECT_EQ(o.devfs, "/d");
  EXPECT_EQ(o.log_level, "debug");
}

TEST(Cli, ProbeFlags) {
  auto o = parse_cli({"probe", "--format", "json", "--interval", "250ms"});
  EXPECT_EQ(o.command, Command::probe);
  EXPECT_EQ(o.format, "json");
  EXPECT_EQ(o.interval, "250ms");
}

TEST(Cli, HelpAndVersion) {
  EXPECT_EQ(parse_cli({"--help"}).command, Command::help);
  EXPECT_EQ(parse_cli({"--version"}).command, Command::version);
  auto h = parse_cli({"probe", "--format", "json", "--help"});
  EXPECT_EQ(h.command, Command::help);
  EXPECT_EQ(h.help_topic, "probe");
  EXPECT_NE(usage_text("daemon").find("--listen HOST:PORT"), std::string::npos);
  EXPECT_NE(usage_text("probe").find("--format FORMAT"), std::string::npos);
  EXPECT_NE(usage_text("").find("Commands:"), std::string::npos);
  EXPECT_EQ(version_text().rfind("tierscope ", 0), 0u);
}

TEST(Cli, ErrorsSayWhatWasExpected) {
  EXPECT_EQ(usage_error({}), "missing command (daemon, probe, bench, soak, run-capped, env, recording or report)");
  EXPECT_EQ(usage_error({"deamon"}), "unknown command 'deamon'; did you mean 'daemon'?");
  EXPECT_EQ(usage_error({"serve"}), "unknown command 'serve' (expected daemon, probe, bench, soak, run-capped, env, recording or report)");
  EXPECT_EQ(usage_error({"daemon", "--lisen", "x"}), "daemon: unknown option '--lisen'; did you mean '--listen'?");
  EXPECT_EQ(usage_error({"daemon", "--format", "json"}), "daemon: unknown option '--format'");  // probe only
  EXPECT_EQ(usage_error({"probe", "--listen", "127.0.0.1:1"}), "probe: unknown option '--listen'");
  EXPECT_EQ(usage_error({"daemon", "--listen"}), "daemon: --listen needs a value (HOST:PORT)");
  EXPECT_EQ(usage_error({"daemon", "--listen", "9847"}),
            "daemon: --listen: expected HOST:PORT, e.g. 127.0.0.1:9847, got \"9847\"");
  EXPECT_EQ(usage_error({"daemon", "--log-level", "loud"}),
            "daemon: --log-level: expected error, warn, info or debug, got \"loud\"");
  EXPECT_EQ(usage_error({"probe", "--format", "xml"}), "probe: --format: expected prometheus or json, got \"xml\"");
  EXPECT_EQ(usage_error({"probe", "--interval", "10ms"}),
            "probe: --interval: expected a duration from 100ms to 60s (e.g. 500ms, 1s), got \"10ms\"");
  EXPECT_EQ(usage_error({"daemon", "--procfs="}), "daemon: --procfs: expected DIR, got an empty value");
  EXPECT_EQ(usage_error({"daemon", "stray"}), "daemon: unexpected argument 'stray'");
}

TEST(Cli, Bench) {
  auto o = parse_cli({"bench", "s.yaml", "--url", "http://h:8080", "--out", "d", "--set", "repetitions=3", "--set=contexts=[1,2]"});
  EXPECT_EQ(o.command, Command::bench);
  EXPECT_EQ(o.scenario, "s.yaml");
  EXPECT_EQ(o.url, "http://h:8080");
  EXPECT_EQ(o.out, "d");
  EXPECT_EQ(o.sets, (std::vector<std::string>{"repetitions=3", "contexts=[1,2]"}));
  EXPECT_THROW(parse_cli({"bench"}), UsageError);
  EXPECT_THROW(parse_cli({"bench", "a.yaml", "b.yaml"}), UsageError);
  EXPECT_THROW(parse_cli({"bench", "a.yaml", "--set", "novalue"}), UsageError);
  EXPECT_THROW(parse_cli({"bench", "a.yaml", "--url", "h:8080"}), UsageError);
  EXPECT_EQ(parse_cli({"bench", "--help"}).help_topic, "bench");
}

TEST(Cli, Soak) {
  auto o = parse_cli({"soak", "s.yaml", "--out", "d", "--set", "duration=2h", "--set=users=4"});
  EXPECT_EQ(o.command, Command::soak);
  EXPECT_EQ(o.scenario, "s.yaml");
  EXPECT_EQ(o.out, "d");
  EXPECT_EQ(o.sets, (std::vector<std::string>{"duration=2h", "users=4"}));
  EXPECT_EQ(usage_error({"soak"}), "soak: missing the scenario file (tierscope soak SCENARIO.yaml)");
  EXPECT_THROW(parse_cli({"soak", "a.yaml", "b.yaml"}), UsageError);
  EXPECT_THROW(parse_cli({"soak", "a.yaml", "--set", "novalue"}), UsageError);
  EXPECT_NE(usage_error({"soak", "a.yaml", "--url", "http://h:1"}).find("soak: unknown option '--url'"), std::string::npos);
  EXPECT_EQ(parse_cli({"soak", "--help"}).help_topic, "soak");
  EXPECT_NE(usage_text("soak").find("tierscope soak SCENARIO.yaml"), std::string::npos);
  EXPECT_NE(usage_text("").find("soak "), std::string::npos);
}

TEST(Cli, RunCapped) {
  auto o = parse_cli({"run-capped", "--memory-max", "8G", "--swap-max=0", "--memory-high", "6G", "--backend", "cgroup",
                      "--cgroup-parent", "/t", "--name", "n", "--interval", "200ms", "--out", "d", "--", "llama-server",
                      "--port", "8080", "{x}", "--help"});
  EXPECT_EQ(o.command, Command::run_capped);
  EXPECT_EQ(o.memory_max, "8G");
  EXPECT_EQ(o.swap_max, "0");
  EXPECT_EQ(o.memory_high, "6G");
  EXPECT_EQ(o.backend, "cgroup");
  EXPECT_EQ(o.cgroup_parent, "/t");
  EXPECT_EQ(o.name, "n");
  EXPECT_EQ(o.interval, "200ms");
  EXPECT_EQ(o.out, "d");
  // Everything after `--` is the command, its own flags included.
  EXPECT_EQ(o.command_line, (std::vector<std::string>{"llama-server", "--port", "8080", "{x}", "--help"}));
  // The command may also start at the first argument that is not an option.
  EXPECT_EQ(parse_cli({"run-capped", "--memory-max=1G", "sleep", "1"}).command_line,
            (std::vector<std::string>{"sleep", "1"}));
  EXPECT_NE(usage_error({"run-capped", "--", "true"}).find("expected at least one of --memory-max"), std::string::npos);
  EXPECT_NE(usage_error({"run-capped", "--memory-max", "1G"}).find("missing the command"), std::string::npos);
  EXPECT_NE(usage_error({"run-capped", "--memory-max", "10", "--", "true"}).find("expected at least 4M"), std::string::npos);
  EXPECT_NE(usage_error({"run-capped", "--memory-max", "16GB", "--", "true"}).find("ambiguous unit GB"), std::string::npos);
  EXPECT_NE(usage_error({"run-capped", "--memory-max", "1G", "--", ""}).find("empty string"), std::string::npos);
  EXPECT_NE(usage_error({"run-capped", "--backend", "docker", "--memory-max", "1G", "--", "true"}).find("--backend"),
            std::string::npos);
  EXPECT_NE(usage_error({"run-capped", "--memory-maxx", "1G", "--", "true"}).find("did you mean '--memory-max'"),
            std::string::npos);
  EXPECT_EQ(parse_cli({"run-capped", "--help"}).help_topic, "run-capped");
  EXPECT_EQ(print_help("run-capped"), 0);
}

TEST(Cli, Env) {
  auto o = parse_cli({"env"});
  EXPECT_EQ(o.command, Command::env);
  EXPECT_EQ(o.format, "yaml");  // env's default, not probe's
  EXPECT_FALSE(o.model);
  o = parse_cli({"env", "--format", "json", "--model=m.gguf", "--os-release", "os", "--procfs", "/p", "--sysfs", "/s",
                 "--devfs", "/d", "--config", "c.yaml"});
  EXPECT_EQ(o.format, "json");
  EXPECT_EQ(o.model, "m.gguf");
  EXPECT_EQ(o.os_release, "os");
  EXPECT_EQ(o.procfs, "/p");
  EXPECT_EQ(o.config, "c.yaml");
  EXPECT_EQ(usage_error({"env", "--format", "prometheus"}), "env: --format: expected yaml or json, got \"prometheus\"");
  EXPECT_EQ(usage_error({"probe", "--format", "yaml"}), "probe: --format: expected prometheus or json, got \"yaml\"");
  EXPECT_EQ(usage_error({"env", "--model"}), "env: --model needs a value (FILE)");
  EXPECT_EQ(usage_error({"env", "--model="}), "env: --model: expected FILE, got an empty value");
  EXPECT_EQ(usage_error({"env", "--modle", "m"}), "env: unknown option '--modle'; did you mean '--model'?");
  EXPECT_EQ(usage_error({"env", "--log-level", "debug"}), "env: unknown option '--log-level'");
  EXPECT_EQ(usage_error({"env", "stray"}), "env: unexpected argument 'stray'");
  EXPECT_EQ(usage_error({"probe", "--model", "m"}), "probe: unknown option '--model'");
  EXPECT_EQ(usage_error({"envv"}), "unknown command 'envv'; did you mean 'env'?");
  auto h = parse_cli({"env", "--model", "m", "--help"});
  EXPECT_EQ(h.command, Command::help);
  EXPECT_EQ(h.help_topic, "env");
  EXPECT_NE(usage_text("env").find("--model FILE"), std::string::npos);
  EXPECT_NE(usage_text("").find("env "), std::string::npos);
  EXPECT_EQ(print_help("env"), 0);
}

TEST(Cli, ReportTakesRunDirectoriesOutAndFormats) {
  auto o = parse_cli({"report", "runs/a", "runs/b", "--out", "rep", "--format", "md"});
  EXPECT_EQ(o.command, Command::report);
  EXPECT_EQ(o.run_dirs, (std::vector<std::string>{"runs/a", "runs/b"}));
  EXPECT_EQ(o.out, "rep");
  EXPECT_EQ(o.format, "md");
  EXPECT_EQ(parse_cli({"report", "r"}).format, "html,md");
  EXPECT_EQ(parse_cli({"report", "r", "--format=md,html"}).format, "html,md");
  EXPECT_EQ(parse_cli({"report", "r", "--format", "html"}).format, "html");
  EXPECT_EQ(usage_error({"report"}), "report: missing the run directory (tierscope report RUN_DIR...)");
  EXPECT_EQ(usage_error({"report", "r", "--format", "pdf"}), "report: --format: expected html, md or html,md, got \"pdf\"");
  EXPECT_EQ(usage_error({"report", "r", "--format", "html,"}), "report: --format: expected html, md or html,md, got \"html,\"");
  EXPECT_EQ(usage_error({"report", "r", "--series", "x"}), "report: unknown option '--series'");
  EXPECT_EQ(usage_error({"reprot", "r"}), "unknown command 'reprot'; did you mean 'report'?");
  EXPECT_NE(usage_text("report").find("--format FORMATS"), std::string::npos);
}

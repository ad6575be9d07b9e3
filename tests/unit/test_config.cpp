#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/did_you_mean.h"
#include "core/listen_address.h"
#include "daemon/config.h"
#include "probes/diskstats.h"
#include "probes/gpu.h"
#include "probes/nvme.h"
#include "probes/offload.h"
#include "probes/workload.h"

using namespace tierscope;
using namespace std::chrono_literals;

namespace {
// The error message of parsing `yaml`, or "" when it parses.
std::string error_of(const std::string& yaml) {
  try {
    parse_config(yaml, "t.yaml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(Config, EmptyFileGivesTheDefaults) {
  Config c = parse_config("", "t.yaml");
  EXPECT_EQ(c.sample_interval, 1000ms);
  EXPECT_EQ(c.peak_window, 15000ms);
  EXPECT_EQ(c.listen, "127.0.0.1:9847");
  EXPECT_EQ(c.log_level, LogLevel::info);
  EXPECT_EQ(c.roots.procfs, "/proc");
  EXPECT_TRUE(c.section<OffloadSelection>().auto_detect);
  EXPECT_TRUE(c.probe_enabled("nvme"));
  EXPECT_EQ(c.section<DiskstatsSettings>().device_exclude, DeviceFilter::kDefaultExclude);
}

TEST(Config, ShippedFileIsValidAndEqualsTheDefaults) {
  std::ifstream in(std::string(TIERSCOPE_FIXTURES) + "/../../config/tierscope.yaml");
  ASSERT_TRUE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  Config shipped = parse_config(ss.str(), "config/tierscope.yaml");
  Config defaults;
  EXPECT_EQ(shipped.sample_interval, defaults.sample_interval);
  EXPECT_EQ(shipped.peak_window, defaults.peak_window);
  EXPECT_EQ(shipped.listen, defaults.listen);
  EXPECT_EQ(shipped.log_level, defaults.log_level);
  EXPECT_EQ(shipped.roots, defaults.roots);
  EXPECT_EQ(shipped.probes, defaults.probes);
  EXPECT_EQ(shipped.section<DiskstatsSettings>().device_include, defaults.section<DiskstatsSettings>().device_include);
  EXPECT_EQ(shipped.section<DiskstatsSettings>().device_exclude, defaults.section<DiskstatsSettings>().device_exclude);
  EXPECT_EQ(shipped.section<OffloadSelection>(), defaults.section<OffloadSelection>());
  EXPECT_EQ(shipped.section<GpuSettings>(), defaults.section<GpuSettings>());
  EXPECT_EQ(shipped.section<WorkloadSelection>(), defaults.section<WorkloadSelection>());
  EXPECT_EQ(shipped.section<NvmeSettings>(), defaults.section<NvmeSettings>());
}

TEST(Config, ParsesEveryKey) {
  Config c = parse_config(R"(
sample_interval: 250ms
peak_window: 30s
listen: "[::1]:9100"
log_level: debug
roots: {procfs: /host/proc, sysfs: /host/sys, devfs: /host/dev}
probes: {nvme: false, pressure: off}
diskstats: {device_include: '^nvme', device_exclude: ''}
offload_device: [auto, S4EWNX0R123456, nvme1n1]
)",
                          "t.yaml");
  EXPECT_EQ(c.sample_interval, 250ms);
  EXPECT_EQ(c.peak_window, 30000ms);
  EXPECT_EQ(c.listen, "[::1]:9100");
  EXPECT_EQ(c.log_level, LogLevel::debug);
  EXPECT_EQ(c.roots.sysfs, "/host/sys");
  EXPECT_FALSE(c.probe_enabled("nvme"));
  EXPECT_FALSE(c.probe_enabled("pressure"));
  EXPECT_TRUE(c.probe_enabled("meminfo"));
  EXPECT_EQ(c.section<DiskstatsSettings>().device_include, "^nvme");
  EXPECT_EQ(c.section<DiskstatsSettings>().device_exclude, "");
  EXPECT_TRUE(c.section<OffloadSelection>().auto_detect);
  EXPECT_EQ(c.section<OffloadSelection>().names, (std::vector<std::string>{"S4EWNX0R123456", "nvme1n1"}));
  Config only = parse_config("offload_device: nvme2\n", "t.yaml");
  EXPECT_FALSE(only.section<OffloadSelection>().auto_detect);
  EXPECT_EQ(only.section<OffloadSelection>().names, std::vector<std::string>{"nvme2"});
}

TEST(Config, UnknownKeyNamesFileLineColumnAndSuggests) {
  EXPECT_EQ(error_of("listen: 127.0.0.1:1\nsample_intervall: 1s\n"),
            "t.yaml:2:1: sample_intervall: unknown key; did you mean \"sample_interval\"? (expected one of: "
            "listen, log_level, web_config_file, record, sample_interval, peak_window, roots, probes, diskstats, nvme, workload, gpu, offload_device)");
  EXPECT_EQ(error_of("probes:\n  memnfo: true\n"),
            "t.yaml:2:3: probes.memnfo: unknown key; did you mean \"meminfo\"? (expected one of: meminfo, "
            "vmstat, pressure, swaps, diskstats, nvme, workload, gpu_nvml, gpu_amdgpu, drm_fdinfo, workload_memory, power)");
  // Nothing close: no suggestion, still the list.
  EXPECT_EQ(error_of("colour: blue\n").find("t.yaml:1:1: colour: unknown key (expected one of:"), 0u);
}

TEST(Config, OutOfRangeAndMistypedValues) {
  EXPECT_EQ(error_of("sample_interval: 50ms\n"),
            "t.yaml:1:18: sample_interval: expected a duration from 100ms to 60s (e.g. 500ms, 1s, 2m), got \"50ms\"");
  EXPECT_NE(error_of("sample_interval: 2m\n").find("from 100ms to 60s"), std::string::npos);
  EXPECT_NE(error_of("sample_interval: [1]\n").find("t.yaml:1:18: sample_interval: expected a duration"),
            std::string::npos);
  EXPECT_EQ(error_of("sample_interval: 10s\npeak_window: 5s\n"),
            "t.yaml:2:14: peak_window: expected at least sample_interval (10s), got 5s");
  EXPECT_NE(error_of("peak_window: 11m\n").find("from 100ms to 600s"), std::string::npos);
  EXPECT_EQ(error_of("probes:\n  nvme: maybe\n"), "t.yaml:2:9: probes.nvme: expected true or false, got \"maybe\"");
  EXPECT_EQ(error_of("log_level: verbose\n"), "t.yaml:1:12: log_level: expected error, warn, info or debug, got \"verbose\"");
  EXPECT_EQ(error_of("log_level: debg\n"),
            "t.yaml:1:12: log_level: expected error, warn, info or debug, got \"debg\"; did you mean \"debug\"?");
  EXPECT_EQ(error_of("listen: 9847\n"), "t.yaml:1:9: listen: expected HOST:PORT, e.g. 127.0.0.1:9847, got \"9847\"");
  EXPECT_NE(error_of("listen: 127.0.0.1:70000\n").find("port number 0-65535"), std::string::npos);
  EXPECT_NE(error_of("listen: ::1:9847\n").find("needs brackets"), std::string::npos);
  EXPECT_EQ(error_of("roots:\n  procfs: proc\n"),
            "t.yaml:2:11: roots.procfs: expected an absolute directory path, got \"proc\"");
  EXPECT_NE(error_of("diskstats:\n  device_exclude: '('\n").find("t.yaml:2:19: diskstats.device_exclude: expected a regular expression"),
            std::string::npos);
  EXPECT_EQ(error_of("diskstats:\n  device_include: '" + std::string(2000, '(') + "'\n"),
            "t.yaml:2:19: diskstats.device_include: expected a regular expression of at most 1024 characters, got 2000");
  EXPECT_NE(error_of("offload_device: []\n").find("got an empty list"), std::string::npos);
  EXPECT_NE(error_of("offload_device: {a: 1}\n").find("expected \"auto\" or a list"), std::string::npos);
  EXPECT_NE(error_of("probes: true\n").find("t.yaml:1:9: probes: expected a mapping of keys"), std::string::npos);
}

TEST(Config, GpuAndWorkloadSections) {
  Config c = parse_config(R"(
gpu: {nvml_library: /opt/nvidia/libnvidia-ml.so.1, process_interval: 2s, memory_model: unified}
workload: {pids: [42, 4242], process_names: [llama-server], systemd_units: [ollama.service],
           cgroup: [/system.slice/ollama.service, /tierscope/engine]}
)",
                          "t.yaml");
  EXPECT_EQ(c.section<GpuSettings>().nvml_library, "/opt/nvidia/libnvidia-ml.so.1");
  EXPECT_EQ(c.section<GpuSettings>().process_interval, 2000ms);
  EXPECT_EQ(c.section<GpuSettings>().memory_model, "unified");
  EXPECT_EQ(c.section<WorkloadSelection>().pids, (std::vector<std::uint32_t>{42, 4242}));
  EXPECT_EQ(c.section<WorkloadSelection>().process_names, std::vector<std::string>{"llama-server"});
  EXPECT_EQ(c.section<WorkloadSelection>().systemd_units, std::vector<std::string>{"ollama.service"});
  EXPECT_EQ(c.section<WorkloadSelection>().cgroups,
            (std::vector<std::string>{"/system.slice/ollama.service", "/tierscope/engine"}));
  EXPECT_EQ(error_of("gpu:\n  memory_model: shared\n"),
            "t.yaml:2:17: gpu.memory_model: expected auto, unified or discrete, got \"shared\"");
  EXPECT_EQ(error_of("workload:\n  pids: [0]\n"), "t.yaml:2:10: workload.pids: expected a process id 1-4194304, got \"0\"");
  EXPECT_EQ(error_of("workload:\n  pids: 42\n"), "t.yaml:2:9: workload.pids: expected a list, e.g. [1234] or [llama-server]");
  EXPECT_NE(error_of("workload:\n  process_names: [a-very-long-process-name]\n").find("at most 15 characters"),
            std::string::npos);
  EXPECT_NE(error_of("workload:\n  systemd_units: [system.slice/x.service]\n").find("a unit name such as"),
            std::string::npos);
  EXPECT_EQ(error_of("workload:\n  cgroup: [system.slice/x.service]\n"),
            "t.yaml:2:12: workload.cgroup: expected a cgroup path below the root such as /system.slice/ollama.service, "
            "got \"system.slice/x.service\"");
  EXPECT_NE(error_of("workload:\n  cgroup: [/a/../../etc]\n").find("a cgroup path below the root"), std::string::npos);
  EXPECT_NE(error_of("workload:\n  cgroup: [/]\n").find("a cgroup path below the root"), std::string::npos);
  EXPECT_EQ(error_of("gpu:\n  nvml_libary: x\n").find("t.yaml:2:3: gpu.nvml_libary: unknown key; did you mean \"nvml_library\"?"), 0u);
}

TEST(Config, RepeatedKeysAndYamlSyntaxErrors) {
  EXPECT_EQ(error_of("listen: 127.0.0.1:1\nlisten: 127.0.0.1:2\n"), "t.yaml:2:1: listen: key given twice");
  auto syntax = error_of("probes: {meminfo: true\n");
  EXPECT_EQ(syntax.find("t.yaml:"), 0u);
  EXPECT_NE(syntax.find("YAML syntax error"), std::string::npos);
  EXPECT_NE(error_of("- a\n- b\n").find("expected a mapping of keys"), std::string::npos);
}

TEST(Config, UnreadableFileIsAConfigError) {
  try {
    load_config("/nonexistent/tierscope.yaml");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), "/nonexistent/tierscope.yaml: cannot read the config file: No such file or directory");
  }
}

TEST(Config, DidYouMeanOnlySuggestsCloseWords) {
  EXPECT_EQ(did_you_mean("--lisen", {"--listen", "--config"}), "--listen");
  EXPECT_FALSE(did_you_mean("zzz", {"--listen", "--config"}));
}

TEST(Config, ListenAddressForms) {
  EXPECT_FALSE(listen_address_problem("127.0.0.1:9847"));
  EXPECT_FALSE(listen_address_problem("localhost:0"));
  EXPECT_FALSE(listen_address_problem("[::]:9847"));
  EXPECT_TRUE(listen_address_problem(":9847"));
  EXPECT_TRUE(listen_address_problem("[::1]"));
  EXPECT_TRUE(listen_address_problem("host:port"));
}

TEST(NvmeConfig, HealthInterval) {
  EXPECT_EQ(Config{}.section<NvmeSettings>().health_interval, 30s);
  EXPECT_EQ(parse_config("nvme:\n  health_interval: 5m\n", "t.yaml").section<NvmeSettings>().health_interval, 300s);
  EXPECT_EQ(parse_config("nvme: {health_interval: 1s}\n", "t.yaml").section<NvmeSettings>().health_interval, 1s);
  EXPECT_EQ(parse_config("nvme: {health_interval: 1h}\n", "t.yaml").section<NvmeSettings>().health_interval, 3600s);
  EXPECT_EQ(parse_config("nvme: {health_interval: off}\n", "t.yaml").section<NvmeSettings>().health_interval, 0ms);
  EXPECT_EQ(parse_config("nvme: {health_interval: 0}\n", "t.yaml").section<NvmeSettings>().health_interval, 0ms);
  EXPECT_EQ(parse_config("nvme:\n", "t.yaml").section<NvmeSettings>().health_interval, 30s);
  EXPECT_EQ(error_of("nvme:\n  health_interval: 500ms\n"),
            "t.yaml:2:20: nvme.health_interval: expected a duration from 1s to 3600s (e.g. 30s, 5m), or off, got \"500ms\"");
  EXPECT_EQ(error_of("nvme: {health_interval: 2h}\n"),
            "t.yaml:1:25: nvme.health_interval: expected a duration from 1s to 3600s (e.g. 30s, 5m), or off, got \"2h\"");
  EXPECT_EQ(error_of("nvme: {health_interval: [1]}\n"),
            "t.yaml:1:25: nvme.health_interval: expected a duration from 1s to 3600s (e.g. 30s, 5m), or off");
  EXPECT_EQ(error_of("nvme: {health_intervall: 5s}\n"),
            "t.yaml:1:8: nvme.health_intervall: unknown key; did you mean \"health_interval\"? (expected one of: "
            "health_interval)");
  EXPECT_EQ(error_of("nvme: 30s\n"), "t.yaml:1:7: nvme: expected a mapping of keys (health_interval)");
}

// The YAML configuration: parse_config either returns a Config that keeps the
// documented limits or throws ConfigError; nothing else may escape it. A
// returned Config, written back as YAML, parses to the same Config.
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <exception>
#include <set>
#include <string>
#include <typeinfo>

#include "core/duration.h"
#include "core/listen_address.h"
#include "core/text.h"
#include "daemon/config.h"
#include "probes/diskstats.h"
#include "probes/gpu.h"
#include "probes/offload.h"
#include "probes/registry.h"
#include "tests/fuzz/fuzz_common.h"

using namespace tierscope;

namespace {

const std::string kFile = "fuzz.yaml";

bool same(const Config& a, const Config& b) {
  return a.sample_interval == b.sample_interval && a.peak_window == b.peak_window && a.listen == b.listen &&
         a.log_level == b.log_level && a.roots == b.roots && a.probes == b.probes &&
         a.section<DiskstatsSettings>().device_include == b.section<DiskstatsSettings>().device_include && a.section<DiskstatsSettings>().device_exclude == b.section<DiskstatsSettings>().device_exclude && a.section<OffloadSelection>() == b.section<OffloadSelection>();
}

bool printable(std::string_view s) {
  for (char c : s)
    if (c < 0x20 || c > 0x7e) return false;
  return true;
}

// The config as a user would write it; nullopt when a value has bytes that a
// YAML emitter need not reproduce exactly (control characters, non-ASCII).
std::optional<std::string> emit(const Config& c) {
  std::vector<std::string_view> strings{c.listen, c.section<DiskstatsSettings>().device_include, c.section<DiskstatsSettings>().device_exclude};
  for (const auto& n : c.section<OffloadSelection>().names) strings.push_back(n);
  const std::string roots[] = {c.roots.procfs.string(), c.roots.sysfs.string(), c.roots.devfs.string()};
  for (const auto& r : roots) strings.push_back(r);
  for (auto s : strings)
    if (!printable(s)) return std::nullopt;

  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "sample_interval" << YAML::Value << format_duration(c.sample_interval);
  out << YAML::Key << "peak_window" << YAML::Value << format_duration(c.peak_window);
  out << YAML::Key << "listen" << YAML::Value << c.listen;
  out << YAML::Key << "log_level" << YAML::Value << std::string(to_string(c.log_level));
  out << YAML::Key << "roots" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "procfs" << YAML::Value << roots[0];
  out << YAML::Key << "sysfs" << YAML::Value << roots[1];
  out << YAML::Key << "devfs" << YAML::Value << roots[2];
  out << YAML::EndMap;
  out << YAML::Key << "probes" << YAML::Value << YAML::BeginMap;
  for (const auto& [name, on] : c.probes) out << YAML::Key << name << YAML::Value << (on ? "true" : "false");
  out << YAML::EndMap;
  out << YAML::Key << "diskstats" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "device_include" << YAML::Value << c.section<DiskstatsSettings>().device_include;
  out << YAML::Key << "device_exclude" << YAML::Value << c.section<DiskstatsSettings>().device_exclude;
  out << YAML::EndMap;
  out << YAML::Key << "offload_device" << YAML::Value << YAML::BeginSeq;
  if (c.section<OffloadSelection>().auto_detect) out << "auto";
  for (const auto& n : c.section<OffloadSelection>().names) out << n;
  out << YAML::EndSeq;
  out << YAML::EndMap;
  if (!out.good()) return std::nullopt;
  return std::string(out.c_str(), out.size());
}

void check_config(const Config& c, std::string_view yaml) {
  FUZZ_CHECK(c.sample_interval >= kMinInterval && c.sample_interval <= kMaxInterval,
             format_duration(c.sample_interval));
  FUZZ_CHECK(c.peak_window >= c.sample_interval, format_duration(c.peak_window));
  FUZZ_CHECK(c.peak_window <= kMaxPeakWindow, format_duration(c.peak_window));
  FUZZ_CHECK(!listen_address_problem(c.listen), c.listen);
  FUZZ_CHECK(c.roots.procfs.is_absolute() && c.roots.sysfs.is_absolute() && c.roots.devfs.is_absolute());
  FUZZ_CHECK(c.log_level >= LogLevel::error && c.log_level <= LogLevel::debug);
  FUZZ_CHECK(parse_log_level(to_string(c.log_level)) == c.log_level);
  FUZZ_CHECK(c.probes.size() == ProbeRegistry::builtin().probes.size());
  for (const auto* p : ProbeRegistry::builtin().probes) FUZZ_CHECK(c.probes.count(std::string(p->name)) == 1, std::string(p->name));
  FUZZ_CHECK(c.section<OffloadSelection>().auto_detect || !c.section<OffloadSelection>().names.empty());
  for (const auto& n : c.section<OffloadSelection>().names) {
    FUZZ_CHECK(!n.empty() && n != "auto", n);
    FUZZ_CHECK(text::trim(n) == n, n);
  }
  // The regular expressions were validated, so the probe set can be built.
  try {
    DeviceFilter filter(c.section<DiskstatsSettings>().device_include, c.section<DiskstatsSettings>().device_exclude);
    (void)filter.keep("nvme0n1");
  } catch (const std::exception& e) {
    fuzz::violated("DeviceFilter rejects a validated config", __FILE__, __LINE__, e.what());
  }
  // Deterministic.
  FUZZ_CHECK(same(parse_config(yaml, kFile), c));
  // Written back out, the same Config.
  if (auto again = emit(c)) {
    try {
      FUZZ_CHECK(same(parse_config(*again, kFile), c), *again);
    } catch (const ConfigError& e) {
      fuzz::violated("a Config written back as YAML is rejected", __FILE__, __LINE__, *again + " -> " + e.what());
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto yaml = fuzz::as_text(data, size);
  try {
    const Config c = parse_config(yaml, kFile);
    check_config(c, yaml);
  } catch (const ConfigError& e) {
    const std::string_view what = e.what();
    // Every message names the file, then where or what.
    FUZZ_CHECK(what.starts_with(kFile) && what.size() > kFile.size() + 2, std::string(what));
  } catch (const std::exception& e) {
    fuzz::violated("parse_config threw something other than ConfigError", __FILE__, __LINE__,
                   std::string(typeid(e).name()) + ": " + e.what());
  } catch (...) {
    fuzz::violated("parse_config threw a non-std::exception", __FILE__, __LINE__);
  }
  return 0;
}

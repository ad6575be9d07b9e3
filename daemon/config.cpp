#include "daemon/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "core/did_you_mean.h"
#include "core/duration.h"
#include "core/listen_address.h"
#include "core/text.h"
#include "core/yaml_reader.h"
#include "daemon/probe_set.h"
#include "probes/diskstats.h"

namespace tierscope {

Config::Config() : device_exclude(DeviceFilter::kDefaultExclude) {
  for (auto name : kProbeNames) probes.emplace(std::string(name), true);
}

bool Config::probe_enabled(std::string_view name) const {
  auto it = probes.find(std::string(name));
  return it != probes.end() && it->second;
}

namespace {

constexpr std::size_t kMaxRegexLength = 1024;

class Parser final : public YamlReader {
 public:
  explicit Parser(const std::string& file) : file_(file) {}

 private:
  std::string origin(const YAML::Mark& mark, std::string_view) const override { return file_position(file_, mark); }
  [[noreturn]] void raise(const std::string& message) const override { throw ConfigError(message); }
  const std::string& file_;
};

}  // namespace

Config parse_config(std::string_view yaml, const std::string& file) {
  Parser p(file);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    p.fail(e.mark, "", "YAML syntax error: " + e.msg);
  }
  Config c;
  YAML::Mark window_mark = root.Mark();
  const std::vector<std::string_view> top{"sample_interval", "peak_window", "listen", "log_level", "roots",
                                          "probes", "diskstats", "offload_device", "gpu", "workload", "nvme"};
  p.each_key(root, "", top, [&](const std::string& key, const std::string& full, const YAML::Node& v) {
    if (key == "sample_interval") {
      c.sample_interval = p.duration(v, full, kMinInterval, kMaxInterval);
    } else if (key == "peak_window") {
      c.peak_window = p.duration(v, full, kMinInterval, kMaxPeakWindow);
      window_mark = v.Mark();
    } else if (key == "listen") {
      c.listen = p.scalar(v, full, "HOST:PORT");
      if (auto problem = listen_address_problem(c.listen))
        p.fail(v.Mark(), full, *problem + ", got \"" + c.listen + "\"");
    } else if (key == "log_level") {
      auto s = p.scalar(v, full, "error, warn, info or debug");
      auto level = parse_log_level(s);
      if (!level) {
        std::string what = "expected error, warn, info or debug, got \"" + s + "\"";
        if (auto g = did_you_mean(s, {"error", "warn", "info", "debug"})) what += "; did you mean \"" + *g + "\"?";
        p.fail(v.Mark(), full, what);
      }
      c.log_level = *level;
    } else if (key == "roots") {
      p.each_key(v, full, {"procfs", "sysfs", "devfs"}, [&](const std::string& k, const std::string& f, const YAML::Node& n) {
        auto dir = p.scalar(n, f, "a directory path");
        if (dir.empty() || dir.front() != '/') p.fail(n.Mark(), f, "expected an absolute directory path, got \"" + dir + "\"");
        (k == "procfs" ? c.roots.procfs : k == "sysfs" ? c.roots.sysfs : c.roots.devfs) = dir;
      });
    } else if (key == "probes") {
      std::vector<std::string_view> names(kProbeNames.begin(), kProbeNames.end());
      p.each_key(v, full, names, [&](const std::string& k, const std::string& f, const YAML::Node& n) {
        c.probes[k] = p.boolean(n, f);
      });
    } else if (key == "diskstats") {
      p.each_key(v, full, {"device_include", "device_exclude"}, [&](const std::string& k, const std::string& f, const YAML::Node& n) {
        auto re = n.IsNull() ? std::string() : p.scalar(n, f, "a regular expression (ECMAScript syntax)");
        // std::regex compiles recursively: bound the pattern so a long one
        // cannot exhaust the stack. Device-name patterns are short.
        if (re.size() > kMaxRegexLength)
          p.fail(n.Mark(), f, "expected a regular expression of at most " + std::to_string(kMaxRegexLength) +
                                  " characters, got " + std::to_string(re.size()));
        try {
          std::regex check(re, std::regex::ECMAScript);
        } catch (const std::regex_error& e) {
          p.fail(n.Mark(), f, "expected a regular expression (ECMAScript syntax): " + std::string(e.what()));
        }
        (k == "device_include" ? c.device_include : c.device_exclude) = re;
      });
    } else if (key == "nvme") {
      p.each_key(v, full, {"health_interval"}, [&](const std::string&, const std::string& f, const YAML::Node& n) {
        const std::string expected = "a duration from " + format_duration(kMinNvmeHealthInterval) + " to " +
                                     format_duration(kMaxNvmeHealthInterval) + " (e.g. 30s, 5m), or off";
        auto s = p.scalar(n, f, expected);
        // off (or 0) disables the admin reads; the sysfs identity stays.
        auto d = s == "off" ? std::optional(std::chrono::milliseconds{0}) : parse_duration(s);
        if (!d || (d->count() != 0 && (*d < kMinNvmeHealthInterval || *d > kMaxNvmeHealthInterval)))
          p.fail(n.Mark(), f, "expected " + expected + ", got \"" + s + "\"");
        c.nvme.health_interval = *d;
      });
    } else if (key == "gpu") {
      p.each_key(v, full, {"nvml_library", "process_interval", "memory_model"},
                 [&](const std::string& k, const std::string& f, const YAML::Node& n) {
        if (k == "nvml_library") {
          c.nvml.library = p.scalar(n, f, "a library name or path (libnvidia-ml.so.1)");
          if (c.nvml.library.empty()) p.fail(n.Mark(), f, "expected a library name or path, got an empty string");
        } else if (k == "process_interval") {
          c.nvml.process_interval = p.duration(n, f, kMinInterval, kMaxPeakWindow);
        } else {
          auto m = p.scalar(n, f, "auto, unified or discrete");
          if (m != "auto" && m != "unified" && m != "discrete")
            p.fail(n.Mark(), f, "expected auto, unified or discrete, got \"" + m + "\"");
          c.nvml.memory_model = m;
        }
      });
    } else if (key == "workload") {
      p.each_key(v, full, {"pids", "process_names", "systemd_units"},
                 [&](const std::string& k, const std::string& f, const YAML::Node& n) {
        if (n.IsNull()) return;
        if (!n.IsSequence()) p.fail(n.Mark(), f, "expected a list, e.g. [1234] or [llama-server]");
        for (const auto& item : n) {
          auto s = p.scalar(item, f, k == "pids" ? "a process id" : "a name");
          if (k == "pids") {
            auto pid = text::parse_u64(s);
            if (!pid || *pid == 0 || *pid > 4194304) p.fail(item.Mark(), f, "expected a process id 1-4194304, got \"" + s + "\"");
            c.workload.pids.push_back(static_cast<std::uint32_t>(*pid));
          } else if (s.empty()) {
            p.fail(item.Mark(), f, "expected a name, got an empty string");
          } else if (k == "process_names") {
            if (s.size() > 15)  // the kernel truncates comm to 15 bytes
              p.fail(item.Mark(), f, "expected a process name as /proc/<pid>/comm shows it (at most 15 characters), got \"" + s + "\"");
            c.workload.process_names.push_back(s);
          } else {
            if (s.find('/') != std::string::npos) p.fail(item.Mark(), f, "expected a unit name such as ollama.service, got \"" + s + "\"");
            c.workload.systemd_units.push_back(s);
          }
        }
      });
    } else if (key == "offload_device") {
      const std::string expected = "\"auto\" or a list of controller names, block devices or serials (e.g. [nvme0, S4EWNX0R123456])";
      c.offload = {};
      c.offload.auto_detect = false;
      auto take = [&](const YAML::Node& n) {
        auto s = std::string(text::trim(p.scalar(n, full, expected)));
        if (s.empty()) p.fail(n.Mark(), full, "expected " + expected + ", got an empty name");
        if (s == "auto") c.offload.auto_detect = true;
        else c.offload.names.push_back(s);
      };
      if (v.IsSequence()) {
        if (v.size() == 0) p.fail(v.Mark(), full, "expected " + expected + ", got an empty list");
        for (const auto& n : v) take(n);
      } else {
        take(v);
      }
    }
  });
  if (c.peak_window < c.sample_interval)
    p.fail(window_mark, "peak_window",
           "expected at least sample_interval (" + format_duration(c.sample_interval) + "), got " +
               format_duration(c.peak_window));
  return c;
}

Config load_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path + ": cannot read the config file: " + std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_config(ss.str(), path);
}

}  // namespace tierscope

#include "daemon/config.h"

#include <yaml-cpp/yaml.h>


#include "core/text.h"
#include "core/did_you_mean.h"
#include "core/duration.h"
#include "core/listen_address.h"
#include "core/user_file.h"
#include "core/yaml_reader.h"

namespace tierscope {

namespace {

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
  SamplerConfigReader sampling(p, c);
  std::vector<std::string_view> known{"listen", "log_level", "web_config_file", "record"};
  for (auto key : sampling.keys()) known.push_back(key);
  p.each_key(root, "", known, [&](const std::string& key, const std::string& full, const YAML::Node& v) {
    if (key == "listen") {
      c.listen = p.scalar(v, full, "HOST:PORT");
      if (auto problem = listen_address_problem(c.listen))
        p.fail(v.Mark(), full, *problem + ", got " + text::quoted(c.listen));
    } else if (key == "web_config_file") {
      c.web_config_file = v.IsNull() ? std::string() : p.scalar(v, full, "a file path (the Prometheus web config format)");
    } else if (key == "record") {
      if (v.IsNull()) c.record.reset();
      else c.record = parse_recorder_options(p, v, full);
    } else if (key == "log_level") {
      auto s = p.scalar(v, full, "error, warn, info or debug");
      auto level = parse_log_level(s);
      if (!level) {
        std::string what = "expected error, warn, info or debug, got " + text::quoted(s);
        if (auto g = did_you_mean(s, {"error", "warn", "info", "debug"})) what += "; did you mean \"" + *g + "\"?";
        p.fail(v.Mark(), full, what);
      }
      c.log_level = *level;
    } else {
      sampling.read(key, full, v);
    }
  });
  sampling.finish(root.Mark());
  return c;
}

Config load_config(const std::string& path) {
  std::string error;
  auto text = read_user_file(path, error);
  if (!text) throw ConfigError(path + ": cannot read the config file: " + error);
  return parse_config(*text, path);
}

}  // namespace tierscope

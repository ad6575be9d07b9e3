#include "workloads/scenario.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <tuple>

#include "core/byte_size.h"
#include "core/did_you_mean.h"
#include "core/duration.h"
#include "core/listen_address.h"
#include "core/text.h"
#include "core/user_file.h"
#include "core/yaml_reader.h"
#include "exporters/recorder.h"
#include "probes/sampler_config.h"
#include "workloads/engines/engine.h"

namespace tierscope::workloads {

std::string_view to_string(EngineKind k) { return engine_descriptor(k).name; }

std::string_view to_string(ScenarioKind k) {
  switch (k) {
    case ScenarioKind::context_sweep: return "context_sweep";
    case ScenarioKind::concurrency_sweep: return "concurrency_sweep";
    case ScenarioKind::protocol: return "protocol";
    case ScenarioKind::soak: return "soak";
  }
  return "?";
}
std::string_view to_string(ArrivalMode m) {
  switch (m) {
    case ArrivalMode::closed: return "closed";
    case ArrivalMode::poisson: return "poisson";
    case ArrivalMode::gamma: return "gamma";
  }
  return "?";
}

Dialect EngineConfig::dialect() const { return dialect_of(engine_descriptor(kind), api); }

bool Scenario::effective_ignore_eos() const {
  if (ignore_eos) return *ignore_eos;
  return engine_descriptor(engine.kind).ignore_eos_by_default;
}

namespace {

constexpr std::uint32_t kMaxTokens = 10'000'000;
constexpr std::uint32_t kMaxUsers = 100'000;
constexpr std::uint32_t kMaxRequests = 1'000'000;
constexpr std::size_t kMaxSteps = 10'000;
constexpr std::size_t kMaxUrlChars = 2048;

// A --set value as the user typed it, or quoted and cut when long.
std::string as_given(const std::string& value) { return value.size() > text::kQuotedChars ? text::quoted(value) : value; }

// The strict reader, with errors located in the file or, for a value that a
// --set override supplied, at that override.
class Parser final : public YamlReader {
 public:
  Parser(const std::string& file, const std::vector<Override>& overrides) : file_(file), overrides_(overrides) {}

  std::vector<std::uint32_t> int_list(const YAML::Node& n, const std::string& key, std::uint32_t lo,
                                      std::uint32_t hi) const {
    if (!n.IsSequence() || n.size() == 0)
      fail(n.Mark(), key, "expected a non-empty list of integers " + std::to_string(lo) + "-" + std::to_string(hi) +
                              ", e.g. [1024, 2048]");
    if (n.size() > kMaxSteps) fail(n.Mark(), key, "expected at most " + std::to_string(kMaxSteps) + " steps");
    std::vector<std::uint32_t> out;
    for (const auto& item : n) out.push_back(integer(item, key, lo, hi));
    return out;
  }

  const std::string& file() const { return file_; }

 private:
  std::string origin(const YAML::Mark& mark, std::string_view key) const override {
    const Override* from = nullptr;
    for (const auto& o : overrides_)
      if (!key.empty() && (key == o.key || key.rfind(o.key + ".", 0) == 0)) from = &o;
    if (from) return "--set " + from->key + "=" + as_given(from->value);
    return file_position(file_, mark);
  }
  [[noreturn]] void raise(const std::string& message) const override { throw ScenarioError(message); }

  std::string file_;
  const std::vector<Override>& overrides_;
};

void apply_overrides(YAML::Node& root, const std::vector<Override>& overrides) {
  for (const auto& o : overrides) {
    YAML::Node value;
    try {
      value = YAML::Load(o.value);
    } catch (const YAML::Exception& e) {
      throw ScenarioError("--set " + o.key + "=" + as_given(o.value) + ": expected a YAML value: " + e.msg);
    }
    if (!value.IsDefined() || value.IsNull()) value = YAML::Node(o.value);  // empty string stays a string
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (true) {
      auto dot = o.key.find('.', start);
      parts.push_back(o.key.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    if (!root.IsDefined() || root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
    if (!root.IsMap()) throw ScenarioError("--set " + o.key + ": the scenario file is not a mapping of keys");
    YAML::Node cur;
    cur.reset(root);
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
      YAML::Node next = cur[parts[i]];
      if (!next.IsDefined() || next.IsNull()) cur[parts[i]] = YAML::Node(YAML::NodeType::Map);
      YAML::Node child = cur[parts[i]];
      if (!child.IsMap())
        throw ScenarioError("--set " + o.key + ": " + parts[i] + " is not a mapping of keys");
      cur.reset(child);
    }
    cur[parts.back()] = value;
  }
}

std::string strip_slash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

}  // namespace

Override parse_override(std::string_view text) {
  auto eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0)
    throw ScenarioError("--set: expected key=value (e.g. engine.url=http://127.0.0.1:8080), got " +
                        tierscope::text::quoted(text));
  Override o{std::string(text.substr(0, eq)), std::string(text.substr(eq + 1))};
  if (o.key.front() == '.' || o.key.back() == '.' || o.key.find("..") != std::string::npos)
    throw ScenarioError("--set: expected a dotted key such as engine.url, got " + text::quoted(o.key));
  return o;
}

namespace {

// What parse_scenario has seen so far, for the checks after the last key.
struct Seen {
  bool engine = false, kind = false, url = false, contexts = false, users = false, prompts = false, api = false;
  bool ready = false;  // engine.launch.ready
  bool limits = false;
  bool arrival = false, duration = false, idle_tail = false, workload = false, users_scalar = false;
  YAML::Mark engine_mark, url_mark, launch_mark, limits_mark, users_mark, arrival_mark, workload_mark, idle_tail_mark;
  // Keys of one kind of scenario given in another: the first one, for the message.
  std::optional<std::pair<std::string, YAML::Mark>> sweep_only, soak_only;
  // Where each placeholder is first used in engine.launch (dotted key), for
  // "missing" messages.
  std::vector<std::pair<std::string, std::string>> placeholder_uses;
  // cost: where it and each chosen name were given, checked against the prices file after the whole file.
  YAML::Mark cost_mark;
  bool cost_cloud_gpu = false, cost_api = false;  // the lists were given (an empty one chooses none)
  std::vector<std::tuple<std::string, std::string, YAML::Mark>> cost_names;  // (section, dotted key, mark)
};

// "a, b or c".
std::string one_of(const std::vector<std::string_view>& options) {
  std::string out;
  for (std::size_t i = 0; i < options.size(); ++i) {
    if (i > 0) out += i + 1 == options.size() ? " or " : ", ";
    out += options[i];
  }
  return out;
}

std::vector<std::string_view> engine_names() {
  std::vector<std::string_view> names;
  for (const EngineDescriptor* e : all_engines()) names.push_back(e->name);
  return names;
}

std::vector<std::string_view> api_names(const EngineDescriptor& engine) {
  std::vector<std::string_view> names;
  for (const ApiChoice& a : engine.apis) names.push_back(a.api);
  return names;
}

// Every engine's engine.api values, each once, in engine order.
std::vector<std::string_view> all_api_names() {
  std::vector<std::string_view> names;
  for (const EngineDescriptor* e : all_engines())
    for (const ApiChoice& a : e->apis)
      if (std::find(names.begin(), names.end(), a.api) == names.end()) names.push_back(a.api);
  return names;
}

constexpr std::size_t kMaxArgs = 4096;
constexpr std::size_t kMaxEnv = 1024;

bool env_name_ok(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name.front()))) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

// A string of engine.launch that may hold placeholders: checked here so a
// typo such as {prot} fails before anything starts.
std::string launch_text(const Parser& p, const YAML::Node& n, const std::string& full, std::string_view expected,
                        Seen& seen) {
  auto v = p.scalar(n, full, expected);
  try {
    for (auto& name : placeholders_used(v)) seen.placeholder_uses.emplace_back(std::move(name), full);
  } catch (const LaunchError& e) {
    p.fail(n.Mark(), full, e.what());
  }
  return v;
}

void parse_launch(const Parser& p, const YAML::Node& v, const std::string& full, Scenario& s, Seen& seen) {
  seen.launch_mark = v.Mark();
  if (!v.IsMap())
    p.fail(v.Mark(), full,
           "expected a mapping (argv, env, cwd, ready, ready_timeout, stop_signal, stop_timeout, restart, model)");
  LaunchConfig launch;
  LaunchSpec& spec = launch.spec;
  bool have_argv = false;
  p.each_key(v, full,
             {"argv", "env", "cwd", "ready", "ready_timeout", "stop_signal", "stop_timeout", "restart", "model"},
             [&](const std::string& k, const std::string& f, const YAML::Node& n) {
               if (k == "argv") {
                 have_argv = true;
                 if (!n.IsSequence() || n.size() == 0)
                   p.fail(n.Mark(), f, "expected a non-empty list: the program, then its arguments (no shell)");
                 if (n.size() > kMaxArgs) p.fail(n.Mark(), f, "expected at most " + std::to_string(kMaxArgs) + " arguments");
                 std::size_t i = 0;
                 for (const auto& item : n) {
                   const std::string path = f + "[" + std::to_string(i++) + "]";
                   spec.argv.push_back(
                       launch_text(p, item, path, "an argument (quote placeholders: \"{model}\")", seen));
                 }
                 if (spec.argv.front().empty())
                   p.fail(n[0].Mark(), f + "[0]", "expected the program (a path or a name in PATH), got an empty string");
               } else if (k == "env") {
                 if (n.IsNull()) return;
                 if (!n.IsMap()) p.fail(n.Mark(), f, "expected a mapping of NAME: value");
                 if (n.size() > kMaxEnv) p.fail(n.Mark(), f, "expected at most " + std::to_string(kMaxEnv) + " variables");
                 for (auto it = n.begin(); it != n.end(); ++it) {
                   if (!it->first.IsScalar()) p.fail(it->first.Mark(), f, "expected a variable name");
                   const std::string name = it->first.Scalar();
                   const std::string path = f + "." + name;
                   if (!env_name_ok(name))
                     p.fail(it->first.Mark(), f,
                            "expected a variable name (letters, digits, _; not starting with a digit), got " +
                                text::quoted(name));
                   if (std::any_of(spec.env.begin(), spec.env.end(), [&](const auto& kv) { return kv.first == name; }))
                     p.fail(it->first.Mark(), path, "given twice");
                   spec.env.emplace_back(
                       name, launch_text(p, it->second, path, "a value (quote placeholders: \"127.0.0.1:{port}\")", seen));
                 }
               } else if (k == "cwd") {
                 auto c = launch_text(p, n, f, "a directory", seen);
                 if (c.empty()) p.fail(n.Mark(), f, "expected a directory, got an empty string");
                 spec.cwd = c;
               } else if (k == "ready") {
                 seen.ready = true;
                 auto r = p.scalar(n, f, "llamacpp, vllm, ollama, none or an http:// URL");
                 if (r.rfind("http://", 0) == 0 || r.rfind("https://", 0) == 0) {
                   if (r.size() > kMaxUrlChars)
                     p.fail(n.Mark(), f, "expected a URL of at most " + std::to_string(kMaxUrlChars) + " characters");
                   spec.ready = {ReadyKind::url, launch_text(p, n, f, "a URL", seen)};
                 } else {
                   auto c = p.choice(n, f, {"llamacpp", "vllm", "ollama", "none"});
                   spec.ready = {c == "llamacpp" ? ReadyKind::llamacpp
                                 : c == "vllm"   ? ReadyKind::vllm
                                 : c == "ollama" ? ReadyKind::ollama
                                                 : ReadyKind::none,
                                 ""};
                 }
               } else if (k == "ready_timeout") {
                 spec.ready_timeout = p.duration(n, f, std::chrono::milliseconds(100), std::chrono::hours(24));
               } else if (k == "stop_signal") {
                 spec.stop_signal = *stop_signal_by_name(p.choice(n, f, stop_signal_names()));
               } else if (k == "stop_timeout") {
                 spec.stop_timeout = p.duration(n, f, std::chrono::milliseconds(0), std::chrono::hours(1));
               } else if (k == "restart") {
                 spec.restart = p.choice(n, f, {"per_run", "per_step"}) == "per_step" ? RestartPolicy::per_step
                                                                                       : RestartPolicy::per_run;
               } else if (k == "model") {
                 auto m = p.scalar(n, f, "the path of the model file");
                 if (m.empty()) p.fail(n.Mark(), f, "expected the path of the model file, got an empty string");
                 std::error_code ec;
                 const auto status = std::filesystem::status(m, ec);
                 if (ec || !std::filesystem::exists(status))
                   p.fail(n.Mark(), f, text::quoted(m) + ": " + (ec ? ec.message() : "no such file"));
                 if (!std::filesystem::is_regular_file(status))
                   p.fail(n.Mark(), f, text::quoted(m) + " is not a regular file");
                 auto absolute = std::filesystem::absolute(m, ec);
                 launch.model = ec ? m : absolute.lexically_normal().string();
               }
             });
  if (!have_argv)
    p.fail(v.Mark(), full + ".argv",
           "missing (expected the program and its arguments, e.g. [llama-server, -m, \"{model}\"])");
  s.engine.launch = std::move(launch);
}

void parse_engine(const Parser& p, const YAML::Node& v, const std::string& full, Scenario& s, Seen& seen) {
  seen.engine = true;
  seen.engine_mark = v.Mark();
  if (!v.IsMap()) p.fail(v.Mark(), full, "expected a mapping (kind, url, model, api, api_key, num_ctx, launch)");
  p.each_key(v, full, {"kind", "url", "model", "api", "api_key", "num_ctx", "launch"},
             [&](const std::string& k, const std::string& f, const YAML::Node& n) {
               if (k == "kind") {
                 seen.kind = true;
                 s.engine.kind = engine_by_name(p.choice(n, f, engine_names()))->kind;
               } else if (k == "url") {
                 seen.url = true;
                 seen.url_mark = n.Mark();
                 auto u = p.scalar(n, f, "an http:// or https:// URL");
                 if (u.rfind("http://", 0) != 0 && u.rfind("https://", 0) != 0)
                   p.fail(n.Mark(), f, "expected an http:// or https:// URL, got " + text::quoted(u));
                 if (u.size() > kMaxUrlChars)
                   p.fail(n.Mark(), f, "expected a URL of at most " + std::to_string(kMaxUrlChars) +
                                           " characters, got " + text::quoted(u));
                 s.engine.url = strip_slash(u);
               } else if (k == "model") {
                 s.engine.model = p.scalar(n, f, "a model name");
               } else if (k == "api") {
                 seen.api = true;
                 s.engine.api = p.choice(n, f, all_api_names());
               } else if (k == "api_key") {
                 s.engine.api_key = p.scalar(n, f, "a key");
               } else if (k == "num_ctx") {
                 s.engine.num_ctx = p.integer(n, f, 1, kMaxTokens);
               } else if (k == "launch") {
                 parse_launch(p, n, f, s, seen);
               }
             });
}

void parse_limits(const Parser& p, const YAML::Node& v, const std::string& full, BudgetRequest& b) {
  if (!v.IsMap()) p.fail(v.Mark(), full, "expected a mapping (memory_max, memory_high, swap_max, backend, cgroup_parent)");
  constexpr std::uint64_t kMax = std::uint64_t{1} << 50;  // 1 PiB
  p.each_key(v, full, {"memory_max", "memory_high", "swap_max", "backend", "cgroup_parent"},
             [&](const std::string& k, const std::string& f, const YAML::Node& n) {
               if (k == "memory_max") b.memory_max = p.byte_size(n, f, kMinMemoryLimit, kMax);
               else if (k == "memory_high") b.memory_high = p.byte_size(n, f, kMinMemoryLimit, kMax);
               else if (k == "swap_max") b.swap_max = p.byte_size(n, f, 0, kMax);
               else if (k == "backend") {
                 auto c = p.choice(n, f, {"auto", "systemd", "cgroup"});
                 b.backend = c == "auto" ? BudgetBackend::automatic
                             : c == "systemd" ? BudgetBackend::systemd
                                              : BudgetBackend::cgroup;
               } else if (k == "cgroup_parent") {
                 b.cgroup_parent = p.scalar(n, f, "a cgroup path such as /tierscope, or a slice name");
                 if (b.cgroup_parent.empty() || b.cgroup_parent.find("..") != std::string::npos ||
                     b.cgroup_parent.find('\n') != std::string::npos)
                   p.fail(n.Mark(), f, "expected a cgroup path such as /tierscope or a slice name, got " +
                                           text::quoted(b.cgroup_parent));
               }
             });
  if (b.empty()) p.fail(v.Mark(), full, "expected at least one of memory_max, memory_high, swap_max");
}

void parse_push(const Parser& p, const YAML::Node& v, const std::string& full, Scenario& s) {
  if (!v.IsMap()) p.fail(v.Mark(), full, "expected a mapping (url, job, grouping)");
  PushConfig push;
  bool have_url = false;
  p.each_key(v, full, {"url", "job", "grouping"}, [&](const std::string& k, const std::string& f, const YAML::Node& n) {
    if (k == "url") {
      auto u = strip_slash(p.scalar(n, f, "the Pushgateway's URL, e.g. http://127.0.0.1:9091"));
      if (auto problem = push_url_problem(u)) p.fail(n.Mark(), f, *problem + ", got " + text::quoted(u));
      push.url = std::move(u);
      have_url = true;
    } else if (k == "job") {
      push.job = p.scalar(n, f, "a job name");
      if (auto problem = push_job_problem(push.job)) p.fail(n.Mark(), f, *problem + ", got " + text::quoted(push.job));
    } else if (k == "grouping") {
      if (!n.IsMap()) p.fail(n.Mark(), f, "expected a mapping of label names to values, e.g. {instance: gpu-host-1}");
      for (auto it = n.begin(); it != n.end(); ++it) {
        const std::string name = it->first.IsScalar() ? it->first.Scalar() : std::string();
        const std::string key = f + "." + name;
        if (auto problem = push_label_problem(name)) p.fail(it->first.Mark(), key, *problem + ", got " + text::quoted(name));
        if (push.grouping.count(name)) p.fail(it->first.Mark(), key, "given twice");
        push.grouping[name] = p.scalar(it->second, key, "a label value");
      }
    }
  });
  if (!have_url) p.fail(v.Mark(), full + ".url", "missing (expected the Pushgateway's URL, e.g. http://127.0.0.1:9091)");
  s.push = std::move(push);
}

// cost: the keys as given; the names are checked in complete_cost.
void parse_cost(const Parser& p, const YAML::Node& v, const std::string& full, Scenario& s, Seen& seen) {
  if (!v.IsMap()) p.fail(v.Mark(), full, "expected a mapping (prices, local, cloud_gpu, api, ssd, system_watts, enabled)");
  CostConfig c;
  seen.cost_mark = v.Mark();
  auto names = [&](const YAML::Node& n, const std::string& f, const char* section) {
    std::vector<std::string> out;
    if (!n.IsSequence()) p.fail(n.Mark(), f, "expected a list of names from the prices file's " + std::string(section));
    for (const auto& item : n) {
      out.push_back(p.scalar(item, f, "a name from the prices file's " + std::string(section)));
      seen.cost_names.emplace_back(section, f, item.Mark());
    }
    return out;
  };
  p.each_key(v, full, {"prices", "local", "cloud_gpu", "api", "ssd", "system_watts", "enabled"},
             [&](const std::string& k, const std::string& f, const YAML::Node& n) {
               if (k == "prices") {
                 c.prices_path = p.scalar(n, f, "the path of a prices file");
                 if (c.prices_path.empty()) p.fail(n.Mark(), f, "expected the path of a prices file");
                 std::filesystem::path path(c.prices_path);
                 if (path.is_relative())
                   c.prices_path = (std::filesystem::path(p.file()).parent_path() / path).lexically_normal().string();
               } else if (k == "local") {
                 c.local = p.scalar(n, f, "a name from the prices file's local");
                 seen.cost_names.emplace_back("local", f, n.Mark());
               } else if (k == "ssd") {
                 c.ssd = p.scalar(n, f, "a name from the prices file's ssd");
                 seen.cost_names.emplace_back("ssd", f, n.Mark());
               } else if (k == "cloud_gpu") {
                 c.cloud_gpu = names(n, f, "cloud_gpu");
                 seen.cost_cloud_gpu = true;
               } else if (k == "api") {
                 c.api = names(n, f, "api");
                 seen.cost_api = true;
               } else if (k == "system_watts") {
                 c.system_watts = p.number(n, f, 0, 1e6, true, "whole-system power in watts, > 0");
               } else if (k == "enabled") {
                 c.enabled = p.boolean(n, f);
               }
             });
  s.cost = std::move(c);
}

// cost after the whole file: the prices file read, every chosen name in it
// (a did-you-mean for a near miss), cloud_gpu and api defaulting to every entry.
void complete_cost(const Parser& p, const Seen& seen, Scenario& s) {
  if (!s.cost) return;
  CostConfig& c = *s.cost;
  if (s.kind == ScenarioKind::soak) p.fail(seen.cost_mark, "cost", "not a key of scenario: soak (bench scenarios only)");
  if (!c.enabled) return;
  if (c.prices_path.empty()) {
    c.prices_path = default_prices_path();
    if (c.prices_path.empty())
      p.fail(seen.cost_mark, "cost.prices",
             "missing (none of /etc/tierscope/prices.yaml, /usr/share/tierscope/prices.yaml exists; give the path "
             "of a prices file)");
  }
  try {
    c.prices = std::make_shared<const Prices>(load_prices(c.prices_path));
  } catch (const PricesError& e) {
    p.fail(seen.cost_mark, "cost.prices", e.what());
  }
  const Prices& prices = *c.prices;
  auto known = [&](const std::string& section) {
    std::vector<std::string_view> out;
    if (section == "local") for (const auto& e : prices.local) out.push_back(e.name);
    if (section == "ssd") for (const auto& e : prices.ssd) out.push_back(e.name);
    if (section == "cloud_gpu") for (const auto& e : prices.cloud_gpu) out.push_back(e.name);
    if (section == "api") for (const auto& e : prices.api) out.push_back(e.name);
    return out;
  };
  std::size_t list_i[2] = {0, 0};  // next index into cloud_gpu, api
  for (const auto& [section, key, mark] : seen.cost_names) {
    std::string name;
    if (section == "local") name = c.local;
    else if (section == "ssd") name = c.ssd;
    else if (section == "cloud_gpu") name = c.cloud_gpu[list_i[0]++];
    else name = c.api[list_i[1]++];
    const auto options = known(section);
    if (std::find(options.begin(), options.end(), name) != options.end()) continue;
    std::string what = text::quoted(name) + " is not in " + section + " of " + c.prices_path;
    if (auto near = did_you_mean(name, options)) what += " (did you mean " + text::quoted(*near) + "?)";
    else if (!options.empty()) what += " (expected " + one_of(options) + ")";
    else what += " (it has no " + section + " entries)";
    p.fail(mark, key, what);
  }
  auto all = [](const auto& entries) {
    std::vector<std::string> out;
    for (const auto& e : entries) out.push_back(e.name);
    return out;
  };
  if (!seen.cost_cloud_gpu) c.cloud_gpu = all(prices.cloud_gpu);
  if (!seen.cost_api) c.api = all(prices.api);
}

void parse_arrival(const Parser& p, const YAML::Node& v, const std::string& full, ArrivalConfig& a) {
  p.each_key(v, full, {"mode", "rate", "burstiness", "seed"},
             [&](const std::string& k, const std::string& f, const YAML::Node& n) {
               if (k == "mode") {
                 auto c = p.choice(n, f, {"closed", "poisson", "gamma"});
                 a.mode = c == "closed"    ? ArrivalMode::closed
                          : c == "poisson" ? ArrivalMode::poisson
                                           : ArrivalMode::gamma;
               } else if (k == "rate") {
                 a.rate = p.number(n, f, 0, 1e6, true, "requests per second above 0, e.g. 2.5");
               } else if (k == "burstiness") {
                 a.burstiness = p.number(n, f, 0, 1e3, true, "a gamma shape above 0, e.g. 0.5");
               } else if (k == "seed") {
                 a.seed = p.integer(n, f, 0, 0xffffffffu);
               }
             });
}

PromptSpec parse_prompt(const Parser& p, const YAML::Node& item, const std::string& path, std::size_t index,
                        std::uint32_t default_max_tokens) {
  PromptSpec ps;
  ps.max_tokens = default_max_tokens;
  bool have_text = false;
  if (!item.IsMap()) p.fail(item.Mark(), path, "expected a mapping (name, text, max_tokens, temperature)");
  p.each_key(item, path, {"name", "text", "max_tokens", "temperature"},
             [&](const std::string& k, const std::string& f, const YAML::Node& n) {
               if (k == "name") ps.name = p.scalar(n, f, "a name");
               else if (k == "text") {
                 ps.text = p.scalar(n, f, "the prompt text");
                 have_text = !ps.text.empty();
               } else if (k == "max_tokens") ps.max_tokens = p.integer(n, f, 1, kMaxTokens);
               else if (k == "temperature") ps.temperature = p.number(n, f, 0, 10, false, "a temperature from 0 to 10");
             });
  if (!have_text) p.fail(item.Mark(), path + ".text", "expected the prompt text (missing or empty)");
  if (ps.name.empty()) ps.name = "prompt" + std::to_string(index);
  return ps;
}

void parse_prompts(const Parser& p, const YAML::Node& v, const std::string& full, Scenario& s) {
  if (!v.IsSequence() || v.size() == 0)
    p.fail(v.Mark(), full, "expected a non-empty list of prompts ({name, text, max_tokens, temperature})");
  if (v.size() > kMaxSteps) p.fail(v.Mark(), full, "expected at most " + std::to_string(kMaxSteps) + " prompts");
  std::set<std::string> names;
  std::size_t index = 0;
  for (const auto& item : v) {
    std::string path = full + "[" + std::to_string(index++) + "]";
    PromptSpec ps = parse_prompt(p, item, path, index, s.output_tokens);
    if (!names.insert(ps.name).second) p.fail(item.Mark(), path + ".name", "name " + text::quoted(ps.name) + " given twice");
    s.prompts.push_back(std::move(ps));
  }
}

// The keys with a plain value; false when `key` is not one of them.
bool parse_value(const Parser& p, const std::string& key, const std::string& full, const YAML::Node& v, Scenario& s) {
  if (key == "scenario") {
    auto c = p.choice(v, full, {"context_sweep", "concurrency_sweep", "protocol", "soak", "ab"});
    // scenario: ab is read by parse_ab(), which hands this parser its sweep.
    if (c == "ab") p.fail(v.Mark(), full, "ab is not valid here");
    s.kind = c == "context_sweep"       ? ScenarioKind::context_sweep
             : c == "concurrency_sweep" ? ScenarioKind::concurrency_sweep
             : c == "protocol"          ? ScenarioKind::protocol
                                        : ScenarioKind::soak;
  } else if (key == "prompt_tokens") {
    s.prompt_tokens = p.integer(v, full, 1, kMaxTokens);
  } else if (key == "concurrency") {
    s.concurrency = p.integer(v, full, 1, kMaxUsers);
  } else if (key == "output_tokens") {
    s.output_tokens = p.integer(v, full, 1, kMaxTokens);
  } else if (key == "warmup") {
    s.warmup = p.integer(v, full, 0, kMaxRequests);
  } else if (key == "repetitions") {
    s.repetitions = p.integer(v, full, 1, kMaxRequests);
  } else if (key == "stop_on_failure") {
    s.stop_on_failure = p.boolean(v, full);
  } else if (key == "failure_threshold") {
    s.failure_threshold = p.number(v, full, 0, 1, true, "a share of requests above 0 and at most 1, e.g. 0.5");
  } else if (key == "temperature") {
    s.temperature = p.number(v, full, 0, 10, false, "a temperature from 0 to 10");
  } else if (key == "ignore_eos") {
    s.ignore_eos = p.boolean(v, full);
  } else if (key == "request_timeout") {
    s.request_timeout = p.duration(v, full, std::chrono::milliseconds(100), std::chrono::hours(24));
  } else if (key == "run_deadline") {
    s.run_deadline = p.duration(v, full, std::chrono::milliseconds(0), std::chrono::hours(24 * 7));
  } else if (key == "health_timeout") {
    s.health_timeout = p.duration(v, full, std::chrono::milliseconds(0), std::chrono::hours(24));
  } else if (key == "trim") {
    s.trim = p.number(v, full, 0, 0.49, false, "a trimmed-mean fraction from 0 to 0.49");
  } else if (key == "listen") {
    auto l = p.scalar(v, full, "HOST:PORT or off");
    if (l != "off") {
      if (auto problem = listen_address_problem(l)) p.fail(v.Mark(), full, *problem + ", got " + text::quoted(l));
    }
    s.listen = l;
  } else {
    return false;
  }
  return true;
}

// soak's leak: thresholds.
void parse_leak(const Parser& p, const YAML::Node& v, const std::string& full, SoakLeakSettings& l) {
  p.each_key(v, full, {"min_duration", "min_points", "confidence", "noise_floor", "noise_floor_count", "max_points", "blocks"},
             [&](const std::string& k, const std::string& f, const YAML::Node& n) {
               if (k == "min_duration") l.min_duration = p.duration(n, f, std::chrono::milliseconds(0), std::chrono::hours(24 * 365));
               else if (k == "min_points") l.min_points = p.integer(n, f, 3, 10'000'000);
               else if (k == "confidence") l.confidence = p.number(n, f, 0.5, 0.999, false, "a confidence from 0.5 to 0.999, e.g. 0.95");
               else if (k == "noise_floor") l.noise_floor = p.byte_size(n, f, 0, std::uint64_t{1} << 50);
               else if (k == "noise_floor_count") l.noise_floor_count = p.number(n, f, 0, 1e9, false, "a count, e.g. 2");
               else if (k == "max_points") l.max_points = p.integer(n, f, 10, 100'000);
               else if (k == "blocks") l.blocks = p.integer(n, f, 4, 10'000);
             });
}

// soak's workload: the daemon config's section, read by the same parser.
void parse_soak_workload(const Parser& p, const YAML::Node& v, const std::string& full, SoakConfig& soak) {
  SamplerConfig config;
  SamplerConfigReader reader(p, config);
  reader.read("workload", full, v);
  soak.workload = config.section<WorkloadSelection>();
}

// The keys of scenario: soak; false when `key` is not one of them.
bool parse_soak_key(const Parser& p, const std::string& key, const std::string& full, const YAML::Node& v, Scenario& s,
                    Seen& seen) {
  constexpr auto kMaxRun = std::chrono::hours(24 * 30);  // 30 days
  if (key == "duration") {
    seen.duration = true;
    s.soak.duration = p.duration(v, full, std::chrono::seconds(1), kMaxRun);
  } else if (key == "idle_tail") {
    seen.idle_tail = true;
    seen.idle_tail_mark = v.Mark();
    s.soak.idle_tail = p.duration(v, full, std::chrono::milliseconds(0), kMaxRun);
  } else if (key == "checkpoint_interval") {
    s.soak.checkpoint_interval = p.duration(v, full, std::chrono::seconds(1), std::chrono::hours(24));
  } else if (key == "sample_interval") {
    s.soak.sample_interval = p.duration(v, full, kMinInterval, kMaxInterval);
  } else if (key == "workload") {
    seen.workload = true;
    seen.workload_mark = v.Mark();
    parse_soak_workload(p, v, full, s.soak);
  } else if (key == "leak") {
    parse_leak(p, v, full, s.soak.leak);
  } else if (key == "record") {
    // The daemon's parser, whose dir is required: a soak records into its run
    // directory (--out) unless record.dir says otherwise.
    YAML::Node n = v;  // the document's own node: the marks of its keys stay
    const bool run_dir = v.IsMap() && !v["dir"];
    if (run_dir) n["dir"] = "run directory";
    RecorderOptions ro = v.IsNull() ? RecorderOptions{} : parse_recorder_options(p, n, full);
    if (run_dir) ro.dir.clear();
    s.soak.record = std::make_shared<const RecorderOptions>(std::move(ro));
  } else {
    return false;
  }
  if (!seen.soak_only) seen.soak_only = std::make_pair(key, v.Mark());
  return true;
}

void parse_key(const Parser& p, const std::string& key, const std::string& full, const YAML::Node& v, Scenario& s,
               Seen& seen) {
  if (!seen.sweep_only && (key == "contexts" || key == "prompts" || key == "concurrency" || key == "warmup" ||
                           key == "repetitions" || key == "run_deadline"))
    seen.sweep_only = std::make_pair(key, v.Mark());
  if (key == "engine") {
    parse_engine(p, v, full, s, seen);
  } else if (key == "contexts") {
    seen.contexts = true;
    s.contexts = p.int_list(v, full, 1, kMaxTokens);
  } else if (key == "users") {
    seen.users = true;
    seen.users_mark = v.Mark();
    // A soak's closed loop takes one number; the sweep a list.
    if (v.IsScalar()) {
      seen.users_scalar = true;
      s.users = {p.integer(v, full, 1, kMaxUsers)};
    }
    else s.users = p.int_list(v, full, 1, kMaxUsers);
  } else if (key == "arrival") {
    seen.arrival = true;
    seen.arrival_mark = v.Mark();
    parse_arrival(p, v, full, s.arrival);
  } else if (parse_soak_key(p, key, full, v, s, seen)) {
  } else if (key == "prompts") {
    seen.prompts = true;
    parse_prompts(p, v, full, s);
  } else if (key == "limits") {
    seen.limits = true;
    seen.limits_mark = v.Mark();
    parse_limits(p, v, full, s.limits);
  } else if (key == "push") {
    parse_push(p, v, full, s);
  } else if (key == "cost") {
    parse_cost(p, v, full, s, seen);
  } else if (key == "slo") {
    if (!v.IsMap()) p.fail(v.Mark(), full, "expected a mapping (ttft_ms, tpot_ms), e.g. {ttft_ms: 2000, tpot_ms: 100}");
    Scenario::Slo slo;
    p.each_key(v, full, {"ttft_ms", "tpot_ms"}, [&](const std::string& k, const std::string& f, const YAML::Node& n) {
      const double ms = p.number(n, f, 0, 86'400'000, true, "milliseconds above 0");
      (k == "ttft_ms" ? slo.ttft_ms : slo.tpot_ms) = ms;
    });
    s.slo = slo;
  } else if (key == "ab" || key == "arms") {
    p.fail(v.Mark(), full, "only for scenario: ab");
  } else {
    parse_value(p, key, full, v, s);
  }
}

// engine.launch after the whole file: the URL and its placeholders, the
// default ready check, {model} against engine.launch.model.
void complete_launch(const Parser& p, Seen& seen, Scenario& s) {
  if (!seen.url && s.engine.launch) s.engine.url = "http://127.0.0.1:{port}";
  std::vector<std::string> in_url;
  try {
    in_url = placeholders_used(s.engine.url);
  } catch (const LaunchError& e) {
    p.fail(seen.url_mark, "engine.url", e.what());
  }
  if (!s.engine.launch) {
    if (!in_url.empty())
      p.fail(seen.url_mark, "engine.url", "{" + in_url.front() + "} needs engine.launch (tierscope starts the engine)");
    return;
  }
  for (auto& name : in_url) seen.placeholder_uses.emplace_back(std::move(name), "engine.url");
  LaunchConfig& launch = *s.engine.launch;
  launch.spec.url = s.engine.url;
  if (!seen.ready) {
    switch (s.engine.kind) {
      case EngineKind::llamacpp: launch.spec.ready.kind = ReadyKind::llamacpp; break;
      case EngineKind::vllm: launch.spec.ready.kind = ReadyKind::vllm; break;
      case EngineKind::ollama: launch.spec.ready.kind = ReadyKind::ollama; break;
      case EngineKind::openai:
        p.fail(seen.launch_mark, "engine.launch.ready",
               "missing (openai has no health endpoint of its own: give a URL such as "
               "http://127.0.0.1:{port}/v1/models, or none)");
    }
  }
  for (const auto& [name, where] : seen.placeholder_uses)
    if (name == "model" && launch.model.empty())
      p.fail(seen.launch_mark, "engine.launch.model",
             "missing ({model} is used in " + where + "; expected the path of the model file)");
}

// The checks that need the whole file: required keys, the API against the
// engine, defaults that depend on other keys.
// scenario: soak after the whole file.
void complete_soak(const Parser& p, const YAML::Node& root, Seen& seen, Scenario& s) {
  if (seen.sweep_only)
    p.fail(seen.sweep_only->second, seen.sweep_only->first,
           "not a key of scenario: soak (its load: engine, users or arrival, prompt_tokens, output_tokens, "
           "request_timeout)");
  if (!seen.duration) p.fail(root.Mark(), "duration", "missing (scenario: soak needs how long it runs, e.g. 24h)");
  SoakConfig& soak = s.soak;
  if (soak.idle_tail > soak.duration || (seen.engine && soak.idle_tail == soak.duration))
    p.fail(seen.idle_tail ? seen.idle_tail_mark : root.Mark(), "idle_tail",
           format_duration(soak.idle_tail) + (seen.idle_tail ? "" : " (the default)") +
               " leaves no time for the load of a duration of " + format_duration(soak.duration) +
               " (expected idle_tail shorter than duration)");
  if (seen.users && seen.arrival && s.arrival.mode != ArrivalMode::closed)
    p.fail(seen.arrival_mark, "arrival",
           "given with users: a soak's load is either closed-loop users or open-loop arrival, not both");
  if (seen.users && s.users.size() != 1)
    p.fail(seen.users_mark, "users", "expected one number of users for a soak (closed loop), e.g. 4");
  if (!seen.engine) {
    if (seen.users || seen.arrival)
      p.fail(seen.users ? seen.users_mark : seen.arrival_mark, seen.users ? "users" : "arrival",
             "needs engine (without an engine the soak sends no load and only observes the workload)");
    if (seen.limits) p.fail(seen.limits_mark, "limits", "needs engine.launch (tierscope applies the budget to an engine it starts)");
    return;
  }
  soak.load = true;
  if (s.users.empty()) s.users = {1};
  if (seen.workload && s.engine.launch)
    p.fail(seen.workload_mark, "workload",
           "given with engine.launch: the soak watches the engine it launches (drop workload, or drop engine.launch "
           "and give engine.url)");
}

void complete(const Parser& p, const YAML::Node& root, Seen& seen, Scenario& s) {
  if (s.kind == ScenarioKind::soak) {
    complete_soak(p, root, seen, s);
    if (!seen.engine) return;
  } else if (seen.soak_only) {
    p.fail(seen.soak_only->second, seen.soak_only->first, "only for scenario: soak");
  } else if (seen.users_scalar) {
    p.fail(seen.users_mark, "users", "expected a non-empty list of integers 1-" + std::to_string(kMaxUsers) + ", e.g. [1, 2, 4, 8]");
  }
  if (!seen.engine) p.fail(root.Mark(), "engine", "missing (expected {kind, url, model})");
  if (!seen.kind) p.fail(seen.engine_mark, "engine.kind", "missing (expected " + one_of(engine_names()) + ")");
  if (!seen.url && !s.engine.launch)
    p.fail(seen.engine_mark, "engine.url", "missing (expected e.g. http://127.0.0.1:8080; or --url)");
  const EngineDescriptor& engine = engine_descriptor(s.engine.kind);
  complete_launch(p, seen, s);
  if (seen.limits && !s.engine.launch)
    p.fail(seen.limits_mark, "limits",
           "needs engine.launch (tierscope applies the budget to an engine it starts; for a running process use "
           "tierscope run-capped or the daemon's workload section)");
  if (seen.api) {
    const auto apis = api_names(engine);
    if (std::find(apis.begin(), apis.end(), s.engine.api) == apis.end())
      p.fail(seen.engine_mark, "engine.api",
             text::quoted(s.engine.api) + " is not an API of " + std::string(engine.name) + " (expected " +
                 one_of(apis) + ")");
  } else {
    s.engine.api = std::string(engine.apis.front().api);
  }
  if (engine.needs_model && s.engine.model.empty())
    p.fail(seen.engine_mark, "engine.model", "missing (" + std::string(engine.name) + " needs the model name)");
  if (s.kind == ScenarioKind::context_sweep && !seen.contexts)
    p.fail(root.Mark(), "contexts", "missing (context_sweep needs prompt token counts, e.g. [2048, 4096])");
  if (s.kind == ScenarioKind::concurrency_sweep && !seen.users)
    p.fail(root.Mark(), "users", "missing (concurrency_sweep needs user counts, e.g. [1, 2, 4, 8])");
  if (s.kind == ScenarioKind::protocol && !seen.prompts) s.prompts = default_protocol_prompts();
}

YAML::Node load_yaml(std::string_view yaml, const std::string& file) {
  try {
    return YAML::Load(std::string(yaml));
  } catch (const YAML::ParserException& e) {
    std::ostringstream os;
    os << file << ':' << e.mark.line + 1 << ':' << e.mark.column + 1 << ": invalid YAML: " << e.msg;
    throw ScenarioError(os.str());
  } catch (const YAML::Exception& e) {
    throw ScenarioError(file + ": invalid YAML: " + e.msg);
  }
}

// Every key of a scenario file.
const std::vector<std::string_view> kTopKeys = {
    "engine", "scenario", "contexts", "users", "prompt_tokens", "concurrency", "output_tokens", "warmup",
    "repetitions", "stop_on_failure", "failure_threshold", "temperature", "ignore_eos", "request_timeout",
    "run_deadline", "health_timeout", "trim", "arrival", "prompts", "listen", "limits", "duration", "idle_tail",
    "checkpoint_interval", "sample_interval", "workload", "leak", "record", "push", "ab", "arms", "cost", "slo"};

// A scenario document other than scenario: ab.
Scenario parse_root(const Parser& p, const YAML::Node& root) {
  const std::string& file = p.file();
  Scenario s;
  Seen seen;
  seen.engine_mark = root.Mark();
  try {
    p.each_key(root, "", kTopKeys,
               [&](const std::string& key, const std::string& full, const YAML::Node& v) {
                 parse_key(p, key, full, v, s, seen);
               });
  } catch (const YAML::Exception& e) {
    throw ScenarioError(file + ": " + e.msg);
  }
  complete(p, root, seen, s);
  complete_cost(p, seen, s);
  return s;
}

// ---- scenario: ab -----------------------------------------------------------

constexpr std::size_t kMaxOrderChars = 64;
constexpr std::uint32_t kMaxBlocks = 1000;
constexpr std::size_t kMaxArmNameChars = 64;

bool is_ab(const YAML::Node& root) {
  if (!root.IsMap()) return false;
  const YAML::Node kind = root["scenario"];
  return kind.IsDefined() && kind.IsScalar() && kind.Scalar() == "ab";
}

// Merges `over` into parent[key]: mappings key by key (recursively), any
// other value replaces, null removes the key.
void merge_over(YAML::Node parent, const std::string& key, const YAML::Node& over) {
  if (!over.IsDefined()) return;
  if (over.IsNull()) {
    parent.remove(key);
    return;
  }
  const YAML::Node& view = parent;
  YAML::Node current = view[key];
  if (over.IsMap() && current.IsDefined() && current.IsMap()) {
    for (auto it = over.begin(); it != over.end(); ++it)
      if (it->first.IsScalar()) merge_over(current, it->first.Scalar(), it->second);
    return;
  }
  parent[key] = over;
}

// The sweep the scenario's own keys describe: context_sweep when contexts
// are given, concurrency_sweep when users are.
ScenarioKind default_sweep(const Parser& p, const YAML::Node& root) {
  if (root["contexts"].IsDefined()) return ScenarioKind::context_sweep;
  if (root["users"].IsDefined()) return ScenarioKind::concurrency_sweep;
  p.fail(root.Mark(), "ab.sweep",
         "missing (expected context_sweep or concurrency_sweep; or give contexts or users)");
}

AbConfig parse_ab_settings(const Parser& p, const YAML::Node& root) {
  AbConfig ab;
  const YAML::Node v = root["ab"];
  bool have_sweep = false;
  YAML::Mark order_mark = root.Mark(), blocks_mark = root.Mark();
  bool have_order = false, have_blocks = false;
  if (v.IsDefined() && !v.IsNull() && !v.IsMap())
    p.fail(v.Mark(), "ab", "expected a mapping (sweep, order, blocks, cooldown, margin, seed, unit)");
  p.each_key(v, "ab", {"sweep", "order", "blocks", "cooldown", "margin", "seed", "unit"},
             [&](const std::string& k, const std::string& f, const YAML::Node& n) {
               if (k == "sweep") {
                 have_sweep = true;
                 ab.sweep = p.choice(n, f, {"context_sweep", "concurrency_sweep"}) == "context_sweep"
                                ? ScenarioKind::context_sweep
                                : ScenarioKind::concurrency_sweep;
               } else if (k == "order") {
                 have_order = true;
                 order_mark = n.Mark();
                 ab.order = p.scalar(n, f, "a string of A and B, e.g. ABBA");
                 if (ab.order.empty() || ab.order.size() > kMaxOrderChars ||
                     ab.order.find_first_not_of("AB") != std::string::npos)
                   p.fail(n.Mark(), f, "expected a string of at most " + std::to_string(kMaxOrderChars) +
                                           " letters A and B, e.g. ABBA, got " + text::quoted(ab.order));
               } else if (k == "blocks") {
                 have_blocks = true;
                 blocks_mark = n.Mark();
                 ab.blocks = p.integer(n, f, 2, kMaxBlocks);
               } else if (k == "cooldown") {
                 ab.cooldown = p.duration(n, f, std::chrono::milliseconds(0), std::chrono::hours(1));
               } else if (k == "margin") {
                 ab.margin = p.number(n, f, 0, 1, true, "a relative margin above 0 and at most 1, e.g. 0.05");
               } else if (k == "seed") {
                 ab.seed = p.integer(n, f, 0, 0xffffffffu);
               } else if (k == "unit") {
                 ab.unit = p.choice(n, f, {"auto", "requests", "blocks"});
               }
             });
  if (!have_sweep) ab.sweep = default_sweep(p, root);
  const auto schedule = ab_schedule(ab.order, ab.blocks);
  for (std::size_t arm : {std::size_t{0}, std::size_t{1}})
    if (std::find(schedule.begin(), schedule.end(), arm) == schedule.end())
      p.fail(have_blocks ? blocks_mark : order_mark, have_blocks ? "ab.blocks" : "ab.order",
             std::string(have_order ? "order " : "the default order ") + ab.order + " over " +
                 std::to_string(ab.blocks) + " blocks never runs arm " + (arm == 0 ? "a" : "b") +
                 " (expected both A and B among the blocks)");
  return ab;
}

// arms: {a: {name, engine, limits}, b: …}: the names; the overrides are
// merged and validated by parse_arm().
void check_arms(const Parser& p, const YAML::Node& root, AbConfig& ab) {
  const YAML::Node arms = root["arms"];
  if (!arms.IsDefined() || arms.IsNull())
    p.fail(root.Mark(), "arms",
           "missing (scenario: ab needs arms a and b, e.g. {a: {name: gpu, engine: {…}}, b: {name: offload, …}})");
  if (!arms.IsMap()) p.fail(arms.Mark(), "arms", "expected a mapping with the arms a and b");
  bool seen[2] = {false, false};
  p.each_key(arms, "arms", {"a", "b"}, [&](const std::string& k, const std::string& f, const YAML::Node& arm) {
    const std::size_t i = k == "a" ? 0 : 1;
    seen[i] = true;
    ab.arms[i].name = k;
    if (!arm.IsMap()) p.fail(arm.Mark(), f, "expected a mapping (name, engine, limits)");
    p.each_key(arm, f, {"name", "engine", "limits"}, [&](const std::string& ak, const std::string& af, const YAML::Node& n) {
      if (ak == "name") {
        auto name = p.scalar(n, af, "a name for the arm, e.g. offload-off");
        if (name.empty() || name.size() > kMaxArmNameChars ||
            std::any_of(name.begin(), name.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; }))
          p.fail(n.Mark(), af, "expected a name of 1 to " + std::to_string(kMaxArmNameChars) +
                                   " characters without control characters, got " + text::quoted(name));
        ab.arms[i].name = name;
      } else if (ak == "engine") {
        if (!n.IsMap()) p.fail(n.Mark(), af, "expected a mapping of engine keys to merge over engine, e.g. {launch: {argv: […]}}");
      } else if (ak == "limits") {
        if (!n.IsNull() && !n.IsMap())
          p.fail(n.Mark(), af, "expected a mapping of limits keys to merge over limits (or null: no limits)");
      }
    });
  });
  for (std::size_t i : {std::size_t{0}, std::size_t{1}})
    if (!seen[i]) p.fail(arms.Mark(), i == 0 ? "arms.a" : "arms.b", "missing (expected {name, engine, limits})");
  if (ab.arms[0].name == ab.arms[1].name)
    p.fail(arms.Mark(), "arms.b.name", "the same as arms.a.name (" + text::quoted(ab.arms[0].name) +
                                           "): the comparison names each arm");
}

// The document an arm runs: the scenario without ab and arms, the sweep as
// its scenario key, the arm's engine and limits merged over the scenario's.
// Errors name the arm.
Scenario parse_arm(const Parser& p, YAML::Node root, const ScenarioKind sweep, std::size_t arm) {
  const std::string name = arm == 0 ? "a" : "b";
  const YAML::Node over = root["arms"][name];
  const YAML::Node engine = over["engine"], limits = over["limits"];
  root.remove("ab");
  root.remove("arms");
  root["scenario"] = std::string(to_string(sweep));
  merge_over(root, "engine", engine);
  merge_over(root, "limits", limits);
  try {
    return parse_root(p, root);
  } catch (const ScenarioError& e) {
    throw ScenarioError(std::string(e.what()) + " (arm " + name + ": arms." + name +
                        " merged over the scenario's engine and limits)");
  }
}

Scenario parse_ab(std::string_view yaml, const Parser& p, const std::vector<Override>& overrides, YAML::Node root) {
  p.each_key(root, "", kTopKeys, [](const std::string&, const std::string&, const YAML::Node&) {});  // misspelt keys first
  AbConfig ab = parse_ab_settings(p, root);
  check_arms(p, root, ab);
  // Each arm from a fresh copy of the document (the merge edits it), with the
  // marks of every key it was given at.
  std::array<Scenario, 2> arms;
  for (std::size_t i : {std::size_t{0}, std::size_t{1}}) {
    YAML::Node copy = load_yaml(yaml, p.file());
    apply_overrides(copy, overrides);
    arms[i] = parse_arm(p, copy, ab.sweep, i);
  }
  root.remove("ab");
  root.remove("arms");
  root["scenario"] = std::string(to_string(ab.sweep));
  Scenario base = parse_root(p, root);
  for (std::size_t i : {std::size_t{0}, std::size_t{1}}) {
    ab.arms[i].engine = arms[i].engine;
    ab.arms[i].limits = arms[i].limits;
  }
  base.ab = std::move(ab);
  return base;
}

}  // namespace

Scenario parse_scenario(std::string_view yaml, const std::string& file, const std::vector<Override>& overrides) {
  YAML::Node root = load_yaml(yaml, file);
  apply_overrides(root, overrides);
  Parser p(file, overrides);
  if (!root.IsDefined() || root.IsNull()) throw ScenarioError(file + ": empty scenario (needs at least engine and scenario)");
  try {
    if (is_ab(root)) return parse_ab(yaml, p, overrides, root);
  } catch (const YAML::Exception& e) {
    throw ScenarioError(file + ": " + e.msg);
  }
  return parse_root(p, root);
}

std::vector<std::size_t> ab_schedule(std::string_view order, std::uint32_t blocks) {
  std::vector<std::size_t> out;
  if (order.empty()) return out;
  out.reserve(blocks);
  for (std::uint32_t i = 0; i < blocks; ++i) out.push_back(order[i % order.size()] == 'B' ? 1 : 0);
  return out;
}

Scenario arm_scenario(const Scenario& s, std::size_t arm) {
  Scenario c = s;
  c.ab.reset();
  if (s.ab) {
    c.engine = s.ab->arms.at(arm).engine;
    c.limits = s.ab->arms.at(arm).limits;
  }
  return c;
}

Scenario load_scenario(const std::string& path, const std::vector<Override>& overrides) {
  std::string error;
  auto text = read_user_file(path, error);
  if (!text) throw ScenarioError(path + ": cannot read the scenario file: " + error);
  return parse_scenario(*text, path, overrides);
}

namespace {

// `base`: the launch an arm's keys are merged over (see emit_engine).
void emit_launch(YAML::Emitter& out, const LaunchConfig& launch, const LaunchConfig* base = nullptr) {
  const LaunchSpec& spec = launch.spec;
  out << YAML::Key << "launch" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "argv" << YAML::Value << YAML::Flow << YAML::BeginSeq;
  for (const auto& a : spec.argv) out << YAML::DoubleQuoted << a;
  out << YAML::EndSeq;
  std::vector<std::string> removed;  // env entries of the base the arm removed
  if (base)
    for (const auto& kv : base->spec.env)
      if (std::none_of(spec.env.begin(), spec.env.end(), [&](const auto& e) { return e.first == kv.first; }))
        removed.push_back(kv.first);
  if (!spec.env.empty() || !removed.empty()) {
    out << YAML::Key << "env" << YAML::Value << YAML::BeginMap;
    for (const auto& [k, v] : spec.env) out << YAML::Key << k << YAML::Value << YAML::DoubleQuoted << v;
    for (const auto& k : removed) out << YAML::Key << k << YAML::Value << YAML::Null;
    out << YAML::EndMap;
  }
  if (spec.cwd) out << YAML::Key << "cwd" << YAML::Value << YAML::DoubleQuoted << *spec.cwd;
  else if (base && base->spec.cwd) out << YAML::Key << "cwd" << YAML::Value << YAML::Null;
  out << YAML::Key << "ready" << YAML::Value;
  if (spec.ready.kind == ReadyKind::url) out << YAML::DoubleQuoted << spec.ready.url;
  else out << std::string(to_string(spec.ready.kind));
  out << YAML::Key << "ready_timeout" << YAML::Value << format_duration(spec.ready_timeout);
  out << YAML::Key << "stop_signal" << YAML::Value << signal_name(spec.stop_signal);
  out << YAML::Key << "stop_timeout" << YAML::Value << format_duration(spec.stop_timeout);
  out << YAML::Key << "restart" << YAML::Value << std::string(to_string(spec.restart));
  if (!launch.model.empty()) out << YAML::Key << "model" << YAML::Value << YAML::DoubleQuoted << launch.model;
  else if (base && !base->model.empty()) out << YAML::Key << "model" << YAML::Value << YAML::Null;
  out << YAML::EndMap;
}

// engine, every key explicit; `base`: the engine an arm's keys are merged
// over (a key it has that the arm lacks is emitted as null, which removes it).
void emit_engine(YAML::Emitter& out, const EngineConfig& e, const EngineConfig* base) {
  out << YAML::Key << "engine" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "kind" << YAML::Value << std::string(to_string(e.kind));
  out << YAML::Key << "url" << YAML::Value << YAML::DoubleQuoted << e.url;
  out << YAML::Key << "model" << YAML::Value << YAML::DoubleQuoted << e.model;
  out << YAML::Key << "api" << YAML::Value << e.api;
  if (!e.api_key.empty()) out << YAML::Key << "api_key" << YAML::Value << "<redacted>";
  if (e.num_ctx) out << YAML::Key << "num_ctx" << YAML::Value << *e.num_ctx;
  else if (base && base->num_ctx) out << YAML::Key << "num_ctx" << YAML::Value << YAML::Null;
  if (e.launch) {
    emit_launch(out, *e.launch, base && base->launch ? &*base->launch : nullptr);
  } else if (base && base->launch) {
    out << YAML::Key << "launch" << YAML::Value << YAML::Null;
  }
  out << YAML::EndMap;
}

// limits; a key of `base` the limits lack is emitted as null (see emit_engine).
void emit_limits(YAML::Emitter& out, const BudgetRequest& l, const BudgetRequest& base) {
  out << YAML::Key << "limits" << YAML::Value << YAML::BeginMap;
  auto size = [&](const char* key, const std::optional<std::uint64_t>& v, const std::optional<std::uint64_t>& b) {
    if (v) out << YAML::Key << key << YAML::Value << format_byte_size(*v);
    else if (b) out << YAML::Key << key << YAML::Value << YAML::Null;
  };
  size("memory_max", l.memory_max, base.memory_max);
  size("memory_high", l.memory_high, base.memory_high);
  size("swap_max", l.swap_max, base.swap_max);
  out << YAML::Key << "backend" << YAML::Value << std::string(to_string(l.backend));
  if (!l.cgroup_parent.empty())
    out << YAML::Key << "cgroup_parent" << YAML::Value << YAML::DoubleQuoted << l.cgroup_parent;
  else if (!base.cgroup_parent.empty())
    out << YAML::Key << "cgroup_parent" << YAML::Value << YAML::Null;
  out << YAML::EndMap;
}

// scenario: ab's settings and arms, each arm's engine and limits in full.
template <typename Num>
void emit_ab(YAML::Emitter& out, const Scenario& s, Num num) {
  const AbConfig& ab = *s.ab;
  out << YAML::Key << "ab" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "sweep" << YAML::Value << std::string(to_string(ab.sweep));
  out << YAML::Key << "order" << YAML::Value << ab.order;
  out << YAML::Key << "blocks" << YAML::Value << ab.blocks;
  out << YAML::Key << "cooldown" << YAML::Value << format_duration(ab.cooldown);
  out << YAML::Key << "margin" << YAML::Value << num(ab.margin);
  out << YAML::Key << "seed" << YAML::Value << ab.seed;
  out << YAML::Key << "unit" << YAML::Value << ab.unit;
  out << YAML::EndMap;
  out << YAML::Key << "arms" << YAML::Value << YAML::BeginMap;
  for (std::size_t i = 0; i < 2; ++i) {
    const AbArm& arm = ab.arms[i];
    out << YAML::Key << (i == 0 ? "a" : "b") << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "name" << YAML::Value << YAML::DoubleQuoted << arm.name;
    emit_engine(out, arm.engine, &s.engine);
    if (!arm.limits.empty()) emit_limits(out, arm.limits, s.limits);
    else if (!s.limits.empty()) out << YAML::Key << "limits" << YAML::Value << YAML::Null;
    out << YAML::EndMap;
  }
  out << YAML::EndMap;
}

template <typename T>
void emit_list(YAML::Emitter& out, const char* key, const std::vector<T>& v) {
  if (!v.empty()) out << YAML::Key << key << YAML::Value << YAML::Flow << v;
}

void emit_soak(YAML::Emitter& out, const SoakConfig& soak) {
  auto num = [](double v) {
    std::ostringstream os;
    os.precision(17);
    os << v;
    return os.str();
  };
  out << YAML::Key << "duration" << YAML::Value << format_duration(soak.duration);
  out << YAML::Key << "idle_tail" << YAML::Value << format_duration(soak.idle_tail);
  out << YAML::Key << "checkpoint_interval" << YAML::Value << format_duration(soak.checkpoint_interval);
  out << YAML::Key << "sample_interval" << YAML::Value << format_duration(soak.sample_interval);
  const WorkloadSelection& w = soak.workload;
  if (!w.empty()) {
    out << YAML::Key << "workload" << YAML::Value << YAML::BeginMap;
    emit_list(out, "pids", w.pids);
    emit_list(out, "process_names", w.process_names);
    emit_list(out, "systemd_units", w.systemd_units);
    emit_list(out, "cgroup", w.cgroups);
    out << YAML::EndMap;
  }
  const SoakLeakSettings& l = soak.leak;
  out << YAML::Key << "leak" << YAML::Value << YAML::BeginMap;
  if (l.min_duration) out << YAML::Key << "min_duration" << YAML::Value << format_duration(*l.min_duration);
  if (l.min_points) out << YAML::Key << "min_points" << YAML::Value << *l.min_points;
  if (l.confidence) out << YAML::Key << "confidence" << YAML::Value << num(*l.confidence);
  if (l.noise_floor) out << YAML::Key << "noise_floor" << YAML::Value << *l.noise_floor;
  if (l.noise_floor_count) out << YAML::Key << "noise_floor_count" << YAML::Value << num(*l.noise_floor_count);
  if (l.max_points) out << YAML::Key << "max_points" << YAML::Value << *l.max_points;
  if (l.blocks) out << YAML::Key << "blocks" << YAML::Value << *l.blocks;
  out << YAML::EndMap;
  if (const RecorderOptions* r = soak.record.get()) {
    out << YAML::Key << "record" << YAML::Value << YAML::BeginMap;
    if (!r->dir.empty()) out << YAML::Key << "dir" << YAML::Value << YAML::DoubleQuoted << r->dir;
    out << YAML::Key << "segment_bytes" << YAML::Value << r->segment_max_bytes;
    out << YAML::Key << "segment_age" << YAML::Value
        << format_duration(std::chrono::duration_cast<std::chrono::milliseconds>(r->segment_max_age));
    out << YAML::Key << "fsync_period" << YAML::Value << format_duration(r->fsync_period);
    out << YAML::Key << "compress" << YAML::Value << (r->zstd ? "zstd" : "none");
    out << YAML::Key << "csv" << YAML::Value << (r->csv ? "true" : "false");
    if (r->retention_max_bytes) out << YAML::Key << "max_bytes" << YAML::Value << r->retention_max_bytes;
    if (r->retention_max_age.count())
      out << YAML::Key << "max_age" << YAML::Value
          << format_duration(std::chrono::duration_cast<std::chrono::milliseconds>(r->retention_max_age));
    out << YAML::EndMap;
  }
}

}  // namespace

std::string to_yaml(const Scenario& s) {
  YAML::Emitter out;
  auto num = [](double v) {
    std::ostringstream os;
    os.precision(17);
    os << v;
    return os.str();
  };
  const bool soak = s.kind == ScenarioKind::soak;
  out << YAML::BeginMap;
  if (soak && !s.soak.load) {  // observe only: no engine, no load keys
    out << YAML::Key << "scenario" << YAML::Value << "soak";
    emit_soak(out, s.soak);
    out << YAML::EndMap;
    return std::string(out.c_str(), out.size()) + "\n";
  }
  emit_engine(out, s.engine, nullptr);
  out << YAML::Key << "scenario" << YAML::Value << (s.ab ? std::string("ab") : std::string(to_string(s.kind)));
  if (!s.contexts.empty()) out << YAML::Key << "contexts" << YAML::Value << YAML::Flow << s.contexts;
  if (soak && s.arrival.mode == ArrivalMode::closed) out << YAML::Key << "users" << YAML::Value << s.users.front();
  else if (!soak && !s.users.empty()) out << YAML::Key << "users" << YAML::Value << YAML::Flow << s.users;
  out << YAML::Key << "prompt_tokens" << YAML::Value << s.prompt_tokens;
  if (!soak) out << YAML::Key << "concurrency" << YAML::Value << s.concurrency;
  out << YAML::Key << "output_tokens" << YAML::Value << s.output_tokens;
  if (!soak) {
    out << YAML::Key << "warmup" << YAML::Value << s.warmup;
    out << YAML::Key << "repetitions" << YAML::Value << s.repetitions;
  }
  out << YAML::Key << "stop_on_failure" << YAML::Value << (s.stop_on_failure ? "true" : "false");
  out << YAML::Key << "failure_threshold" << YAML::Value << num(s.failure_threshold);
  if (s.temperature) out << YAML::Key << "temperature" << YAML::Value << num(*s.temperature);
  out << YAML::Key << "ignore_eos" << YAML::Value << (s.effective_ignore_eos() ? "true" : "false");
  out << YAML::Key << "request_timeout" << YAML::Value << format_duration(s.request_timeout);
  if (!soak) out << YAML::Key << "run_deadline" << YAML::Value << format_duration(s.run_deadline);
  out << YAML::Key << "health_timeout" << YAML::Value << format_duration(s.health_timeout);
  out << YAML::Key << "trim" << YAML::Value << num(s.trim);
  if (!soak || s.arrival.mode != ArrivalMode::closed) {
    out << YAML::Key << "arrival" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "mode" << YAML::Value << std::string(to_string(s.arrival.mode));
    out << YAML::Key << "rate" << YAML::Value << num(s.arrival.rate);
    out << YAML::Key << "burstiness" << YAML::Value << num(s.arrival.burstiness);
    out << YAML::Key << "seed" << YAML::Value << s.arrival.seed;
    out << YAML::EndMap;
  }
  if (s.kind == ScenarioKind::protocol) {
    out << YAML::Key << "prompts" << YAML::Value << YAML::BeginSeq;
    for (const auto& p : s.prompts) {
      out << YAML::BeginMap;
      out << YAML::Key << "name" << YAML::Value << YAML::DoubleQuoted << p.name;
      out << YAML::Key << "text" << YAML::Value << YAML::DoubleQuoted << p.text;
      out << YAML::Key << "max_tokens" << YAML::Value << p.max_tokens;
      if (p.temperature) out << YAML::Key << "temperature" << YAML::Value << num(*p.temperature);
      out << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }
  out << YAML::Key << "listen" << YAML::Value << s.listen;
  if (!s.limits.empty()) emit_limits(out, s.limits, BudgetRequest{});
  if (s.ab) emit_ab(out, s, num);
  if (s.push) {
    out << YAML::Key << "push" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "url" << YAML::Value << YAML::DoubleQuoted << s.push->url;
    out << YAML::Key << "job" << YAML::Value << YAML::DoubleQuoted << s.push->job;
    if (!s.push->grouping.empty()) {
      out << YAML::Key << "grouping" << YAML::Value << YAML::BeginMap;
      for (const auto& [name, value] : s.push->grouping) out << YAML::Key << name << YAML::Value << YAML::DoubleQuoted << value;
      out << YAML::EndMap;
    }
    out << YAML::EndMap;
  }
  if (soak) emit_soak(out, s.soak);
  if (s.slo) {
    out << YAML::Key << "slo" << YAML::Value << YAML::BeginMap;
    if (s.slo->ttft_ms) out << YAML::Key << "ttft_ms" << YAML::Value << num(*s.slo->ttft_ms);
    if (s.slo->tpot_ms) out << YAML::Key << "tpot_ms" << YAML::Value << num(*s.slo->tpot_ms);
    out << YAML::EndMap;
  }
  if (s.cost) {
    const CostConfig& c = *s.cost;
    out << YAML::Key << "cost" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "enabled" << YAML::Value << (c.enabled ? "true" : "false");
    if (!c.prices_path.empty()) out << YAML::Key << "prices" << YAML::Value << YAML::DoubleQuoted << c.prices_path;
    if (!c.local.empty()) out << YAML::Key << "local" << YAML::Value << YAML::DoubleQuoted << c.local;
    if (c.enabled) {
      out << YAML::Key << "cloud_gpu" << YAML::Value << YAML::Flow << YAML::BeginSeq;
      for (const auto& n : c.cloud_gpu) out << YAML::DoubleQuoted << n;
      out << YAML::EndSeq;
      out << YAML::Key << "api" << YAML::Value << YAML::Flow << YAML::BeginSeq;
      for (const auto& n : c.api) out << YAML::DoubleQuoted << n;
      out << YAML::EndSeq;
    }
    if (!c.ssd.empty()) out << YAML::Key << "ssd" << YAML::Value << YAML::DoubleQuoted << c.ssd;
    if (c.system_watts) out << YAML::Key << "system_watts" << YAML::Value << num(*c.system_watts);
    out << YAML::EndMap;
  }
  out << YAML::EndMap;
  return std::string(out.c_str(), out.size()) + "\n";
}

std::vector<PromptSpec> default_protocol_prompts() {
  const double t = 0.3;
  return {
      {"simple_response", "In one sentence, what is the capital of France?", 50, t},
      {"code", "Write a Python function that returns the n-th Fibonacci number iteratively, with a docstring.", 300, t},
      {"explanation", "Explain how a hash table handles collisions, for a junior developer.", 400, t},
      {"multi_step_reasoning",
       "A train leaves at 9:40 and travels 210 km at 84 km/h, then waits 25 minutes, then travels 96 km at 64 "
       "km/h. When does it arrive? Reason step by step.",
       500, t},
      {"system_design", "Design a URL shortening service: API, storage, scaling, caching and failure handling.", 1000, t},
      {"algorithm_comparison",
       "Compare quicksort, mergesort and heapsort: time and space complexity, stability, and when to use each.", 600, t},
      {"creative_writing", "Write a short story of about 300 words about a lighthouse keeper who finds a message in a bottle.",
       500, t},
      {"api_documentation",
       "Write reference documentation for a REST endpoint POST /v1/orders that creates an order: request fields, "
       "response, status codes and an example.",
       700, t},
      {"analysis",
       "Analyse the trade-offs of running a large language model on a GPU with too little VRAM, offloading layers "
       "to system RAM.",
       800, t},
  };
}

}  // namespace tierscope::workloads

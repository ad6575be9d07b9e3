#include "workloads/report.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "core/text.h"
#include "workloads/json_fields.h"
#include "workloads/report_recording.h"
#include "workloads/stats.h"
#include "workloads/svg_chart.h"

namespace tierscope::workloads {

using nlohmann::json;
namespace jf = json_fields;

namespace {

constexpr const char* kAbsent = "—";

// ------------------------------------------------------------ small helpers

svg::Axis axis(std::string label, std::string unit) {
  svg::Axis a;
  a.label = std::move(label);
  a.unit = std::move(unit);
  return a;
}
svg::LineChart line_chart(std::string id, std::string title, svg::Axis x, svg::Axis y) {
  svg::LineChart c;
  c.id = std::move(id);
  c.title = std::move(title);
  c.x = std::move(x);
  c.y = std::move(y);
  return c;
}
svg::Series series_named(std::string name) {
  svg::Series s;
  s.name = std::move(name);
  return s;
}

std::string fx(double v, int decimals) { return svg::format_fixed(v, decimals); }
std::string fx(std::optional<double> v, int decimals) { return v ? fx(*v, decimals) : std::string(kAbsent); }

std::optional<double> num(const json& j, std::string_view key) { return jf::number_member(j, key); }
std::optional<double> num(const json& j, std::string_view object, std::string_view key) {
  const json* o = jf::member(j, object);
  return o ? jf::number_member(*o, key) : std::nullopt;
}
std::string str(const json& j, std::string_view key, std::string fallback = kAbsent) {
  const std::string* s = jf::string_member(j, key);
  return s ? *s : fallback;
}
const json* path(const json& j, std::initializer_list<std::string_view> keys) {
  const json* cur = &j;
  for (auto k : keys) {
    cur = jf::member(*cur, k);
    if (!cur) return nullptr;
  }
  return cur;
}
std::string text_at(const json& j, std::initializer_list<std::string_view> keys) {
  const json* v = path(j, keys);
  if (!v) return kAbsent;
  if (v->is_string()) return v->get<std::string>();
  if (v->is_number() || v->is_boolean()) return v->dump();
  return kAbsent;
}
std::string bytes_text(double b) {
  return svg::format_value(b, "bytes") + " (" + fx(b, 0) + " bytes)";
}

// ------------------------------------------------------------ the run as the report sees it

struct OkRequest {
  std::optional<double> ttft, tpot;
  double output_tokens = 0;
};

struct StepView {
  std::string arm;  // ab runs: "a" / "b"
  std::size_t step = 0;
  std::string label;
  std::optional<double> context_tokens, users;
  std::optional<std::string> prompt;
  json stats = json::object();  // a summary.json step entry (or rebuilt from requests.jsonl in that shape)
  // From requests.jsonl, the counted (non-warm-up) requests of the step:
  std::vector<double> ttft, itl, tpot, e2e;  // ok ones
  std::vector<OkRequest> ok;
  bool have_requests = false;

  std::string key() const {
    if (context_tokens) return fx(*context_tokens, 0) + " tokens";
    if (users) return fx(*users, 0) + " users";
    if (prompt) return *prompt;
    return "step " + std::to_string(step);
  }
  double order() const { return context_tokens ? *context_tokens : users ? *users : static_cast<double>(step); }
  // The step's outcome in a word: its engine's end, else its most frequent failure; "" when it did not fail.
  std::string failure() const {
    if (!stats.value("failed", false)) return "";
    if (const std::string* e = jf::string_member(stats, "engine_outcome")) return *e;
    std::string best;
    std::uint64_t most = 0;
    if (const json* f = jf::member(stats, "failures"); f && f->is_object())
      for (const auto& [k, v] : f->items())
        if (v.is_number_unsigned() && v.get<std::uint64_t>() > most) {
          most = v.get<std::uint64_t>();
          best = k;
        }
    return best.empty() ? "failed" : best;
  }
};

struct RunView {
  const RunDir* dir = nullptr;
  std::string name;    // the directory's name
  std::string prefix;  // chart ids: "" for one run, "run<N>-" for several
  std::vector<StepView> steps;
  bool rebuilt = false;  // statistics from requests.jsonl (no summary.json)
  std::map<std::string, std::string> arm_names;
  double slo_ttft = kDefaultSloTtftMs, slo_tpot = kDefaultSloTpotMs;
  std::string slo_source = "default";
  std::vector<std::string> missing;  // what the report could not show, said in the report

  std::string arm_name(const std::string& arm) const {
    auto it = arm_names.find(arm);
    return it == arm_names.end() ? arm : it->second;
  }
};

std::string run_name(const std::string& p) {
  std::filesystem::path fp(p);
  if (fp.filename().empty()) fp = fp.parent_path();
  std::string n = fp.filename().string();
  return n.empty() ? p : n;
}

// Steps rebuilt from requests.jsonl when summary.json is missing, in its shape.
json rebuild_stats(const std::vector<const json*>& records, double threshold) {
  json s = json::object();
  std::uint64_t requests = 0, ok = 0, interrupted = 0, out_tokens = 0, in_tokens = 0;
  std::map<std::string, std::uint64_t> failures;
  std::vector<double> ttft, tpot, itl, e2e, rate;
  std::optional<double> first, last;
  for (const json* r : records) {
    ++requests;
    const std::string outcome = str(*r, "outcome", "ok");
    const double send = num(*r, "t_send").value_or(0);
    const auto e = num(*r, "e2e_ms");
    first = first ? std::min(*first, send) : send;
    const double end = send + e.value_or(0) / 1000.0;
    last = last ? std::max(*last, end) : end;
    if (outcome != "ok") {
      if (outcome == "interrupted") ++interrupted;
      failures[outcome]++;
      continue;
    }
    ++ok;
    const auto t = num(*r, "ttft_ms");
    const double out = num(*r, "output_tokens").value_or(0);
    out_tokens += static_cast<std::uint64_t>(out);
    in_tokens += static_cast<std::uint64_t>(num(*r, "prompt_tokens").value_or(0));
    if (t) ttft.push_back(*t);
    if (e) e2e.push_back(*e);
    if (t && e && out >= 2 && *e > *t) {
      tpot.push_back((*e - *t) / (out - 1));
      rate.push_back((out - 1) / ((*e - *t) / 1000.0));
    }
    if (const json* gaps = jf::member(*r, "itl_ms"); gaps && gaps->is_array())
      for (const auto& g : *gaps)
        if (g.is_number()) itl.push_back(g.get<double>());
  }
  s["requests"] = requests;
  s["ok"] = ok;
  s["failures"] = failures;
  const double counted = static_cast<double>(requests - interrupted);
  s["failed"] = counted > 0 && static_cast<double>(requests - ok - interrupted) / counted >= threshold;
  s["ttft_ms"] = to_json(summarize(ttft));
  s["tpot_ms"] = to_json(summarize(tpot));
  s["itl_ms"] = to_json(summarize(itl));
  s["e2e_ms"] = to_json(summarize(e2e));
  s["output_tokens_per_s"] = to_json(summarize(rate));
  const double wall = first && last ? *last - *first : 0;
  s["wall_s"] = wall;
  s["input_tokens"] = in_tokens;
  s["output_tokens"] = out_tokens;
  s["output_tokens_per_s_aggregate"] = wall > 0 ? json(static_cast<double>(out_tokens) / wall) : json(nullptr);
  s["completion_rate"] = requests ? json(static_cast<double>(ok) / static_cast<double>(requests)) : json(nullptr);
  return s;
}

void read_slo(RunView& v) {
  const RunDir& d = *v.dir;
  auto from = [&](const json& slo, const std::string& where) {
    if (!slo.is_object()) return false;
    bool any = false;
    if (auto t = num(slo, "ttft_ms")) v.slo_ttft = *t, any = true;
    if (auto t = num(slo, "tpot_ms")) v.slo_tpot = *t, any = true;
    if (any) v.slo_source = where;
    return any;
  };
  if (d.summary && jf::member(*d.summary, "slo") && from((*d.summary)["slo"], "summary.json slo")) return;
  if (d.scenario_yaml) {
    // scenario.yaml's `slo: {ttft_ms: …, tpot_ms: …}`.
    json slo = json::object();
    try {
      const YAML::Node root = YAML::Load(*d.scenario_yaml);
      if (root.IsMap() && root["slo"] && root["slo"].IsMap())
        for (const char* k : {"ttft_ms", "tpot_ms"})
          if (const YAML::Node n = root["slo"][k]; n && n.IsScalar())
            if (auto x = text::parse_double(n.Scalar())) slo[k] = *x;
    } catch (const YAML::Exception&) {
      return;  // load_run_dir has said so
    }
    from(slo, "scenario.yaml slo");
  }
}

RunView make_view(const RunDir& d, std::size_t index, std::size_t count) {
  RunView v;
  v.dir = &d;
  v.name = run_name(d.path);
  if (count > 1) v.prefix = "run" + std::to_string(index + 1) + "-";
  if (d.summary)
    if (const json* arms = jf::member(*d.summary, "arms"); arms && arms->is_object())
      for (const auto& [k, a] : arms->items()) v.arm_names[k] = str(a, "name", k);
  read_slo(v);

  // The counted requests of each (arm, step).
  std::map<std::pair<std::string, std::size_t>, std::vector<const json*>> by_step;
  for (const json& r : d.requests) {
    if (r.value("warmup", false)) continue;
    auto step = jf::count_member(r, "step");
    if (!step) continue;
    by_step[{str(r, "arm", ""), static_cast<std::size_t>(*step)}].push_back(&r);
  }

  auto fill_samples = [&](StepView& s) {
    auto it = by_step.find({s.arm, s.step});
    if (it == by_step.end()) return;
    s.have_requests = true;
    for (const json* r : it->second) {
      if (str(*r, "outcome", "") != "ok") continue;
      OkRequest o;
      o.ttft = num(*r, "ttft_ms");
      const auto e = num(*r, "e2e_ms");
      o.output_tokens = num(*r, "output_tokens").value_or(0);
      if (o.ttft) s.ttft.push_back(*o.ttft);
      if (e) s.e2e.push_back(*e);
      if (o.ttft && e && o.output_tokens >= 2 && *e > *o.ttft) o.tpot = (*e - *o.ttft) / (o.output_tokens - 1);
      if (o.tpot) s.tpot.push_back(*o.tpot);
      if (const json* gaps = jf::member(*r, "itl_ms"); gaps && gaps->is_array())
        for (const auto& g : *gaps)
          if (g.is_number()) s.itl.push_back(g.get<double>());
      s.ok.push_back(o);
    }
  };

  const json* steps = d.summary ? jf::member(*d.summary, "steps") : nullptr;
  if (steps && steps->is_array()) {
    for (const auto& st : *steps) {
      if (!st.is_object()) continue;
      StepView s;
      s.arm = str(st, "arm", "");
      s.step = static_cast<std::size_t>(jf::count_member(st, "step").value_or(0));
      s.label = str(st, "label", "");
      s.context_tokens = num(st, "context_tokens");
      s.users = num(st, "users");
      if (const std::string* p = jf::string_member(st, "prompt")) s.prompt = *p;
      s.stats = st;
      fill_samples(s);
      v.steps.push_back(std::move(s));
    }
  } else if (!by_step.empty()) {
    v.rebuilt = true;
    const double threshold = 0.5;
    for (const auto& [key, records] : by_step) {
      StepView s;
      s.arm = key.first;
      s.step = key.second;
      const json& first = *records.front();
      s.context_tokens = num(first, "context_tokens");
      s.users = num(first, "users");
      if (const std::string* p = jf::string_member(first, "prompt")) s.prompt = *p;
      s.label = s.key();
      s.stats = rebuild_stats(records, threshold);
      fill_samples(s);
      v.steps.push_back(std::move(s));
    }
  }
  return v;
}

// ------------------------------------------------------------ document building

ReportBlock text_block(std::string t) {
  ReportBlock b;
  b.text = std::move(t);
  return b;
}
ReportBlock table_block(ReportTable t) {
  ReportBlock b;
  b.kind = ReportBlock::Kind::table;
  b.table = std::move(t);
  return b;
}
template <class Chart>
ReportBlock chart_block(const Chart& c, std::string source) {
  ReportBlock b;
  b.kind = ReportBlock::Kind::chart;
  b.chart = {c.id, c.title, svg::render(c), std::move(source)};
  return b;
}
ReportBlock embedded_block(std::string label, std::string content) {
  ReportBlock b;
  b.kind = ReportBlock::Kind::embedded;
  b.label = std::move(label);
  b.text = std::move(content);
  return b;
}

ReportSection section(std::string id, std::string title, int level) {
  ReportSection s;
  s.id = std::move(id);
  s.title = std::move(title);
  s.level = level;
  return s;
}

// The header: what ran, when, on what.
ReportTable header_table(const RunView& v) {
  const RunDir& d = *v.dir;
  const json empty = json::object();
  const json& sum = d.summary ? *d.summary : d.soak ? *d.soak : empty;
  const char* sum_file = d.summary ? "summary.json" : d.soak ? "soak.json" : "";
  const json& man = d.manifest ? *d.manifest : empty;
  ReportTable t;
  t.caption = "Run";
  t.header = {"", "value", "source"};
  auto row = [&](std::string k, std::string val, std::string src) { t.rows.push_back({std::move(k), std::move(val), std::move(src)}); };
  row("run", v.name, "the directory");
  row("scenario", d.kind() == "soak" ? "soak" : str(sum, "scenario", v.rebuilt ? "(summary.json missing)" : kAbsent),
      std::string(sum_file) + " scenario");
  std::string status = str(sum, "status", v.rebuilt ? "unknown (summary.json missing)" : kAbsent);
  if (status == "running")
    status += ": the run is still going, or was killed before it could finish (the figures are those of the last update)";
  else if (status == "interrupted")
    status += ": stopped by SIGINT/SIGTERM; the report shows what was recorded until then";
  else if (status == "deadline")
    status += ": run_deadline passed; later steps did not run";
  row("status", status, std::string(sum_file) + " status");
  row("started", str(sum, "started"), std::string(sum_file) + " started");
  row(jf::member(sum, "finished") ? "finished" : "last update",
      jf::member(sum, "finished") ? str(sum, "finished") : str(sum, "updated"),
      std::string(sum_file) + (jf::member(sum, "finished") ? " finished" : " updated"));
  row("tierscope", text_at(man, {"tierscope", "version"}) + " (revision " + text_at(man, {"tierscope", "revision"}) + ")",
      "manifest.json tierscope.version, .revision");
  row("manifest_sha256", str(sum, "manifest_sha256"), std::string(sum_file) + " manifest_sha256");
  const json machine = man.value("machine", json::object());
  std::string cpu = text_at(machine, {"cpu", "model_name"});
  if (auto n = num(machine, "cpu", "logical_cpus")) cpu += ", " + fx(*n, 0) + " logical CPUs";
  row("CPU", cpu, "manifest.json machine.cpu.model_name, .logical_cpus");
  if (auto ram = num(machine, "memory", "ram_total_bytes")) row("RAM", bytes_text(*ram), "manifest.json machine.memory.ram_total_bytes");
  else row("RAM", kAbsent, "manifest.json machine.memory.ram_total_bytes");
  std::string gpus;
  if (const json* g = jf::member(machine, "gpus"); g && g->is_array())
    for (const auto& gpu : *g) {
      if (!gpus.empty()) gpus += "; ";
      gpus += str(gpu, "name", str(gpu, "id", "GPU"));
      if (auto vram = num(gpu, "vram_total_bytes")) gpus += " (" + svg::format_value(*vram, "bytes") + " VRAM)";
      if (const std::string* m = jf::string_member(gpu, "memory_model")) gpus += ", " + *m;
    }
  row("GPUs", gpus.empty() ? "none found" : gpus, "manifest.json machine.gpus[].name, .vram_total_bytes, .memory_model");
  std::string nvme;
  if (const json* n = jf::member(machine, "nvme"); n && n->is_array())
    for (const auto& c : *n) {
      if (!nvme.empty()) nvme += "; ";
      nvme += str(c, "name", "nvme") + " " + str(c, "model", "");
      if (const json* p = jf::member(c, "phison"); p && p->is_boolean()) nvme += p->get<bool>() ? " (Phison)" : " (not Phison)";
    }
  row("NVMe", nvme.empty() ? "none found" : nvme, "manifest.json machine.nvme[].name, .model, .phison");
  row("kernel", text_at(machine, {"kernel", "release"}), "manifest.json machine.kernel.release");
  row("distro", text_at(machine, {"distro", "pretty_name"}), "manifest.json machine.distro.pretty_name");
  t.source = "the run directory's " + std::string(sum_file[0] ? sum_file : "files") + " and manifest.json";
  return t;
}

ReportTable environment_table(const RunView& v) {
  const RunDir& d = *v.dir;
  ReportTable t;
  t.caption = "Environment";
  t.header = {"field", "value"};
  t.source = "manifest.json (fields named as in docs/manifest.md); summary.json engine and limits";
  const json& man = *d.manifest;
  const json machine = man.value("machine", json::object());
  auto add = [&](const std::string& k, const std::string& val) {
    if (val != kAbsent) t.rows.push_back({k, val});
  };
  for (const char* k : {"sysname", "release", "version", "machine"}) add(std::string("machine.kernel.") + k, text_at(machine, {"kernel", k}));
  for (const char* k : {"pretty_name", "id", "version_id"}) add(std::string("machine.distro.") + k, text_at(machine, {"distro", k}));
  for (const char* k : {"model_name", "vendor_id", "logical_cpus", "physical_cores", "sockets"})
    add(std::string("machine.cpu.") + k, text_at(machine, {"cpu", k}));
  if (const json* f = path(machine, {"cpu", "flags_of_interest"}); f && f->is_array()) {
    std::string flags;
    for (const auto& x : *f)
      if (x.is_string()) flags += (flags.empty() ? "" : " ") + x.get<std::string>();
    add("machine.cpu.flags_of_interest", flags.empty() ? std::string("none") : flags);
  }
  for (const char* k : {"ram_total_bytes", "swap_total_bytes"})
    if (auto b = num(machine, "memory", k)) add(std::string("machine.memory.") + k, bytes_text(*b));
  if (const json* s = path(machine, {"memory", "swap_areas"}); s && s->is_array())
    for (std::size_t i = 0; i < s->size(); ++i) {
      const json& a = (*s)[i];
      std::string val = str(a, "filename") + " (" + str(a, "type") + ")";
      if (auto b = num(a, "size_bytes")) val += ", " + svg::format_value(*b, "bytes");
      if (auto p = num(a, "priority")) val += ", priority " + fx(*p, 0);
      add("machine.memory.swap_areas[" + std::to_string(i) + "]", val);
    }
  add("machine.cgroup.version", text_at(machine, {"cgroup", "version"}));
  if (const json* g = jf::member(machine, "gpus"); g && g->is_array())
    for (std::size_t i = 0; i < g->size(); ++i) {
      const json& gpu = (*g)[i];
      std::string val = str(gpu, "name") + ", " + str(gpu, "vendor") + ", " + str(gpu, "memory_model");
      if (auto b = num(gpu, "vram_total_bytes")) val += ", VRAM " + bytes_text(*b);
      if (auto b = num(gpu, "gtt_total_bytes")) val += ", GTT " + bytes_text(*b);
      if (const std::string* dv = jf::string_member(gpu, "driver_version")) val += ", driver " + *dv;
      add("machine.gpus[" + std::to_string(i) + "]", val);
    }
  if (const json* n = jf::member(machine, "nvme"); n && n->is_array())
    for (std::size_t i = 0; i < n->size(); ++i) {
      const json& c = (*n)[i];
      std::string val = str(c, "name") + " " + str(c, "model") + ", firmware " + str(c, "firmware") + ", PCI vendor " +
                        str(c, "pci_vendor") + ", subsystem vendor " + str(c, "pci_subsystem_vendor");
      if (const json* p = jf::member(c, "phison"); p && p->is_boolean()) val += p->get<bool>() ? ", Phison: yes" : ", Phison: no";
      add("machine.nvme[" + std::to_string(i) + "]", val);
    }
  for (const char* k : {"version", "revision", "compiler"}) add(std::string("tierscope.") + k, text_at(man, {"tierscope", k}));
  if (const json* libs = path(man, {"tierscope", "libraries"}); libs && libs->is_object())
    for (const auto& [name, lib] : libs->items())
      add("tierscope.libraries." + name, str(lib, "version") + " (" + str(lib, "source") + ")");
  add("scenario.sha256", text_at(man, {"scenario", "sha256"}));
  if (d.summary) {
    if (const json* e = jf::member(*d.summary, "engine"); e && e->is_object())
      for (const auto& [k, val] : e->items())
        if (val.is_primitive() && !val.is_null()) add("summary.json engine." + k, val.is_string() ? val.get<std::string>() : val.dump());
    if (const json* l = jf::member(*d.summary, "limits"); l && l->is_object())
      for (const auto& [k, val] : l->items())
        if (val.is_primitive() && !val.is_null()) add("summary.json limits." + k, val.is_string() ? val.get<std::string>() : val.dump());
  }
  return t;
}

std::string ci_text(const json& metric, int decimals) {
  auto mean = num(metric, "mean");
  if (!mean) return kAbsent;
  std::string s = fx(*mean, decimals);
  if (const json* ci = jf::member(metric, "ci95"); ci && ci->is_array() && ci->size() == 2 && (*ci)[0].is_number() &&
                                                   (*ci)[1].is_number())
    s += " [" + fx((*ci)[0].get<double>(), decimals) + ", " + fx((*ci)[1].get<double>(), decimals) + "]";
  return s;
}

bool has_arms(const RunView& v) {
  return std::any_of(v.steps.begin(), v.steps.end(), [](const StepView& s) { return !s.arm.empty(); });
}

ReportTable statistics_table(const RunView& v) {
  ReportTable t;
  t.caption = "Statistics per step";
  const bool arms = has_arms(v);
  t.header = {"step"};
  if (arms) t.header.push_back("arm");
  for (const char* h : {"ok / requests", "TTFT p50 ms", "TTFT p95 ms", "TTFT p99 ms", "TTFT mean [95 % CI] ms", "TPOT p50 ms",
                        "ITL p50 ms", "ITL p99 ms", "E2E p50 ms", "decode tokens/s mean [95 % CI]", "output tokens/s (aggregate)"})
    t.header.push_back(h);
  bool computed_p95 = false;
  for (const auto& s : v.steps) {
    const json& st = s.stats;
    const json ttft = st.value("ttft_ms", json::object());
    std::vector<std::string> r = {s.label.empty() ? s.key() : s.label};
    if (arms) r.push_back(v.arm_name(s.arm));
    r.push_back(text_at(st, {"ok"}) + " / " + text_at(st, {"requests"}));
    r.push_back(fx(num(ttft, "median"), 1));
    if (auto p = num(ttft, "p95")) {
      r.push_back(fx(*p, 1));
    } else if (auto q = percentile(s.ttft, 0.95)) {
      r.push_back(fx(*q, 1) + " *");
      computed_p95 = true;
    } else {
      r.push_back(kAbsent);
    }
    r.push_back(fx(num(ttft, "p99"), 1));
    r.push_back(ci_text(ttft, 1));
    r.push_back(fx(num(st, "tpot_ms", "median"), 2));
    r.push_back(fx(num(st, "itl_ms", "median"), 2));
    r.push_back(fx(num(st, "itl_ms", "p99"), 2));
    r.push_back(fx(num(st, "e2e_ms", "median"), 1));
    r.push_back(ci_text(st.value("output_tokens_per_s", json::object()), 1));
    r.push_back(fx(num(st, "output_tokens_per_s_aggregate"), 1));
    t.rows.push_back(std::move(r));
  }
  t.source = std::string(v.rebuilt ? "rebuilt from requests.jsonl (summary.json missing), in summary.json's definitions: "
                                   : "summary.json ") +
             "steps[].ok, .requests, .ttft_ms.{median,p95,p99,mean,ci95}, .tpot_ms.median, .itl_ms.{median,p99}, "
             ".e2e_ms.median, .output_tokens_per_s.{mean,ci95}, .output_tokens_per_s_aggregate";
  t.note = "Latency over the ok counted requests; 95 % CI of the mean by Student's t.";
  if (computed_p95)
    t.note += " * p95 computed from requests.jsonl (ttft_ms of the ok counted requests, linear interpolation between "
              "closest ranks) where summary.json has none.";
  return t;
}

ReportTable outcomes_table(const RunView& v) {
  ReportTable t;
  t.caption = "Outcomes per step";
  const bool arms = has_arms(v);
  std::set<std::string> outcomes;
  for (const auto& s : v.steps)
    if (const json* f = jf::member(s.stats, "failures"); f && f->is_object())
      for (const auto& [k, n] : f->items()) outcomes.insert(k);
  t.header = {"step"};
  if (arms) t.header.push_back("arm");
  t.header.push_back("requests");
  t.header.push_back("ok");
  for (const auto& o : outcomes) t.header.push_back(o);
  for (const char* h : {"completion", "failed", "engine outcome"}) t.header.push_back(h);
  for (const auto& s : v.steps) {
    std::vector<std::string> r = {s.label.empty() ? s.key() : s.label};
    if (arms) r.push_back(v.arm_name(s.arm));
    r.push_back(text_at(s.stats, {"requests"}));
    r.push_back(text_at(s.stats, {"ok"}));
    for (const auto& o : outcomes) {
      const json* n = path(s.stats, {"failures", o});
      r.push_back(n ? n->dump() : "0");
    }
    auto c = num(s.stats, "completion_rate");
    r.push_back(c ? fx(*c * 100, 1) + " %" : std::string(kAbsent));
    r.push_back(s.stats.value("failed", false) ? "yes" : "no");
    r.push_back(str(s.stats, "engine_outcome"));
    t.rows.push_back(std::move(r));
  }
  t.source = std::string(v.rebuilt ? "rebuilt from requests.jsonl outcome" : "summary.json") +
             " steps[].requests, .ok, .failures, .completion_rate, .failed, .engine_outcome";
  t.note = "Counted (non-warm-up) requests. Outcomes: docs/benchmarks.md \"Outcomes\".";
  return t;
}

bool log_worthy(double lo, double hi, double ratio) { return lo > 0 && hi / lo >= ratio; }

std::pair<double, double> range_of(const std::vector<double>& v) {
  double lo = INFINITY, hi = -INFINITY;
  for (double x : v)
    if (std::isfinite(x)) lo = std::min(lo, x), hi = std::max(hi, x);
  return {lo, hi};
}

// The memory wall: context tokens vs TTFT p50/p99 and the decode rate; failed steps and the predicted wall marked.
std::optional<svg::LineChart> memory_wall_chart(const RunView& v) {
  std::vector<double> xs, ys;
  for (const auto& s : v.steps)
    if (s.context_tokens) xs.push_back(*s.context_tokens);
  if (xs.empty()) return std::nullopt;
  svg::LineChart c = line_chart(v.prefix + "memory-wall", "Memory wall: TTFT and decode rate by context",
                                axis("context", "tokens"), axis("TTFT", "ms"));
  c.y2 = axis("decode rate", "tokens/s");
  c.y2->min = 0;  // a rate is never negative (a CI of the mean from few requests can reach below 0)
  std::map<std::string, std::vector<const StepView*>> by_arm;
  for (const auto& s : v.steps)
    if (s.context_tokens) by_arm[s.arm].push_back(&s);
  bool any_ci = false;
  for (auto& [arm, steps] : by_arm) {
    std::sort(steps.begin(), steps.end(), [](auto* a, auto* b) { return *a->context_tokens < *b->context_tokens; });
    const std::string suffix = arm.empty() ? "" : " (" + v.arm_name(arm) + ")";
    svg::Series p50 = series_named("TTFT p50" + suffix), p99 = series_named("TTFT p99" + suffix),
                rate = series_named("decode tokens/s" + suffix);
    rate.right_axis = true;
    rate.dashed = false;
    for (const auto* s : steps) {
      const double x = *s->context_tokens;
      const json ttft = s->stats.value("ttft_ms", json::object());
      if (auto m = num(ttft, "median")) {
        svg::Point p{x, *m, std::nullopt, std::nullopt};
        if (auto ci = quantile_ci(s->ttft, 0.5)) p.low = ci->first, p.high = ci->second, any_ci = true;
        p50.points.push_back(p);
        ys.push_back(*m);
      }
      if (auto m = num(ttft, "p99")) {
        svg::Point p{x, *m, std::nullopt, std::nullopt};
        if (auto ci = quantile_ci(s->ttft, 0.99)) p.low = ci->first, p.high = ci->second, any_ci = true;
        p99.points.push_back(p);
        ys.push_back(*m);
      }
      const json r = s->stats.value("output_tokens_per_s", json::object());
      if (auto m = num(r, "mean")) {
        svg::Point p{x, *m, std::nullopt, std::nullopt};
        if (const json* ci = jf::member(r, "ci95"); ci && ci->is_array() && ci->size() == 2 && (*ci)[0].is_number())
          p.low = (*ci)[0].get<double>(), p.high = (*ci)[1].get<double>();
        rate.points.push_back(p);
      }
      if (auto f = s->failure(); !f.empty()) c.markers.push_back({x, f + suffix, "failure"});
    }
    c.series.push_back(std::move(p50));
    c.series.push_back(std::move(p99));
    c.series.push_back(std::move(rate));
  }
  auto [xlo, xhi] = range_of(xs);
  if (log_worthy(xlo, xhi, 8)) c.x.scale = svg::Scale::log10;
  auto [ylo, yhi] = range_of(ys);
  if (log_worthy(ylo, yhi, 50)) c.y.scale = svg::Scale::log10;
  bool predicted = false;
  const RunDir& d = *v.dir;
  if (d.summary)
    if (const json* tiers = path(*d.summary, {"predicted_wall", "tiers"}); tiers && tiers->is_array())
      for (const auto& t : *tiers)
        if (auto mc = num(t, "max_context")) {
          c.markers.push_back({*mc, "predicted wall (" + str(t, "tier", "?") + ")", "prediction"});
          predicted = true;
        }
  c.note = "TTFT p50 and p99 of the ok requests";
  c.note += any_ci ? " (bars: 95 % CI by order statistics where n allows)" : " (too few requests for a 95 % CI of a percentile)";
  c.note += "; decode rate: mean with its 95 % CI (right axis); red: failed steps";
  if (predicted) c.note += "; dotted: predicted wall (weights + KV cache)";
  return c;
}

// OOM vs success: rows = step keys, columns = configurations (runs, or the arms of an A/B run).
struct Column {
  std::string name;
  std::vector<const StepView*> steps;
};

svg::Grid outcome_grid(std::string id, std::string title, const std::vector<Column>& cols) {
  svg::Grid g;
  g.id = std::move(id);
  g.title = std::move(title);
  std::map<std::pair<double, std::string>, std::string> rows;  // ordered by the step's number
  bool users = false;
  for (const auto& c : cols)
    for (const auto* s : c.steps) {
      rows[{s->order(), s->key()}] = s->key();
      users = users || (!s->context_tokens && s->users);
    }
  g.row_label = users ? "users" : "context";
  g.col_label = "configuration";
  for (const auto& [k, name] : rows) g.rows.push_back(name);
  for (const auto& c : cols) g.cols.push_back(c.name);
  g.cells.assign(g.rows.size(), std::vector<svg::GridCell>(cols.size()));
  for (std::size_t ci = 0; ci < cols.size(); ++ci)
    for (const auto* s : cols[ci].steps) {
      const auto it = std::find(g.rows.begin(), g.rows.end(), s->key());
      const auto ri = static_cast<std::size_t>(it - g.rows.begin());
      svg::GridCell cell;
      const auto req = jf::count_member(s->stats, "requests").value_or(0);
      const auto ok = jf::count_member(s->stats, "ok").value_or(0);
      if (req > 0) cell.value = static_cast<double>(ok) / static_cast<double>(req);
      cell.text = std::to_string(ok) + "/" + std::to_string(req) + " ok";
      if (auto f = s->failure(); !f.empty()) cell.text += ", " + f;
      g.cells[ri][ci] = cell;
    }
  g.note = "Cell: ok / counted requests (colour: completion rate, red 0 to green 1) and the step's failure; grey: not run.";
  return g;
}

std::vector<Column> columns_of(const RunView& v) {
  std::map<std::string, Column> by_arm;
  for (const auto& s : v.steps) {
    auto& c = by_arm[s.arm];
    c.name = s.arm.empty() ? v.name : v.arm_name(s.arm);
    c.steps.push_back(&s);
  }
  std::vector<Column> out;
  for (auto& [k, c] : by_arm) out.push_back(std::move(c));
  return out;
}

struct Goodput {
  std::optional<double> tokens_per_s;
  std::size_t met = 0, ok = 0;
};
Goodput goodput(const RunView& v, const StepView& s) {
  Goodput g;
  if (!s.have_requests) return g;
  double tokens = 0;
  for (const auto& r : s.ok) {
    ++g.ok;
    if (!r.ttft || *r.ttft > v.slo_ttft) continue;
    if (r.tpot && *r.tpot > v.slo_tpot) continue;
    ++g.met;
    tokens += r.output_tokens;
  }
  if (auto wall = num(s.stats, "wall_s"); wall && *wall > 0) g.tokens_per_s = tokens / *wall;
  return g;
}

std::string slo_words(const RunView& v) {
  return "TTFT ≤ " + fx(v.slo_ttft, 0) + " ms and TPOT ≤ " + fx(v.slo_tpot, 0) + " ms (" +
         (v.slo_source == "default" ? std::string("the default: no slo in summary.json or scenario.yaml") : v.slo_source) + ")";
}

std::optional<svg::LineChart> concurrency_chart(const RunView& v, ReportTable& table) {
  std::vector<const StepView*> steps;
  for (const auto& s : v.steps)
    if (s.users && !s.context_tokens) steps.push_back(&s);
  if (steps.empty()) return std::nullopt;
  svg::LineChart c = line_chart(v.prefix + "concurrency", "Concurrency: throughput against p99 TTFT", axis("TTFT p99", "ms"),
                                axis("output tokens/s (aggregate)", "tokens/s"));
  table.caption = "Throughput, latency and goodput per users step";
  table.header = {"users"};
  if (has_arms(v)) table.header.push_back("arm");
  for (const char* h : {"output tokens/s (aggregate)", "TTFT p99 ms", "goodput tokens/s", "requests within the SLO"})
    table.header.push_back(h);
  std::map<std::string, std::vector<const StepView*>> by_arm;
  for (const auto* s : steps) by_arm[s->arm].push_back(s);
  for (auto& [arm, list] : by_arm) {
    std::sort(list.begin(), list.end(), [](auto* a, auto* b) { return *a->users < *b->users; });
    const std::string suffix = arm.empty() ? "" : " (" + v.arm_name(arm) + ")";
    svg::Series thr = series_named("aggregate" + suffix), good = series_named("goodput at the SLO" + suffix);
    for (const auto* s : list) {
      auto p99 = num(s->stats, "ttft_ms", "p99");
      auto agg = num(s->stats, "output_tokens_per_s_aggregate");
      Goodput g = goodput(v, *s);
      if (p99 && agg) thr.points.push_back({*p99, *agg, std::nullopt, std::nullopt});
      if (p99 && g.tokens_per_s) good.points.push_back({*p99, *g.tokens_per_s, std::nullopt, std::nullopt});
      std::vector<std::string> row = {fx(*s->users, 0)};
      if (!arm.empty()) row.push_back(v.arm_name(arm));
      row.push_back(fx(agg, 1));
      row.push_back(fx(p99, 1));
      row.push_back(fx(g.tokens_per_s, 1));
      row.push_back(s->have_requests ? std::to_string(g.met) + " / " + std::to_string(g.ok) : std::string(kAbsent));
      table.rows.push_back(std::move(row));
    }
    c.series.push_back(std::move(thr));
    c.series.push_back(std::move(good));
  }
  table.source = "summary.json steps[].output_tokens_per_s_aggregate, .ttft_ms.p99, .wall_s; goodput from requests.jsonl";
  table.note = "Goodput: output tokens of the ok requests within the SLO, " + slo_words(v) +
               ", over the step's wall time; TPOT = (e2e_ms − ttft_ms) / (output_tokens − 1).";
  c.note = "One point per users step, in order of users; SLO " + slo_words(v);
  return c;
}

std::vector<svg::LineChart> cdf_charts(const RunView& v) {
  std::vector<svg::LineChart> out;
  std::vector<std::pair<std::string, std::vector<double>>> ttft, itl;
  for (const auto& s : v.steps) {
    if (!s.have_requests) continue;
    std::string name = s.label.empty() ? s.key() : s.label;
    if (!s.arm.empty()) name += " (" + v.arm_name(s.arm) + ")";
    if (!s.ttft.empty()) ttft.emplace_back(name, s.ttft);
    if (!s.itl.empty()) itl.emplace_back(name, s.itl);
  }
  auto cdf_axis = [](const std::vector<std::pair<std::string, std::vector<double>>>& samples, std::string label) {
    svg::Axis a = axis(std::move(label), "ms");
    double lo = INFINITY, hi = -INFINITY;
    for (const auto& [n, vals] : samples) {
      auto [l, h] = range_of(vals);
      lo = std::min(lo, l), hi = std::max(hi, h);
    }
    if (log_worthy(lo, hi, 50)) a.scale = svg::Scale::log10;
    return a;
  };
  if (!ttft.empty()) {
    auto c = svg::cdf_chart(v.prefix + "ttft-cdf", "TTFT distribution per step", cdf_axis(ttft, "TTFT"), ttft);
    c.note = "Empirical CDF of ttft_ms of the ok counted requests (requests.jsonl)";
    out.push_back(std::move(c));
  }
  if (!itl.empty()) {
    auto c = svg::cdf_chart(v.prefix + "itl-cdf", "Inter-token latency distribution per step", cdf_axis(itl, "ITL"), itl);
    c.note = "Empirical CDF of every itl_ms gap of the ok counted requests (requests.jsonl)";
    out.push_back(std::move(c));
  }
  return out;
}

// ------------------------------------------------------------ from the recording

bool wanted_series(std::string_view n) {
  return n == "tierscope_workload_memory_bytes" || n == "tierscope_memory_used_bytes" || n == "tierscope_memory_anon_bytes" ||
         n == "tierscope_memory_page_cache_bytes" || n == "tierscope_disk_reads_completed_total" ||
         n == "tierscope_disk_writes_completed_total";
}

bool has_data(const RecordedSeries& s) {
  return std::any_of(s.values.begin(), s.values.end(), [](double x) { return std::isfinite(x); });
}

std::string label_of(const RecordedSeries& s, const std::string& k) {
  auto it = s.labels.find(k);
  return it == s.labels.end() ? "" : it->second;
}

std::optional<svg::StackedArea> memory_chart(const RunView& v, const RecordingDigest& d) {
  if (d.wall.empty()) return std::nullopt;
  struct Layer {
    std::string name;
    const RecordedSeries* s;
  };
  std::vector<Layer> layers;
  bool workload = false;
  static constexpr std::pair<const char*, const char*> kWorkloadTiers[] = {
      {"vram", "VRAM"}, {"gtt", "GTT"}, {"ram_anon", "RAM anon"}, {"page_cache", "page cache"}, {"swap", "swap"}};
  for (const auto& [tier, name] : kWorkloadTiers)
    for (const auto& [k, s] : d.series)
      if (s.name == "tierscope_workload_memory_bytes" && label_of(s, "tier") == tier && has_data(s))
        layers.push_back({name, &s});
  if (!layers.empty()) {
    workload = true;
  } else {
    auto per_device = [&](const char* tier, const char* name) {
      for (const auto& [k, s] : d.series)
        if (s.name == "tierscope_memory_used_bytes" && label_of(s, "tier") == tier && has_data(s))
          layers.push_back({std::string(name) + " " + label_of(s, "device"), &s});
    };
    per_device("vram", "VRAM");
    per_device("gtt", "GTT");
    for (const auto& [metric, name] : {std::pair{"tierscope_memory_anon_bytes", "RAM anon"},
                                       std::pair{"tierscope_memory_page_cache_bytes", "page cache"}})
      if (auto it = d.series.find(metric); it != d.series.end() && has_data(it->second)) layers.push_back({name, &it->second});
    per_device("swap", "swap");
  }
  if (layers.empty()) return std::nullopt;
  svg::StackedArea c;
  c.id = v.prefix + "memory-composition";
  c.title = workload ? "Memory of the workload over the run" : "Host memory over the run";
  c.x = axis("time since the first sample", "s");
  c.y = axis("memory", "bytes");
  const std::size_t n = d.wall.size();
  const std::size_t b = block_size(n, kMaxChartPoints);
  for (const auto& l : layers) c.layers.push_back({l.name, {}, ""});
  double peak = -1, peak_x = 0;
  for (std::size_t i = 0; i < n; i += b) {
    const std::size_t end = std::min(n, i + b);
    double xs = 0;
    for (std::size_t j = i; j < end; ++j) xs += d.wall[j] - d.wall[0];
    c.x_values.push_back(xs / static_cast<double>(end - i));
    double total = 0;
    for (std::size_t li = 0; li < layers.size(); ++li) {
      double sum = 0;
      std::size_t cnt = 0;
      for (std::size_t j = i; j < end; ++j)
        if (std::isfinite(layers[li].s->values[j])) sum += layers[li].s->values[j], ++cnt;
      if (cnt) {
        c.layers[li].y.push_back(sum / static_cast<double>(cnt));
        total += sum / static_cast<double>(cnt);
      } else {
        c.layers[li].y.push_back(std::nullopt);
      }
    }
    if (total > peak) peak = total, peak_x = c.x_values.back();
  }
  if (peak > 0) c.markers.push_back({peak_x, "peak " + svg::format_value(peak, "bytes"), "peak"});
  c.note = std::string(workload ? "tierscope_workload_memory_bytes{tier}" :
                                  "tierscope_memory_used_bytes{tier=vram|gtt|swap,device}, tierscope_memory_anon_bytes, "
                                  "tierscope_memory_page_cache_bytes") +
           " from the recording";
  if (b > 1) c.note += "; means of blocks of " + std::to_string(b) + " samples";
  return c;
}

std::optional<svg::LineChart> iops_chart(const RunView& v, const RecordingDigest& d) {
  struct Dev {
    std::string name;
    std::vector<XY> points;
    double peak = 0, peak_x = 0;
  };
  std::vector<Dev> devs;
  for (const auto& [k, s] : d.series) {
    const bool reads = s.name == "tierscope_disk_reads_completed_total";
    if (!reads && s.name != "tierscope_disk_writes_completed_total") continue;
    Dev dev{label_of(s, "device") + (reads ? " read" : " write"), {}, 0, 0};
    for (std::size_t i = 1; i < s.values.size(); ++i) {
      const double dt = d.wall[i] - d.wall[i - 1], dv = s.values[i] - s.values[i - 1];
      if (!(dt > 0) || !std::isfinite(dv) || dv < 0) continue;
      const double rate = dv / dt, x = d.wall[i] - d.wall[0];
      dev.points.push_back({x, rate});
      if (rate > dev.peak) dev.peak = rate, dev.peak_x = x;
    }
    if (dev.peak > 0) devs.push_back(std::move(dev));
  }
  if (devs.empty()) return std::nullopt;
  std::stable_sort(devs.begin(), devs.end(), [](const Dev& a, const Dev& b) { return a.peak > b.peak; });
  const std::size_t shown = std::min<std::size_t>(devs.size(), 6);
  svg::LineChart c = line_chart(v.prefix + "ssd-iops", "Disk operations per second over the run",
                                axis("time since the first sample", "s"), axis("operations", "iops"));
  bool reduced = false;
  for (std::size_t i = 0; i < shown; ++i) {
    svg::Series s = series_named(devs[i].name);
    s.kind = svg::Series::Kind::line;
    s.interval = svg::Series::Interval::none;
    auto pts = block_minmax(devs[i].points, kMaxChartPoints);
    reduced = reduced || pts.size() < devs[i].points.size();
    for (const auto& p : pts) s.points.push_back({p.x, p.y, std::nullopt, std::nullopt});
    c.series.push_back(std::move(s));
    if (i < 2) c.markers.push_back({devs[i].peak_x, "peak " + svg::format_value(devs[i].peak, "iops") + " " + devs[i].name, "peak"});
  }
  c.note = "Rate of tierscope_disk_{reads,writes}_completed_total per device between consecutive samples";
  if (devs.size() > shown) c.note += "; the " + std::to_string(shown) + " busiest of " + std::to_string(devs.size());
  if (reduced) c.note += "; lowest and highest of each block of samples (at most " + std::to_string(kMaxChartPoints) + " points)";
  return c;
}

// ------------------------------------------------------------ soak

ReportTable soak_table(const json& soak) {
  ReportTable t;
  t.caption = "Leak verdicts";
  t.header = {"subject", "tier", "verdict", "slope per hour [95 % CI]", "samples", "reasons"};
  t.source = "soak.json series[].subject, .tier, .verdict, .slope_per_s, .slope_low_per_s, .slope_high_per_s, .samples, .reasons";
  if (const json* series = jf::member(soak, "series"); series && series->is_array())
    for (const auto& s : *series) {
      const std::string unit = str(s, "unit", "bytes");
      const std::string u = unit == "bytes" ? "bytes" : "";
      auto per_h = [&](const char* k) -> std::string {
        auto x = num(s, k);
        return x ? svg::format_value(*x * 3600.0, u) : std::string(kAbsent);
      };
      std::string slope = per_h("slope_per_s");
      if (num(s, "slope_low_per_s") && num(s, "slope_high_per_s")) slope += " [" + per_h("slope_low_per_s") + ", " + per_h("slope_high_per_s") + "]";
      std::string reasons;
      if (const json* r = jf::member(s, "reasons"); r && r->is_array())
        for (const auto& x : *r)
          if (x.is_string()) reasons += (reasons.empty() ? "" : "; ") + x.get<std::string>();
      t.rows.push_back({str(s, "subject"), str(s, "tier"), str(s, "verdict"), slope, text_at(s, {"samples"}), reasons});
    }
  t.note = "Slope: Theil–Sen over the sampled run time with its 95 % CI (docs/soak.md \"Leak verdicts\").";
  return t;
}

std::vector<svg::LineChart> soak_charts(const RunView& v, const json& soak, const RecordingDigest& d) {
  std::vector<svg::LineChart> out;
  const json* series = jf::member(soak, "series");
  if (!series || !series->is_array()) return out;
  std::size_t i = 0;
  for (const auto& s : *series) {
    ++i;
    const std::string key = str(s, "subject", "") + "/" + str(s, "tier", "");
    auto it = d.soak_points.find(key);
    if (it == d.soak_points.end() || it->second.empty()) continue;
    std::vector<XY> pts;
    pts.reserve(it->second.size());
    for (const auto& [t, val] : it->second) pts.push_back({t, val});
    svg::LineChart c;
    c.id = v.prefix + "soak-" + std::to_string(i);
    c.title = key + ": " + str(s, "verdict", "no verdict");
    c.x = axis("sampled run time", "s");
    const std::string unit = str(s, "unit", "bytes");
    c.y = axis(str(s, "tier", "value"), unit == "bytes" ? "bytes" : "");
    svg::Series data = series_named(key);
    data.kind = svg::Series::Kind::line;
    data.interval = svg::Series::Interval::none;
    auto shown = block_minmax(pts, kMaxChartPoints);
    for (const auto& p : shown) data.points.push_back({p.x, p.y, std::nullopt, std::nullopt});
    c.series.push_back(std::move(data));
    c.note = "soak_point records of the recording";
    if (shown.size() < pts.size()) c.note += " (lowest and highest of each block, " + std::to_string(shown.size()) + " of " + std::to_string(pts.size()) + " points)";
    if (auto slope = num(s, "slope_per_s")) {
      std::vector<double> resid;
      resid.reserve(pts.size());
      for (const auto& p : pts) resid.push_back(p.y - *slope * p.x);
      if (auto icpt = percentile(resid, 0.5)) {
        const double x0 = pts.front().x, x1 = pts.back().x;
        svg::Series fit = series_named("fit: " + svg::format_value(*slope * 3600.0, c.y.unit) + " per hour");
        fit.kind = svg::Series::Kind::line;
        fit.interval = svg::Series::Interval::none;
        fit.dashed = true;
        fit.points = {{x0, *icpt + *slope * x0, std::nullopt, std::nullopt}, {x1, *icpt + *slope * x1, std::nullopt, std::nullopt}};
        c.series.push_back(std::move(fit));
        c.note += "; dashed: soak.json slope_per_s through the median of value − slope·t (Theil–Sen intercept)";
      }
    }
    out.push_back(std::move(c));
  }
  return out;
}

// ------------------------------------------------------------ A/B and cost: their JSON as tables

std::string cell_of(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return kAbsent;
  if (v.is_number_float()) return fx(v.get<double>(), 4);
  if (v.is_primitive()) return v.dump();
  if (v.is_array() && v.size() == 2 && v[0].is_number() && v[1].is_number())
    return "[" + fx(v[0].get<double>(), 4) + ", " + fx(v[1].get<double>(), 4) + "]";
  return v.dump();
}

// Flattens an object into dotted keys (objects only; arrays as cells).
void flatten(const json& j, const std::string& prefix, std::vector<std::pair<std::string, std::string>>& out, int depth) {
  for (const auto& [k, v] : j.items()) {
    const std::string key = prefix.empty() ? k : prefix + "." + k;
    if (v.is_object() && depth < 4) flatten(v, key, out, depth + 1);
    else if (!(v.is_array() && !v.empty() && v[0].is_object())) out.push_back({key, cell_of(v)});
  }
}

// Tables of a JSON object: its scalar members (flattened) as one key/value table, and each array of objects as a table.
void json_tables(const json& j, const std::string& file, const std::string& where, std::vector<ReportBlock>& blocks, int depth = 0) {
  if (!j.is_object()) return;
  std::vector<std::pair<std::string, std::string>> flat;
  flatten(j, "", flat, 0);
  if (!flat.empty()) {
    ReportTable t;
    t.caption = where;
    t.header = {"field", "value"};
    t.source = file + " " + where;
    for (auto& [k, v] : flat) t.rows.push_back({k, v});
    blocks.push_back(table_block(std::move(t)));
  }
  std::function<void(const json&, const std::string&)> arrays = [&](const json& o, const std::string& at) {
    for (const auto& [k, v] : o.items()) {
      const std::string here = at + "." + k;
      if (v.is_object() && depth < 4) arrays(v, here);
      if (!v.is_array() || v.empty() || !v[0].is_object()) continue;
      ReportTable t;
      t.caption = here;
      t.source = file + " " + here + "[]";
      std::vector<std::string> cols;
      std::vector<std::vector<std::pair<std::string, std::string>>> rows;
      for (const auto& item : v) {
        std::vector<std::pair<std::string, std::string>> flat_row;
        if (item.is_object()) flatten(item, "", flat_row, 0);
        for (const auto& [c, x] : flat_row)
          if (std::find(cols.begin(), cols.end(), c) == cols.end()) cols.push_back(c);
        rows.push_back(std::move(flat_row));
      }
      t.header = cols;
      for (const auto& r : rows) {
        std::vector<std::string> row(cols.size(), kAbsent);
        for (const auto& [c, x] : r) row[static_cast<std::size_t>(std::find(cols.begin(), cols.end(), c) - cols.begin())] = x;
        t.rows.push_back(std::move(row));
      }
      blocks.push_back(table_block(std::move(t)));
    }
  };
  arrays(j, where);
}

// summary.json `comparison` as compare_requests writes it (workloads/compare.h): the outcomes per arm and a
// table per metric; false when it is not that shape (the caller shows it generically).
bool comparison_blocks(const json& c, std::vector<ReportBlock>& blocks) {
  const json* steps = jf::member(c, "steps");
  if (!steps || !steps->is_array() || steps->empty()) return false;
  const std::string a = text_at(c, {"a", "name"}), b = text_at(c, {"b", "name"});
  std::string method = "A = " + a + ", B = " + b + ".";
  if (auto m = num(c, "margin")) method += " Equivalence margin ±" + fx(*m * 100, 1) + " % (TOST).";
  if (const json* bs = jf::member(c, "bootstrap"); bs && bs->is_object())
    method += " Bootstrap: " + text_at(*bs, {"resamples"}) + " resamples, seed " + text_at(*bs, {"seed"}) + ", " +
              str(*bs, "method", "") + ".";
  blocks.push_back(text_block(method + " (summary.json comparison.a, .b, .margin, .bootstrap)"));
  ReportTable o;
  o.caption = "OOM vs success, A/B";
  o.header = {"step", a + " ok / requests", b + " ok / requests", "unit", "headline"};
  o.source = "summary.json comparison.steps[].label, .a, .b, .unit, .headline";
  std::vector<std::string> metrics;
  for (const auto& st : *steps) {
    auto arm = [&](const char* k) {
      const json* x = jf::member(st, k);
      if (!x) return std::string(kAbsent);
      std::string t = text_at(*x, {"ok"}) + " / " + text_at(*x, {"requests"});
      if (const std::string* e = jf::string_member(*x, "engine_outcome")) t += " (engine " + *e + ")";
      return t;
    };
    o.rows.push_back({str(st, "label"), arm("a"), arm("b"), str(st, "unit"), str(st, "headline")});
    if (const std::string* cav = jf::string_member(st, "caveat")) o.note += (o.note.empty() ? "" : " ") + str(st, "label") + ": " + *cav + ".";
    if (const json* m = jf::member(st, "metrics"); m && m->is_object())
      for (const auto& [name, v] : m->items())
        if (std::find(metrics.begin(), metrics.end(), name) == metrics.end()) metrics.push_back(name);
  }
  blocks.push_back(table_block(std::move(o)));
  auto interval = [](const json* j, const char* value) -> std::string {
    if (!j) return kAbsent;
    auto v = num(*j, value);
    if (!v) return kAbsent;
    std::string t = fx(*v, 3);
    if (auto lo = num(*j, "low"), hi = num(*j, "high"); lo && hi) t += " [" + fx(*lo, 3) + ", " + fx(*hi, 3) + "]";
    return t;
  };
  auto p_of = [](const json* j) { return j ? fx(num(*j, "p"), 4) : std::string(kAbsent); };
  for (const auto& name : metrics) {
    ReportTable t;
    t.caption = name + ", B against A";
    t.header = {"step", "n A", "n B", "median A", "median B", "ratio of medians B/A [95 % CI]", "Welch mean B − A [95 % CI]",
                "Welch p", "Mann–Whitney p", "TOST p", "verdict"};
    t.source = "summary.json comparison.steps[].metrics." + name +
               ".{n_a, n_b, median_a, median_b, ratio, welch, mann_whitney, tost, verdict, word}";
    for (const auto& st : *steps) {
      const json* m = path(st, {"metrics", name});
      if (!m) continue;
      std::string verdict = str(*m, "word", str(*m, "verdict"));
      t.rows.push_back({str(st, "label"), text_at(*m, {"n_a"}), text_at(*m, {"n_b"}), fx(num(*m, "median_a"), 2),
                        fx(num(*m, "median_b"), 2), interval(jf::member(*m, "ratio"), "value"),
                        interval(jf::member(*m, "welch"), "diff"), p_of(jf::member(*m, "welch")),
                        p_of(jf::member(*m, "mann_whitney")), p_of(jf::member(*m, "tost")), verdict});
    }
    blocks.push_back(table_block(std::move(t)));
  }
  return true;
}

// summary.json `cost` as workloads/cost.h writes it: a row per line (basis, or basis/name) with the run's
// dollars and the per-1M-token figures, its formula and the price's source; then why a line is absent, and
// the inputs and energy as generic tables. False when it is not that shape.
bool cost_blocks(const json& c, std::vector<ReportBlock>& blocks) {
  const json* lines = jf::member(c, "lines");
  if (!lines || !lines->is_object()) return false;
  const json* inputs = jf::member(c, "inputs");
  ReportTable t;
  t.caption = "Cost of the run";
  t.header = {"line", "$ for the run", "$ per 1M output tokens", "$ per 1M tokens (input + output)", "formula", "price source"};
  t.source = "summary.json cost.lines.*.{usd, usd_per_1m_output_tokens, usd_per_1m_total_tokens, formula}; "
             "cost.inputs.*.{source, date}";
  auto add = [&](const std::string& name, const json& line, const json* in) {
    std::string src = kAbsent;
    if (in && in->is_object() && jf::string_member(*in, "source"))
      src = str(*in, "source") + (jf::string_member(*in, "date") ? " (" + str(*in, "date") + ")" : "");
    t.rows.push_back({name, fx(num(line, "usd"), 6), fx(num(line, "usd_per_1m_output_tokens"), 4),
                      fx(num(line, "usd_per_1m_total_tokens"), 4), str(line, "formula"), src});
  };
  for (const auto& [basis, line] : lines->items()) {
    if (!line.is_object()) continue;
    const json* in = inputs ? jf::member(*inputs, basis) : nullptr;
    if (jf::member(line, "usd")) {
      add(basis, line, in ? in : inputs ? jf::member(*inputs, "local") : nullptr);
      continue;
    }
    for (const auto& [name, sub] : line.items())
      if (sub.is_object()) add(basis + " " + name, sub, in ? jf::member(*in, name) : nullptr);
  }
  blocks.push_back(table_block(std::move(t)));
  if (const json* absent = jf::member(c, "absent"); absent && absent->is_object() && !absent->empty()) {
    ReportTable a;
    a.caption = "Cost lines left out";
    a.header = {"line", "why"};
    a.source = "summary.json cost.absent";
    for (const auto& [k, v] : absent->items()) a.rows.push_back({k, cell_of(v)});
    blocks.push_back(table_block(std::move(a)));
  }
  for (const char* part : {"tokens", "energy", "inputs"})
    if (const json* x = jf::member(c, part); x && x->is_object()) json_tables(*x, "summary.json", std::string("cost.") + part, blocks);
  return true;
}

// ------------------------------------------------------------ one run

void add_run(Report& rep, RunView& v) {
  const RunDir& d = *v.dir;
  const std::string sid = v.prefix.empty() ? "run" : v.prefix.substr(0, v.prefix.size() - 1);
  ReportSection top = section(sid, "Run " + v.name, 2);
  top.blocks.push_back(table_block(header_table(v)));

  std::vector<ReportSection> subs;
  if (d.manifest) {
    ReportSection env = section(sid + "-environment", "Environment", 3);
    env.blocks.push_back(table_block(environment_table(v)));
    subs.push_back(std::move(env));
  } else {
    v.missing.push_back("no manifest.json: no environment table, and the host is unknown");
  }

  if (!v.steps.empty()) {
    ReportSection st = section(sid + "-statistics", "Statistics", 3);
    if (v.rebuilt)
      st.blocks.push_back(text_block("summary.json is missing: these tables are rebuilt from requests.jsonl "
                                     "(failure threshold 0.5, the default; warm-up requests left out)."));
    st.blocks.push_back(table_block(statistics_table(v)));
    st.blocks.push_back(table_block(outcomes_table(v)));
    subs.push_back(std::move(st));

    if (auto c = memory_wall_chart(v)) {
      ReportSection s = section(sid + "-memory-wall", "Memory wall", 3);
      std::string src = "summary.json steps[].context_tokens, .ttft_ms, .output_tokens_per_s, .failed, .failures, "
                        ".engine_outcome, predicted_wall.tiers[].max_context; requests.jsonl ttft_ms for the CIs";
      s.blocks.push_back(chart_block(*c, src));
      if (d.summary && jf::member(*d.summary, "wall")) {
        const json& w = (*d.summary)["wall"];
        if (w.is_object())
          s.blocks.push_back(text_block("Measured wall (summary.json wall): step " + text_at(w, {"step"}) + ", " +
                                        (jf::member(w, "context_tokens") ? text_at(w, {"context_tokens"}) + " tokens"
                                                                         : text_at(w, {"users"}) + " users") +
                                        ", outcome " + str(w, "outcome") + "."));
        else s.blocks.push_back(text_block("Measured wall (summary.json wall): none, every step passed."));
      }
      subs.push_back(std::move(s));
    }
    {
      ReportSection s = section(sid + "-outcomes", "OOM vs success", 3);
      auto cols = columns_of(v);
      auto g = outcome_grid(v.prefix + "outcome-grid", "OOM vs success per step", cols);
      s.blocks.push_back(chart_block(g, "summary.json steps[].ok, .requests, .failures, .engine_outcome"));
      subs.push_back(std::move(s));
    }
    ReportTable ct;
    if (auto c = concurrency_chart(v, ct)) {
      ReportSection s = section(sid + "-concurrency", "Concurrency", 3);
      s.blocks.push_back(chart_block(*c, ct.source));
      s.blocks.push_back(table_block(std::move(ct)));
      subs.push_back(std::move(s));
    }
    auto cdfs = cdf_charts(v);
    if (!cdfs.empty()) {
      ReportSection s = section(sid + "-distributions", "Latency distributions", 3);
      for (const auto& c : cdfs) s.blocks.push_back(chart_block(c, "requests.jsonl ttft_ms, itl_ms"));
      subs.push_back(std::move(s));
    } else {
      v.missing.push_back("no request records: no TTFT or ITL distributions");
    }
  }

  RecordingDigest digest;
  if (d.has_recording) digest = digest_recording(d.path, [&](std::string_view n) { return wanted_series(n); });
  else v.missing.push_back("no recording (samples-*.jsonl): no memory composition or disk charts");
  if (d.has_recording) {
    ReportSection s = section(sid + "-recording", "Memory and disks over the run", 3);
    s.blocks.push_back(text_block("The recording: " + std::to_string(digest.stats.segments) + " segment(s), " +
                                  std::to_string(digest.wall.size()) + " samples, " + std::to_string(digest.gaps) +
                                  " gap(s), " + std::to_string(digest.stats.torn) + " torn and " +
                                  std::to_string(digest.stats.corrupt) + " corrupt line(s) skipped."));
    if (auto c = memory_chart(v, digest)) s.blocks.push_back(chart_block(*c, "samples-*.jsonl"));
    else v.missing.push_back("the recording has no memory series: no memory composition chart");
    if (auto c = iops_chart(v, digest)) s.blocks.push_back(chart_block(*c, "samples-*.jsonl"));
    else v.missing.push_back("the recording has no disk operations: no disk chart");
    subs.push_back(std::move(s));
  }

  if (d.soak) {
    ReportSection s = section(sid + "-soak", "Soak verdicts", 3);
    s.blocks.push_back(text_block("Soak status " + str(*d.soak, "status") + ", sampled " + text_at(*d.soak, {"elapsed_s"}) +
                                  " s of " + text_at(*d.soak, {"duration_s"}) + " s, " + text_at(*d.soak, {"samples"}) +
                                  " samples (soak.json status, elapsed_s, duration_s, samples)."));
    s.blocks.push_back(table_block(soak_table(*d.soak)));
    for (const auto& c : soak_charts(v, *d.soak, digest)) s.blocks.push_back(chart_block(c, "soak.json series[].slope_per_s; samples-*.jsonl soak_point"));
    subs.push_back(std::move(s));
  }

  if (d.summary && jf::member(*d.summary, "comparison")) {
    ReportSection s = section(sid + "-comparison", "A/B comparison", 3);
    if (!comparison_blocks((*d.summary)["comparison"], s.blocks))
      json_tables((*d.summary)["comparison"], "summary.json", "comparison", s.blocks);
    subs.push_back(std::move(s));
  } else if (d.kind() == "ab") {
    v.missing.push_back("summary.json has no comparison: no A/B tables");
  }
  if (d.summary && jf::member(*d.summary, "cost")) {
    ReportSection s = section(sid + "-cost", "Cost", 3);
    if (!cost_blocks((*d.summary)["cost"], s.blocks)) json_tables((*d.summary)["cost"], "summary.json", "cost", s.blocks);
    subs.push_back(std::move(s));
  }

  {
    ReportSection s = section(sid + "-files", "The run's files", 3);
    if (d.manifest) s.blocks.push_back(embedded_block("manifest.json", d.manifest->dump(2)));
    if (d.summary) s.blocks.push_back(embedded_block("summary.json", d.summary->dump(2)));
    if (d.soak) s.blocks.push_back(embedded_block("soak.json", d.soak->dump(2)));
    if (d.scenario_yaml) s.blocks.push_back(embedded_block("scenario.yaml", *d.scenario_yaml));
    if (!s.blocks.empty()) subs.push_back(std::move(s));
  }

  if (!d.warnings.empty() || !v.missing.empty()) {
    std::string text = "What this run directory lacks or holds broken, and what the report therefore leaves out:";
    ReportTable t;
    t.caption = "Missing or broken";
    t.header = {"what"};
    t.source = "reading " + v.name;
    for (const auto& w : d.warnings) t.rows.push_back({w});
    for (const auto& m : v.missing) t.rows.push_back({m});
    top.blocks.push_back(text_block(text));
    top.blocks.push_back(table_block(std::move(t)));
  }
  rep.sections.push_back(std::move(top));
  for (auto& s : subs) rep.sections.push_back(std::move(s));
}

// ------------------------------------------------------------ rendering

std::string md_cell(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += "\\|";
    else if (c == '\n') out += ' ';
    else out += c;
  }
  return out;
}

const char* kCss = R"(body{font-family:sans-serif;margin:2em auto;max-width:1100px;color:#111;line-height:1.4}
h1{font-size:1.6em}h2{border-bottom:2px solid #333;margin-top:2em}h3{margin-top:1.5em}
table{border-collapse:collapse;margin:.5em 0;font-size:.85em}th,td{border:1px solid #bbb;padding:.2em .5em;text-align:left;vertical-align:top}
th{background:#eee}td.n{text-align:right;font-variant-numeric:tabular-nums}caption{text-align:left;font-weight:bold;padding:.3em 0}
p.src,p.note{font-size:.8em;color:#444;margin:.2em 0 1em}figure{margin:1em 0}figure svg{max-width:100%;height:auto}
figcaption{font-size:.8em;color:#444}pre{font-size:.75em;background:#f6f6f6;padding:.5em;overflow:auto;max-height:30em}
details{margin:.5em 0}
@media print{body{margin:0;max-width:none}h2{break-before:page}figure,table{break-inside:avoid}details>pre{max-height:none}}
)";

// A cell of figures only (right-aligned): digits and the signs around them ("79.9 [78.9, 80.9]", "8 / 8", "81.3 *").
bool numeric_cell(const std::string& s) {
  if (s.empty() || !(std::isdigit(static_cast<unsigned char>(s[0])) || (s[0] == '-' && s.size() > 1))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) || std::string_view(".-+ [],*/%e").find(c) != std::string_view::npos;
  });
}

}  // namespace

std::optional<std::pair<double, double>> quantile_ci(std::vector<double> v, double q, double conf) {
  std::erase_if(v, [](double x) { return !std::isfinite(x); });
  const std::size_t n = v.size();
  if (n == 0 || !(q > 0 && q < 1) || !(conf > 0 && conf < 1)) return std::nullopt;
  std::sort(v.begin(), v.end());
  std::vector<double> cdf(n + 1);
  double acc = 0;
  const double dn = static_cast<double>(n);
  for (std::size_t k = 0; k <= n; ++k) {
    const double dk = static_cast<double>(k);
    const double logp = std::lgamma(dn + 1) - std::lgamma(dk + 1) - std::lgamma(dn - dk + 1) +
                        (k ? dk * std::log(q) : 0.0) + (k < n ? (dn - dk) * std::log1p(-q) : 0.0);
    acc += std::exp(logp);
    cdf[k] = acc;
  }
  const double alpha = (1 - conf) / 2;
  std::size_t l = 0, u = 0;
  for (std::size_t k = 1; k <= n; ++k)
    if (cdf[k - 1] <= alpha) l = k;
  for (std::size_t k = n; k >= 1; --k)
    if (cdf[k - 1] >= 1 - alpha) u = k;
  if (l == 0 || u == 0 || u <= l) return std::nullopt;
  return std::pair{v[l - 1], v[u - 1]};
}

std::vector<ReportChart> Report::charts() const {
  std::vector<ReportChart> out;
  for (const auto& s : sections)
    for (const auto& b : s.blocks)
      if (b.kind == ReportBlock::Kind::chart) out.push_back(b.chart);
  return out;
}

Report build_report(const std::vector<RunDir>& runs) {
  Report rep;
  std::vector<RunView> views;
  for (std::size_t i = 0; i < runs.size(); ++i)
    if (runs[i].usable()) views.push_back(make_view(runs[i], i, runs.size()));
  if (views.size() == 1) {
    rep.title = "tierscope report: " + views[0].name;
  } else {
    rep.title = "tierscope report: " + std::to_string(views.size()) + " runs";
  }
  rep.lead.push_back("Every table names the file and fields of the run directory its numbers come from "
                     "(formats: docs/benchmarks.md, docs/soak.md, docs/manifest.md, docs/recording.md; this report: docs/report.md).");
  for (const auto& r : runs)
    if (!r.usable()) rep.lead.push_back(r.path + ": nothing usable, left out of the report.");
  for (auto& v : views) add_run(rep, v);
  if (views.size() > 1) {
    ReportSection s = section("across-runs", "Across runs", 2);
    std::vector<Column> cols;
    for (const auto& v : views)
      for (auto& c : columns_of(v)) {
        if (!c.steps.empty() && c.steps.front()->arm.size()) c.name = v.name + " " + c.name;
        cols.push_back(std::move(c));
      }
    if (!cols.empty()) {
      auto g = outcome_grid("runs-outcome-grid", "OOM vs success across runs", cols);
      s.blocks.push_back(chart_block(g, "each run's summary.json steps[].ok, .requests, .failures, .engine_outcome"));
    }
    rep.sections.push_back(std::move(s));
  }
  return rep;
}

std::string render_markdown(const Report& r) {
  std::ostringstream o;
  o << "# " << r.title << "\n\n";
  for (const auto& p : r.lead) o << p << "\n\n";
  for (const auto& s : r.sections) {
    o << std::string(static_cast<std::size_t>(s.level), '#') << " " << s.title << "\n\n";
    for (const auto& b : s.blocks) {
      switch (b.kind) {
        case ReportBlock::Kind::text: o << b.text << "\n\n"; break;
        case ReportBlock::Kind::table: {
          const auto& t = b.table;
          if (!t.caption.empty()) o << "**" << t.caption << "**\n\n";
          o << "|";
          for (const auto& h : t.header) o << " " << md_cell(h) << " |";
          o << "\n|";
          for (std::size_t i = 0; i < t.header.size(); ++i) o << "---|";
          o << "\n";
          for (const auto& row : t.rows) {
            o << "|";
            for (const auto& c : row) o << " " << md_cell(c) << " |";
            o << "\n";
          }
          o << "\n";
          if (!t.source.empty()) o << "Source: " << t.source << ".";
          if (!t.note.empty()) o << (t.source.empty() ? "" : " ") << t.note;
          if (!t.source.empty() || !t.note.empty()) o << "\n\n";
          break;
        }
        case ReportBlock::Kind::chart:
          o << "![" << b.chart.title << "](charts/" << b.chart.id << ".svg)\n\n";
          if (!b.chart.source.empty()) o << "Source: " << b.chart.source << ".\n\n";
          break;
        case ReportBlock::Kind::embedded:
          o << "- `" << b.label << "`: in the run directory (embedded in report.html)\n\n";
          break;
      }
    }
  }
  return o.str();
}

std::string render_html(const Report& r) {
  auto esc = [](const std::string& s) { return svg::escape_xml(s); };
  std::ostringstream o;
  o << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    << "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n"
    << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    << "<title>" << esc(r.title) << "</title>\n<style>\n" << kCss << "</style>\n</head>\n<body>\n";
  o << "<h1>" << esc(r.title) << "</h1>\n";
  for (const auto& p : r.lead) o << "<p>" << esc(p) << "</p>\n";
  // Contents.
  o << "<nav><ul>\n";
  for (const auto& s : r.sections)
    if (s.level == 2) o << "<li><a href=\"#" << esc(s.id) << "\">" << esc(s.title) << "</a></li>\n";
  o << "</ul></nav>\n";
  for (const auto& s : r.sections) {
    o << "<section id=\"" << esc(s.id) << "\">\n<h" << s.level << ">" << esc(s.title) << "</h" << s.level << ">\n";
    for (const auto& b : s.blocks) {
      switch (b.kind) {
        case ReportBlock::Kind::text: o << "<p>" << esc(b.text) << "</p>\n"; break;
        case ReportBlock::Kind::table: {
          const auto& t = b.table;
          o << "<table>\n";
          if (!t.caption.empty()) o << "<caption>" << esc(t.caption) << "</caption>\n";
          o << "<thead><tr>";
          for (const auto& h : t.header) o << "<th>" << esc(h) << "</th>";
          o << "</tr></thead>\n<tbody>\n";
          for (const auto& row : t.rows) {
            o << "<tr>";
            for (const auto& c : row) o << (numeric_cell(c) ? "<td class=\"n\">" : "<td>") << esc(c) << "</td>";
            o << "</tr>\n";
          }
          o << "</tbody>\n</table>\n";
          if (!t.source.empty()) o << "<p class=\"src\">Source: " << esc(t.source) << ".</p>\n";
          if (!t.note.empty()) o << "<p class=\"note\">" << esc(t.note) << "</p>\n";
          break;
        }
        case ReportBlock::Kind::chart:
          o << "<figure>\n" << b.chart.svg << "\n";
          if (!b.chart.source.empty()) o << "<figcaption>Source: " << esc(b.chart.source) << ".</figcaption>\n";
          o << "</figure>\n";
          break;
        case ReportBlock::Kind::embedded:
          o << "<details><summary>" << esc(b.label) << "</summary><pre>" << esc(b.text) << "</pre></details>\n";
          break;
      }
    }
    o << "</section>\n";
  }
  o << "</body>\n</html>\n";
  return o.str();
}

}  // namespace tierscope::workloads

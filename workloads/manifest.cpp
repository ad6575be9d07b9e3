#include "workloads/manifest.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <set>
#include <utility>

#include "core/build_info.h"
#include "core/file_cache.h"
#include "core/logging.h"
#include "core/text.h"
#include "core/unique_fd.h"
#include "probes/gpu.h"
#include "probes/gpu_amdgpu.h"
#include "probes/gpu_nvml.h"
#include "probes/meminfo.h"
#include "probes/nvme.h"
#include "probes/offload.h"
#include "probes/sampler.h"
#include "probes/swaps.h"
#include "workloads/gguf.h"
#include "workloads/memory_wall.h"
#include "workloads/scenario.h"
#include "workloads/summary.h"

namespace tierscope::workloads {

using nlohmann::json;

// ---- os-release ----

std::optional<std::string> OsRelease::get(std::string_view key) const {
  for (const auto& [k, v] : fields)
    if (k == key) return v;
  return std::nullopt;
}

namespace {

// A value as os-release(5) allows it: unquoted, or in double quotes (where
// \" \\ \$ \` stand for the character), or in single quotes. nullopt when a
// quote is not closed or something follows the closing quote.
std::optional<std::string> unquote_shell(std::string_view v) {
  if (v.empty()) return std::string();
  const char q = v.front();
  if (q != '"' && q != '\'') {
    if (v.find_first_of("\"'` \t") != std::string_view::npos) return std::nullopt;
    return std::string(v);
  }
  std::string out;
  for (std::size_t i = 1; i < v.size(); ++i) {
    const char c = v[i];
    if (c == q) {
      if (i + 1 != v.size()) return std::nullopt;
      return out;
    }
    if (q == '"' && c == '\\' && i + 1 < v.size() && std::strchr("\"\\$`", v[i + 1])) {
      out += v[++i];
      continue;
    }
    out += c;
  }
  return std::nullopt;  // not closed
}

bool is_env_name(std::string_view k) {
  if (k.empty() || (k[0] >= '0' && k[0] <= '9')) return false;
  return std::all_of(k.begin(), k.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

}  // namespace

OsRelease parse_os_release(std::string_view text) {
  OsRelease r;
  text::Lines lines(text);
  std::string_view line;
  std::set<std::string, std::less<>> seen;
  while (lines.next(line)) {
    line = text::trim(line);
    if (line.empty() || line[0] == '#') continue;
    auto eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    auto key = line.substr(0, eq);
    if (!is_env_name(key) || seen.count(key)) continue;
    auto value = unquote_shell(line.substr(eq + 1));
    if (!value) continue;
    seen.emplace(key);
    r.fields.emplace_back(std::string(key), std::move(*value));
  }
  return r;
}

// ---- cpuinfo ----

CpuInfo parse_cpuinfo(std::string_view text) {
  CpuInfo c;
  std::set<std::string> sockets;
  std::set<std::pair<std::string, std::string>> cores;
  std::optional<std::string> physical_id, core_id;  // of the processor being read
  bool in_processor = false, first = true, cores_complete = true;
  auto end_processor = [&] {
    if (!in_processor) return;
    if (physical_id && core_id) cores.emplace(*physical_id, *core_id);
    else cores_complete = false;
    if (physical_id) sockets.insert(*physical_id);
    physical_id.reset();
    core_id.reset();
    in_processor = false;
    first = false;
  };
  text::Lines lines(text);
  std::string_view line;
  while (lines.next(line)) {
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const auto key = text::trim(line.substr(0, colon));
    const auto value = text::trim(line.substr(colon + 1));
    if (key == "processor") {
      if (!text::parse_u64(value)) continue;  // arm32 "Processor : ARMv7 …" names the model
      end_processor();
      in_processor = true;
      ++c.logical_cpus;
      continue;
    }
    // Fields of the first processor describe the CPU (the rest repeat them
    // on a homogeneous machine; hybrid cores keep the first one's).
    const bool describes = first || !in_processor;
    if (key == "physical id" && in_processor) physical_id = std::string(value);
    else if (key == "core id" && in_processor) core_id = std::string(value);
    else if (!describes) continue;
    else if (key == "model name" && !c.model_name && !value.empty()) c.model_name = std::string(value);
    else if (key == "vendor_id" && !c.vendor_id && !value.empty()) c.vendor_id = std::string(value);
    else if (key == "CPU implementer" && !c.arm_implementer && !value.empty()) c.arm_implementer = std::string(value);
    else if (key == "CPU part" && !c.arm_part && !value.empty()) c.arm_part = std::string(value);
    else if ((key == "flags" || key == "Features") && !c.flags_field) {
      c.flags_field = std::string(key);
      text::Fields fields(value);
      for (auto f = fields.next(); !f.empty(); f = fields.next()) c.flags.emplace_back(f);
    }
  }
  end_processor();
  if (!sockets.empty()) c.sockets = sockets.size();
  if (!cores.empty() && cores_complete) c.physical_cores = cores.size();
  return c;
}

std::vector<std::string> flags_of_interest(const CpuInfo& cpu) {
  static constexpr std::string_view kX86[] = {"avx",         "avx2",        "fma",     "f16c",     "avx512f",
                                              "avx512bw",    "avx512vl",    "avx512_vnni", "avx512_bf16", "avx_vnni",
                                              "amx_tile",    "amx_bf16",    "amx_int8"};
  static constexpr std::string_view kArm[] = {"asimd", "asimdhp", "asimddp", "fphp", "bf16", "i8mm", "sve", "sve2", "sme"};
  std::vector<std::string> out;
  if (!cpu.flags_field) return out;
  const std::set<std::string_view> have(cpu.flags.begin(), cpu.flags.end());
  const bool x86 = *cpu.flags_field == "flags";
  for (auto f : x86 ? std::span<const std::string_view>(kX86) : std::span<const std::string_view>(kArm))
    if (have.count(f)) out.emplace_back(f);
  return out;
}

// ---- sysfs CPU topology ----

std::optional<CpuTopology> cpu_topology(const HostRoots& roots) {
  std::error_code ec;
  std::filesystem::directory_iterator it(roots.sys("devices/system/cpu"), ec), end;
  if (ec) return std::nullopt;
  CpuTopology t;
  std::set<std::pair<std::string, std::string>> cores;
  std::set<std::string> packages;
  bool package_unknown = false;
  std::string buf;
  for (; it != end; it.increment(ec)) {
    if (ec) return std::nullopt;
    const std::string name = it->path().filename().native();
    if (!name.starts_with("cpu") || !text::parse_u64(std::string_view(name).substr(3))) continue;
    if (read_uncached(it->path() / "topology/core_id", buf, 64) != 0) continue;  // offline
    const std::string core(text::trim(buf));
    if (read_uncached(it->path() / "topology/physical_package_id", buf, 64) != 0) continue;
    const std::string package(text::trim(buf));
    if (!text::parse_i64(core) || !text::parse_i64(package)) continue;
    package_unknown = package_unknown || package == "-1";
    cores.emplace(package, core);
    packages.insert(package);
    ++t.cpus;
  }
  if (t.cpus == 0) return std::nullopt;
  t.physical_cores = cores.size();
  if (!package_unknown) t.sockets = packages.size();
  return t;
}

// ---- cgroup ----

std::optional<std::string> cgroup_version(const HostRoots& roots) {
  std::error_code ec;
  auto is_file = [&](const std::filesystem::path& p) { return std::filesystem::is_regular_file(p, ec); };
  if (is_file(roots.sys("fs/cgroup/cgroup.controllers"))) return "v2";
  const bool v1 = std::filesystem::is_directory(roots.sys("fs/cgroup/memory"), ec) ||
                  std::filesystem::is_directory(roots.sys("fs/cgroup/cpu"), ec) ||
                  std::filesystem::is_directory(roots.sys("fs/cgroup/pids"), ec);
  if (v1 && is_file(roots.sys("fs/cgroup/unified/cgroup.controllers"))) return "hybrid";
  if (v1) return "v1";
  return std::nullopt;
}

// ---- SHA-256 ----

namespace {

struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

MdCtx sha256_start() {
  MdCtx ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
    throw ManifestError("SHA-256: libcrypto could not start a digest");
  return ctx;
}

void sha256_update(EVP_MD_CTX* ctx, const void* data, std::size_t n) {
  if (EVP_DigestUpdate(ctx, data, n) != 1) throw ManifestError("SHA-256: libcrypto digest update failed");
}

std::string sha256_finish(EVP_MD_CTX* ctx) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx, md.data(), &len) != 1 || len != 32)
    throw ManifestError("SHA-256: libcrypto digest final failed");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(64);
  for (unsigned i = 0; i < len; ++i) {
    hex += kHex[md[i] >> 4];
    hex += kHex[md[i] & 15];
  }
  return hex;
}

bool is_lower_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

std::string sha256_hex(std::string_view bytes) {
  auto ctx = sha256_start();
  sha256_update(ctx.get(), bytes.data(), bytes.size());
  return sha256_finish(ctx.get());
}

std::string sha256_file(const std::string& path, const HashProgress& progress) {
  // O_NONBLOCK: a FIFO named as a model is refused below, never waited on.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (!fd) throw ManifestError(path + ": " + std::strerror(errno));
  struct stat st{};
  if (::fstat(fd.get(), &st) != 0) throw ManifestError(path + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) throw ManifestError(path + ": not a regular file");
  const auto total = static_cast<std::uint64_t>(st.st_size);
  auto ctx = sha256_start();
  std::vector<char> block(kHashBlockBytes);
  std::uint64_t done = 0;
  for (;;) {
    const ssize_t n = ::read(fd.get(), block.data(), block.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw ManifestError(path + ": " + std::strerror(errno));
    }
    if (n == 0) break;
    sha256_update(ctx.get(), block.data(), static_cast<std::size_t>(n));
    done += static_cast<std::uint64_t>(n);
    if (progress) progress(done, total);
  }
  return sha256_finish(ctx.get());
}

std::optional<std::string> ollama_blob_digest(std::string_view file_name) {
  constexpr std::string_view kPrefix = "sha256-";
  if (file_name.size() != kPrefix.size() + 64 || !file_name.starts_with(kPrefix)) return std::nullopt;
  auto hex = file_name.substr(kPrefix.size());
  if (!is_lower_hex(hex)) return std::nullopt;
  return std::string(hex);
}

// ---- machine ----

namespace {

// A one-line sysctl-style file under the roots; nullopt when unreadable or empty.
std::optional<std::string> read_line(const std::filesystem::path& p) {
  std::string buf;
  if (read_uncached(p, buf, 4096) != 0) return std::nullopt;
  auto v = text::trim(buf);
  if (v.empty()) return std::nullopt;
  return std::string(v);
}

template <typename T>
void put(json& j, const char* key, const std::optional<T>& v) {
  if (v) j[key] = *v;
}

std::string hex4(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%04x", v);
  return buf;
}

// uname(2) fields through procfs (kernel.ostype, osrelease, version, arch),
// so a fixture root describes its own kernel. kernel.arch is newer than the
// rest: on the live host (procfs /proc) uname()'s machine stands in for it.
json kernel_section(const HostRoots& roots) {
  json k = json::object();
  put(k, "sysname", read_line(roots.proc("sys/kernel/ostype")));
  put(k, "release", read_line(roots.proc("sys/kernel/osrelease")));
  put(k, "version", read_line(roots.proc("sys/kernel/version")));
  auto machine = read_line(roots.proc("sys/kernel/arch"));
  if (!machine && roots.procfs == std::filesystem::path("/proc")) {
    struct utsname u{};
    if (::uname(&u) == 0 && u.machine[0]) machine = std::string(u.machine);
  }
  put(k, "machine", machine);
  return k;
}

json distro_section(const std::vector<std::filesystem::path>& candidates) {
  json d = json::object();
  for (const auto& p : candidates) {
    std::string buf;
    if (read_uncached(p, buf, 64 * 1024) != 0) continue;
    const OsRelease r = parse_os_release(buf);
    d["source"] = p.native();
    static constexpr std::pair<const char*, const char*> kKeys[] = {
        {"ID", "id"}, {"NAME", "name"}, {"VERSION_ID", "version_id"}, {"VERSION", "version"},
        {"VERSION_CODENAME", "version_codename"}, {"PRETTY_NAME", "pretty_name"}, {"BUILD_ID", "build_id"}};
    for (auto [from, to] : kKeys)
      if (auto v = r.get(from); v && !v->empty()) d[to] = *v;
    break;
  }
  return d;
}

json cpu_section(const HostRoots& roots) {
  json c = json::object();
  std::string buf;
  if (read_uncached(roots.proc("cpuinfo"), buf, FileCache::kMaxFileBytes) != 0) return c;
  const CpuInfo info = parse_cpuinfo(buf);
  if (info.logical_cpus > 0) c["logical_cpus"] = info.logical_cpus;
  put(c, "model_name", info.model_name);
  put(c, "vendor_id", info.vendor_id);
  put(c, "arm_implementer", info.arm_implementer);
  put(c, "arm_part", info.arm_part);
  if (info.physical_cores) {
    c["physical_cores"] = *info.physical_cores;
    put(c, "sockets", info.sockets);
    c["topology_source"] = "cpuinfo";
  } else if (auto topo = cpu_topology(roots); topo && topo->physical_cores) {
    c["physical_cores"] = *topo->physical_cores;
    put(c, "sockets", topo->sockets);
    c["topology_source"] = "sysfs";
  } else {
    put(c, "sockets", info.sockets);
  }
  if (info.flags_field) {
    c["flags_field"] = *info.flags_field;
    c["flags_of_interest"] = flags_of_interest(info);
  }
  return c;
}

json memory_section(const Snapshot& snap) {
  json m = json::object();
  if (const auto* mi = snap.get(kMeminfo)) {
    put(m, "ram_total_bytes", mi->get("MemTotal"));
    put(m, "swap_total_bytes", mi->get("SwapTotal"));
  }
  if (const auto* sw = snap.get(kSwaps)) {
    json areas = json::array();
    for (const auto& a : sw->areas) {
      json e = {{"filename", a.filename}, {"type", a.type}, {"size_bytes", a.size_bytes}, {"priority", a.priority}};
      put(e, "block_device", a.block_device);
      if (!a.disks.empty()) e["disks"] = a.disks;
      areas.push_back(std::move(e));
    }
    m["swap_areas"] = std::move(areas);
  }
  return m;
}

void add_gpus(json& out, const GpuInventory* inv) {
  if (!inv) return;
  for (const auto& g : inv->gpus) {
    json e = {{"id", g.id}, {"vendor", g.vendor}};
    if (!g.memory_model.empty()) e["memory_model"] = g.memory_model;
    put(e, "name", g.name);
    put(e, "uuid", g.uuid);
    put(e, "pci_bus_id", g.pci_bus_id);
    put(e, "driver_version", g.driver_version);
    put(e, "cuda_driver_version", g.cuda_driver_version);
    put(e, "vram_total_bytes", g.vram_total_bytes);
    put(e, "gtt_total_bytes", g.gtt_total_bytes);
    out.push_back(std::move(e));
  }
}

json nvme_section(const Snapshot& snap) {
  json out = json::array();
  const auto* inv = snap.get(kNvme);
  if (!inv) return out;
  const auto* verdict = snap.get(kOffload);
  for (const auto& c : inv->controllers) {
    json e = {{"name", c.name}};
    std::optional<std::string> model = c.model, firmware = c.firmware;
    if (!model && c.identify && !c.identify->model.empty()) model = c.identify->model;
    if (!firmware && c.identify && !c.identify->firmware.empty()) firmware = c.identify->firmware;
    put(e, "model", model);
    put(e, "firmware", firmware);
    put(e, "transport", c.transport);
    if (c.pci_vendor) e["pci_vendor"] = hex4(*c.pci_vendor);
    if (c.pci_device) e["pci_device"] = hex4(*c.pci_device);
    if (c.pci_subsystem_vendor) e["pci_subsystem_vendor"] = hex4(*c.pci_subsystem_vendor);
    if (verdict) {
      const auto& p = verdict->phison_controllers;
      e["phison"] = std::find(p.begin(), p.end(), c.name) != p.end();
    }
    json ns = json::array();
    for (const auto& n : c.namespaces) {
      json x = {{"block_device", n.block_device}};
      put(x, "size_bytes", n.size_bytes);
      ns.push_back(std::move(x));
    }
    e["namespaces"] = std::move(ns);
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace

json machine_manifest(const ManifestOptions& options) {
  const HostRoots& roots = options.sampler.roots;
  // Probe failures are recorded in the manifest (probe_errors), not logged.
  Logger quiet(LogLevel::error);
  Sampler sampler(options.sampler, quiet);
  const auto snap = sampler.sample_now();

  json m = json::object();
  m["kernel"] = kernel_section(roots);
  m["distro"] = distro_section(options.os_release);
  m["cpu"] = cpu_section(roots);
  m["memory"] = memory_section(*snap);
  json cg = json::object();
  put(cg, "version", cgroup_version(roots));
  m["cgroup"] = std::move(cg);
  json gpus = json::array();
  add_gpus(gpus, snap->get(kGpuNvml));
  add_gpus(gpus, snap->get(kGpuAmdgpu));
  m["gpus"] = std::move(gpus);
  m["nvme"] = nvme_section(*snap);
  json errors = json::array();
  for (const auto& run : snap->probes)
    if (run.status == ProbeStatus::error) errors.push_back({{"probe", run.probe}, {"error", run.error}});
  m["probe_errors"] = std::move(errors);
  return m;
}

// ---- build ----

json build_manifest() {
  json libs = json::object();
  auto lib = [&](const char* name, std::string_view version, const char* source) {
    if (!version.empty()) libs[name] = {{"version", std::string(version)}, {"source", source}};
  };
  if (const auto* curl = curl_version_info(CURLVERSION_NOW); curl && curl->version) lib("libcurl", curl->version, "runtime");
  if (const char* ssl = OpenSSL_version(OPENSSL_VERSION_STRING)) lib("openssl", ssl, "runtime");
  lib("nlohmann_json", std::to_string(NLOHMANN_JSON_VERSION_MAJOR) + "." + std::to_string(NLOHMANN_JSON_VERSION_MINOR) +
                           "." + std::to_string(NLOHMANN_JSON_VERSION_PATCH), "compiled");
  lib("prometheus_cpp", build::kPrometheusCppVersion, "configure");
  lib("yaml_cpp", build::kYamlCppVersion, "configure");
  lib("libnvme", build::kLibnvmeVersion, "configure");
  lib("libsystemd", build::kLibsystemdVersion, "configure");
  lib("libmicrohttpd", build::kLibmicrohttpdVersion, "configure");
  lib("gnutls", build::kGnutlsVersion, "configure");
  return {{"version", build::kVersion}, {"revision", build::kRevision}, {"compiler", build::kCompiler},
          {"libraries", std::move(libs)}};
}

// ---- model ----

namespace {

json gguf_section(const std::string& path) {
  const GgufFile f = read_gguf(path);
  json g = {{"version", f.version}, {"tensor_count", f.tensors.size()}, {"tensor_bytes", f.tensor_bytes},
            {"metadata_keys", f.metadata.size()}};
  auto text_of = [&](const char* key) -> std::optional<std::string> {
    const GgufValue* v = f.find(key);
    if (!v || v->type != GgufType::string) return std::nullopt;
    return std::get<std::string>(v->scalar);
  };
  put(g, "name", text_of("general.name"));
  try {
    const GgufModelFacts facts = model_facts(f);
    g["architecture"] = facts.architecture;
    if (facts.file_type) {
      g["file_type"] = *facts.file_type;
      if (auto n = file_type_name(*facts.file_type)) g["file_type_name"] = std::string(*n);
    }
    put(g, "context_length", facts.context_length);
    g["block_count"] = facts.block_count;
    g["embedding_length"] = facts.embedding_length;
    g["head_count"] = facts.head_count;
    g["head_count_kv"] = facts.head_count_kv;
    g["key_length"] = facts.key_length;
    g["value_length"] = facts.value_length;
    if (facts.expert_count > 0) {
      g["expert_count"] = facts.expert_count;
      g["expert_used_count"] = facts.expert_used_count;
    }
    const KvShape shape = kv_shape(facts);
    json kv = json::object();
    for (auto t : {KvCacheType::f16, KvCacheType::q8_0, KvCacheType::q4_0})
      kv[std::string(kv_cache_layout(t).name)] = kv_bytes_per_token(shape, t, t);
    g["kv_bytes_per_token"] = std::move(kv);
  } catch (const GgufError& e) {
    g["facts_error"] = e.what();
  }
  return g;
}

}  // namespace

json model_manifest(const std::string& path, const HashProgress& progress) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path abs = fs::absolute(path, ec);
  json m = {{"path", (ec ? fs::path(path) : abs.lexically_normal()).native()}};
  const auto status = fs::status(path, ec);
  if (status.type() == fs::file_type::not_found) throw ManifestError(path + ": No such file or directory");
  if (ec) throw ManifestError(path + ": " + ec.message());
  if (!fs::is_regular_file(status)) throw ManifestError(path + ": not a regular file");
  m["size_bytes"] = fs::file_size(path, ec);
  if (ec) throw ManifestError(path + ": " + ec.message());
  if (auto digest = ollama_blob_digest(fs::path(path).filename().native())) {
    m["sha256"] = *digest;
    m["sha256_source"] = "ollama-blob-name";
  } else {
    m["sha256"] = sha256_file(path, progress);
    m["sha256_source"] = "computed";
  }
  try {
    m["gguf"] = gguf_section(path);
  } catch (const GgufError& e) {
    m["gguf_error"] = e.what();
  }
  return m;
}

json text_manifest(const std::string& text) { return {{"text", text}, {"sha256", sha256_hex(text)}}; }

// ---- writing ----

namespace {

// YAML words a plain scalar must not be: YAML 1.1 booleans and nulls in any
// case (yaml-cpp and PyYAML read them so).
bool yaml_special_word(std::string_view s) {
  static constexpr std::string_view kWords[] = {"y", "n", "yes", "no", "true", "false", "on", "off", "null", "~"};
  std::string lower(s);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return std::find(std::begin(kWords), std::end(kWords), lower) != std::end(kWords);
}

// A string safe as a plain scalar: starts with a letter, '_' or '/', then
// letters, digits and _ . / + -, and is no special word. Everything else
// (digits first: "0x1987", "1e3"; spaces, ':', '#', empty) gets double quotes.
bool plain_safe(std::string_view s) {
  if (s.empty() || yaml_special_word(s)) return false;
  auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  if (!letter(s[0]) && s[0] != '_' && s[0] != '/') return false;
  return std::all_of(s.begin(), s.end(), [&](char c) {
    return letter(c) || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '/' || c == '+' || c == '-';
  });
}

void emit_string(YAML::Emitter& out, const std::string& s) {
  if (plain_safe(s)) out << s;
  else out << YAML::DoubleQuoted << s;
}

void emit(YAML::Emitter& out, const json& j) {
  switch (j.type()) {
    case json::value_t::object:
      if (j.empty()) {
        out << YAML::Flow << YAML::BeginMap << YAML::EndMap;
        break;
      }
      out << YAML::BeginMap;
      for (const auto& [k, v] : j.items()) {
        out << YAML::Key;
        emit_string(out, k);
        out << YAML::Value;
        emit(out, v);
      }
      out << YAML::EndMap;
      break;
    case json::value_t::array:
      if (j.empty()) {
        out << YAML::Flow << YAML::BeginSeq << YAML::EndSeq;
        break;
      }
      out << YAML::BeginSeq;
      for (const auto& v : j) emit(out, v);
      out << YAML::EndSeq;
      break;
    case json::value_t::string:
      emit_string(out, j.get_ref<const std::string&>());
      break;
    case json::value_t::boolean:
      out << (j.get<bool>() ? "true" : "false");
      break;
    case json::value_t::null:
    case json::value_t::discarded:
      out << YAML::Null;
      break;
    default:  // numbers: JSON's own spelling is a YAML 1.2 int or float
      out << j.dump();
      break;
  }
}

void sanitize_utf8(json& j) {
  if (j.is_string()) {
    text::make_valid_utf8(j.get_ref<std::string&>());
  } else if (j.is_object()) {
    json fixed = json::object();
    for (auto& [k, v] : j.items()) {
      std::string key = k;
      text::make_valid_utf8(key);
      sanitize_utf8(v);
      fixed[key] = std::move(v);
    }
    j = std::move(fixed);
  } else if (j.is_array()) {
    for (auto& v : j) sanitize_utf8(v);
  }
}

}  // namespace

std::string manifest_yaml(json manifest) {
  sanitize_utf8(manifest);
  YAML::Emitter out;
  out.SetIndent(2);
  emit(out, manifest);
  if (!out.good()) throw ManifestError("manifest.yaml: " + out.GetLastError());
  return std::string(out.c_str()) + "\n";
}

std::string write_manifest(const std::filesystem::path& dir, json manifest) {
  sanitize_utf8(manifest);
  const std::string body = manifest.dump(2) + "\n";
  write_atomically((dir / "manifest.json").native(), body);
  write_atomically((dir / "manifest.yaml").native(), manifest_yaml(manifest));
  return sha256_hex(body);
}

std::string write_run_manifest(const std::filesystem::path& dir, const Scenario& scenario, const json& extra) {
  json m = {{"manifest_version", 1},
            {"tierscope", build_manifest()},
            {"machine", machine_manifest(ManifestOptions{})},
            {"scenario", text_manifest(to_yaml(scenario))}};
  if (extra.is_object())
    for (const auto& [key, value] : extra.items()) m[key] = value;
  return write_manifest(dir, std::move(m));
}

}  // namespace tierscope::workloads

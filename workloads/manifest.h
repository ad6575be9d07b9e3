#pragma once
// The audit manifest: what a run ran on and with, written beside its results
// (manifest.json and manifest.yaml, the same tree) so every figure traces
// back to a machine, a model file, a scenario and a build. `tierscope env`
// prints the machine part (and the model part with --model).
//
// Sections (docs/manifest.md lists every field with its source and unit):
//   machine   kernel, distro (os-release), CPU (/proc/cpuinfo, x86 and arm64),
//             RAM and swap areas, cgroup version, GPUs and NVMe controllers
//             (one sample of the probe set `tierscope probe` runs), and the
//             probes that failed while taking it
//   tierscope version, git revision, compiler, and the versions of the
//             libraries linked (run time where the library says, else the
//             version the build was configured with: field `source`)
//   model     path, size, sha256 (streamed through OpenSSL's libcrypto, or
//             taken from an Ollama blob name `sha256-<hex>`), GGUF metadata
//             and the KV cache bytes per token
//   scenario  the effective scenario text and its sha256
// The caller adds its own sections (engine, limits) as JSON before writing.
//
// Absent values: a fact that could not be read is left out (the key is
// omitted), never written as 0 or "". The YAML file keeps strings strings:
// any string that a YAML reader could take for a number, a boolean or null
// ("yes", "0x1987", "1e3", "") is double-quoted.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "probes/sampler_config.h"

namespace tierscope::workloads {

struct Scenario;

class ManifestError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// /etc/os-release (os-release(5)): KEY=VALUE lines, values unquoted as a
// shell would for the quoting os-release allows ("...", '...', backslash
// escapes inside double quotes). Comments, blank and malformed lines are
// skipped; the first occurrence of a key wins.
struct OsRelease {
  std::vector<std::pair<std::string, std::string>> fields;  // in file order
  std::optional<std::string> get(std::string_view key) const;
};
OsRelease parse_os_release(std::string_view text);

// /proc/cpuinfo, x86 ("model name", "flags", "physical id", "core id") and
// arm64 ("Features", "CPU implementer", "CPU part"; no model name).
struct CpuInfo {
  std::uint64_t logical_cpus = 0;          // "processor" entries
  std::optional<std::string> model_name;   // first "model name" (x86; some arm kernels)
  std::optional<std::string> vendor_id;    // x86 "vendor_id"
  std::optional<std::uint64_t> sockets;    // distinct "physical id" (x86)
  std::optional<std::uint64_t> physical_cores;  // distinct (physical id, core id) (x86)
  std::optional<std::string> arm_implementer, arm_part;  // arm64, as the kernel writes them ("0x41")
  std::optional<std::string> flags_field;  // "flags" (x86) or "Features" (arm64): where flags came from
  std::vector<std::string> flags;          // the first processor's flags, all of them
};
CpuInfo parse_cpuinfo(std::string_view text);

// The flags a model runtime's kernels choose between (SIMD width, bf16/int8
// matrix units), in this order: avx avx2 fma f16c avx512f avx512bw avx512vl
// avx512_vnni avx512_bf16 avx_vnni amx_tile amx_bf16 amx_int8 (x86); asimd
// asimdhp asimddp fphp bf16 i8mm sve sve2 sme (arm64).
std::vector<std::string> flags_of_interest(const CpuInfo& cpu);

// Cores and packages from sysfs (<sysfs>/devices/system/cpu/cpuN/topology/
// core_id and physical_package_id), for CPUs whose cpuinfo has no topology
// ids (arm64). Online CPUs only (offline ones have no topology directory);
// sockets absent when a package id is -1 (unknown to the kernel).
struct CpuTopology {
  std::uint64_t cpus = 0;  // online CPUs with a topology directory
  std::optional<std::uint64_t> physical_cores, sockets;
};
std::optional<CpuTopology> cpu_topology(const HostRoots& roots);

// "v2" (a cgroup2 mount at <sysfs>/fs/cgroup), "hybrid" (v1 controllers plus
// a cgroup2 mount at fs/cgroup/unified), "v1"; nullopt when neither is seen.
std::optional<std::string> cgroup_version(const HostRoots& roots);

// SHA-256 through OpenSSL's EVP API, as 64 lowercase hex digits.
std::string sha256_hex(std::string_view bytes);

// Called after each block with the bytes hashed so far and the file's size.
using HashProgress = std::function<void(std::uint64_t done, std::uint64_t total)>;
inline constexpr std::size_t kHashBlockBytes = std::size_t{1} << 20;
// Streams a regular file through SHA-256 in kHashBlockBytes blocks. Throws
// ManifestError ("PATH: reason") when it is not a readable regular file.
std::string sha256_file(const std::string& path, const HashProgress& progress = {});

// The hex digest an Ollama blob's file name carries ("sha256-<64 hex>", the
// name Ollama stores the blob under); nullopt for any other name.
std::optional<std::string> ollama_blob_digest(std::string_view file_name);

struct ManifestOptions {
  // What to sample and where from (the probe set, their settings, the roots):
  // the same keys `tierscope probe` reads.
  SamplerConfig sampler;
  // os-release files, the first that exists is read (os-release(5) order).
  std::vector<std::filesystem::path> os_release{"/etc/os-release", "/usr/lib/os-release"};
};

// The machine section: {kernel, distro, cpu, memory, cgroup, gpus, nvme,
// probe_errors}. Takes one sample of the configured probes.
nlohmann::json machine_manifest(const ManifestOptions& options);

// tierscope's version and the versions of the libraries it links.
nlohmann::json build_manifest();

// The model section: path (absolute), size_bytes, sha256, sha256_source
// ("ollama-blob-name" | "computed"), and gguf (metadata and KV cache bytes
// per token) or gguf_error when the file is not a GGUF file this reader
// takes. Throws ManifestError when the file cannot be read.
nlohmann::json model_manifest(const std::string& path, const HashProgress& progress = {});

// {text, sha256} of a text (the effective scenario or config).
nlohmann::json text_manifest(const std::string& text);

// The YAML document of a JSON tree (block style; strings quoted where a
// plain scalar would read back as something else; bytes that are not UTF-8
// become U+FFFD).
std::string manifest_yaml(nlohmann::json manifest);

// Writes `dir`/manifest.json and `dir`/manifest.yaml (each through a
// temporary file and rename) and returns the sha256 of manifest.json's bytes.
// Strings that are not valid UTF-8 get U+FFFD in both files. Throws
// ManifestError or std::filesystem::filesystem_error when they cannot be written.
std::string write_manifest(const std::filesystem::path& dir, nlohmann::json manifest);

// What a bench run writes at its start: {manifest_version, tierscope,
// machine (live host, default probe set), scenario}, plus the sections of
// `extra` (a launched engine's run: engine, model, limits). Returns
// manifest.json's sha256.
std::string write_run_manifest(const std::filesystem::path& dir, const Scenario& scenario,
                               const nlohmann::json& extra = nlohmann::json::object());

}  // namespace tierscope::workloads

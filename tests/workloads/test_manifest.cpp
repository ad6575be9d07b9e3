// The audit manifest: os-release and cpuinfo (x86, arm64) parsing, the cgroup
// version, SHA-256 against NIST vectors and sha256sum, the Ollama blob-name
// rule, the GGUF section on the real stories260K model, the machine section
// on a fixture host, manifest.yaml and manifest.json reading back to one
// tree, and the bench runner writing the manifest and its sha256.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "core/text.h"
#include "test_util.h"
#include "tests/workloads/mock_process.h"
#include "workloads/gguf.h"
#include "workloads/manifest.h"
#include "workloads/runner.h"
#include "workloads/scenario.h"

using namespace tierscope;
using namespace tierscope::workloads;
using nlohmann::json;
namespace fs = std::filesystem;
namespace tt = tierscope::testing;

#ifndef TIERSCOPE_SHARED_MODELS
#define TIERSCOPE_SHARED_MODELS "../shared/models"
#endif
#ifndef TIERSCOPE_FIXTURES
#define TIERSCOPE_FIXTURES "tests/fixtures"
#endif

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The first word of a shell command's output (sha256sum's digest).
std::string first_word_of(const std::string& command) {
  std::FILE* f = ::popen(command.c_str(), "r");
  if (!f) return {};
  char buf[256] = {};
  std::string out;
  while (std::fgets(buf, sizeof buf, f)) out += buf;
  ::pclose(f);
  return out.substr(0, out.find_first_of(" \n"));
}

// A YAML node back to JSON, the way a YAML 1.2 reader types plain scalars:
// quoted scalars (tag "!") are strings; plain ones are null, booleans,
// integers or floats when they spell one, else strings.
json to_json(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null:
      return nullptr;
    case YAML::NodeType::Sequence: {
      json a = json::array();
      for (const auto& e : n) a.push_back(to_json(e));
      return a;
    }
    case YAML::NodeType::Map: {
      json o = json::object();
      for (const auto& kv : n) o[kv.first.Scalar()] = to_json(kv.second);
      return o;
    }
    case YAML::NodeType::Scalar: {
      const std::string& s = n.Scalar();
      if (n.Tag() == "!") return s;
      if (s == "~" || s == "null") return nullptr;
      if (s == "true") return true;
      if (s == "false") return false;
      if (auto u = tierscope::text::parse_u64(s)) return *u;
      if (auto i = tierscope::text::parse_i64(s)) return *i;
      char* end = nullptr;
      const double d = std::strtod(s.c_str(), &end);
      if (!s.empty() && end == s.c_str() + s.size() && (std::isdigit(static_cast<unsigned char>(s[0])) || s[0] == '-'))
        return d;
      return s;
    }
    default:
      return "<undefined>";
  }
}

}  // namespace

// ---- os-release ----

TEST(OsRelease, QuotingCommentsAndFirstOccurrence) {
  const auto r = parse_os_release(
      "# comment\n"
      "NAME=\"Debian GNU/Linux\"\n"
      "VERSION_ID=\"12\"\n"
      "ID=debian\n"
      "PRETTY_NAME='Debian 12 (bookworm)'\n"
      "VERSION=\"12 \\\"bookworm\\\" \\$HOME \\\\\"\n"
      "ID=ubuntu\n"            // second occurrence: ignored
      "BROKEN=\"not closed\n"  // malformed: skipped
      "TRAILING=\"a\"b\n"      // text after the closing quote: skipped
      "lower_case=ok\n"
      "1BAD=x\n"
      "EMPTY=\n"
      "  SPACED=value  \n"
      "no equals sign\n");
  EXPECT_EQ(r.get("NAME"), "Debian GNU/Linux");
  EXPECT_EQ(r.get("VERSION_ID"), "12");
  EXPECT_EQ(r.get("ID"), "debian");
  EXPECT_EQ(r.get("PRETTY_NAME"), "Debian 12 (bookworm)");
  EXPECT_EQ(r.get("VERSION"), "12 \"bookworm\" $HOME \\");
  EXPECT_EQ(r.get("lower_case"), "ok");
  EXPECT_EQ(r.get("EMPTY"), "");
  EXPECT_EQ(r.get("SPACED"), "value");
  EXPECT_FALSE(r.get("BROKEN"));
  EXPECT_FALSE(r.get("TRAILING"));
  EXPECT_FALSE(r.get("1BAD"));
  EXPECT_EQ(r.fields.size(), 8u);
}

// ---- cpuinfo ----

namespace {

// Two sockets of two cores with two threads each (8 logical CPUs), in the
// kernel's x86 layout (arch/x86/kernel/cpu/proc.c).
std::string x86_cpuinfo() {
  std::string out;
  int cpu = 0;
  for (int socket = 0; socket < 2; ++socket)
    for (int thread = 0; thread < 2; ++thread)
      for (int core = 0; core < 2; ++core, ++cpu)
        out += "processor\t: " + std::to_string(cpu) +
               "\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 143\n"
               "model name\t: Intel(R) Xeon(R) Platinum 8480+\nphysical id\t: " + std::to_string(socket) +
               "\nsiblings\t: 4\ncore id\t\t: " + std::to_string(core) +
               "\ncpu cores\t: 2\nflags\t\t: fpu sse2 avx f16c fma avx2 avx512f avx512bw amx_tile amx_bf16 "
               "avx512_bf16 avx_vnni\nbogomips\t: 4000.00\n\n";
  return out;
}

// arm64 (arch/arm64/kernel/cpuinfo.c): no model name, no topology ids.
constexpr std::string_view kArm64Cpuinfo =
    "processor\t: 0\nBogoMIPS\t: 2000.00\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp "
    "cpuid asimdrdm lrcpc dcpop asimddp sve i8mm bf16\nCPU implementer\t: 0x41\nCPU architecture: 8\n"
    "CPU variant\t: 0x1\nCPU part\t: 0xd40\nCPU revision\t: 1\n\n"
    "processor\t: 1\nBogoMIPS\t: 2000.00\nFeatures\t: fp asimd\nCPU implementer\t: 0x41\nCPU architecture: 8\n"
    "CPU variant\t: 0x1\nCPU part\t: 0xd40\nCPU revision\t: 1\n\n";

}  // namespace

TEST(Cpuinfo, X86TopologyModelAndFlags) {
  const CpuInfo c = parse_cpuinfo(x86_cpuinfo());
  EXPECT_EQ(c.logical_cpus, 8u);
  EXPECT_EQ(c.model_name, "Intel(R) Xeon(R) Platinum 8480+");
  EXPECT_EQ(c.vendor_id, "GenuineIntel");
  EXPECT_EQ(c.sockets, 2u);
  EXPECT_EQ(c.physical_cores, 4u);
  EXPECT_EQ(c.flags_field, "flags");
  EXPECT_FALSE(c.arm_implementer);
  EXPECT_EQ(flags_of_interest(c),
            (std::vector<std::string>{"avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512_bf16", "avx_vnni",
                                      "amx_tile", "amx_bf16"}));
}

TEST(Cpuinfo, Arm64FeaturesAndIdsNoInventedTopology) {
  const CpuInfo c = parse_cpuinfo(kArm64Cpuinfo);
  EXPECT_EQ(c.logical_cpus, 2u);
  EXPECT_FALSE(c.model_name);
  EXPECT_FALSE(c.sockets);         // arm64 cpuinfo has no physical id
  EXPECT_FALSE(c.physical_cores);  // nor core id: absent, not 0
  EXPECT_EQ(c.arm_implementer, "0x41");
  EXPECT_EQ(c.arm_part, "0xd40");
  EXPECT_EQ(c.flags_field, "Features");
  // The first processor's list.
  EXPECT_EQ(flags_of_interest(c), (std::vector<std::string>{"asimd", "asimdhp", "asimddp", "fphp", "bf16", "i8mm", "sve"}));
}

TEST(Cpuinfo, EmptyOrForeignTextGivesNothing) {
  const CpuInfo c = parse_cpuinfo("garbage\nmore: lines\n");
  EXPECT_EQ(c.logical_cpus, 0u);
  EXPECT_FALSE(c.flags_field);
  EXPECT_TRUE(flags_of_interest(c).empty());
  // Only some processors with ids: the core count would be a guess.
  const CpuInfo partial = parse_cpuinfo("processor : 0\nphysical id : 0\ncore id : 0\n\nprocessor : 1\n");
  EXPECT_EQ(partial.logical_cpus, 2u);
  EXPECT_FALSE(partial.physical_cores);
  EXPECT_EQ(partial.sockets, 1u);
}

// ---- sysfs CPU topology (arm64) ----

namespace {

void topology(const tt::TempDir& t, int cpu, const char* core, const char* package) {
  const std::string dir = "sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/";
  t.write(dir + "core_id", std::string(core) + "\n");
  t.write(dir + "physical_package_id", std::string(package) + "\n");
}

}  // namespace

TEST(CpuTopology, CoresAndPackagesOfOnlineCpus) {
  tt::TempDir t;
  topology(t, 0, "0", "0");
  topology(t, 1, "0", "0");  // SMT sibling of cpu0
  topology(t, 2, "1", "0");
  topology(t, 3, "0", "1");  // second package, same core id
  fs::create_directories(t.path() / "sys/devices/system/cpu/cpu4");  // offline: no topology
  fs::create_directories(t.path() / "sys/devices/system/cpu/cpufreq");
  t.write("sys/devices/system/cpu/online", "0-3\n");
  const auto topo = cpu_topology(t.roots());
  ASSERT_TRUE(topo);
  EXPECT_EQ(topo->cpus, 4u);
  EXPECT_EQ(topo->physical_cores, 3u);
  EXPECT_EQ(topo->sockets, 2u);

  tt::TempDir unknown;  // DT-based arm64 without package information
  topology(unknown, 0, "0", "-1");
  topology(unknown, 1, "1", "-1");
  const auto u = cpu_topology(unknown.roots());
  ASSERT_TRUE(u);
  EXPECT_EQ(u->physical_cores, 2u);
  EXPECT_FALSE(u->sockets);

  tt::TempDir none;
  EXPECT_FALSE(cpu_topology(none.roots()));
}

TEST(MachineManifest, Arm64CoresFromSysfs) {
  tt::TempDir t;
  t.write("proc/cpuinfo", kArm64Cpuinfo);
  topology(t, 0, "0", "0");
  topology(t, 1, "1", "0");
  ManifestOptions o;
  o.sampler.roots = t.roots();
  o.sampler.probes["gpu_nvml"] = false;
  const json cpu = machine_manifest(o)["cpu"];
  EXPECT_EQ(cpu, json({{"logical_cpus", 2}, {"physical_cores", 2}, {"sockets", 1}, {"topology_source", "sysfs"},
                       {"arm_implementer", "0x41"}, {"arm_part", "0xd40"}, {"flags_field", "Features"},
                       {"flags_of_interest", {"asimd", "asimdhp", "asimddp", "fphp", "bf16", "i8mm", "sve"}}}))
      << cpu.dump();
}

// ---- cgroup ----

TEST(CgroupVersion, V2HybridV1AndNone) {
  tt::TempDir v2, hybrid, v1, none;
  v2.write("sys/fs/cgroup/cgroup.controllers", "cpu io memory pids\n");
  hybrid.write("sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n");
  hybrid.write("sys/fs/cgroup/unified/cgroup.controllers", "\n");
  v1.write("sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n");
  fs::create_directories(none.path() / "sys/fs/cgroup");
  EXPECT_EQ(cgroup_version(v2.roots()), "v2");
  EXPECT_EQ(cgroup_version(hybrid.roots()), "hybrid");
  EXPECT_EQ(cgroup_version(v1.roots()), "v1");
  EXPECT_FALSE(cgroup_version(none.roots()));
}

// ---- SHA-256 ----

TEST(Sha256, NistVectors) {
  // FIPS 180-2 appendix B.1 and B.2, and the empty message.
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256, FileInBlocksMatchesSha256sumWithProgress) {
  tt::TempDir t;
  // 3 MiB + 123 bytes: three whole blocks and a short one.
  std::string content(3 * kHashBlockBytes + 123, '\0');
  for (std::size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>((i * 2654435761u) >> 13);
  const auto path = t.write("model.bin", content);
  std::vector<std::pair<std::uint64_t, std::uint64_t>> calls;
  const std::string digest = sha256_file(path, [&](std::uint64_t done, std::uint64_t total) { calls.emplace_back(done, total); });
  const std::string expected = first_word_of("sha256sum '" + path.native() + "'");
  ASSERT_EQ(expected.size(), 64u) << "sha256sum did not run";
  EXPECT_EQ(digest, expected);
  EXPECT_EQ(digest, sha256_hex(content));
  ASSERT_GE(calls.size(), 4u);
  for (std::size_t i = 1; i < calls.size(); ++i) EXPECT_GT(calls[i].first, calls[i - 1].first);
  EXPECT_EQ(calls.back().first, content.size());
  for (const auto& c : calls) EXPECT_EQ(c.second, content.size());
}

TEST(Sha256, RefusesWhatIsNotARegularFile) {
  tt::TempDir t;
  EXPECT_THROW(sha256_file((t.path() / "absent").native()), ManifestError);
  EXPECT_THROW(sha256_file(t.path().native()), ManifestError);  // a directory
  const auto fifo = t.path() / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  try {
    sha256_file(fifo.native());  // never waits for a writer
    FAIL() << "a FIFO was hashed";
  } catch (const ManifestError& e) {
    EXPECT_NE(std::string(e.what()).find("not a regular file"), std::string::npos) << e.what();
  }
}

// ---- Ollama blob names ----

TEST(OllamaBlob, DigestOnlyFromTheExactBlobName) {
  const std::string hex = "8934d96d3f08982e95922b2b7a2c626a1fe873d7c3b06e8e56d7bc0a1fef9246";
  EXPECT_EQ(ollama_blob_digest("sha256-" + hex), hex);
  EXPECT_FALSE(ollama_blob_digest("sha256:" + hex));                // older separator: not the file name Ollama uses now
  EXPECT_FALSE(ollama_blob_digest("sha256-" + hex.substr(1)));      // 63 digits
  EXPECT_FALSE(ollama_blob_digest("sha256-" + hex + "0"));          // 65 digits
  EXPECT_FALSE(ollama_blob_digest("sha256-" + std::string(64, 'A')));  // upper case
  EXPECT_FALSE(ollama_blob_digest("sha256-" + std::string(63, 'a') + "g"));
  EXPECT_FALSE(ollama_blob_digest("model-" + hex));
}

TEST(ModelManifest, BlobNameIsTakenOtherNamesAreHashed) {
  tt::TempDir t;
  // The name's digest is deliberately not the content's: the manifest says
  // where its digest came from, and a blob name is not re-hashed.
  const std::string named(64, 'c');
  const auto blob = t.write("blobs/sha256-" + named, "abc");
  json m = model_manifest(blob.native());
  EXPECT_EQ(m["sha256"], named);
  EXPECT_EQ(m["sha256_source"], "ollama-blob-name");
  EXPECT_EQ(m["size_bytes"], 3u);
  EXPECT_EQ(m["path"], blob.native());
  EXPECT_TRUE(m.contains("gguf_error"));  // "abc" is no GGUF file
  EXPECT_FALSE(m.contains("gguf"));

  const auto plain = t.write("model.gguf", "abc");
  json p = model_manifest(plain.native());
  EXPECT_EQ(p["sha256"], "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(p["sha256_source"], "computed");

  EXPECT_THROW(model_manifest((t.path() / "absent.gguf").native()), ManifestError);
}

TEST(ModelManifest, Stories260KFromItsOwnMetadata) {
  const std::string path = std::string(TIERSCOPE_SHARED_MODELS) + "/stories260K.gguf";
  if (!fs::exists(path)) GTEST_SKIP() << path << " is absent (it lives beside the checkout)";
  const GgufFile f = read_gguf(path);
  const json m = model_manifest(path);
  EXPECT_EQ(m["size_bytes"], fs::file_size(path));
  EXPECT_EQ(m["sha256_source"], "computed");
  const std::string expected = first_word_of("sha256sum '" + path + "'");
  ASSERT_EQ(expected.size(), 64u);
  EXPECT_EQ(m["sha256"], expected);
  ASSERT_TRUE(m.contains("gguf")) << m.dump();
  const json& g = m["gguf"];
  EXPECT_EQ(g["version"], f.version);
  EXPECT_EQ(g["tensor_count"], f.tensors.size());
  EXPECT_EQ(g["tensor_bytes"], f.tensor_bytes);
  EXPECT_EQ(g["metadata_keys"], f.metadata.size());
  EXPECT_EQ(g["architecture"], *f.text("general.architecture"));
  EXPECT_EQ(g["name"], *f.text("general.name"));
  EXPECT_EQ(g["context_length"], *f.count("llama.context_length"));
  EXPECT_EQ(g["block_count"], *f.count("llama.block_count"));
  EXPECT_EQ(g["embedding_length"], *f.count("llama.embedding_length"));
  EXPECT_EQ(g["head_count"], *f.count("llama.attention.head_count"));
  EXPECT_EQ(g["head_count_kv"], *f.count("llama.attention.head_count_kv"));
  // No key_length in the file: embedding_length / head_count.
  EXPECT_EQ(g["key_length"], *f.count("llama.embedding_length") / *f.count("llama.attention.head_count"));
  EXPECT_FALSE(g.contains("file_type"));  // the file has none: absent, not 0
  EXPECT_FALSE(g.contains("expert_count"));
  // 5 layers x 4 KV heads x (8 + 8) x 2 bytes at f16.
  EXPECT_EQ(g["kv_bytes_per_token"]["f16"], 640u);
  EXPECT_EQ(g["kv_bytes_per_token"]["q8_0"], 5u * 2 * 34);  // a 32-element row: one 34-byte block, K and V
  EXPECT_EQ(g["kv_bytes_per_token"]["q4_0"], 5u * 2 * 18);
}

// ---- the machine section on a fixture host ----

namespace {

// phison-host (tests/fixtures/README.md) plus the kernel's sysctl files and a
// cpuinfo, in a temporary copy.
struct FixtureMachine {
  tt::TempDir t;
  HostRoots roots;
  fs::path os_release;
  FixtureMachine() {
    fs::copy(TIERSCOPE_FIXTURES "/phison-host", t.path(), fs::copy_options::recursive | fs::copy_options::copy_symlinks);
    t.write("proc/cpuinfo", x86_cpuinfo());
    t.write("proc/sys/kernel/ostype", "Linux\n");
    t.write("proc/sys/kernel/osrelease", "6.1.0-28-amd64\n");
    t.write("proc/sys/kernel/version", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 (2024-11-22)\n");
    t.write("proc/sys/kernel/arch", "x86_64\n");
    t.write("sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory pids\n");
    os_release = t.write("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n");
    roots = t.roots();
  }
  ManifestOptions options() const {
    ManifestOptions o;
    o.sampler.roots = roots;
    // NVML reads the real driver, whatever the roots: off, so a GPU machine
    // running this test gives the fixture's answer too.
    o.sampler.probes["gpu_nvml"] = false;
    o.os_release = {os_release};
    return o;
  }
};

}  // namespace

TEST(MachineManifest, PhisonFixtureHost) {
  FixtureMachine fx;
  const json m = machine_manifest(fx.options());
  EXPECT_EQ(m["kernel"], json({{"sysname", "Linux"}, {"release", "6.1.0-28-amd64"},
                               {"version", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 (2024-11-22)"},
                               {"machine", "x86_64"}}));
  EXPECT_EQ(m["distro"]["id"], "debian");
  EXPECT_EQ(m["distro"]["version_id"], "12");
  EXPECT_EQ(m["distro"]["pretty_name"], "Debian GNU/Linux 12 (bookworm)");
  EXPECT_EQ(m["distro"]["source"], fx.os_release.native());
  EXPECT_FALSE(m["distro"].contains("version_codename"));  // not in the file: absent
  EXPECT_EQ(m["cpu"]["logical_cpus"], 8u);
  EXPECT_EQ(m["cpu"]["physical_cores"], 4u);
  EXPECT_EQ(m["cpu"]["sockets"], 2u);
  EXPECT_EQ(m["cpu"]["topology_source"], "cpuinfo");
  EXPECT_EQ(m["cpu"]["model_name"], "Intel(R) Xeon(R) Platinum 8480+");
  EXPECT_EQ(m["cpu"]["flags_of_interest"][0], "avx");
  EXPECT_EQ(m["cgroup"]["version"], "v2");
  // MemTotal 130023424 kB; SwapTotal the two areas (README).
  EXPECT_EQ(m["memory"]["ram_total_bytes"], 130023424ull * 1024);
  ASSERT_EQ(m["memory"]["swap_areas"].size(), 2u) << m["memory"].dump();
  EXPECT_EQ(m["memory"]["swap_areas"][0]["filename"], "/dev/nvme0n1p3");
  EXPECT_EQ(m["memory"]["swap_areas"][0]["type"], "partition");
  EXPECT_EQ(m["memory"]["swap_areas"][0]["disks"], json::array({"nvme0n1"}));
  EXPECT_EQ(m["memory"]["swap_areas"][1]["filename"], "/mnt/offload/swapfile");
  EXPECT_EQ(m["memory"]["swap_areas"][1]["disks"], json::array({"nvme0n2"}));
  std::uint64_t swap_sum = 0;
  for (const auto& a : m["memory"]["swap_areas"]) swap_sum += a["size_bytes"].get<std::uint64_t>();
  EXPECT_EQ(m["memory"]["swap_total_bytes"], swap_sum);
  ASSERT_EQ(m["nvme"].size(), 2u) << m["nvme"].dump();
  EXPECT_EQ(m["nvme"][0]["name"], "nvme0");
  EXPECT_EQ(m["nvme"][0]["model"], "PHISON AI100E 2TB");
  EXPECT_EQ(m["nvme"][0]["pci_vendor"], "0x1987");
  EXPECT_EQ(m["nvme"][0]["phison"], true);
  EXPECT_EQ(m["nvme"][0]["namespaces"].size(), 2u);
  EXPECT_EQ(m["nvme"][1]["model"], "Samsung SSD 990 PRO 2TB");
  EXPECT_EQ(m["nvme"][1]["pci_vendor"], "0x144d");
  EXPECT_EQ(m["nvme"][1]["phison"], false);
  EXPECT_TRUE(m["gpus"].empty());
}

TEST(MachineManifest, UnreadableFactsAreAbsentNotZero) {
  tt::TempDir empty;
  fs::create_directories(empty.path() / "proc");
  ManifestOptions o;
  o.sampler.roots = empty.roots();
  o.sampler.probes["gpu_nvml"] = false;
  o.os_release = {empty.path() / "no-os-release"};
  const json m = machine_manifest(o);
  EXPECT_EQ(m["kernel"], json::object());
  EXPECT_EQ(m["distro"], json::object());
  EXPECT_EQ(m["cpu"], json::object());
  EXPECT_EQ(m["cgroup"], json::object());
  EXPECT_FALSE(m["memory"].contains("ram_total_bytes"));
  // The failed probes say why.
  bool meminfo_failed = false;
  for (const auto& e : m["probe_errors"]) meminfo_failed = meminfo_failed || e["probe"] == "meminfo";
  EXPECT_TRUE(meminfo_failed) << m["probe_errors"].dump();
}

TEST(BuildManifest, VersionsAndTheirSources) {
  const json b = build_manifest();
  EXPECT_FALSE(b["version"].get<std::string>().empty());
  EXPECT_FALSE(b["revision"].get<std::string>().empty());
  const json& libs = b["libraries"];
  for (auto name : {"libcurl", "openssl"}) {
    ASSERT_TRUE(libs.contains(name)) << name;
    EXPECT_EQ(libs[name]["source"], "runtime") << name;
  }
  EXPECT_EQ(libs["nlohmann_json"]["version"], std::to_string(NLOHMANN_JSON_VERSION_MAJOR) + "." +
                                                  std::to_string(NLOHMANN_JSON_VERSION_MINOR) + "." +
                                                  std::to_string(NLOHMANN_JSON_VERSION_PATCH));
  for (const auto& [name, lib] : libs.items()) {
    EXPECT_FALSE(lib["version"].get<std::string>().empty()) << name;  // absent, never ""
    const std::string src = lib["source"];
    EXPECT_TRUE(src == "runtime" || src == "configure" || src == "compiled") << name << ": " << src;
  }
}

// ---- manifest.yaml and manifest.json ----

namespace {

json tricky_tree() {
  return json{
      {"strings", {"yes", "No", "ON", "off", "y", "n", "true", "False", "null", "Null", "~", "", " ", "0x1987",
                   "1e3", "123", "-5", "1.5", ".inf", "-.inf", ".nan", "0o17", "12:30", "- item", "a: b", "#hash",
                   "x #y", "@at", "`tick", "'single'", "\"double\"", " lead", "trail ", "multi\nline\n", "tab\tin",
                   "{flow}", "[seq]", "*alias", "&anchor", "!tag", "%dir", "?q", "|", ">", "é ünïcödé", "/usr/lib/x",
                   "nvme0n1", "Debian_12", "a-b.c+d"}},
      {"numbers", {0, 1, -1, std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::uint64_t>::max(),
                   1.5, -2.25e-10, 1e300}},
      {"bools", {true, false}},
      {"nothing", nullptr},
      {"empty_list", json::array()},
      {"empty_map", json::object()},
      {"nested", {{"list_of_maps", {{{"a", 1}}, {{"b", "yes"}}}}, {"deep", {{"deeper", {{"deepest", "0x10"}}}}}}},
      {"yes", "key that is a YAML word"},
      {"123", "key that is a number"},
      {"key with spaces: and colon", "x"},
      {"", "empty key"},
  };
}

}  // namespace

TEST(ManifestYaml, TrickyStringsReadBackAsTheSameTree) {
  const json tree = tricky_tree();
  const std::string yaml = manifest_yaml(tree);
  const json back = to_json(YAML::Load(yaml));
  EXPECT_EQ(back, tree) << yaml;
  // Spot checks on the text itself: the dangerous ones are quoted.
  for (auto s : {"\"yes\"", "\"0x1987\"", "\"1e3\"", "\"\"", "\"~\""}) EXPECT_NE(yaml.find(s), std::string::npos) << s;
}

TEST(ManifestYaml, InvalidUtf8BecomesReplacementCharacter) {
  const json tree = {{"swap", std::string("/swap\xff\xfe")}};
  const json back = to_json(YAML::Load(manifest_yaml(tree)));
  EXPECT_EQ(back["swap"], "/swap\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(WriteManifest, BothFilesSameTreeAndTheDigestOfTheJsonBytes) {
  tt::TempDir t;
  json manifest = tricky_tree();
  manifest["engine"] = {{"argv", {"llama-server", "-c", "4096"}}, {"env_names", {"CUDA_VISIBLE_DEVICES"}}};
  const std::string digest = write_manifest(t.path(), manifest);
  const std::string json_text = slurp(t.path() / "manifest.json");
  EXPECT_EQ(json::parse(json_text), manifest);
  EXPECT_EQ(to_json(YAML::LoadFile((t.path() / "manifest.yaml").native())), manifest);
  EXPECT_EQ(digest, first_word_of("sha256sum '" + (t.path() / "manifest.json").native() + "'"));
  EXPECT_EQ(digest, sha256_hex(json_text));
  // Written through temporaries that do not stay.
  EXPECT_FALSE(fs::exists(t.path() / "manifest.json.tmp"));
  EXPECT_FALSE(fs::exists(t.path() / "manifest.yaml.tmp"));
  EXPECT_ANY_THROW(write_manifest(t.path() / "absent-dir", manifest));
}

// ---- the bench runner writes it ----

TEST(RunManifest, BenchRunWritesManifestAndSummaryNamesItsDigest) {
  tt::MockEngineProcess mock;
  tt::TempDir t;
  const std::string yaml = "engine: {kind: llamacpp, url: http://x, model: m}\nscenario: context_sweep\ncontexts: [64]\n"
                           "output_tokens: 4\nwarmup: 0\nrepetitions: 1\nrequest_timeout: 2s\n";
  Scenario sc = parse_scenario(yaml, "run.yaml", {Override{"engine.url", mock.url()}});
  RunOptions o;
  o.out_dir = (t.path() / "run").native();
  Runner runner(sc, o);
  const RunResult r = runner.run();
  ASSERT_TRUE(r.started) << r.error;
  const fs::path dir = t.path() / "run";
  const json summary = json::parse(slurp(dir / "summary.json"));
  const std::string manifest_text = slurp(dir / "manifest.json");
  ASSERT_FALSE(manifest_text.empty());
  EXPECT_EQ(summary["manifest_sha256"], first_word_of("sha256sum '" + (dir / "manifest.json").native() + "'"));
  const json m = json::parse(manifest_text);
  EXPECT_EQ(to_json(YAML::LoadFile((dir / "manifest.yaml").native())), m);
  EXPECT_EQ(m["scenario"]["text"], to_yaml(sc));
  EXPECT_EQ(m["scenario"]["sha256"], sha256_hex(to_yaml(sc)));
  EXPECT_EQ(m["scenario"]["text"], slurp(dir / "scenario.yaml"));
  for (auto k : {"kernel", "distro", "cpu", "memory", "cgroup", "gpus", "nvme", "probe_errors"})
    EXPECT_TRUE(m["machine"].contains(k)) << k;
  EXPECT_TRUE(m["tierscope"]["libraries"].contains("libcurl"));
}

// A fake libnvidia-ml: a real shared library exporting the NVML entry points
// tierscope calls, answering from a JSON scenario file named by the
// FAKE_NVML_SCENARIO environment variable. The daemon loads it through its
// normal dlopen path (config gpu.nvml_library). The scenario is re-read when
// the file changes (checked at most every 20 ms), so a test can make a GPU
// fall off the bus and come back while the daemon runs.
//
// Three builds stand for three driver generations:
//   fake_nvml       current (R550+): _v2/_v3 calls, 24-byte process entries,
//                   nvmlDeviceGetRunningProcessDetailList present.
//   fake_nvml_cc    R525-R535: _v3 writes 32-byte entries (with
//                   usedGpuCcProtectedMemory); ConfComputeMemSizeInfo exported,
//                   RunningProcessDetailList not.
//   fake_nvml_old   R470-era: only the unversioned process calls (16-byte
//                   entries), no nvmlDeviceGetMemoryInfo_v2, throttle reasons
//                   under their old name, nvmlSystemGetCudaDriverVersion only.
//
// Scenario (every field optional; a missing one makes its call return
// NOT_SUPPORTED):
// {"init": "SUCCESS", "driver_version": "550.54.15", "cuda_version": 12040,
//  "devices": [{"name": "...", "uuid": "...", "pci_bus_id": "00000000:1B:00.0",
//    "memory": {"total": 0, "reserved": 0, "free": 0, "used": 0},
//    "utilization": {"gpu": 0, "memory": 0}, "power_mw": 0, "energy_mj": 0,
//    "temperature_c": 0, "clocks_mhz": {"sm": 0, "mem": 0},
//    "pcie_kbps": {"rx": 0, "tx": 0}, "clock_event_reasons": 0,
//    "compute_processes": [{"pid": 1, "used": 0}], "graphics_processes": [],
//    "error": "GPU_IS_LOST"}]}

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "probes/nvml_api.h"

// The entry points use the very types tierscope declares in probes/nvml_api.h,
// so a call through the probe's function pointers matches the definition
// (clang's -fsanitize=function checks exactly that).
using tierscope::nvml::Device;
using tierscope::nvml::MemoryV1;
using tierscope::nvml::MemoryV2;
using tierscope::nvml::PciInfo;
using tierscope::nvml::Utilization;

namespace {

using Return = tierscope::nvml::Return;
constexpr Return kSuccess = 0, kInvalidArgument = 2, kNotSupported = 3, kInsufficientSize = 7,
                 kUninitialized = 1, kUnknown = 999;

struct Process {
  unsigned int pid;
  unsigned long long used;
};

struct Slot {  // a device; handles are stable pointers to slots
  nlohmann::json spec;
};

constexpr std::size_t kMaxDevices = 16;

struct State {
  std::mutex mu;
  nlohmann::json scenario = nlohmann::json::object();
  Slot slots[kMaxDevices];
  std::size_t device_count = 0;
  bool initialized = false;
  timespec mtime{};
  std::chrono::steady_clock::time_point next_check{};
};

State& state() {
  static State s;
  return s;
}

Return code_of(const std::string& name) {
  static const std::pair<const char*, Return> kCodes[] = {
      {"SUCCESS", 0},        {"UNINITIALIZED", 1},      {"INVALID_ARGUMENT", 2},   {"NOT_SUPPORTED", 3},
      {"NO_PERMISSION", 4},  {"NOT_FOUND", 6},          {"INSUFFICIENT_SIZE", 7},  {"DRIVER_NOT_LOADED", 9},
      {"TIMEOUT", 10},       {"GPU_IS_LOST", 15},       {"RESET_REQUIRED", 16},    {"LIB_RM_VERSION_MISMATCH", 18},
      {"UNKNOWN", 999}};
  for (auto [n, c] : kCodes)
    if (name == n) return c;
  return kUnknown;
}

// Re-reads the scenario when its file changed; caller holds the mutex.
void refresh(State& s, bool force) {
  auto now = std::chrono::steady_clock::now();
  if (!force && now < s.next_check) return;
  s.next_check = now + std::chrono::milliseconds(20);
  const char* path = std::getenv("FAKE_NVML_SCENARIO");
  if (!path) return;
  struct stat st{};
  if (::stat(path, &st) != 0) return;
  if (!force && st.st_mtim.tv_sec == s.mtime.tv_sec && st.st_mtim.tv_nsec == s.mtime.tv_nsec) return;
  std::ifstream in(path);
  nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded()) return;  // being rewritten: keep the last good one
  s.mtime = st.st_mtim;
  s.scenario = std::move(j);
  const auto& devices = s.scenario.value("devices", nlohmann::json::array());
  s.device_count = std::min(devices.size(), kMaxDevices);
  for (std::size_t i = 0; i < s.device_count; ++i) s.slots[i].spec = devices[i];
}

// Looks up a device; returns its spec or sets `r` to the error to return.
const nlohmann::json* device(Device handle, Return& r) {
  State& s = state();
  refresh(s, false);
  if (!s.initialized) {
    r = kUninitialized;
    return nullptr;
  }
  for (std::size_t i = 0; i < s.device_count; ++i) {
    if (handle == reinterpret_cast<Device>(&s.slots[i])) {
      const auto& spec = s.slots[i].spec;
      if (spec.contains("error")) {
        r = code_of(spec["error"].get<std::string>());
        return nullptr;
      }
      r = kSuccess;
      return &spec;
    }
  }
  r = kInvalidArgument;
  return nullptr;
}

#define DEVICE_OR_RETURN(handle)                     \
  std::lock_guard lock(state().mu);                  \
  Return r_ = kSuccess;                              \
  const nlohmann::json* spec = device(handle, r_);   \
  if (!spec) return r_;

Return copy_string(const std::string& v, char* buf, unsigned int len) {
  if (!buf) return kInvalidArgument;
  if (v.size() + 1 > len) return kInsufficientSize;
  std::memcpy(buf, v.c_str(), v.size() + 1);
  return kSuccess;
}

template <typename Entry>
Return processes(Device handle, const char* list, unsigned int* count, void* infos) {
  DEVICE_OR_RETURN(handle);
  if (!count) return kInvalidArgument;
  if (!spec->contains(list)) return kNotSupported;
  std::vector<Process> have;
  for (const auto& p : (*spec)[list]) have.push_back({p["pid"].get<unsigned int>(), p["used"].get<unsigned long long>()});
  if (!infos || *count < have.size()) {
    *count = static_cast<unsigned int>(have.size());
    return have.empty() ? kSuccess : kInsufficientSize;
  }
  auto* out = static_cast<Entry*>(infos);
  for (std::size_t i = 0; i < have.size(); ++i) {
    out[i] = Entry{};
    out[i].pid = have[i].pid;
    out[i].usedGpuMemory = have[i].used;
  }
  *count = static_cast<unsigned int>(have.size());
  return kSuccess;
}

struct ProcessV1 {
  unsigned int pid;
  unsigned long long usedGpuMemory;
};
struct ProcessV2 {
  unsigned int pid;
  unsigned long long usedGpuMemory;
  unsigned int gpuInstanceId = 0xFFFFFFFF, computeInstanceId = 0xFFFFFFFF;
};
struct ProcessV3Cc {
  unsigned int pid;
  unsigned long long usedGpuMemory;
  unsigned int gpuInstanceId = 0xFFFFFFFF, computeInstanceId = 0xFFFFFFFF;
  unsigned long long usedGpuCcProtectedMemory = 0;
};

}  // namespace

#define EXPORT extern "C" __attribute__((visibility("default")))

EXPORT Return nvmlInit_v2() {
  std::lock_guard lock(state().mu);
  refresh(state(), true);
  Return r = code_of(state().scenario.value("init", std::string("SUCCESS")));
  state().initialized = r == kSuccess;
  return r;
}
EXPORT Return nvmlInit() { return nvmlInit_v2(); }
EXPORT Return nvmlShutdown() {
  std::lock_guard lock(state().mu);
  state().initialized = false;
  return kSuccess;
}
EXPORT const char* nvmlErrorString(Return) { return "fake NVML error"; }

EXPORT Return nvmlDeviceGetCount_v2(unsigned int* count) {
  std::lock_guard lock(state().mu);
  refresh(state(), false);
  if (!state().initialized) return kUninitialized;
  if (!count) return kInvalidArgument;
  *count = static_cast<unsigned int>(state().device_count);
  return kSuccess;
}
EXPORT Return nvmlDeviceGetCount(unsigned int* count) { return nvmlDeviceGetCount_v2(count); }

EXPORT Return nvmlDeviceGetHandleByIndex_v2(unsigned int index, Device* handle) {
  std::lock_guard lock(state().mu);
  refresh(state(), false);
  State& s = state();
  if (!s.initialized) return kUninitialized;
  if (!handle || index >= s.device_count) return kInvalidArgument;
  if (s.slots[index].spec.contains("error")) return code_of(s.slots[index].spec["error"].get<std::string>());
  *handle = reinterpret_cast<Device>(&s.slots[index]);
  return kSuccess;
}
EXPORT Return nvmlDeviceGetHandleByIndex(unsigned int index, Device* handle) {
  return nvmlDeviceGetHandleByIndex_v2(index, handle);
}

EXPORT Return nvmlDeviceGetName(Device h, char* buf, unsigned int len) {
  DEVICE_OR_RETURN(h);
  if (!spec->contains("name")) return kNotSupported;
  return copy_string((*spec)["name"].get<std::string>(), buf, len);
}
EXPORT Return nvmlDeviceGetUUID(Device h, char* buf, unsigned int len) {
  DEVICE_OR_RETURN(h);
  if (!spec->contains("uuid")) return kNotSupported;
  return copy_string((*spec)["uuid"].get<std::string>(), buf, len);
}
EXPORT Return nvmlDeviceGetPciInfo_v3(Device h, PciInfo* pci) {
  DEVICE_OR_RETURN(h);
  if (!spec->contains("pci_bus_id") || !pci) return kNotSupported;
  *pci = PciInfo{};
  std::string id = (*spec)["pci_bus_id"].get<std::string>();
  std::strncpy(pci->busId, id.c_str(), sizeof pci->busId - 1);
  std::string legacy = id.size() > 4 ? id.substr(4) : id;
  std::strncpy(pci->busIdLegacy, legacy.c_str(), sizeof pci->busIdLegacy - 1);
  return kSuccess;
}

EXPORT Return nvmlDeviceGetMemoryInfo(Device h, MemoryV1* m) {
  DEVICE_OR_RETURN(h);
  if (!spec->contains("memory") || !m) return kNotSupported;
  const auto& mem = (*spec)["memory"];
  m->total = mem.value("total", 0ull);
  m->free = mem.value("free", 0ull);
  m->used = mem.value("used", 0ull) + mem.value("reserved", 0ull);  // v1 "used" includes reserved
  return kSuccess;
}

#ifndef FAKE_NVML_OLD_DRIVER
EXPORT Return nvmlDeviceGetMemoryInfo_v2(Device h, MemoryV2* m) {
  DEVICE_OR_RETURN(h);
  if (!spec->contains("memory") || !m) return kNotSupported;
  if (m->version != (static_cast<unsigned int>(sizeof(MemoryV2)) | (2u << 24))) return 25;  // ARGUMENT_VERSION_MISMATCH
  const auto& mem = (*spec)["memory"];
  m->total = mem.value("total", 0ull);
  m->reserved = mem.value("reserved", 0ull);
  m->free = mem.value("free", 0ull);
  m->used = mem.value("used", 0ull);
  return kSuccess;
}
#endif

EXPORT Return nvmlDeviceGetUtilizationRates(Device h, Utilization* u) {
  DEVICE_OR_RETURN(h);
  if (!spec->contains("utilization") || !u) return kNotSupported;
  u->gpu = (*spec)["utilization"].value("gpu", 0u);
  u->memory = (*spec)["utilization"].value("memory", 0u);
  return kSuccess;
}
EXPORT Return nvmlDeviceGetPowerUsage(Device h, unsigned int* mw) {
  DEVICE_OR_RETURN(h);
  if (!spec->contains("power_mw") || !mw) return kNotSupported;
  *mw = (*spec)["power_mw"].get<unsigned int>();
  return kSuccess;
}
EXPORT Return nvmlDeviceGetTotalEnergyConsumption(Device h, unsigned long long* mj) {
  DEVICE_OR_RETURN(h);
  if (!spec->contains("energy_mj") || !mj) return kNotSupported;
  *mj = (*spec)["energy_mj"].get<unsigned long long>();
  return kSuccess;
}
EXPORT Return nvmlDeviceGetTemperature(Device h, int sensor, unsigned int* c) {
  DEVICE_OR_RETURN(h);
  if (sensor != 0 || !spec->contains("temperature_c") || !c) return kNotSupported;
  *c = (*spec)["temperature_c"].get<unsigned int>();
  return kSuccess;
}
EXPORT Return nvmlDeviceGetClockInfo(Device h, int type, unsigned int* mhz) {
  DEVICE_OR_RETURN(h);
  const char* key = type == 1 ? "sm" : type == 2 ? "mem" : nullptr;
  if (!key || !spec->contains("clocks_mhz") || !(*spec)["clocks_mhz"].contains(key) || !mhz) return kNotSupported;
  *mhz = (*spec)["clocks_mhz"][key].get<unsigned int>();
  return kSuccess;
}
EXPORT Return nvmlDeviceGetPcieThroughput(Device h, int counter, unsigned int* kbps) {
  DEVICE_OR_RETURN(h);
  const char* key = counter == 0 ? "tx" : counter == 1 ? "rx" : nullptr;
  if (!key || !spec->contains("pcie_kbps") || !(*spec)["pcie_kbps"].contains(key) || !kbps) return kNotSupported;
  *kbps = (*spec)["pcie_kbps"][key].get<unsigned int>();
  return kSuccess;
}

static Return clock_events(Device h, unsigned long long* reasons) {
  DEVICE_OR_RETURN(h);
  if (!spec->contains("clock_event_reasons") || !reasons) return kNotSupported;
  *reasons = (*spec)["clock_event_reasons"].get<unsigned long long>();
  return kSuccess;
}
#ifdef FAKE_NVML_OLD_DRIVER
EXPORT Return nvmlDeviceGetCurrentClocksThrottleReasons(Device h, unsigned long long* r) { return clock_events(h, r); }
#else
EXPORT Return nvmlDeviceGetCurrentClocksEventReasons(Device h, unsigned long long* r) { return clock_events(h, r); }
#endif

EXPORT Return nvmlSystemGetDriverVersion(char* buf, unsigned int len) {
  std::lock_guard lock(state().mu);
  refresh(state(), false);
  if (!state().scenario.contains("driver_version")) return kNotSupported;
  return copy_string(state().scenario["driver_version"].get<std::string>(), buf, len);
}
static Return cuda_version(int* v) {
  std::lock_guard lock(state().mu);
  refresh(state(), false);
  if (!state().scenario.contains("cuda_version") || !v) return kNotSupported;
  *v = state().scenario["cuda_version"].get<int>();
  return kSuccess;
}
#ifdef FAKE_NVML_OLD_DRIVER
EXPORT Return nvmlSystemGetCudaDriverVersion(int* v) { return cuda_version(v); }
#else
EXPORT Return nvmlSystemGetCudaDriverVersion_v2(int* v) { return cuda_version(v); }
#endif

// Process lists in the layout of each driver generation.
EXPORT Return nvmlDeviceGetComputeRunningProcesses(Device h, unsigned int* n, void* infos) {
  return processes<ProcessV1>(h, "compute_processes", n, infos);
}
EXPORT Return nvmlDeviceGetGraphicsRunningProcesses(Device h, unsigned int* n, void* infos) {
  return processes<ProcessV1>(h, "graphics_processes", n, infos);
}
#ifndef FAKE_NVML_OLD_DRIVER
EXPORT Return nvmlDeviceGetComputeRunningProcesses_v2(Device h, unsigned int* n, void* infos) {
  return processes<ProcessV2>(h, "compute_processes", n, infos);
}
EXPORT Return nvmlDeviceGetGraphicsRunningProcesses_v2(Device h, unsigned int* n, void* infos) {
  return processes<ProcessV2>(h, "graphics_processes", n, infos);
}
#ifdef FAKE_NVML_CC_DRIVER
EXPORT Return nvmlDeviceGetComputeRunningProcesses_v3(Device h, unsigned int* n, void* infos) {
  return processes<ProcessV3Cc>(h, "compute_processes", n, infos);
}
EXPORT Return nvmlDeviceGetGraphicsRunningProcesses_v3(Device h, unsigned int* n, void* infos) {
  return processes<ProcessV3Cc>(h, "graphics_processes", n, infos);
}
EXPORT Return nvmlDeviceGetConfComputeMemSizeInfo(Device, void*) { return kNotSupported; }
#else
EXPORT Return nvmlDeviceGetComputeRunningProcesses_v3(Device h, unsigned int* n, void* infos) {
  return processes<ProcessV2>(h, "compute_processes", n, infos);
}
EXPORT Return nvmlDeviceGetGraphicsRunningProcesses_v3(Device h, unsigned int* n, void* infos) {
  return processes<ProcessV2>(h, "graphics_processes", n, infos);
}
EXPORT Return nvmlDeviceGetConfComputeMemSizeInfo(Device, void*) { return kNotSupported; }
EXPORT Return nvmlDeviceGetRunningProcessDetailList(Device, void*) { return kNotSupported; }
#endif
#endif

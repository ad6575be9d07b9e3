#include "probes/gpu_nvml.h"

#include <dlfcn.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstring>
#include <map>
#include <optional>
#include <vector>

#include "probes/nvml_api.h"
#include "probes/registry.h"
#include "probes/snapshot.h"
#include "probes/workload.h"

namespace tierscope {

namespace nvml {

const char* return_name(Return r) {
  switch (r) {
    case 0: return "SUCCESS";
    case 1: return "UNINITIALIZED";
    case 2: return "INVALID_ARGUMENT";
    case 3: return "NOT_SUPPORTED";
    case 4: return "NO_PERMISSION";
    case 5: return "ALREADY_INITIALIZED";
    case 6: return "NOT_FOUND";
    case 7: return "INSUFFICIENT_SIZE";
    case 8: return "INSUFFICIENT_POWER";
    case 9: return "DRIVER_NOT_LOADED";
    case 10: return "TIMEOUT";
    case 11: return "IRQ_ISSUE";
    case 12: return "LIBRARY_NOT_FOUND";
    case 13: return "FUNCTION_NOT_FOUND";
    case 14: return "CORRUPTED_INFOROM";
    case 15: return "GPU_IS_LOST";
    case 16: return "RESET_REQUIRED";
    case 17: return "OPERATING_SYSTEM";
    case 18: return "LIB_RM_VERSION_MISMATCH";
    case 19: return "IN_USE";
    case 20: return "MEMORY";
    case 21: return "NO_DATA";
    case 999: return "UNKNOWN";
    default: return "UNKNOWN_CODE";
  }
}

}  // namespace nvml

namespace {

using Clock = std::chrono::steady_clock;

// The loaded library and the entry points resolved from it; versioned entry
// points are tried newest first. Absent optional calls stay nullptr.
struct Library {
  void* handle = nullptr;
  nvml::InitFn init = nullptr;
  nvml::ShutdownFn shutdown = nullptr;
  nvml::GetCountFn get_count = nullptr;
  nvml::GetHandleByIndexFn get_handle = nullptr;
  nvml::GetStringFn get_name = nullptr, get_uuid = nullptr;
  nvml::GetPciInfoFn get_pci = nullptr;
  nvml::GetMemoryV2Fn get_memory_v2 = nullptr;
  nvml::GetMemoryV1Fn get_memory_v1 = nullptr;
  nvml::GetUtilizationFn get_utilization = nullptr;
  nvml::GetUintFn get_power = nullptr;
  nvml::GetUllFn get_energy = nullptr, get_clock_events = nullptr;
  nvml::GetTemperatureFn get_temperature = nullptr;
  nvml::GetClockFn get_clock = nullptr;
  nvml::GetPcieThroughputFn get_pcie = nullptr;
  nvml::SystemGetStringFn get_driver_version = nullptr;
  nvml::SystemGetIntFn get_cuda_version = nullptr;
  struct ProcessCall {
    nvml::GetProcessesFn fn = nullptr;
    std::string name;        // the entry point in use, for error labels
    std::size_t stride = 0;  // bytes per entry the driver writes
  };
  ProcessCall compute, graphics;

  Library() = default;
  Library(const Library&) = delete;
  Library& operator=(const Library&) = delete;
  ~Library() {
    if (handle) ::dlclose(handle);
  }

  void* symbol(const char* name) const { return ::dlsym(handle, name); }
  template <typename Fn>
  Fn first_of(std::initializer_list<const char*> names, const char** chosen = nullptr) const {
    for (const char* n : names) {
      if (void* p = symbol(n)) {
        if (chosen) *chosen = n;
        return reinterpret_cast<Fn>(p);
      }
    }
    return nullptr;
  }

  ProcessCall process_call(const std::string& base) const {
    if (void* p = symbol((base + "_v3").c_str())) {
      // R525-R535 drivers wrote the confidential-computing field in _v3.
      bool cc_layout = symbol("nvmlDeviceGetConfComputeMemSizeInfo") != nullptr &&
                       symbol("nvmlDeviceGetRunningProcessDetailList") == nullptr;
      return {reinterpret_cast<nvml::GetProcessesFn>(p), base + "_v3",
              cc_layout ? sizeof(nvml::ProcessInfoV3Cc) : sizeof(nvml::ProcessInfoV2)};
    }
    if (void* p = symbol((base + "_v2").c_str()))
      return {reinterpret_cast<nvml::GetProcessesFn>(p), base + "_v2", sizeof(nvml::ProcessInfoV2)};
    if (void* p = symbol(base.c_str())) return {reinterpret_cast<nvml::GetProcessesFn>(p), base, sizeof(nvml::ProcessInfoV1)};
    return {};
  }

  // nullptr with `error` set when the library cannot be loaded, or (with
  // `loaded` true) when it lacks a required entry point.
  static std::unique_ptr<Library> open(const std::string& path, std::string& error, bool& loaded) {
    auto lib = std::make_unique<Library>();
    lib->handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    loaded = lib->handle != nullptr;
    if (!lib->handle) {
      const char* e = ::dlerror();
      error = e ? e : ("cannot load " + path);
      return nullptr;
    }
    lib->init = lib->first_of<nvml::InitFn>({"nvmlInit_v2", "nvmlInit"});
    lib->shutdown = lib->first_of<nvml::ShutdownFn>({"nvmlShutdown"});
    lib->get_count = lib->first_of<nvml::GetCountFn>({"nvmlDeviceGetCount_v2", "nvmlDeviceGetCount"});
    lib->get_handle = lib->first_of<nvml::GetHandleByIndexFn>({"nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetHandleByIndex"});
    if (!lib->init || !lib->shutdown || !lib->get_count || !lib->get_handle) {
      error = path + " lacks nvmlInit/nvmlShutdown/nvmlDeviceGetCount/nvmlDeviceGetHandleByIndex: not NVML";
      return nullptr;
    }
    lib->get_name = lib->first_of<nvml::GetStringFn>({"nvmlDeviceGetName"});
    lib->get_uuid = lib->first_of<nvml::GetStringFn>({"nvmlDeviceGetUUID"});
    lib->get_pci = lib->first_of<nvml::GetPciInfoFn>({"nvmlDeviceGetPciInfo_v3", "nvmlDeviceGetPciInfo_v2"});
    lib->get_memory_v2 = lib->first_of<nvml::GetMemoryV2Fn>({"nvmlDeviceGetMemoryInfo_v2"});
    lib->get_memory_v1 = lib->first_of<nvml::GetMemoryV1Fn>({"nvmlDeviceGetMemoryInfo"});
    lib->get_utilization = lib->first_of<nvml::GetUtilizationFn>({"nvmlDeviceGetUtilizationRates"});
    lib->get_power = lib->first_of<nvml::GetUintFn>({"nvmlDeviceGetPowerUsage"});
    lib->get_energy = lib->first_of<nvml::GetUllFn>({"nvmlDeviceGetTotalEnergyConsumption"});
    lib->get_clock_events = lib->first_of<nvml::GetUllFn>(
        {"nvmlDeviceGetCurrentClocksEventReasons", "nvmlDeviceGetCurrentClocksThrottleReasons"});
    lib->get_temperature = lib->first_of<nvml::GetTemperatureFn>({"nvmlDeviceGetTemperature"});
    lib->get_clock = lib->first_of<nvml::GetClockFn>({"nvmlDeviceGetClockInfo"});
    lib->get_pcie = lib->first_of<nvml::GetPcieThroughputFn>({"nvmlDeviceGetPcieThroughput"});
    lib->get_driver_version = lib->first_of<nvml::SystemGetStringFn>({"nvmlSystemGetDriverVersion"});
    lib->get_cuda_version =
        lib->first_of<nvml::SystemGetIntFn>({"nvmlSystemGetCudaDriverVersion_v2", "nvmlSystemGetCudaDriverVersion"});
    lib->compute = lib->process_call("nvmlDeviceGetComputeRunningProcesses");
    lib->graphics = lib->process_call("nvmlDeviceGetGraphicsRunningProcesses");
    return lib;
  }
};

// "00000000:1B:00.0" -> "0000:1b:00.0", the form sysfs and lspci use.
std::string normalize_bus_id(std::string_view id) {
  auto colon = id.find(':');
  if (colon != std::string_view::npos && colon > 4) id.remove_prefix(colon - 4);
  std::string out(id);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string c_string(const char* buf, std::size_t size) { return std::string(buf, ::strnlen(buf, size)); }

bool known_integrated(const std::string& name) {
  // NVIDIA parts whose GPU shares system memory (DGX Spark's GB10 superchip).
  return name.find("GB10") != std::string::npos;
}

}  // namespace

class GpuNvmlProbe::Impl {
 public:
  explicit Impl(GpuSettings s) : settings_(std::move(s)) {}
  ~Impl() { unload(); }

  ProbeOutcome sample(Snapshot& out);

 private:
  struct Device {
    nvml::Device handle = nullptr;
    GpuReading static_info;                       // identity, memory model
    std::vector<GpuProcessMemory> processes;      // from the last process scan
    std::optional<std::uint64_t> process_sum;     // likewise
  };

  // Why the last call failed in a way that needs re-initialisation.
  struct Fatal {
    std::string call;
    nvml::Return code;
  };

  bool ok(const char* call, nvml::Return r) {
    if (r == nvml::kSuccess) return true;
    if (r == nvml::kErrorNotSupported || r == nvml::kErrorFunctionNotFound) return false;  // absent, quietly
    ++errors_[{call, nvml::return_name(r)}];
    if (r == nvml::kErrorGpuIsLost || r == nvml::kErrorUninitialized || r == nvml::kErrorDriverNotLoaded ||
        r == nvml::kErrorLibRmVersionMismatch || r == nvml::kErrorResetRequired)
      if (!fatal_) fatal_ = Fatal{call, r};
    return false;
  }

  ProbeOutcome initialise(Clock::time_point now);
  void read_dynamic(Device& d, GpuReading& g);
  void read_processes(Device& d);
  void unload() {
    if (lib_ && initialized_) lib_->shutdown();
    initialized_ = false;
    devices_.clear();
  }
  void attach_errors(GpuInventory& inv) const {
    inv.vendor = "nvidia";
    for (const auto& [key, count] : errors_) inv.errors.push_back({key.first, key.second, count});
  }

  GpuSettings settings_;
  std::unique_ptr<Library> lib_;
  bool initialized_ = false;
  bool ever_answered_ = false;
  std::vector<Device> devices_;
  std::optional<Fatal> fatal_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> errors_;
  Clock::time_point next_attempt_{};
  std::chrono::milliseconds backoff_{0};
  std::string down_reason_;
  Clock::time_point next_process_scan_{};
};

ProbeOutcome GpuNvmlProbe::Impl::initialise(Clock::time_point now) {
  fatal_.reset();
  nvml::Return r = lib_->init();
  unsigned int count = 0;
  if (r == nvml::kSuccess) r = lib_->get_count(&count);
  if (r == nvml::kErrorDriverNotLoaded || r == nvml::kErrorNotFound || r == nvml::kErrorLibraryNotFound ||
      (r == nvml::kSuccess && count == 0)) {
    // No NVIDIA GPU on this host: quietly nothing, looked at again once a minute.
    if (r == nvml::kSuccess) lib_->shutdown();
    next_attempt_ = now + settings_.retry_max;
    return ProbeOutcome::no_data();
  }
  if (r != nvml::kSuccess) {
    ok("nvmlInit", r);
    return ProbeOutcome::failed(std::string("NVML does not initialise: ") + nvml::return_name(r));
  }
  initialized_ = true;
  std::string driver, cuda;
  if (lib_->get_driver_version) {
    char buf[nvml::kDriverVersionBuffer] = {};
    if (ok("nvmlSystemGetDriverVersion", lib_->get_driver_version(buf, sizeof buf))) driver = c_string(buf, sizeof buf);
  }
  if (lib_->get_cuda_version) {
    int v = 0;
    if (ok("nvmlSystemGetCudaDriverVersion", lib_->get_cuda_version(&v)) && v > 0)
      cuda = std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10);
  }
  for (unsigned int i = 0; i < count; ++i) {
    Device d;
    r = lib_->get_handle(i, &d.handle);
    if (!ok("nvmlDeviceGetHandleByIndex", r)) {
      if (fatal_) return ProbeOutcome::failed("NVML: GPU " + std::to_string(i) + " does not answer (" +
                                              nvml::return_name(r) + ")");
      continue;  // e.g. NO_PERMISSION on one device
    }
    GpuReading& g = d.static_info;
    g.id = "nvidia" + std::to_string(i);
    g.vendor = "nvidia";
    if (!driver.empty()) g.driver_version = driver;
    if (!cuda.empty()) g.cuda_driver_version = cuda;
    if (lib_->get_name) {
      char buf[nvml::kDeviceNameBuffer] = {};
      if (ok("nvmlDeviceGetName", lib_->get_name(d.handle, buf, sizeof buf))) g.name = c_string(buf, sizeof buf);
    }
    if (lib_->get_uuid) {
      char buf[nvml::kDeviceUuidBuffer] = {};
      if (ok("nvmlDeviceGetUUID", lib_->get_uuid(d.handle, buf, sizeof buf))) g.uuid = c_string(buf, sizeof buf);
    }
    if (lib_->get_pci) {
      nvml::PciInfo pci{};
      if (ok("nvmlDeviceGetPciInfo", lib_->get_pci(d.handle, &pci))) {
        std::string id = c_string(pci.busId, sizeof pci.busId);
        if (id.empty()) id = c_string(pci.busIdLegacy, sizeof pci.busIdLegacy);
        if (!id.empty()) g.pci_bus_id = normalize_bus_id(id);
      }
    }
    // Memory model: a GPU whose memory info NVML does not support shares
    // system memory (DGX Spark GB10: "Not Supported" in nvidia-smi).
    bool memory_supported = true;
    if (lib_->get_memory_v2) {
      nvml::MemoryV2 m{};
      m.version = nvml::kMemoryV2Version;
      memory_supported = lib_->get_memory_v2(d.handle, &m) != nvml::kErrorNotSupported;
    } else if (lib_->get_memory_v1) {
      nvml::MemoryV1 m{};
      memory_supported = lib_->get_memory_v1(d.handle, &m) != nvml::kErrorNotSupported;
    }
    bool unified = settings_.memory_model == "unified" ||
                   (settings_.memory_model == "auto" && (!memory_supported || known_integrated(g.name.value_or(""))));
    g.memory_model = unified ? "unified" : "discrete";
    devices_.push_back(std::move(d));
  }
  if (fatal_) return ProbeOutcome::failed("NVML: " + fatal_->call + " returned " + nvml::return_name(fatal_->code));
  next_process_scan_ = {};
  return ProbeOutcome::ok();
}

void GpuNvmlProbe::Impl::read_dynamic(Device& d, GpuReading& g) {
  auto h = d.handle;
  if (g.memory_model == "discrete") {
    if (lib_->get_memory_v2) {
      nvml::MemoryV2 m{};
      m.version = nvml::kMemoryV2Version;
      if (ok("nvmlDeviceGetMemoryInfo_v2", lib_->get_memory_v2(h, &m))) {
        g.vram_total_bytes = m.total;
        g.vram_used_bytes = m.used;
        g.vram_reserved_bytes = m.reserved;
      }
    } else if (lib_->get_memory_v1) {
      nvml::MemoryV1 m{};
      if (ok("nvmlDeviceGetMemoryInfo", lib_->get_memory_v1(h, &m))) {
        g.vram_total_bytes = m.total;
        g.vram_used_bytes = m.used;
      }
    }
  }
  if (lib_->get_utilization) {
    nvml::Utilization u{};
    if (ok("nvmlDeviceGetUtilizationRates", lib_->get_utilization(h, &u))) {
      g.utilization_ratio = u.gpu / 100.0;
      g.memory_utilization_ratio = u.memory / 100.0;
    }
  }
  if (lib_->get_power) {
    unsigned int mw = 0;
    if (ok("nvmlDeviceGetPowerUsage", lib_->get_power(h, &mw))) g.power_watts = mw / 1000.0;
  }
  if (lib_->get_energy) {
    unsigned long long mj = 0;
    if (ok("nvmlDeviceGetTotalEnergyConsumption", lib_->get_energy(h, &mj))) g.energy_joules = static_cast<double>(mj) / 1000.0;
  }
  if (lib_->get_temperature) {
    unsigned int c = 0;
    if (ok("nvmlDeviceGetTemperature", lib_->get_temperature(h, nvml::kTemperatureGpu, &c)))
      g.temperatures.push_back({"gpu", static_cast<double>(c)});
  }
  if (lib_->get_clock) {
    unsigned int mhz = 0;
    if (ok("nvmlDeviceGetClockInfo", lib_->get_clock(h, nvml::kClockSm, &mhz))) g.sm_clock_hz = mhz * 1e6;
    if (ok("nvmlDeviceGetClockInfo", lib_->get_clock(h, nvml::kClockMem, &mhz))) g.memory_clock_hz = mhz * 1e6;
  }
  if (lib_->get_pcie) {
    unsigned int kbps = 0;
    if (ok("nvmlDeviceGetPcieThroughput", lib_->get_pcie(h, nvml::kPcieRxBytes, &kbps))) g.pcie_rx_bytes_per_second = kbps * 1024.0;
    if (ok("nvmlDeviceGetPcieThroughput", lib_->get_pcie(h, nvml::kPcieTxBytes, &kbps))) g.pcie_tx_bytes_per_second = kbps * 1024.0;
  }
  if (lib_->get_clock_events) {
    unsigned long long reasons = 0;
    if (ok("nvmlDeviceGetCurrentClocksEventReasons", lib_->get_clock_events(h, &reasons))) g.throttle_reasons = reasons;
  }
}

void GpuNvmlProbe::Impl::read_processes(Device& d) {
  const std::string region = d.static_info.memory_model == "unified" ? "unified" : "vram";
  std::map<std::uint32_t, std::uint64_t> per_pid;  // a process in both lists counts once
  bool any_list = false;
  for (const Library::ProcessCall* call : {&lib_->compute, &lib_->graphics}) {
    if (!call->fn) continue;
    // Ask for the size, then read with headroom for processes that start in between.
    unsigned int count = 0;
    nvml::Return r = call->fn(d.handle, &count, nullptr);
    if (r == nvml::kSuccess) {
      any_list = true;  // no process
      continue;
    }
    if (r != nvml::kErrorInsufficientSize) {
      ok(call->name.c_str(), r);
      continue;
    }
    unsigned int capacity = count * 2 + 8;
    std::vector<unsigned char> buf(static_cast<std::size_t>(capacity) * call->stride);
    count = capacity;
    if (!ok(call->name.c_str(), call->fn(d.handle, &count, buf.data()))) continue;
    any_list = true;
    for (unsigned int i = 0; i < count && i < capacity; ++i) {
      // pid and usedGpuMemory are the first two fields of every layout.
      nvml::ProcessInfoV1 entry{};
      std::memcpy(&entry.pid, buf.data() + static_cast<std::size_t>(i) * call->stride, sizeof entry.pid);
      std::memcpy(&entry.usedGpuMemory, buf.data() + static_cast<std::size_t>(i) * call->stride + offsetof(nvml::ProcessInfoV1, usedGpuMemory),
                  sizeof entry.usedGpuMemory);
      if (entry.usedGpuMemory == nvml::kValueNotAvailable) continue;
      auto& bytes = per_pid[entry.pid];
      bytes = std::max<std::uint64_t>(bytes, entry.usedGpuMemory);
    }
  }
  d.processes.clear();
  d.process_sum.reset();
  if (!any_list) return;
  std::uint64_t sum = 0;
  for (const auto& [pid, bytes] : per_pid) {
    d.processes.push_back({pid, region, bytes});
    sum += bytes;
  }
  d.process_sum = sum;
}

ProbeOutcome GpuNvmlProbe::Impl::sample(Snapshot& out) {
  const auto now = Clock::now();
  if (!lib_) {
    if (now < next_attempt_) return ProbeOutcome::no_data();
    std::string error;
    bool loaded = false;
    lib_ = Library::open(settings_.nvml_library, error, loaded);
    if (!lib_) {
      // No NVIDIA driver installed: nothing to report. Looked for again later
      // (a driver installed while the daemon runs). A library that loads but
      // is not NVML is a configuration mistake worth a failure.
      next_attempt_ = now + settings_.retry_max;
      return loaded ? ProbeOutcome::failed(error) : ProbeOutcome::no_data();
    }
  }
  if (!initialized_) {
    if (now < next_attempt_) {
      if (ever_answered_ || !down_reason_.empty()) {
        GpuInventory inv;
        attach_errors(inv);
        out.put(kGpuNvml, std::move(inv));
        return ProbeOutcome::failed(down_reason_);
      }
      return ProbeOutcome::no_data();
    }
    ProbeOutcome init = initialise(now);
    if (init.status != ProbeStatus::ok) {
      unload();
      if (init.status == ProbeStatus::error) {
        backoff_ = std::clamp(backoff_ * 2, settings_.retry_min, settings_.retry_max);
        next_attempt_ = now + backoff_;
        // The first cause stays the reason until NVML answers again, so the
        // failure is logged once, not once per retry.
        if (down_reason_.empty()) down_reason_ = init.error + "; re-initialising with backoff";
        GpuInventory inv;
        attach_errors(inv);
        out.put(kGpuNvml, std::move(inv));
        return ProbeOutcome::failed(down_reason_);
      }
      return init;
    }
  }

  fatal_.reset();
  const bool scan_processes = now >= next_process_scan_;
  GpuInventory inv;
  for (auto& d : devices_) {
    GpuReading g = d.static_info;
    read_dynamic(d, g);
    if (scan_processes && !fatal_) read_processes(d);
    g.processes = d.processes;
    g.process_memory_sum_bytes = d.process_sum;
    inv.gpus.push_back(std::move(g));
    if (fatal_) break;
  }
  if (scan_processes) next_process_scan_ = now + settings_.process_interval;
  if (fatal_) {
    // A GPU fell off the bus or the driver went away: drop this sample's
    // partial data, shut NVML down and come back with backoff.
    std::string why = "NVML: " + fatal_->call + " returned " + nvml::return_name(fatal_->code);
    unload();
    backoff_ = settings_.retry_min;
    next_attempt_ = now + backoff_;
    if (down_reason_.empty()) down_reason_ = why + "; re-initialising with backoff";
    GpuInventory down;
    attach_errors(down);
    out.put(kGpuNvml, std::move(down));
    return ProbeOutcome::failed(down_reason_);
  }
  ever_answered_ = true;
  down_reason_.clear();
  backoff_ = std::chrono::milliseconds(0);
  attach_errors(inv);
  out.put(kGpuNvml, std::move(inv));
  return ProbeOutcome::ok();
}

GpuNvmlProbe::GpuNvmlProbe(GpuSettings settings) : impl_(std::make_unique<Impl>(std::move(settings))) {}
GpuNvmlProbe::~GpuNvmlProbe() = default;
ProbeOutcome GpuNvmlProbe::sample(ProbeContext&, Snapshot& out) { return impl_->sample(out); }

constinit const ProbeRegistration kGpuNvmlProbe{
    .name = "gpu_nvml",
    .section = &kGpuSection,
    .make = [](const ProbeSettings& settings) -> std::unique_ptr<Probe> {
      return std::make_unique<GpuNvmlProbe>(settings.get<GpuSettings>());
    },
    .render =
        [](const Snapshot& snap, MetricWriter& w) {
          if (const auto* inv = snap.get(kGpuNvml)) render_gpus(*inv, snap.get(kWorkload), w);
        },
};

}  // namespace tierscope

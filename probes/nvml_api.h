#pragma once
// The subset of the NVIDIA Management Library API that tierscope calls,
// declared here so that nothing NVIDIA is needed at build time; the library
// is loaded with dlopen at run time. Source: the NVML API Reference
// (docs.nvidia.com/deploy/nvml-api), nvml.h as shipped with CUDA 11-12:
// return codes (nvmlReturn_t), nvmlMemory_t / nvmlMemory_v2_t,
// nvmlUtilization_t, nvmlProcessInfo_v1_t / v2 (= the _v2 and _v3 process
// calls), nvmlPciInfo_t (v2/v3 layout), the clock, temperature-sensor and
// PCIe-counter enums, and the clocks-event reason bits.
//
// ABI note on the process lists: nvmlDeviceGetComputeRunningProcesses (v1)
// fills {pid, usedGpuMemory} (16 bytes each); _v2 and _v3 fill
// {pid, usedGpuMemory, gpuInstanceId, computeInstanceId} (24 bytes). Drivers
// R525-R535 briefly shipped a _v3 writing a fifth field,
// usedGpuCcProtectedMemory (32 bytes); they are recognisable by exporting
// nvmlDeviceGetConfComputeMemSizeInfo but not yet
// nvmlDeviceGetRunningProcessDetailList, where that field later moved.

#include <cstdint>

namespace tierscope::nvml {

using Return = int;  // nvmlReturn_t
inline constexpr Return kSuccess = 0;
inline constexpr Return kErrorUninitialized = 1;
inline constexpr Return kErrorInvalidArgument = 2;
inline constexpr Return kErrorNotSupported = 3;
inline constexpr Return kErrorNoPermission = 4;
inline constexpr Return kErrorNotFound = 6;
inline constexpr Return kErrorInsufficientSize = 7;
inline constexpr Return kErrorDriverNotLoaded = 9;
inline constexpr Return kErrorTimeout = 10;
inline constexpr Return kErrorLibraryNotFound = 12;
inline constexpr Return kErrorFunctionNotFound = 13;
inline constexpr Return kErrorGpuIsLost = 15;
inline constexpr Return kErrorResetRequired = 16;
inline constexpr Return kErrorLibRmVersionMismatch = 18;
inline constexpr Return kErrorUnknown = 999;

// The name NVML's own headers give a return code, for labels and logs.
const char* return_name(Return r);

struct DeviceOpaque;
using Device = DeviceOpaque*;  // nvmlDevice_t

struct MemoryV1 {  // nvmlMemory_t, bytes
  unsigned long long total, free, used;
};
struct MemoryV2 {  // nvmlMemory_v2_t, bytes
  unsigned int version;
  unsigned long long total, reserved, free, used;
};
// nvmlMemory_v2: sizeof(nvmlMemory_v2_t) | (2 << 24)
inline constexpr unsigned int kMemoryV2Version = static_cast<unsigned int>(sizeof(MemoryV2)) | (2u << 24);

struct Utilization {  // nvmlUtilization_t, percent
  unsigned int gpu, memory;
};

struct ProcessInfoV1 {  // nvmlProcessInfo_v1_t
  unsigned int pid;
  unsigned long long usedGpuMemory;  // bytes
};
struct ProcessInfoV2 {  // nvmlProcessInfo_v2_t (the _v2 and _v3 calls)
  unsigned int pid;
  unsigned long long usedGpuMemory;
  unsigned int gpuInstanceId, computeInstanceId;
};
struct ProcessInfoV3Cc {  // what R525-R535 drivers' _v3 writes (see above)
  unsigned int pid;
  unsigned long long usedGpuMemory;
  unsigned int gpuInstanceId, computeInstanceId;
  unsigned long long usedGpuCcProtectedMemory;
};
static_assert(sizeof(ProcessInfoV1) == 16 && sizeof(ProcessInfoV2) == 24 && sizeof(ProcessInfoV3Cc) == 32);
// usedGpuMemory when the driver cannot tell (NVML_VALUE_NOT_AVAILABLE).
inline constexpr unsigned long long kValueNotAvailable = ~0ull;

struct PciInfo {  // nvmlPciInfo_t as filled by nvmlDeviceGetPciInfo_v2/_v3
  char busIdLegacy[16];
  unsigned int domain, bus, device, pciDeviceId, pciSubSystemId;
  char busId[32];
};

inline constexpr int kTemperatureGpu = 0;  // NVML_TEMPERATURE_GPU
inline constexpr int kClockSm = 1;         // NVML_CLOCK_SM
inline constexpr int kClockMem = 2;        // NVML_CLOCK_MEM
inline constexpr int kPcieTxBytes = 0;     // NVML_PCIE_UTIL_TX_BYTES
inline constexpr int kPcieRxBytes = 1;     // NVML_PCIE_UTIL_RX_BYTES

inline constexpr unsigned int kDeviceNameBuffer = 96;    // NVML_DEVICE_NAME_V2_BUFFER_SIZE
inline constexpr unsigned int kDeviceUuidBuffer = 80;    // NVML_DEVICE_UUID_V2_BUFFER_SIZE
inline constexpr unsigned int kDriverVersionBuffer = 80; // NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE

extern "C" {
using InitFn = Return (*)();
using ShutdownFn = Return (*)();
using ErrorStringFn = const char* (*)(Return);
using GetCountFn = Return (*)(unsigned int*);
using GetHandleByIndexFn = Return (*)(unsigned int, Device*);
using GetStringFn = Return (*)(Device, char*, unsigned int);  // GetName, GetUUID
using GetPciInfoFn = Return (*)(Device, PciInfo*);
using GetMemoryV1Fn = Return (*)(Device, MemoryV1*);
using GetMemoryV2Fn = Return (*)(Device, MemoryV2*);
using GetUtilizationFn = Return (*)(Device, Utilization*);
using GetUintFn = Return (*)(Device, unsigned int*);              // power usage (mW)
using GetUllFn = Return (*)(Device, unsigned long long*);         // energy (mJ), clocks-event reasons
using GetTemperatureFn = Return (*)(Device, int, unsigned int*);  // sensor, degrees C
using GetClockFn = Return (*)(Device, int, unsigned int*);        // clock type, MHz
using GetPcieThroughputFn = Return (*)(Device, int, unsigned int*);  // counter, KB/s
using GetProcessesFn = Return (*)(Device, unsigned int*, void*);  // count in/out, entries
using SystemGetStringFn = Return (*)(char*, unsigned int);        // driver version
using SystemGetIntFn = Return (*)(int*);                          // CUDA driver version
}

}  // namespace tierscope::nvml

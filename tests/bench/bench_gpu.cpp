// GPU probe cost: CPU per sample per GPU of the NVML probe against the fake
// libnvidia-ml (8 H100-like GPUs with 4 processes each), as deployed
// (process lists every gpu.process_interval) and with the process lists read
// every sample, and of the amdgpu probe on the fixture cards. Prints figures;
// the issue's target is <= 100 us per sample per GPU on the fake library.
//
// Usage: bench_gpu FAKE_NVML_LIBRARY FIXTURES_DIR [SAMPLES]

#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "probes/gpu_amdgpu.h"
#include "probes/gpu_nvml.h"
#include "probes/snapshot.h"

using namespace tierscope;

namespace {

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// CPU per sample over `n` samples after a warm-up; -1 when the probe did not
// report `want`.
double per_sample(Probe& probe, const HostRoots& roots, int n, ProbeStatus want) {
  FileCache files;
  std::string scratch;
  ProbeContext ctx{roots, files, scratch};
  for (int i = 0; i < 50; ++i) {
    Snapshot s;
    if (probe.sample(ctx, s).status != want) return -1;
  }
  double t0 = cpu_seconds();
  for (int i = 0; i < n; ++i) {
    Snapshot s;
    probe.sample(ctx, s);
    files.sweep();
  }
  return (cpu_seconds() - t0) / n;
}

std::string scenario(int gpus) {
  std::string s = R"({"init": "SUCCESS", "driver_version": "550.54.15", "cuda_version": 12040, "devices": [)";
  for (int i = 0; i < gpus; ++i) {
    char dev[1024];
    std::snprintf(dev, sizeof dev,
                  R"(%s{"name": "NVIDIA H100 80GB HBM3", "uuid": "GPU-%08d", "pci_bus_id": "00000000:%02X:00.0",)"
                  R"("memory": {"total": 85520809984, "reserved": 567279616, "free": 1, "used": 2},)"
                  R"("utilization": {"gpu": 87, "memory": 41}, "power_mw": 312456, "energy_mj": 98765432100,)"
                  R"("temperature_c": 61, "clocks_mhz": {"sm": 1980, "mem": 2619}, "pcie_kbps": {"rx": 1, "tx": 2},)"
                  R"("clock_event_reasons": 5, "compute_processes": [{"pid": 1, "used": 1}, {"pid": 2, "used": 2},)"
                  R"({"pid": 3, "used": 3}, {"pid": 4, "used": 4}], "graphics_processes": []})",
                  i ? "," : "", i, 0x10 + i);
    s += dev;
  }
  return s + "]}";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s FAKE_NVML_LIBRARY FIXTURES_DIR [SAMPLES]\n", argv[0]);
    return 2;
  }
  const int n = argc > 3 ? std::atoi(argv[3]) : 20000;
  const int gpus = 8;
  auto dir = std::filesystem::temp_directory_path() / ("tierscope-bench-gpu-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto path = dir / "scenario.json";
  std::ofstream(path) << scenario(gpus);
  ::setenv("FAKE_NVML_SCENARIO", path.c_str(), 1);

  std::printf("GPU probe cost, CPU per sample (CLOCK_PROCESS_CPUTIME_ID, mean of %d samples)\n", n);
  bool broken = false;
  for (bool every_sample : {false, true}) {
    GpuSettings s;
    s.nvml_library = argv[1];
    s.process_interval = every_sample ? std::chrono::milliseconds(0) : std::chrono::milliseconds(5000);
    GpuNvmlProbe probe(s);
    double t = per_sample(probe, HostRoots{}, n, ProbeStatus::ok);
    if (t < 0) {
      std::printf("  NVML probe did not answer from %s\n", argv[1]);
      broken = true;
      continue;
    }
    std::printf("  NVML (fake library, %d GPUs), process lists %-13s %7.2f us per GPU (target 100 us, %.2fx)\n", gpus,
                every_sample ? "every sample" : "every 5 s", t / gpus * 1e6, t / gpus * 1e6 / 100);
  }
  for (const char* host : {"amd-discrete", "amd-strix-halo"}) {
    std::filesystem::path base = std::filesystem::path(argv[2]) / host;
    if (!std::filesystem::exists(base / "sys")) continue;
    GpuAmdgpuProbe probe;
    HostRoots roots{base / "proc", base / "sys", base / "dev"};
    double t = per_sample(probe, roots, n, ProbeStatus::ok);
    if (t < 0) {
      std::printf("  amdgpu probe found no card in %s\n", base.c_str());
      broken = true;
      continue;
    }
    std::printf("  amdgpu (fixture %s, 1 card)%*s %7.2f us per GPU (target 100 us, %.2fx)\n", host,
                static_cast<int>(22 - std::string(host).size()), "", t * 1e6, t * 1e6 / 100);
  }
  std::filesystem::remove_all(dir);
  return broken ? 1 : 0;
}

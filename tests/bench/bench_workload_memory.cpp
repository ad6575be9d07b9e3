// bench_workload_memory: what reading the watched workload's memory
// composition costs per sample, for a workload of N processes (default 64
// real sleeping children of this process), on this machine's live /proc and
// /sys. Prints figures; asserts nothing about them. Exits non-zero only when
// something could not be measured at all.
//
//   processes: WorkloadMemoryReader::read over the N PIDs (smaps_rollup,
//              stat, and status where smaps_rollup lacks a field)
//   cgroup:    the same over this process's own memory cgroup (memory.stat,
//              usage, peak, events, IO, limits; v2 or v1, whichever holds
//              memory here)
// Each: wall and process CPU per sample, averaged over --samples reads.
//
// Usage: bench_workload_memory [--processes N] [--samples N]

#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "probes/cgroup.h"
#include "probes/workload_memory.h"

namespace {

using namespace tierscope;

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

struct Figure {
  double wall_us = 0, cpu_us = 0;
};

Figure measure(WorkloadMemoryReader& reader, const HostRoots& roots, const WorkloadTarget& target, int samples,
               WorkloadMemory& last) {
  for (int i = 0; i < 50; ++i) last = reader.read(roots, target);  // warm up
  const auto t0 = std::chrono::steady_clock::now();
  const double c0 = cpu_seconds();
  for (int i = 0; i < samples; ++i) last = reader.read(roots, target);
  const double c1 = cpu_seconds();
  const auto t1 = std::chrono::steady_clock::now();
  return {std::chrono::duration<double, std::micro>(t1 - t0).count() / samples, (c1 - c0) * 1e6 / samples};
}

}  // namespace

int main(int argc, char** argv) {
  int processes = 64, samples = 2000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--processes") == 0) processes = std::atoi(argv[i + 1]);
    else if (std::strcmp(argv[i], "--samples") == 0) samples = std::atoi(argv[i + 1]);
    else {
      std::fprintf(stderr, "usage: %s [--processes N] [--samples N]\n", argv[0]);
      return 64;
    }
  }
  if (processes < 1 || samples < 1) return 64;

  std::vector<pid_t> children;
  for (int i = 0; i < processes; ++i) {
    pid_t pid = fork();
    if (pid < 0) {
      std::perror("fork");
      break;
    }
    if (pid == 0) {
      for (;;) pause();
    }
    children.push_back(pid);
  }
  int rc = 0;
  const HostRoots roots;
  WorkloadMemoryReader reader;
  WorkloadTarget by_pids;
  for (pid_t p : children) by_pids.pids.push_back(static_cast<std::uint32_t>(p));

  WorkloadMemory m;
  auto procs = measure(reader, roots, by_pids, samples, m);
  std::printf("workload_memory processes=%zu read=%zu unreadable=%u\n", children.size(), m.processes.size(),
              m.processes_unreadable);
  std::printf("  processes source: %.1f us wall, %.1f us CPU per sample (%.2f us per process)\n", procs.wall_us,
              procs.cpu_us, procs.wall_us / static_cast<double>(children.size()));
  if (m.processes.size() != children.size()) rc = 1;

  auto own = memory_cgroup_of_pid(roots, static_cast<std::uint32_t>(getpid()));
  if (own) {
    WorkloadTarget by_cgroup;
    by_cgroup.cgroups.push_back(*own);
    auto cg = measure(reader, roots, by_cgroup, samples, m);
    std::printf("  cgroup source (%s %s): %.1f us wall, %.1f us CPU per sample; current=%s io devices=%zu\n",
                std::string(to_string(own->version)).c_str(), own->path.c_str(), cg.wall_us, cg.cpu_us,
                m.current ? std::to_string(*m.current).c_str() : "absent", m.io.size());
    std::printf("  cgroup + processes: %.1f us wall per sample (target <= 100 us)\n", cg.wall_us + procs.wall_us);
    if (!m.current) rc = 1;
  } else {
    std::printf("  cgroup source: no memory cgroup for this process (no v2 memory controller, no v1 memory hierarchy)\n");
  }

  for (pid_t p : children) kill(p, SIGKILL);
  for (pid_t p : children) waitpid(p, nullptr, 0);
  return rc;
}

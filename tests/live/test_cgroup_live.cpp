// Live: the workload memory reader against a real kernel. Creates a cgroup v1
// memory cgroup below this test's own, moves a child into it that touches a
// known 64 MiB of anonymous memory, and checks the composition the reader
// gives, from the cgroup and from the child's /proc files. Skips when not
// root or when this host has no v1 memory hierarchy. The cgroup is removed
// afterwards.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/file_cache.h"
#include "probes/cgroup.h"
#include "probes/workload_memory.h"

using namespace tierscope;
namespace fs = std::filesystem;

namespace {

constexpr std::size_t kTouched = std::size_t{64} << 20;

// AddressSanitizer keeps one shadow byte for every 8 bytes of the program's
// memory; where the kernel counts the touched region's shadow as the child's
// anonymous memory (seen: exactly 72 MiB for 64 MiB touched), the ground
// truth is kTouched plus up to an eighth of it.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif
constexpr double kShadowShare = kSanitized ? 1.0 / 8 : 0.0;

// The child: waits for a byte, touches kTouched bytes of anonymous memory,
// answers with a byte, then waits to be killed.
[[noreturn]] void child_main(int go_fd, int done_fd) {
  char c;
  if (read(go_fd, &c, 1) != 1) _exit(1);
  void* p = mmap(nullptr, kTouched, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) _exit(2);
  std::memset(p, 0x5a, kTouched);
  if (write(done_fd, "x", 1) != 1) _exit(3);
  for (;;) pause();
}

}  // namespace

TEST(CgroupLive, V1MemoryCgroupAccountsAChildsTouchedAnonymousMemory) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to create a memory cgroup";
  const HostRoots roots;
  auto mounts = find_cgroup_mounts(roots);
  if (!mounts.v1_memory || (mounts.v2 && mounts.v2_memory)) GTEST_SKIP() << "no cgroup v1 memory hierarchy here";
  auto own = memory_cgroup_of_pid(roots, static_cast<std::uint32_t>(getpid()));
  ASSERT_TRUE(own);
  ASSERT_EQ(own->version, CgroupVersion::v1);

  const std::string path =
      (own->path == "/" ? std::string() : own->path) + "/tierscope-live-" + std::to_string(getpid());
  auto cg = memory_cgroup_at(mounts, path);
  ASSERT_TRUE(cg);
  std::error_code ec;
  ASSERT_TRUE(fs::create_directory(cg->dir, ec)) << cg->dir << ": " << ec.message();

  int go[2], done[2];
  ASSERT_EQ(pipe(go), 0);
  ASSERT_EQ(pipe(done), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) child_main(go[0], done[1]);

  struct Cleanup {
    pid_t child;
    fs::path dir;
    ~Cleanup() {
      kill(child, SIGKILL);
      waitpid(child, nullptr, 0);
      std::error_code e;
      fs::remove(dir, e);  // rmdir of the now empty cgroup
    }
  } cleanup{child, cg->dir};

  {
    std::ofstream procs(cg->dir / "cgroup.procs");
    procs << child << '\n';
    procs.flush();
    ASSERT_TRUE(procs.good()) << "cannot move the child into " << cg->dir;
  }
  std::string buf;
  ASSERT_EQ(read_uncached(roots.procfs / std::to_string(child) / "cgroup", buf), 0);
  ASSERT_NE(buf.find(path), std::string::npos) << buf;
  ASSERT_EQ(write(go[1], "g", 1), 1);
  char c;
  ASSERT_EQ(read(done[0], &c, 1), 1);

  WorkloadMemoryReader reader;
  auto m = reader.read(roots, WorkloadTarget{{*cg}, {}});
  ASSERT_EQ(m.source, WorkloadSource::cgroup);
  ASSERT_TRUE(m.ram_anon);
  const double touched = static_cast<double>(kTouched);
  EXPECT_GE(static_cast<double>(*m.ram_anon), 0.97 * touched) << "total_rss " << *m.ram_anon;
  EXPECT_LE(static_cast<double>(*m.ram_anon), (1.03 + kShadowShare) * touched) << "total_rss " << *m.ram_anon;
  ASSERT_TRUE(m.current);
  EXPECT_GE(*m.current, kTouched);
  ASSERT_TRUE(m.peak);
  EXPECT_GE(*m.peak, kTouched);
  ASSERT_TRUE(m.limits.max);
  EXPECT_TRUE(m.limits.max->unlimited);  // a new cgroup has no limit
  EXPECT_EQ(m.events.oom_kill.value_or(0), 0u);

  // The same child by PID: its smaps_rollup.
  auto p = reader.read(roots, WorkloadTarget{{}, {static_cast<std::uint32_t>(child)}});
  ASSERT_EQ(p.source, WorkloadSource::processes);
  ASSERT_EQ(p.processes.size(), 1u);
  ASSERT_TRUE(p.ram_anon);
  EXPECT_GE(static_cast<double>(*p.ram_anon), 0.99 * touched);
  EXPECT_LE(static_cast<double>(*p.ram_anon), (1.10 + kShadowShare) * touched);
  std::printf("cgroup %s: total_rss %llu, usage %llu, peak %llu; child Pss_Anon %llu (touched %zu)\n", path.c_str(),
              static_cast<unsigned long long>(*m.ram_anon), static_cast<unsigned long long>(*m.current),
              static_cast<unsigned long long>(*m.peak), static_cast<unsigned long long>(*p.ram_anon), kTouched);
}

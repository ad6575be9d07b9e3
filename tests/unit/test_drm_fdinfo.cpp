// DRM fdinfo (Documentation/gpu/drm-usage-stats.rst, amdgpu_fdinfo.c): the
// parser on literal text (malformed, truncated, huge, unknown units), the fd
// link filter, the probe on the fdinfo-host fixture (expected numbers in
// tests/fixtures/fdinfo-host/README.md) and on temporary trees, and rendering.

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "core/metric_writer.h"
#include "probes/drm_fdinfo.h"
#include "probes/gpu.h"
#include "probes/workload.h"
#include "test_util.h"

using namespace tierscope;
using tierscope::testing::ProbeRig;
using tierscope::testing::TempDir;
namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t KiB = 1024, MiB = KiB * 1024, GiB = MiB * 1024;

// amdgpu on a 6.x kernel: drm core keys, drm_print_memory_stats, the legacy
// drm-memory-* keys (note "drm-memory-gtt: \t": a space before the tab) and
// the amd-* keys.
constexpr std::string_view kAmdgpu =
    "pos:\t0\n"
    "flags:\t02100002\n"
    "mnt_id:\t26\n"
    "ino:\t1061\n"
    "drm-driver:\tamdgpu\n"
    "drm-client-id:\t11\n"
    "drm-pdev:\t0000:c3:00.0\n"
    "pasid:\t32770\n"
    "drm-total-cpu:\t4 KiB\n"
    "drm-shared-cpu:\t0\n"
    "drm-resident-cpu:\t4 KiB\n"
    "drm-total-gtt:\t514 MiB\n"
    "drm-shared-gtt:\t2 MiB\n"
    "drm-active-gtt:\t0\n"
    "drm-resident-gtt:\t512 MiB\n"
    "drm-purgeable-gtt:\t0\n"
    "drm-total-vram:\t8200 MiB\n"
    "drm-resident-vram:\t8192 MiB\n"
    "drm-memory-vram:\t8396800 KiB\n"
    "drm-memory-gtt: \t526336 KiB\n"
    "drm-memory-cpu: \t4 KiB\n"
    "amd-memory-visible-vram:\t262144 KiB\n"
    "amd-evicted-vram:\t8192 KiB\n"
    "amd-evicted-visible-vram:\t0 KiB\n"
    "amd-requested-vram:\t8396800 KiB\n"
    "amd-requested-visible-vram:\t0 KiB\n"
    "amd-requested-gtt:\t526336 KiB\n"
    "drm-engine-gfx:\t123456789 ns\n"
    "drm-engine-compute:\t987654321 ns\n";

// amdgpu before drm-resident-* (kernel 5.17-6.3): drm-memory-* only.
constexpr std::string_view kOldAmdgpu =
    "pos:\t0\nflags:\t02100002\nmnt_id:\t26\n"
    "pasid:\t32771\n"
    "drm-driver:\tamdgpu\n"
    "drm-pdev:\t0000:c3:00.0\n"
    "drm-client-id:\t21\n"
    "drm-memory-vram:\t1048576 KiB\n"
    "drm-memory-gtt: \t65536 KiB\n"
    "drm-memory-cpu: \t0 KiB\n"
    "amd-memory-visible-vram:\t0 KiB\n"
    "drm-engine-gfx:\t5000000 ns\n";

// xe, as Documentation/gpu/xe/xe-drm-usage-stats.rst shows it.
constexpr std::string_view kXe =
    "pos:    0\nflags:  0100002\nmnt_id: 26\nino:    685\n"
    "drm-driver:     xe\n"
    "drm-client-id:  3\n"
    "drm-pdev:       0000:03:00.0\n"
    "drm-total-system:       0\n"
    "drm-resident-system:    0\n"
    "drm-total-gtt:  192 KiB\n"
    "drm-resident-gtt:       192 KiB\n"
    "drm-total-vram0:        23992 KiB\n"
    "drm-shared-vram0:       16 MiB\n"
    "drm-resident-vram0:     23992 KiB\n"
    "drm-cycles-rcs: 28257900\n"
    "drm-total-cycles-rcs:   7655183225\n"
    "drm-engine-capacity-vcs:        2\n";

std::optional<std::uint64_t> resident(const DrmFdinfo& info, std::string_view region) {
  const DrmRegionMemory* r = info.region(region);
  return r ? r->resident_bytes() : std::nullopt;
}

// "pid pdev driver region bytes" per entry.
std::vector<std::string> entries(const Snapshot& snap) {
  std::vector<std::string> out;
  if (!snap.get(kDrmFdinfo)) return out;
  for (const auto& e : snap.get(kDrmFdinfo)->entries)
    out.push_back(std::to_string(e.pid) + " " + e.pdev + " " + e.driver + " " + e.region + " " +
                  std::to_string(e.bytes));
  return out;
}
using Listing = std::vector<std::string>;

WorkloadProcesses watch(std::vector<std::uint32_t> pids) {
  WorkloadProcesses w;
  for (auto pid : pids) w.processes.push_back({pid, "p" + std::to_string(pid), "pid"});
  return w;
}

std::string amdgpu_client(std::uint64_t client_id, std::string_view vram) {
  return "drm-driver:\tamdgpu\ndrm-client-id:\t" + std::to_string(client_id) +
         "\ndrm-pdev:\t0000:c3:00.0\ndrm-resident-vram:\t" + std::string(vram) + "\n";
}

}  // namespace

// ---- parse_drm_size -------------------------------------------------------

TEST(DrmSize, BytesAndBinaryUnits) {
  EXPECT_EQ(parse_drm_size("0"), 0u);
  EXPECT_EQ(parse_drm_size("123"), 123u);
  EXPECT_EQ(parse_drm_size("4 KiB"), 4 * KiB);
  EXPECT_EQ(parse_drm_size("512 MiB"), 512 * MiB);
  EXPECT_EQ(parse_drm_size("3 GiB"), 3 * GiB);
  EXPECT_EQ(parse_drm_size(" \t7\tKiB \n"), 7 * KiB);
  EXPECT_EQ(parse_drm_size("7KiB"), 7 * KiB);
}

TEST(DrmSize, UnknownUnitsAndGarbageAreRejected) {
  for (std::string_view bad : {"", " ", "KiB", "4 kB", "4 KB", "4 kib", "4 TiB", "4 B", "4 ns", "4 KiB extra",
                               "-4", "+4", "0x10", "4.5 MiB", "4 Ki B", "four"})
    EXPECT_FALSE(parse_drm_size(bad)) << bad;
}

TEST(DrmSize, HugeValuesOverflowToNothing) {
  EXPECT_EQ(parse_drm_size("18446744073709551615"), UINT64_MAX);
  EXPECT_FALSE(parse_drm_size("18446744073709551616"));
  EXPECT_FALSE(parse_drm_size("99999999999999999999999999 KiB"));
  EXPECT_EQ(parse_drm_size("18014398509481983 KiB"), 18014398509481983ull * KiB);  // UINT64_MAX / 1024
  EXPECT_FALSE(parse_drm_size("18014398509481984 KiB"));
  EXPECT_FALSE(parse_drm_size("17179869184 GiB"));  // 2^34 GiB = 2^64
}

// ---- parse_drm_fdinfo -----------------------------------------------------

TEST(DrmFdinfoParse, Amdgpu) {
  DrmFdinfo info = parse_drm_fdinfo(kAmdgpu);
  EXPECT_EQ(info.driver, "amdgpu");
  EXPECT_EQ(info.pdev, "0000:c3:00.0");
  EXPECT_EQ(info.client_id, 11u);
  ASSERT_EQ(info.regions.size(), 3u);
  EXPECT_EQ(info.regions[0].region, "cpu");
  EXPECT_EQ(info.regions[1].region, "gtt");
  EXPECT_EQ(info.regions[2].region, "vram");
  const DrmRegionMemory* vram = info.region("vram");
  ASSERT_NE(vram, nullptr);
  EXPECT_EQ(vram->total, 8200 * MiB);
  EXPECT_EQ(vram->resident, 8192 * MiB);
  EXPECT_EQ(vram->memory, 8396800 * KiB);
  EXPECT_FALSE(vram->shared);
  EXPECT_EQ(vram->resident_bytes(), 8192 * MiB);  // drm-resident wins over the legacy key
  const DrmRegionMemory* gtt = info.region("gtt");
  EXPECT_EQ(gtt->shared, 2 * MiB);
  EXPECT_EQ(gtt->active, 0u);
  EXPECT_EQ(gtt->purgeable, 0u);
  EXPECT_EQ(gtt->memory, 526336 * KiB);  // "drm-memory-gtt: \t"
  EXPECT_EQ(resident(info, "gtt"), 512 * MiB);
  EXPECT_EQ(resident(info, "cpu"), 4 * KiB);
  EXPECT_EQ(info.amd_memory_visible_vram, 262144 * KiB);
  EXPECT_EQ(info.amd_evicted_vram, 8192 * KiB);
  EXPECT_EQ(info.amd_evicted_visible_vram, 0u);
  EXPECT_EQ(info.amd_requested_vram, 8396800 * KiB);
  EXPECT_EQ(info.amd_requested_visible_vram, 0u);
  EXPECT_EQ(info.amd_requested_gtt, 526336 * KiB);
  EXPECT_EQ(info.region("engine-gfx"), nullptr);
}

TEST(DrmFdinfoParse, OlderAmdgpuMemoryKeysMeanResident) {
  DrmFdinfo info = parse_drm_fdinfo(kOldAmdgpu);
  EXPECT_EQ(info.client_id, 21u);
  ASSERT_EQ(info.regions.size(), 3u);
  EXPECT_FALSE(info.region("vram")->resident);
  EXPECT_EQ(resident(info, "vram"), 1 * GiB);
  EXPECT_EQ(resident(info, "gtt"), 64 * MiB);
  EXPECT_EQ(resident(info, "cpu"), 0u);
  EXPECT_FALSE(info.amd_requested_vram);
}

TEST(DrmFdinfoParse, XeRegionsAndCyclesAreNotMemory) {
  DrmFdinfo info = parse_drm_fdinfo(kXe);
  EXPECT_EQ(info.driver, "xe");
  EXPECT_EQ(info.pdev, "0000:03:00.0");
  EXPECT_EQ(info.client_id, 3u);
  ASSERT_EQ(info.regions.size(), 3u);  // system, gtt, vram0; drm-total-cycles-rcs is no region
  EXPECT_EQ(info.region("cycles-rcs"), nullptr);
  EXPECT_EQ(resident(info, "system"), 0u);
  EXPECT_EQ(resident(info, "gtt"), 192 * KiB);
  EXPECT_EQ(resident(info, "vram0"), 23992 * KiB);
  EXPECT_EQ(info.region("vram0")->shared, 16 * MiB);
}

TEST(DrmFdinfoParse, NonDrmFilesHaveNoDriver) {
  // Real fdinfo of an inotify fd and an eventfd (captured host, pid 26231).
  DrmFdinfo info = parse_drm_fdinfo(
      "pos:\t0\nflags:\t02004000\nmnt_id:\t13\n"
      "inotify wd:3 ino:1 sdev:34 mask:fce ignored_mask:0 fhandle-bytes:c fhandle-type:81 "
      "f_handle:000000000100000000000000\n"
      "eventfd-count:                0\n");
  EXPECT_FALSE(info.driver);
  EXPECT_FALSE(info.client_id);
  EXPECT_TRUE(info.regions.empty());
  EXPECT_FALSE(parse_drm_fdinfo("").driver);
}

TEST(DrmFdinfoParse, MalformedLinesAreSkipped) {
  DrmFdinfo info = parse_drm_fdinfo(
      "garbage without colon\n"
      ":\t5\n"
      "drm driver:\tspaced-key\n"
      "drm-driver:\n"                       // empty value: not the driver
      "drm-driver:\tamd gpu\n"              // values hold no whitespace
      "drm-driver:\tamdgpu\r\n"
      "drm-client-id:\tnot-a-number\n"      // malformed: absent
      "drm-pdev:\t0000:c3:00.0\n"
      "drm-resident-:\t5\n"                 // empty region
      "drm-resident-vram:\t12 kB\n"         // unknown unit: skipped
      "drm-resident-gtt:\t-1\n"
      "drm-total-vram:\t99999999999999999999 KiB\n"
      "drm-resident-cpu\t7\n"               // no colon
      "drm-memory-vram:\t3 KiB\n"
      "drm-bogus-vram:\t1 KiB\n"            // unknown key
      "amd-requested-vram:\tlots\n"
      "amd-unknown:\t4 KiB\n");
  EXPECT_EQ(info.driver, "amdgpu");
  EXPECT_EQ(info.pdev, "0000:c3:00.0");
  EXPECT_FALSE(info.client_id);
  ASSERT_EQ(info.regions.size(), 1u);
  EXPECT_EQ(info.regions[0].region, "vram");
  EXPECT_FALSE(info.regions[0].resident);
  EXPECT_FALSE(info.regions[0].total);
  EXPECT_EQ(info.regions[0].resident_bytes(), 3 * KiB);
  EXPECT_FALSE(info.amd_requested_vram);
}

TEST(DrmFdinfoParse, ARepeatedKeyKeepsItsFirstValue) {
  DrmFdinfo info = parse_drm_fdinfo(
      "drm-driver:\tamdgpu\ndrm-driver:\ti915\n"
      "drm-client-id:\t1\ndrm-client-id:\t2\n"
      "drm-resident-vram:\t1 MiB\ndrm-resident-vram:\t2 MiB\n");
  EXPECT_EQ(info.driver, "amdgpu");
  EXPECT_EQ(info.client_id, 1u);
  EXPECT_EQ(resident(info, "vram"), 1 * MiB);
}

TEST(DrmFdinfoParse, TruncatedText) {
  // Cut anywhere, the parser never reads past the end and keeps whole keys.
  for (std::size_t n = 0; n <= kAmdgpu.size(); ++n) {
    DrmFdinfo info = parse_drm_fdinfo(kAmdgpu.substr(0, n));
    EXPECT_LE(info.regions.size(), 3u);
  }
  DrmFdinfo cut = parse_drm_fdinfo("drm-driver:\tamdgpu\ndrm-resident-vram:\t12");  // no final newline
  EXPECT_EQ(resident(cut, "vram"), 12u);
  cut = parse_drm_fdinfo("drm-driver:\tamdgpu\ndrm-resident-vr");
  EXPECT_TRUE(cut.regions.empty());
  cut = parse_drm_fdinfo("drm-driver:\tamdgpu\ndrm-resident-vram:\t12 Ki");
  EXPECT_TRUE(cut.regions.empty());
}

TEST(DrmFdinfoParse, HugeInputIsBounded) {
  std::string text = "drm-driver:\tamdgpu\n";
  for (int i = 0; i < 20000; ++i) text += "drm-resident-r" + std::to_string(i) + ":\t1 KiB\n";
  text += std::string(1 << 20, 'x') + ":\t5\n";  // a 1 MiB key with no meaning
  DrmFdinfo info = parse_drm_fdinfo(text);
  EXPECT_EQ(info.driver, "amdgpu");
  EXPECT_EQ(info.regions.size(), 64u);
  EXPECT_EQ(info.regions.front().region, "r0");
}

// ---- drm_node_of_link -----------------------------------------------------

TEST(DrmNodeOfLink, RenderAndCardNodes) {
  const fs::path fd_dir = "/proc/1/fd", dev = "/dev";
  EXPECT_EQ(drm_node_of_link("/dev/dri/renderD128", fd_dir, dev), "renderD128");
  EXPECT_EQ(drm_node_of_link("/dev/dri/card0", fd_dir, dev), "card0");
  EXPECT_EQ(drm_node_of_link("/dev/dri/card1 (deleted)", fd_dir, dev), "card1");
  for (std::string_view other : {"/dev/dri/renderD", "/dev/dri/renderD12x", "/dev/dri/by-path/pci-0000:c3:00.0-render",
                                 "/dev/dri", "/dev/kfd", "/dev/null", "/dev/nvidia0", "socket:[40001]",
                                 "anon_inode:[eventfd]", "pipe:[1]", "/dri/renderD128", "", "../../../dev/dri/renderD128",
                                 "/home/u/dev/dri/renderD128"})
    EXPECT_FALSE(drm_node_of_link(other, fd_dir, dev)) << other;
}

TEST(DrmNodeOfLink, LinksIntoAFixtureDevRoot) {
  const fs::path root = "/srv/fixture";
  const fs::path fd_dir = root / "proc/4242/fd", dev = root / "dev";
  EXPECT_EQ(drm_node_of_link("../../../dev/dri/renderD128", fd_dir, dev), "renderD128");
  EXPECT_EQ(drm_node_of_link("/srv/fixture/dev/dri/card1", fd_dir, dev), "card1");
  EXPECT_EQ(drm_node_of_link("/dev/dri/renderD129", fd_dir, dev), "renderD129");  // literal, as the kernel shows
  EXPECT_FALSE(drm_node_of_link("../../../dev/null", fd_dir, dev));
  EXPECT_FALSE(drm_node_of_link("../../dev/dri/renderD128", fd_dir, dev));  // proc/dev/dri: not the dev root
  EXPECT_FALSE(drm_node_of_link("/srv/fixture/dev/dri/by-path/x", fd_dir, dev));
}

// ---- the probe on the fixture host ----------------------------------------

class FdinfoHost : public ::testing::Test {
 protected:
  FdinfoHost() : rig(tierscope::testing::fixture_roots("fdinfo-host")) {}
  // The workload probe first, as in the sampler.
  ProbeOutcome run(WorkloadSelection selection) {
    WorkloadProbe workload(std::move(selection), std::chrono::milliseconds(0));
    EXPECT_EQ(rig.run(workload).status, ProbeStatus::ok);
    return rig.run(drm);
  }
  ProbeRig rig;
  DrmFdinfoProbe drm;
};

TEST_F(FdinfoHost, SharedClientCountsOnceForTheLowestPid) {
  WorkloadSelection s;
  s.process_names = {"llama-server"};
  s.systemd_units = {"llama.service"};
  EXPECT_EQ(run(s).status, ProbeStatus::ok);
  EXPECT_EQ(drm.name(), "drm_fdinfo");
  EXPECT_EQ(entries(rig.snap),
            (Listing{
                // client 11 (fds 5 and 6 of 4242, fd 5 of 4243): once, for 4242; drm-resident, not drm-memory
                "4242 0000:04:00.0 xe gtt 196608",
                "4242 0000:04:00.0 xe stolen 0",
                "4242 0000:04:00.0 xe system 0",
                "4242 0000:04:00.0 xe vram0 24567808",
                "4242 0000:c3:00.0 amdgpu cpu 4096",
                "4242 0000:c3:00.0 amdgpu gtt 536870912",
                "4242 0000:c3:00.0 amdgpu vram 8589934592",
                // 4243: only its own client 13 on the card node
                "4243 0000:c3:00.0 amdgpu cpu 0",
                "4243 0000:c3:00.0 amdgpu gtt 2097152",
                "4243 0000:c3:00.0 amdgpu vram 314572800",
                // 4250: older amdgpu, drm-memory-* only
                "4250 0000:c3:00.0 amdgpu cpu 0",
                "4250 0000:c3:00.0 amdgpu gtt 67108864",
                "4250 0000:c3:00.0 amdgpu vram 1073741824",
            }));
  EXPECT_EQ(rig.snap.get(kDrmFdinfo)->vanished_processes, 0u);
  EXPECT_EQ(rig.snap.get(kDrmFdinfo)->unreadable_processes, 0u);
}

TEST_F(FdinfoHost, ASharedClientGoesToTheWatchedHolderWhenTheParentIsNotWatched) {
  WorkloadSelection s;
  s.pids = {4243};
  EXPECT_EQ(run(s).status, ProbeStatus::ok);
  EXPECT_EQ(entries(rig.snap), (Listing{
                                   "4243 0000:c3:00.0 amdgpu cpu 4096",                     // 4096 + 0
                                   "4243 0000:c3:00.0 amdgpu gtt 538968064",                // 512 MiB + 2 MiB
                                   "4243 0000:c3:00.0 amdgpu vram 8904507392",              // 8192 MiB + 300 MiB
                               }));
}

TEST_F(FdinfoHost, UnwatchedProcessesAreNeverRead) {
  WorkloadSelection s;
  s.pids = {1};  // no DRM fd
  EXPECT_EQ(run(s).status, ProbeStatus::ok);
  ASSERT_TRUE(rig.snap.get(kDrmFdinfo));
  EXPECT_TRUE(rig.snap.get(kDrmFdinfo)->entries.empty());

  s.pids = {5000};
  EXPECT_EQ(run(s).status, ProbeStatus::ok);
  EXPECT_EQ(entries(rig.snap), (Listing{"5000 0000:c3:00.0 amdgpu cpu 0", "5000 0000:c3:00.0 amdgpu gtt 67108864",
                                        "5000 0000:c3:00.0 amdgpu vram 268435456"}));
}

TEST_F(FdinfoHost, NoWatchedProcessIsNoData) {
  EXPECT_EQ(rig.run(drm).status, ProbeStatus::no_data);  // no workload reading at all
  EXPECT_FALSE(rig.snap.get(kDrmFdinfo));
  WorkloadSelection s;
  s.pids = {999};  // configured, not running
  EXPECT_EQ(run(s).status, ProbeStatus::no_data);
  EXPECT_FALSE(rig.snap.get(kDrmFdinfo));
}

// ---- the probe on temporary trees -----------------------------------------

TEST(DrmFdinfoProbe, VanishedProcessIsSkippedAndCounted) {
  ProbeRig rig(tierscope::testing::fixture_roots("fdinfo-host"));
  rig.snap.put(kWorkload, watch({4250, 7777}));  // 7777 exited after the workload scan
  DrmFdinfoProbe drm;
  EXPECT_EQ(rig.run(drm).status, ProbeStatus::ok);
  ASSERT_TRUE(rig.snap.get(kDrmFdinfo));
  EXPECT_EQ(rig.snap.get(kDrmFdinfo)->vanished_processes, 1u);
  EXPECT_EQ(rig.snap.get(kDrmFdinfo)->unreadable_processes, 0u);
  EXPECT_EQ(rig.snap.get(kDrmFdinfo)->entries.size(), 3u);

  rig.snap.put(kWorkload, watch({7777}));  // every watched process gone: still a success
  EXPECT_EQ(rig.run(drm).status, ProbeStatus::ok);
  EXPECT_TRUE(rig.snap.get(kDrmFdinfo)->entries.empty());
  EXPECT_EQ(rig.snap.get(kDrmFdinfo)->vanished_processes, 1u);
}

TEST(DrmFdinfoProbe, UnreadableProcessesFailOnlyWhenAllAre) {
  TempDir t;
  t.symlink("/dev/dri/renderD128", "proc/100/fd/4");
  t.write("proc/100/fdinfo/4", amdgpu_client(1, "1 MiB"));
  t.write("proc/200/fd", "");  // fd/ cannot be listed (ENOTDIR)
  t.write("proc/200/comm", "x\n");
  ProbeRig rig(t.roots());
  DrmFdinfoProbe drm;

  rig.snap.put(kWorkload, watch({100, 200}));
  EXPECT_EQ(rig.run(drm).status, ProbeStatus::ok);
  EXPECT_EQ(entries(rig.snap), (Listing{"100 0000:c3:00.0 amdgpu vram 1048576"}));
  EXPECT_EQ(rig.snap.get(kDrmFdinfo)->unreadable_processes, 1u);

  rig.snap = Snapshot{};  // a fresh sample: no drm_fdinfo reading yet
  rig.snap.put(kWorkload, watch({200}));
  ProbeOutcome o = rig.run(drm);
  EXPECT_EQ(o.status, ProbeStatus::error);
  EXPECT_NE(o.error.find("proc/200/fd"), std::string::npos) << o.error;
  EXPECT_FALSE(rig.snap.get(kDrmFdinfo));
}

TEST(DrmFdinfoProbe, PermissionDeniedNamesPtraceAccess) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads every /proc/<pid>/fd (and every mode-000 directory)";
  TempDir t;
  t.symlink("/dev/dri/renderD128", "proc/100/fd/4");
  fs::permissions(t.path() / "proc/100/fd", fs::perms::none);
  ProbeRig rig(t.roots());
  rig.snap.put(kWorkload, watch({100}));
  DrmFdinfoProbe drm;
  ProbeOutcome o = rig.run(drm);
  fs::permissions(t.path() / "proc/100/fd", fs::perms::owner_all);
  EXPECT_EQ(o.status, ProbeStatus::error);
  EXPECT_NE(o.error.find("ptrace"), std::string::npos) << o.error;
}

TEST(DrmFdinfoProbe, FdClosedBetweenListingAndReadIsSkipped) {
  TempDir t;
  t.symlink("/dev/dri/renderD128", "proc/100/fd/4");  // no fdinfo/4: closed meanwhile
  t.symlink("/dev/dri/renderD128", "proc/100/fd/5");
  t.write("proc/100/fdinfo/5", amdgpu_client(2, "2 MiB"));
  ProbeRig rig(t.roots());
  rig.snap.put(kWorkload, watch({100}));
  DrmFdinfoProbe drm;
  EXPECT_EQ(rig.run(drm).status, ProbeStatus::ok);
  EXPECT_EQ(entries(rig.snap), (Listing{"100 0000:c3:00.0 amdgpu vram 2097152"}));
  EXPECT_EQ(rig.snap.get(kDrmFdinfo)->vanished_processes + rig.snap.get(kDrmFdinfo)->unreadable_processes, 0u);
}

TEST(DrmFdinfoProbe, ClientsWithoutIdCountPerFdAndWithoutPdevUseTheNode) {
  TempDir t;
  const std::string no_id = "drm-driver:\tv3d\ndrm-resident-memory:\t1 MiB\n";
  t.symlink("/dev/dri/renderD128", "proc/100/fd/4");
  t.symlink("/dev/dri/renderD128", "proc/100/fd/5");
  t.write("proc/100/fdinfo/4", no_id);
  t.write("proc/100/fdinfo/5", no_id);
  t.symlink("/dev/dri/card0", "proc/100/fd/6");
  t.write("proc/100/fdinfo/6", "pos:\t0\nflags:\t02\n");  // a driver without usage stats
  ProbeRig rig(t.roots());
  rig.snap.put(kWorkload, watch({100}));
  DrmFdinfoProbe drm;
  EXPECT_EQ(rig.run(drm).status, ProbeStatus::ok);
  EXPECT_EQ(entries(rig.snap), (Listing{"100 renderD128 v3d memory 2097152"}));
}

TEST(DrmFdinfoProbe, SameClientIdOnAnotherGpuIsAnotherClient) {
  TempDir t;
  t.symlink("/dev/dri/renderD128", "proc/100/fd/4");
  t.write("proc/100/fdinfo/4", amdgpu_client(7, "1 MiB"));
  t.symlink("/dev/dri/renderD129", "proc/100/fd/5");
  t.write("proc/100/fdinfo/5", "drm-driver:\tamdgpu\ndrm-client-id:\t7\ndrm-pdev:\t0000:03:00.0\n"
                               "drm-resident-vram:\t3 MiB\n");
  t.symlink("/dev/dri/renderD128", "proc/100/fd/6");  // same client as fd 4
  t.write("proc/100/fdinfo/6", amdgpu_client(7, "1 MiB"));
  t.symlink("/dev/dri/renderD128", "proc/100/fd/10");  // another client on the first GPU
  t.write("proc/100/fdinfo/10", amdgpu_client(8, "4 MiB"));
  ProbeRig rig(t.roots());
  rig.snap.put(kWorkload, watch({100}));
  DrmFdinfoProbe drm;
  EXPECT_EQ(rig.run(drm).status, ProbeStatus::ok);
  EXPECT_EQ(entries(rig.snap), (Listing{"100 0000:03:00.0 amdgpu vram 3145728",
                                        "100 0000:c3:00.0 amdgpu vram 5242880"}));
}

// ---- rendering ------------------------------------------------------------

TEST(DrmFdinfoRender, GpuIsTheAmdgpuCardWithThatPciAddressElseThePdev) {
  DrmMemoryUsage usage;
  usage.entries = {{4242, "0000:c3:00.0", "amdgpu", "vram", 8 * GiB},
                   {4242, "0000:04:00.0", "xe", "vram0", 24567808},
                   {4250, "0000:c3:00.0", "amdgpu", "gtt", 64 * MiB}};
  GpuInventory amd;
  GpuReading card;
  card.id = "card1";
  card.vendor = "amd";
  card.pci_bus_id = "0000:C3:00.0";  // case differs: still the same address
  amd.gpus.push_back(card);
  WorkloadProcesses watched;
  watched.processes = {{4242, "llama-server", "name:llama-server"}, {4250, "python3", "unit:llama.service"}};

  MetricWriter w;
  render_drm_fdinfo(usage, &amd, &watched, w);
  auto fams = std::move(w).finish();
  ASSERT_EQ(fams.size(), 1u);
  EXPECT_EQ(fams[0].name, "tierscope_process_gpu_memory_bytes");
  ASSERT_EQ(fams[0].metric.size(), 3u);
  EXPECT_EQ(fams[0].metric[0].label,
            (Labels{{"comm", "llama-server"}, {"gpu", "0000:04:00.0"}, {"pid", "4242"}, {"region", "vram0"}}));
  EXPECT_EQ(fams[0].metric[0].gauge.value, 24567808);
  EXPECT_EQ(fams[0].metric[1].label,
            (Labels{{"comm", "llama-server"}, {"gpu", "card1"}, {"pid", "4242"}, {"region", "vram"}}));
  EXPECT_EQ(fams[0].metric[1].gauge.value, static_cast<double>(8 * GiB));
  EXPECT_EQ(fams[0].metric[2].label,
            (Labels{{"comm", "python3"}, {"gpu", "card1"}, {"pid", "4250"}, {"region", "gtt"}}));

  MetricWriter bare;  // no amdgpu inventory, no workload
  render_drm_fdinfo(usage, nullptr, nullptr, bare);
  auto plain = std::move(bare).finish();
  ASSERT_EQ(plain[0].metric.size(), 3u);
  EXPECT_EQ(plain[0].metric[1].label,
            (Labels{{"comm", ""}, {"gpu", "0000:c3:00.0"}, {"pid", "4242"}, {"region", "vram"}}));
}

// ---- which fds are DRM: discovered at first sight and per interval --------

TEST(DrmFdinfoProbe, BetweenDiscoveriesOnlyKnownDrmFdsAreRead) {
  TempDir t;
  t.symlink("/dev/null", "proc/100/fd/0");
  t.symlink("/dev/dri/renderD128", "proc/100/fd/4");
  t.write("proc/100/fdinfo/4", amdgpu_client(1, "1 MiB"));
  ProbeRig rig(t.roots());
  rig.snap.put(kWorkload, watch({100}));
  DrmFdinfoProbe drm(std::chrono::hours(1));
  EXPECT_EQ(rig.run(drm).status, ProbeStatus::ok);
  EXPECT_EQ(entries(rig.snap), (Listing{"100 0000:c3:00.0 amdgpu vram 1048576"}));

  // Opened since: a new number, and a reused one. Both wait for the next
  // discovery; the known client's figure is read again.
  t.symlink("/dev/dri/renderD128", "proc/100/fd/7");
  t.write("proc/100/fdinfo/7", amdgpu_client(2, "2 MiB"));
  fs::remove(t.path() / "proc/100/fd/0");
  t.symlink("/dev/dri/renderD128", "proc/100/fd/0");
  t.write("proc/100/fdinfo/0", amdgpu_client(3, "4 MiB"));
  t.write("proc/100/fdinfo/4", amdgpu_client(1, "8 MiB"));
  EXPECT_EQ(rig.run(drm).status, ProbeStatus::ok);
  EXPECT_EQ(entries(rig.snap), (Listing{"100 0000:c3:00.0 amdgpu vram 8388608"}));

  // A process watched from now on is discovered at once.
  t.symlink("/dev/dri/card1", "proc/200/fd/3");
  t.write("proc/200/fdinfo/3", amdgpu_client(9, "16 MiB"));
  rig.snap.put(kWorkload, watch({100, 200}));
  EXPECT_EQ(rig.run(drm).status, ProbeStatus::ok);
  EXPECT_EQ(entries(rig.snap), (Listing{"100 0000:c3:00.0 amdgpu vram 8388608", "200 0000:c3:00.0 amdgpu vram 16777216"}));

  // The DRM fd 4 closed and its number reused for a plain file: no drm- keys.
  fs::remove(t.path() / "proc/100/fd/4");
  t.symlink("/var/log/x.log", "proc/100/fd/4");
  t.write("proc/100/fdinfo/4", "pos:\t0\nflags:\t02\nmnt_id:\t27\n");
  EXPECT_EQ(rig.run(drm).status, ProbeStatus::ok);
  EXPECT_EQ(entries(rig.snap), (Listing{"200 0000:c3:00.0 amdgpu vram 16777216"}));

  drm.force_rescan();
  EXPECT_EQ(rig.run(drm).status, ProbeStatus::ok);
  EXPECT_EQ(entries(rig.snap), (Listing{"100 0000:c3:00.0 amdgpu vram 6291456",  // fds 0 and 7: 4 + 2 MiB
                                        "200 0000:c3:00.0 amdgpu vram 16777216"}));

  // Closed: its fdinfo goes with it, and it stops counting at once.
  fs::remove(t.path() / "proc/100/fd/7");
  fs::remove(t.path() / "proc/100/fdinfo/7");
  EXPECT_EQ(rig.run(drm).status, ProbeStatus::ok);
  EXPECT_EQ(entries(rig.snap), (Listing{"100 0000:c3:00.0 amdgpu vram 4194304", "200 0000:c3:00.0 amdgpu vram 16777216"}));

  // Exited: counted as vanished on the next read of its fdinfo.
  fs::remove_all(t.path() / "proc/200");
  EXPECT_EQ(rig.run(drm).status, ProbeStatus::ok);
  EXPECT_EQ(entries(rig.snap), (Listing{"100 0000:c3:00.0 amdgpu vram 4194304"}));
  EXPECT_EQ(rig.snap.get(kDrmFdinfo)->vanished_processes, 1u);
}

TEST(DrmFdinfoProbe, ZeroIntervalDiscoversOnEverySample) {
  TempDir t;
  t.symlink("/dev/null", "proc/100/fd/0");
  ProbeRig rig(t.roots());
  rig.snap.put(kWorkload, watch({100}));
  DrmFdinfoProbe drm(std::chrono::milliseconds(0));
  EXPECT_EQ(rig.run(drm).status, ProbeStatus::ok);
  EXPECT_TRUE(entries(rig.snap).empty());
  fs::remove(t.path() / "proc/100/fd/0");
  t.symlink("/dev/dri/card0", "proc/100/fd/0");
  t.write("proc/100/fdinfo/0", amdgpu_client(3, "4 MiB"));
  EXPECT_EQ(rig.run(drm).status, ProbeStatus::ok);
  EXPECT_EQ(entries(rig.snap), (Listing{"100 0000:c3:00.0 amdgpu vram 4194304"}));
}

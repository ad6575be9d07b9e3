// NVMe admin data: the Identify Controller and SMART/health log parsers on
// literal bytes, the probe's cache and error handling with a fake admin
// channel, the one-line logging of read failures, the rendered series, the
// libnvme channel's failure paths, and the `nvme` config section.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <initializer_list>
#include <map>

#include "emulation.h"
#include "core/metric_writer.h"
#include "daemon/config.h"
#include "probes/nvme.h"
#include "probes/nvme_libnvme.h"
#include "probes/offload.h"
#include "probes/sampler.h"
#include "probes/snapshot.h"
#include "test_util.h"

using namespace tierscope;
using namespace std::chrono_literals;
using tierscope::testing::ProbeRig;
using tierscope::testing::TempDir;
using tierscope::testing::CapturedLog;
using tierscope::testing::drain;
using tierscope::testing::series;

namespace {

using Page = std::vector<std::uint8_t>;

// A zeroed buffer with literal bytes written at the given offsets.
Page bytes(std::size_t size, std::initializer_list<std::pair<std::size_t, std::initializer_list<std::uint8_t>>> at) {
  Page p(size, 0);
  for (const auto& [offset, literal] : at) std::copy(literal.begin(), literal.end(), p.begin() + static_cast<long>(offset));
  return p;
}

// A health log page as a drive could return it; the comments give the values.
Page sample_log_page() {
  return bytes(kNvmeSmartLogSize, {
      {0, {0x04}},                          // critical warning: reliability degraded
      {1, {0x3c, 0x01}},                    // composite temperature 316 K = 43 C
      {3, {0x64}},                          // available spare 100 %
      {4, {0x0a}},                          // threshold 10 %
      {5, {0x03}},                          // percentage used 3 %
      {32, {0x61, 0x46, 0x58}},             // data units read 5,785,185
      {48, {0, 0, 0, 0, 0, 0, 0, 0, 0x01}}, // data units written 2^64
      {64, {0x8a, 0xcc, 0x3b, 0x19}},       // host reads 423,349,386
      // host writes 2^64 + 2^63 + 2049: the nearest double is 2^64 + 2^63 + 4096
      {80, {0x01, 0x08, 0, 0, 0, 0, 0, 0x80, 0x01}},
      {96, {0x2d, 0x03}},                   // controller busy 813 minutes
      {112, {0x0a}},                        // power cycles 10
      {128, {0x32, 0x09}},                  // power on hours 2,354
      {144, {0x05}},                        // unsafe shutdowns 5
      // media errors 0 (bytes 160-175 stay zero)
      {176, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},  // 2^128 - 1
      {192, {0x02}},                        // warning temperature time 2 minutes
      {196, {0x01}},                        // critical temperature time 1 minute
      {200, {0x3c, 0x01, 0x2f, 0x01}},      // sensor 1: 316 K, sensor 2: 303 K, 3-8 not implemented
  });
}

Page sample_identify() {
  Page id = bytes(kNvmeIdentifySize, {{0, {0x87, 0x19}}, {2, {0x87, 0x19}}});
  auto text = [&](std::size_t offset, std::string_view s, std::size_t width) {
    std::fill(id.begin() + static_cast<long>(offset), id.begin() + static_cast<long>(offset + width), ' ');
    std::copy(s.begin(), s.end(), id.begin() + static_cast<long>(offset));
  };
  text(4, "511240904A12345678", 20);
  text(24, "PHISON AI100E 2TB", 40);
  text(64, "EFCM32.1", 8);
  return id;
}

// ---- fakes -------------------------------------------------------------------

class FakeChannel : public NvmeAdminChannel {
 public:
  NvmeAdminReply identify_controller(const HostRoots&, std::string_view controller) override {
    ++identify_calls;
    seen.emplace_back(controller);
    return identify;
  }
  NvmeAdminReply smart_log(const HostRoots&, std::string_view) override {
    ++log_calls;
    return log;
  }
  NvmeAdminReply identify{sample_identify(), 0, ""};
  NvmeAdminReply log{sample_log_page(), 0, ""};
  int identify_calls = 0, log_calls = 0;
  std::vector<std::string> seen;
};

struct FakeClock {
  std::chrono::steady_clock::time_point now = std::chrono::steady_clock::time_point{} + 1000s;
  NvmeProbe::Clock fn() {
    return [this] { return now; };
  }
};

// A controller directory in sysfs, enough for the probe.
void controller(const TempDir& t, const std::string& name, const std::string& state = "live") {
  const std::string dir = "sys/devices/virtual/nvme-fabrics/ctl/" + name;
  t.write(dir + "/model", "PHISON AI100E 2TB\n");
  t.write(dir + "/serial", "511240904A12345678\n");
  t.write(dir + "/firmware_rev", "EFCM32.1\n");
  t.write(dir + "/state", state + "\n");
  t.symlink("../../devices/virtual/nvme-fabrics/ctl/" + name, "sys/class/nvme/" + name);
}

}  // namespace

// ---- 128-bit counters ------------------------------------------------------

TEST(NvmeU128, ConvertsToTheNearestDouble) {
  EXPECT_EQ(nvme_u128_to_double({0, 0}), 0.0);
  EXPECT_EQ(nvme_u128_to_double({423349386, 0}), 423349386.0);
  EXPECT_EQ(nvme_u128_to_double({(1ull << 53) + 1, 0}), 9007199254740992.0);  // tie: to even
  EXPECT_EQ(nvme_u128_to_double({~0ull, 0}), 18446744073709551616.0);         // 2^64 - 1 rounds up
  EXPECT_EQ(nvme_u128_to_double({0, 1}), 18446744073709551616.0);             // 2^64
  EXPECT_EQ(nvme_u128_to_double({2048, 1}), 18446744073709551616.0);          // 2^64 + ulp/2: tie, to even
  EXPECT_EQ(nvme_u128_to_double({2049, 1}), 18446744073709555712.0);          // just above the tie
  // hi x 2^64 + lo in doubles would round lo first (to 2^63 + 2048) and then
  // hit a tie: 2^64 + 2^63. The single rounding gives one ulp more.
  EXPECT_EQ(nvme_u128_to_double({(1ull << 63) + 2049, 1}), 27670116110564331520.0);
  EXPECT_EQ(nvme_u128_to_double({~0ull, ~0ull}), 340282366920938463463374607431768211456.0);  // 2^128
}

TEST(NvmeU128, MatchesTheCompilersCorrectlyRoundedConversion) {
  __extension__ using u128 = unsigned __int128;
  std::uint64_t x = 0x9e3779b97f4a7c15ull;
  for (int i = 0; i < 20000; ++i) {
    // xorshift; shifts so that every width from 1 to 128 bits comes up
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    std::uint64_t y = x * 0xbf58476d1ce4e5b9ull;
    NvmeU128 v{y, x >> (i % 64)};
    if (i % 3 == 0) v.hi = 0, v.lo >>= (i % 64);
    const u128 exact = (u128{v.hi} << 64) | v.lo;
    ASSERT_EQ(nvme_u128_to_double(v), static_cast<double>(exact)) << v.hi << ":" << v.lo;
    for (std::uint32_t factor : {60u, 3600u, 512000u}) {
      if (v.hi >= (1ull << 40)) continue;  // the product would not fit in 128 bits
      ASSERT_EQ(nvme_u128_times(v, factor), static_cast<double>(exact * factor)) << v.hi << ":" << v.lo << " x" << factor;
    }
  }
}

TEST(NvmeU128, ScalesExactlyBeforeRounding) {
  EXPECT_EQ(nvme_u128_times({5785185, 0}, 512000), 2962014720000.0);
  EXPECT_EQ(nvme_u128_times({0, 1}, 512000), 9444732965739290427392000.0);  // 2^64 data units
  EXPECT_EQ(nvme_u128_times({~0ull, ~0ull}, 512000), 512000.0 * 340282366920938463463374607431768211456.0);
  EXPECT_EQ(nvme_u128_times({2354, 0}, 3600), 8474400.0);
}

// ---- the health log page -----------------------------------------------------

TEST(NvmeSmartLog, ParsesEveryFieldAtItsSpecOffset) {
  auto page = sample_log_page();
  auto h = parse_nvme_smart_log(page);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->critical_warning, 0x04);
  EXPECT_EQ(h->composite_temperature_k, 316);
  EXPECT_EQ(h->available_spare_percent, 100);
  EXPECT_EQ(h->available_spare_threshold_percent, 10);
  EXPECT_EQ(h->percentage_used, 3);
  EXPECT_EQ(h->data_units_read, (NvmeU128{5785185, 0}));
  EXPECT_EQ(h->data_units_written, (NvmeU128{0, 1}));
  EXPECT_EQ(h->host_read_commands, (NvmeU128{423349386, 0}));
  EXPECT_EQ(h->host_write_commands, (NvmeU128{(1ull << 63) + 2049, 1}));
  EXPECT_EQ(h->controller_busy_minutes, (NvmeU128{813, 0}));
  EXPECT_EQ(h->power_cycles, (NvmeU128{10, 0}));
  EXPECT_EQ(h->power_on_hours, (NvmeU128{2354, 0}));
  EXPECT_EQ(h->unsafe_shutdowns, (NvmeU128{5, 0}));
  EXPECT_EQ(h->media_errors, (NvmeU128{0, 0}));
  EXPECT_EQ(h->error_log_entries, (NvmeU128{~0ull, ~0ull}));
  EXPECT_EQ(h->warning_temperature_minutes, 2u);
  EXPECT_EQ(h->critical_temperature_minutes, 1u);
  EXPECT_EQ(h->sensor_temperature_k[0], 316);
  EXPECT_EQ(h->sensor_temperature_k[1], 303);
  for (std::size_t i = 2; i < 8; ++i) EXPECT_FALSE(h->sensor_temperature_k[i]) << i;
}

TEST(NvmeSmartLog, ZeroKelvinIsNotReported) {
  auto h = parse_nvme_smart_log(bytes(kNvmeSmartLogSize, {{210, {0x2a, 0x01}}}));  // sensor 6 only
  ASSERT_TRUE(h);
  EXPECT_FALSE(h->composite_temperature_k);
  for (std::size_t i = 0; i < 8; ++i) EXPECT_EQ(h->sensor_temperature_k[i].has_value(), i == 5) << i;
  EXPECT_EQ(h->sensor_temperature_k[5], 298);
  // The largest field values: 0xffff K, 0xffffffff minutes.
  h = parse_nvme_smart_log(bytes(kNvmeSmartLogSize, {{1, {0xff, 0xff}}, {196, {0xff, 0xff, 0xff, 0xff}}}));
  EXPECT_EQ(h->composite_temperature_k, 65535);
  EXPECT_EQ(h->critical_temperature_minutes, 0xffffffffu);
}

TEST(NvmeSmartLog, RejectsAnythingButA512BytePage) {
  EXPECT_FALSE(parse_nvme_smart_log(Page{}));
  EXPECT_FALSE(parse_nvme_smart_log(Page(511, 0)));
  EXPECT_FALSE(parse_nvme_smart_log(Page(513, 0)));
  EXPECT_FALSE(parse_nvme_smart_log(Page(kNvmeIdentifySize, 0)));
}

TEST(NvmeSmartLog, KelvinToCelsiusAsNvmeCliPrintsIt) {
  EXPECT_EQ(nvme_kelvin_to_celsius(316), 43.0);
  EXPECT_EQ(nvme_kelvin_to_celsius(273), 0.0);
  EXPECT_EQ(nvme_kelvin_to_celsius(1), -272.0);
}

// ---- Identify Controller ---------------------------------------------------

TEST(NvmeIdentify, ParsesIdsAndTrimsPadding) {
  auto id = parse_nvme_identify_controller(sample_identify());
  ASSERT_TRUE(id);
  EXPECT_EQ(id->vid, 0x1987);
  EXPECT_EQ(id->ssvid, 0x1987);
  EXPECT_EQ(id->serial, "511240904A12345678");
  EXPECT_EQ(id->model, "PHISON AI100E 2TB");
  EXPECT_EQ(id->firmware, "EFCM32.1");
}

TEST(NvmeIdentify, FieldsAreFixedWidthWithNulOrSpacePadding) {
  // vid 0x144d, ssvid 0x1e4b; a right-aligned serial, a NUL-padded model and a
  // firmware that fills all 8 bytes; byte 72 on (RAB, IEEE, ...) is not text.
  auto data = bytes(kNvmeIdentifySize, {{0, {0x4d, 0x14, 0x4b, 0x1e}},
                                       {4, {' ', ' ', 'S', '4', 'E', 'W', 'N', 'X', '0', 'R', '1', '2', '3', '4', '5',
                                            '6', ' ', ' ', ' ', ' '}},
                                       {24, {'M', 'Z', '-', 'V', '7', 'S', '1', 'T', '0'}},
                                       {64, {'2', 'B', '2', 'Q', 'E', 'X', 'M', '7'}},
                                       {72, {'X'}}});
  auto id = parse_nvme_identify_controller(data);
  ASSERT_TRUE(id);
  EXPECT_EQ(id->vid, 0x144d);
  EXPECT_EQ(id->ssvid, 0x1e4b);
  EXPECT_EQ(id->serial, "S4EWNX0R123456");
  EXPECT_EQ(id->model, "MZ-V7S1T0");
  EXPECT_EQ(id->firmware, "2B2QEXM7");
  // All padding: empty strings, not absent.
  id = parse_nvme_identify_controller(Page(kNvmeIdentifySize, 0));
  ASSERT_TRUE(id);
  EXPECT_EQ(id->model, "");
  EXPECT_FALSE(parse_nvme_identify_controller(Page(72, 0)));
  EXPECT_FALSE(parse_nvme_identify_controller(Page(kNvmeSmartLogSize, 0)));
}

// ---- the probe: cache, errors ------------------------------------------------

TEST(NvmeHealthProbe, FirstSampleReadsThenTheCacheServesUntilTheInterval) {
  TempDir t;
  controller(t, "nvme0");
  auto admin = std::make_shared<FakeChannel>();
  FakeClock clock;
  NvmeProbe probe(admin, 30s, clock.fn());
  for (auto step : {0s, 1s, 1s, 27s}) {  // t = 0, 1, 2, 29 s
    clock.now += step;
    ProbeRig rig(t.roots());
    ASSERT_EQ(rig.run(probe).status, ProbeStatus::ok);
    const auto& c = rig.snap.get(kNvme)->controllers.at(0);
    ASSERT_TRUE(c.health);  // the first sample already has it (tierscope probe takes two)
    ASSERT_TRUE(c.identify);
    ASSERT_TRUE(c.admin);
    EXPECT_EQ(c.admin->problem, "");
    EXPECT_EQ(c.health->composite_temperature_k, 316);
  }
  EXPECT_EQ(admin->identify_calls, 1);
  EXPECT_EQ(admin->log_calls, 1);
  {
    ProbeRig rig(t.roots());
    clock.now += 0s;
    rig.run(probe);
    EXPECT_EQ(rig.snap.get(kNvme)->controllers[0].admin->age_seconds, 29.0);
  }
  clock.now += 1s;  // t = 30 s: due again
  ProbeRig rig(t.roots());
  rig.run(probe);
  EXPECT_EQ(admin->identify_calls, 2);
  EXPECT_EQ(admin->log_calls, 2);
  EXPECT_EQ(rig.snap.get(kNvme)->controllers[0].admin->age_seconds, 0.0);
  EXPECT_EQ(admin->seen, (std::vector<std::string>{"nvme0", "nvme0"}));
}

TEST(NvmeHealthProbe, IntervalZeroOrNoChannelReadsSysfsOnly) {
  TempDir t;
  controller(t, "nvme0");
  auto admin = std::make_shared<FakeChannel>();
  NvmeProbe off(admin, 0ms);
  ProbeRig rig(t.roots());
  ASSERT_EQ(rig.run(off).status, ProbeStatus::ok);
  EXPECT_EQ(admin->identify_calls + admin->log_calls, 0);
  const auto& c = rig.snap.get(kNvme)->controllers[0];
  EXPECT_EQ(c.model, "PHISON AI100E 2TB");
  EXPECT_FALSE(c.admin);
  EXPECT_FALSE(c.health);
  EXPECT_FALSE(c.identify);
}

TEST(NvmeHealthProbe, PermissionDeniedLeavesHealthAbsentSysfsWorkingAndRetriesAtTheInterval) {
  TempDir t;
  controller(t, "nvme0");
  auto admin = std::make_shared<FakeChannel>();
  admin->identify = NvmeAdminReply::failure(EACCES, "/dev/nvme0: Permission denied");
  FakeClock clock;
  NvmeProbe probe(admin, 30s, clock.fn());
  for (int tick = 0; tick < 29; ++tick, clock.now += 1s) {
    ProbeRig rig(t.roots());
    ASSERT_EQ(rig.run(probe).status, ProbeStatus::ok);  // the probe itself still works
    const auto& c = rig.snap.get(kNvme)->controllers[0];
    EXPECT_EQ(c.serial, "511240904A12345678");
    EXPECT_FALSE(c.health);
    EXPECT_FALSE(c.identify);
    ASSERT_TRUE(c.admin);
    EXPECT_EQ(c.admin->problem,
              "health log not readable: /dev/nvme0: Permission denied; run as root or grant CAP_SYS_ADMIN (the "
              "systemd unit does)");
  }
  EXPECT_EQ(admin->identify_calls, 1);
  EXPECT_EQ(admin->log_calls, 0);  // the open failed: the log would fail the same way
  clock.now += 1s;
  admin->identify = NvmeAdminReply{sample_identify(), 0, ""};  // granted meanwhile
  ProbeRig rig(t.roots());
  rig.run(probe);
  EXPECT_EQ(admin->identify_calls, 2);
  EXPECT_TRUE(rig.snap.get(kNvme)->controllers[0].health);
  EXPECT_EQ(rig.snap.get(kNvme)->controllers[0].admin->problem, "");
}

TEST(NvmeHealthProbe, NvmeStatusErrorsAndShortPagesAreReportedPerCommand) {
  TempDir t;
  controller(t, "nvme0");
  auto admin = std::make_shared<FakeChannel>();
  admin->log = NvmeAdminReply::failure(0, "/dev/nvme0: Get Log Page 02h (SMART/health): NVMe status 0x0002 (x)");
  NvmeProbe probe(admin, 30s);
  ProbeRig rig(t.roots());
  rig.run(probe);
  auto c = rig.snap.get(kNvme)->controllers[0];
  EXPECT_TRUE(c.identify);  // Identify worked: its series stay
  EXPECT_FALSE(c.health);
  EXPECT_EQ(c.admin->problem,
            "health log not readable: /dev/nvme0: Get Log Page 02h (SMART/health): NVMe status 0x0002 (x)");

  admin->identify = NvmeAdminReply::failure(0, "/dev/nvme0: Identify Controller: NVMe status 0x0002 (x)");
  admin->log = NvmeAdminReply{Page(100, 0), 0, ""};
  NvmeProbe probe2(admin, 30s);
  rig.run(probe2);
  c = rig.snap.get(kNvme)->controllers[0];
  EXPECT_FALSE(c.identify);
  EXPECT_FALSE(c.health);
  EXPECT_EQ(c.admin->problem, "health log not readable: 100 bytes, expected 512");

  admin->log = NvmeAdminReply{sample_log_page(), 0, ""};
  NvmeProbe probe3(admin, 30s);
  rig.run(probe3);
  c = rig.snap.get(kNvme)->controllers[0];
  EXPECT_FALSE(c.identify);
  EXPECT_TRUE(c.health);
  EXPECT_EQ(c.admin->problem, "Identify Controller not readable: /dev/nvme0: Identify Controller: NVMe status 0x0002 (x)");
}

TEST(NvmeHealthProbe, ControllerThatIsNotLiveIsNotSentCommands) {
  TempDir t;
  controller(t, "nvme0", "resetting");
  auto admin = std::make_shared<FakeChannel>();
  NvmeProbe probe(admin, 30s);
  ProbeRig rig(t.roots());
  ASSERT_EQ(rig.run(probe).status, ProbeStatus::ok);
  EXPECT_EQ(admin->identify_calls + admin->log_calls, 0);
  EXPECT_EQ(rig.snap.get(kNvme)->controllers[0].admin->problem,
            "health log not read: controller state is resetting, not live");
}

TEST(NvmeHealthProbe, EveryControllerHasItsOwnCache) {
  TempDir t;
  controller(t, "nvme0");
  controller(t, "nvme1");
  auto admin = std::make_shared<FakeChannel>();
  FakeClock clock;
  NvmeProbe probe(admin, 30s, clock.fn());
  ProbeRig rig(t.roots());
  rig.run(probe);
  rig.run(probe);
  EXPECT_EQ(admin->seen, (std::vector<std::string>{"nvme0", "nvme1"}));
}

// ---- one log line per change -----------------------------------------------

TEST(NvmeAdminLog, OneLineWhenReadsFailOneWhenTheyRecover) {
  TempDir t;
  controller(t, "nvme0");
  auto admin = std::make_shared<FakeChannel>();
  admin->identify = NvmeAdminReply::failure(EPERM, "/dev/nvme0: Operation not permitted");
  FakeClock clock;
  NvmeProbe probe(admin, 30s, clock.fn());
  CapturedLog captured;
  NvmeAdminLog transitions;
  auto tick = [&] {
    ProbeRig rig(t.roots());
    rig.run(probe);
    transitions.observe(rig.snap, *captured.log);
    clock.now += 1s;
  };
  for (int i = 0; i < 65; ++i) tick();  // three failed reads (t = 0, 30, 60 s), same reason
  admin->identify = NvmeAdminReply::failure(ENOENT, "/dev/nvme0: No such file or directory");
  for (int i = 0; i < 30; ++i) tick();  // t = 90 s: another reason
  admin->identify = NvmeAdminReply{sample_identify(), 0, ""};
  for (int i = 0; i < 60; ++i) tick();  // t = 120 s: recovered
  EXPECT_EQ(admin->identify_calls, 6);
  EXPECT_EQ(captured.text(),
            "<4>nvme0: health log not readable: /dev/nvme0: Operation not permitted; run as root or grant "
            "CAP_SYS_ADMIN (the systemd unit does)\n"
            "<4>nvme0: health log not readable: /dev/nvme0: No such file or directory; no device node: give the "
            "daemon the host's /dev (roots.devfs; in a container, pass the controller's character device in)\n"
            "<6>nvme0: Identify Controller and health log readable again\n");
}

TEST(NvmeAdminLog, SamplerLogsAMissingDeviceNodeOnceThroughTheRealChannel) {
  TempDir t;
  controller(t, "nvme0");
  t.write("dev/.keep", "");
  Config config;
  config.roots = t.roots();
  for (auto& [name, on] : config.probes) on = name == "nvme";
  CapturedLog captured;
  {
    Sampler sampler(config, *captured.log);
    std::shared_ptr<const Snapshot> snap;
    for (int i = 0; i < 5; ++i) snap = sampler.sample_now();
    const auto& c = snap->get(kNvme)->controllers.at(0);
    EXPECT_EQ(c.serial, "511240904A12345678");
    EXPECT_FALSE(c.health);
    ASSERT_EQ(snap->probes.size(), 1u);
    EXPECT_EQ(snap->probes[0].status, ProbeStatus::ok);
  }
  const std::string dev = (t.path() / "dev" / "nvme0").string();
  EXPECT_EQ(captured.text(), "<4>nvme0: health log not readable: " + dev +
                                 ": No such file or directory; no device node: give the daemon the host's /dev "
                                 "(roots.devfs; in a container, pass the controller's character device in)\n");
}

// ---- rendering ---------------------------------------------------------------

TEST(NvmeHealthRender, ExactSeriesAndValues) {
  NvmeInventory inv;
  NvmeController c;
  c.name = "nvme0";
  c.admin = NvmeAdminStatus{"", 12.5};
  c.identify = parse_nvme_identify_controller(sample_identify());
  c.health = parse_nvme_smart_log(sample_log_page());
  inv.controllers.push_back(c);
  NvmeController denied;  // read attempted, failed
  denied.name = "nvme1";
  denied.admin = NvmeAdminStatus{"health log not readable: /dev/nvme1: Permission denied", 3};
  inv.controllers.push_back(denied);
  NvmeController never;  // no attempt (health reads off)
  never.name = "nvme2";
  inv.controllers.push_back(never);

  MetricWriter w;
  render_nvme(inv, OffloadVerdict{}, w);
  auto got = series(std::move(w).finish());
  const std::string info_rest = "firmware=,model=,pci_subsystem_vendor=,pci_vendor=,phison=false,serial=,transport=,}";
  std::map<std::string, double> want{
      {"tierscope_nvme_info{controller=nvme0," + info_rest, 1},
      {"tierscope_nvme_info{controller=nvme1," + info_rest, 1},
      {"tierscope_nvme_info{controller=nvme2," + info_rest, 1},
      {"tierscope_nvme_identify_info{controller=nvme0,firmware=EFCM32.1,model=PHISON AI100E 2TB,serial=511240904A12345678,"
       "ssvid=0x1987,vid=0x1987,}", 1},
      {"tierscope_nvme_health_log_up{controller=nvme0,}", 1},
      {"tierscope_nvme_health_log_up{controller=nvme1,}", 0},
      {"tierscope_nvme_health_log_age_seconds{controller=nvme0,}", 12.5},
      {"tierscope_nvme_critical_warning{controller=nvme0,}", 4},
      {"tierscope_nvme_temperature_celsius{controller=nvme0,}", 43},
      {"tierscope_nvme_temperature_sensor_celsius{controller=nvme0,sensor=1,}", 43},
      {"tierscope_nvme_temperature_sensor_celsius{controller=nvme0,sensor=2,}", 30},
      {"tierscope_nvme_available_spare_ratio{controller=nvme0,}", 1.0},
      {"tierscope_nvme_available_spare_threshold_ratio{controller=nvme0,}", 0.1},
      {"tierscope_nvme_percentage_used_ratio{controller=nvme0,}", 0.03},
      {"tierscope_nvme_data_read_bytes_total{controller=nvme0,}", 2962014720000.0},
      {"tierscope_nvme_data_written_bytes_total{controller=nvme0,}", 9444732965739290427392000.0},
      {"tierscope_nvme_host_read_commands_total{controller=nvme0,}", 423349386},
      {"tierscope_nvme_host_write_commands_total{controller=nvme0,}", 27670116110564331520.0},
      {"tierscope_nvme_controller_busy_seconds_total{controller=nvme0,}", 48780},
      {"tierscope_nvme_power_cycles_total{controller=nvme0,}", 10},
      {"tierscope_nvme_power_on_seconds_total{controller=nvme0,}", 8474400},
      {"tierscope_nvme_unsafe_shutdowns_total{controller=nvme0,}", 5},
      {"tierscope_nvme_media_errors_total{controller=nvme0,}", 0},  // read as 0: exported as 0
      {"tierscope_nvme_error_log_entries_total{controller=nvme0,}", 340282366920938463463374607431768211456.0},
      {"tierscope_nvme_warning_temperature_seconds_total{controller=nvme0,}", 120},
      {"tierscope_nvme_critical_temperature_seconds_total{controller=nvme0,}", 60},
  };
  EXPECT_EQ(got, want);
}

TEST(NvmeHealthRender, TemperatureNotReportedIsAbsent) {
  NvmeInventory inv;
  NvmeController c;
  c.name = "nvme0";
  c.admin = NvmeAdminStatus{};
  c.health = parse_nvme_smart_log(Page(kNvmeSmartLogSize, 0));
  inv.controllers.push_back(c);
  MetricWriter w;
  render_nvme(inv, OffloadVerdict{}, w);
  auto got = series(std::move(w).finish());
  for (const auto& [key, value] : got) {
    EXPECT_EQ(key.find("temperature_celsius"), std::string::npos) << key;
    EXPECT_EQ(key.find("temperature_sensor"), std::string::npos) << key;
  }
  EXPECT_EQ(got.at("tierscope_nvme_health_log_up{controller=nvme0,}"), 1);
  EXPECT_EQ(got.at("tierscope_nvme_data_read_bytes_total{controller=nvme0,}"), 0);
}

// ---- the libnvme channel's failure paths (no NVMe device needed) ---------

TEST(LibnvmeAdminChannel, MissingNodeNonDeviceAndWrongDevice) {
  TIERSCOPE_SKIP_UNDER_EMULATOR("the emulator answers an NVMe ioctl it does not translate with ENOSYS, not the kernel's ENOTTY");
  TempDir t;
  t.write("dev/nvme1", "not a device\n");
  LibnvmeAdminChannel channel;
  auto missing = channel.identify_controller(t.roots(), "nvme0");
  EXPECT_EQ(missing.errnum, ENOENT);
  EXPECT_EQ(missing.error, (t.path() / "dev/nvme0").string() + ": No such file or directory");
  EXPECT_TRUE(missing.data.empty());
  auto regular = channel.smart_log(t.roots(), "nvme1");
  EXPECT_EQ(regular.error, (t.path() / "dev/nvme1").string() + ": not a character device");
  EXPECT_FALSE(regular.ok());
  // A character device that is not an NVMe controller: the ioctl is refused.
  HostRoots real;
  auto null_dev = channel.smart_log(real, "null");
  EXPECT_EQ(null_dev.errnum, ENOTTY);
  EXPECT_EQ(null_dev.error, "/dev/null: Get Log Page 02h (SMART/health): Inappropriate ioctl for device");
}


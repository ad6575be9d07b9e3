#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>

#include "core/metric_writer.h"
#include "probes/gpu_amdgpu.h"
#include "probes/snapshot.h"
#include "test_util.h"

using namespace tierscope;
using tierscope::testing::ProbeRig;
using tierscope::testing::TempDir;

// ---- Parsers on literal text ----

TEST(AmdGpuParse, DrmCardNames) {
  for (auto good : {"card0", "card1", "card12"}) EXPECT_TRUE(is_drm_card_name(good)) << good;
  for (auto bad : {"card", "card0-DP-1", "card1-eDP-1", "renderD128", "version", "controlD64", "card0 ", "card-1",
                   "Card0", "cardx", ""})
    EXPECT_FALSE(is_drm_card_name(bad)) << bad;
}

TEST(AmdGpuParse, UeventValue) {
  constexpr std::string_view uevent =
      "DRIVER=amdgpu\nPCI_CLASS=30000\nPCI_ID=1002:744C\nPCI_SLOT_NAME=0000:03:00.0\nMODALIAS=pci:v00001002d0000744C";
  EXPECT_EQ(uevent_value(uevent, "DRIVER"), "amdgpu");
  EXPECT_EQ(uevent_value(uevent, "PCI_SLOT_NAME"), "0000:03:00.0");
  EXPECT_EQ(uevent_value(uevent, "MODALIAS"), "pci:v00001002d0000744C");  // last line without '\n'
  EXPECT_FALSE(uevent_value(uevent, "PCI"));                              // a prefix of a key is not the key
  EXPECT_FALSE(uevent_value(uevent, "DEVNAME"));
  EXPECT_FALSE(uevent_value(uevent, ""));
  EXPECT_FALSE(uevent_value("", "DRIVER"));
  EXPECT_FALSE(uevent_value("DRIV", "DRIVER"));        // truncated
  EXPECT_FALSE(uevent_value("DRIVER", "DRIVER"));      // no '='
  EXPECT_EQ(uevent_value("DRIVER=\n", "DRIVER"), "");  // empty value
  EXPECT_EQ(uevent_value("DRIVER_X=a\nDRIVER=i915\n", "DRIVER"), "i915");
}

TEST(AmdGpuParse, PciAddresses) {
  for (auto good : {"0000:c3:00.0", "0000:03:00.0", "0001:0A:1f.7", "10000:e1:00.0"})
    EXPECT_TRUE(is_pci_address(good)) << good;
  for (auto bad : {"device", "0000:c3:00", "0000:c3:00.8", "000:c3:00.0", "0000:c3-00.0", "0000:g3:00.0",
                   "0000:c3:00.0 ", "", "0000:c3:00.00"})
    EXPECT_FALSE(is_pci_address(bad)) << bad;
  EXPECT_EQ(parse_pci_id_device("1002:744C"), 0x744cu);
  EXPECT_EQ(parse_pci_id_device("1002:1586"), 0x1586u);
  EXPECT_FALSE(parse_pci_id_device("1002"));
  EXPECT_FALSE(parse_pci_id_device("1002:"));
  EXPECT_FALSE(parse_pci_id_device("1002:12345"));
  EXPECT_FALSE(parse_pci_id_device("1002:zz"));
}

TEST(AmdGpuParse, PpDpmMarkedLevel) {
  EXPECT_EQ(parse_pp_dpm_current_hz("0: 500Mhz \n1: 2304Mhz *\n2: 2526Mhz \n"), 2304e6);
  EXPECT_EQ(parse_pp_dpm_current_hz("0: 167Mhz *\n1: 500Mhz \n"), 167e6);    // first level
  EXPECT_EQ(parse_pp_dpm_current_hz("0: 96Mhz\n3: 1249MHz *"), 1249e6);     // MHz, no final newline
  EXPECT_EQ(parse_pp_dpm_current_hz("1: 1800Mhz*\n"), 1800e6);              // star without a space
  EXPECT_EQ(parse_pp_dpm_current_hz("  1:   1800 Mhz   *  \n"), 1800e6);    // extra blanks
  EXPECT_EQ(parse_pp_dpm_current_hz("S: 19Mhz *\n0: 400Mhz \n"), 19e6);     // deep-sleep level
  EXPECT_EQ(parse_pp_dpm_current_hz("0: 0Mhz *\n"), 0.0);                    // a real 0, not absent
  // No level marked, empty, truncated, malformed: absent.
  EXPECT_FALSE(parse_pp_dpm_current_hz("0: 500Mhz \n1: 2304Mhz \n"));
  EXPECT_FALSE(parse_pp_dpm_current_hz(""));
  EXPECT_FALSE(parse_pp_dpm_current_hz("0: 500Mhz \n1: 23"));
  EXPECT_FALSE(parse_pp_dpm_current_hz("1: 23"));
  for (auto bad : {"1 1800Mhz *", "1: Mhz *", "1: 1800 *", "1: 1800GHz *", "1: 1800Mhzz *", "1: -5Mhz *",
                   "*: 1800Mhz", ": 1800Mhz *", "1: 1800Mhz * extra", "1: 18x00Mhz *",
                   "1: 99999999999999999999999Mhz *", "1: 100001Mhz *", "1: 8.0GT/s, x16 *"})
    EXPECT_FALSE(parse_pp_dpm_current_hz(bad)) << bad;
  // Huge text without a mark.
  std::string huge;
  for (int i = 0; i < 100000; ++i) huge += std::to_string(i) + ": 100Mhz \n";
  EXPECT_FALSE(parse_pp_dpm_current_hz(huge));
  EXPECT_EQ(parse_pp_dpm_current_hz(huge + "100000: 3000Mhz *\n"), 3000e6);
}

TEST(AmdGpuParse, ScalarValues) {
  EXPECT_EQ(parse_busy_ratio("37\n"), 0.37);
  EXPECT_EQ(parse_busy_ratio("0"), 0.0);
  EXPECT_EQ(parse_busy_ratio("100\n"), 1.0);
  for (auto bad : {"101", "-1", "", "\n", "4 2", "x", "18446744073709551616"})
    EXPECT_FALSE(parse_busy_ratio(bad)) << bad;

  EXPECT_EQ(parse_hwmon_millicelsius("54000\n"), 54.0);
  EXPECT_EQ(parse_hwmon_millicelsius("-12500\n"), -12.5);
  for (auto bad : {"", "54.0", "abc", "99999999999999999999"}) EXPECT_FALSE(parse_hwmon_millicelsius(bad)) << bad;

  EXPECT_EQ(parse_hwmon_micro("287000000\n"), 287.0);
  EXPECT_EQ(parse_hwmon_micro("1500"), 0.0015);
  for (auto bad : {"", "-5", "1e6", "12 W"}) EXPECT_FALSE(parse_hwmon_micro(bad)) << bad;
}

TEST(AmdGpuParse, GpuMetricsHeader) {
  using namespace std::string_view_literals;
  auto h = parse_gpu_metrics_header("\x08\x01\x03\x00...."sv);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->structure_size, 0x0108);  // little-endian host
  EXPECT_EQ(h->format_revision, 3);
  EXPECT_EQ(h->content_revision, 0);
  // Bytes that look like whitespace are data, not padding.
  h = parse_gpu_metrics_header("\x20\x0a\x02\x01"sv);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->structure_size, 0x0a20);
  EXPECT_EQ(h->format_revision, 2);
  EXPECT_EQ(h->content_revision, 1);
  EXPECT_FALSE(parse_gpu_metrics_header(""sv));
  EXPECT_FALSE(parse_gpu_metrics_header("\x08\x01\x03"sv));      // truncated
  EXPECT_FALSE(parse_gpu_metrics_header("\x02\x00\x01\x00"sv));  // smaller than its own header
  EXPECT_FALSE(parse_gpu_metrics_header("\x08\x01\x00\x00"sv));  // no format
}

TEST(AmdGpuApu, GcVersionsAndPciIds) {
  EXPECT_TRUE(is_apu_gc_version({11, 5, 1}));  // Strix Halo
  EXPECT_TRUE(is_apu_gc_version({11, 5, 0}));  // Strix Point
  EXPECT_TRUE(is_apu_gc_version({11, 0, 1}));  // Phoenix
  EXPECT_TRUE(is_apu_gc_version({10, 3, 3}));  // Rembrandt
  EXPECT_TRUE(is_apu_gc_version({9, 3, 0}));   // Renoir
  EXPECT_FALSE(is_apu_gc_version({11, 0, 0}));  // Navi 31
  EXPECT_FALSE(is_apu_gc_version({12, 0, 1}));  // Navi 48
  EXPECT_FALSE(is_apu_gc_version({9, 4, 3}));   // MI300X and MI300A alike
  EXPECT_FALSE(is_apu_gc_version({10, 3, 0}));  // Navi 21

  for (std::uint32_t apu : {0x1586u, 0x150eu, 0x15bfu, 0x15c8u, 0x1681u, 0x1900u, 0x1114u, 0x163fu, 0x1636u,
                            0x15ddu, 0x98e4u, 0x9874u, 0x1309u, 0x74a0u})
    EXPECT_TRUE(is_known_apu_pci_device(apu)) << std::hex << apu;
  for (std::uint32_t dgpu : {0x744cu, 0x7550u, 0x73bfu, 0x687fu, 0x74a1u, 0x66afu, 0x0u, 0xffffu})
    EXPECT_FALSE(is_known_apu_pci_device(dgpu)) << std::hex << dgpu;
}

TEST(AmdGpuApu, EachSignalAloneDecides) {
  AmdApuEvidence none;
  EXPECT_EQ(amd_apu_signal(none), AmdApuSignal::none);

  AmdApuEvidence vddnb;
  vddnb.hwmon_vddnb = true;
  EXPECT_EQ(amd_apu_signal(vddnb), AmdApuSignal::hwmon_vddnb);

  AmdApuEvidence gc;
  gc.gc_version = IpVersion{11, 5, 1};
  gc.pci_device_id = 0x1234;  // unknown id: the GC version decides
  EXPECT_EQ(amd_apu_signal(gc), AmdApuSignal::gc_version);

  AmdApuEvidence mi300a;
  mi300a.gc_version = IpVersion{9, 4, 3};
  mi300a.pci_device_id = 0x74a0;
  EXPECT_EQ(amd_apu_signal(mi300a), AmdApuSignal::pci_device_id);
  mi300a.pci_device_id = 0x74a1;  // MI300X, the same GC
  EXPECT_EQ(amd_apu_signal(mi300a), AmdApuSignal::none);

  AmdApuEvidence metrics;
  metrics.gpu_metrics = GpuMetricsHeader{4, 2, 1};
  EXPECT_EQ(amd_apu_signal(metrics), AmdApuSignal::gpu_metrics);
  metrics.gpu_metrics = GpuMetricsHeader{4, 3, 0};
  EXPECT_EQ(amd_apu_signal(metrics), AmdApuSignal::gpu_metrics);
  metrics.gpu_metrics = GpuMetricsHeader{4, 1, 3};  // a dGPU layout
  EXPECT_EQ(amd_apu_signal(metrics), AmdApuSignal::none);

  AmdApuEvidence discrete;  // Navi 31 with everything a dGPU shows
  discrete.gc_version = IpVersion{11, 0, 0};
  discrete.pci_device_id = 0x744c;
  discrete.gpu_metrics = GpuMetricsHeader{264, 1, 3};
  EXPECT_EQ(amd_apu_signal(discrete), AmdApuSignal::none);
}

// ---- The fixture trees ----

namespace {
const GpuReading* gpu(const Snapshot& s, std::string_view id) {
  if (!s.get(kGpuAmdgpu)) return nullptr;
  for (const auto& g : s.get(kGpuAmdgpu)->gpus)
    if (g.id == id) return &g;
  return nullptr;
}
}  // namespace

TEST(GpuAmdgpuProbe, DiscreteFixture) {
  ProbeRig rig(tierscope::testing::fixture_roots("amd-discrete"));
  GpuAmdgpuProbe probe;
  ASSERT_EQ(rig.run(probe).status, ProbeStatus::ok);
  ASSERT_TRUE(rig.snap.get(kGpuAmdgpu));
  ASSERT_EQ(rig.snap.get(kGpuAmdgpu)->gpus.size(), 1u);  // card0 (i915), connectors and render nodes skipped
  const auto& g = rig.snap.get(kGpuAmdgpu)->gpus[0];
  EXPECT_EQ(g.id, "card1");
  EXPECT_EQ(g.vendor, "amd");
  EXPECT_EQ(g.memory_model, "discrete");
  EXPECT_FALSE(g.power_includes_cpu);
  EXPECT_EQ(g.pci_bus_id, "0000:03:00.0");
  EXPECT_EQ(g.name, "AMD GPU 0x744c");
  EXPECT_EQ(g.uuid, "7c1d3a5f80e2b94c");
  EXPECT_FALSE(g.driver_version);
  EXPECT_FALSE(g.cuda_driver_version);
  EXPECT_EQ(g.vram_total_bytes, 25753026560u);
  EXPECT_EQ(g.vram_used_bytes, 2642022400u);
  EXPECT_EQ(g.visible_vram_total_bytes, 25753026560u);
  EXPECT_EQ(g.visible_vram_used_bytes, 805306368u);
  EXPECT_EQ(g.gtt_total_bytes, 33471934464u);
  EXPECT_EQ(g.gtt_used_bytes, 41943040u);
  EXPECT_FALSE(g.vram_reserved_bytes);
  EXPECT_FALSE(g.process_memory_sum_bytes);
  EXPECT_EQ(g.utilization_ratio, 0.37);
  EXPECT_EQ(g.memory_utilization_ratio, 0.12);
  EXPECT_EQ(g.graphics_clock_hz, 2304e6);
  EXPECT_EQ(g.memory_clock_hz, 1249e6);
  EXPECT_FALSE(g.sm_clock_hz);
  EXPECT_EQ(g.power_watts, 287.0);  // power1_average, not power1_input
  EXPECT_FALSE(g.energy_joules);
  ASSERT_EQ(g.temperatures.size(), 3u);
  EXPECT_EQ(g.temperatures[0].sensor, "edge");
  EXPECT_EQ(g.temperatures[0].celsius, 54.0);
  EXPECT_EQ(g.temperatures[1].sensor, "junction");
  EXPECT_EQ(g.temperatures[1].celsius, 71.0);
  EXPECT_EQ(g.temperatures[2].sensor, "mem");
  EXPECT_EQ(g.temperatures[2].celsius, 64.0);
  EXPECT_FALSE(g.pcie_rx_bytes_per_second);
  EXPECT_FALSE(g.throttle_reasons);
  EXPECT_TRUE(g.processes.empty());
}

TEST(GpuAmdgpuProbe, StrixHaloFixtureIsUnifiedAndKeepsVramAndGttApart) {
  ProbeRig rig(tierscope::testing::fixture_roots("amd-strix-halo"));
  GpuAmdgpuProbe probe;
  ASSERT_EQ(rig.run(probe).status, ProbeStatus::ok);
  ASSERT_EQ(rig.snap.get(kGpuAmdgpu)->gpus.size(), 1u);
  const auto& g = rig.snap.get(kGpuAmdgpu)->gpus[0];
  EXPECT_EQ(g.id, "card0");
  EXPECT_EQ(g.memory_model, "unified");
  EXPECT_TRUE(g.power_includes_cpu);
  EXPECT_EQ(g.pci_bus_id, "0000:c3:00.0");
  EXPECT_EQ(g.name, "AMD GPU 0x1586");
  EXPECT_FALSE(g.uuid);
  EXPECT_EQ(g.driver_version, "6.10.5");
  EXPECT_EQ(g.vram_total_bytes, 536870912u);
  EXPECT_EQ(g.vram_used_bytes, 312475648u);
  EXPECT_EQ(g.visible_vram_total_bytes, 536870912u);
  EXPECT_EQ(g.visible_vram_used_bytes, 312475648u);
  EXPECT_EQ(g.gtt_total_bytes, 103079215104u);
  EXPECT_EQ(g.gtt_used_bytes, 8925478912u);
  EXPECT_EQ(g.utilization_ratio, 0.91);
  EXPECT_FALSE(g.memory_utilization_ratio);
  EXPECT_EQ(g.graphics_clock_hz, 2480e6);
  EXPECT_FALSE(g.memory_clock_hz);  // no level marked
  EXPECT_EQ(g.power_watts, 64.0);   // power1_input
  EXPECT_FALSE(g.energy_joules);
  ASSERT_EQ(g.temperatures.size(), 1u);
  EXPECT_EQ(g.temperatures[0].sensor, "edge");
  EXPECT_EQ(g.temperatures[0].celsius, 52.0);

  // Rendered: the carve-out and GTT are their own tiers, no summed figure.
  MetricWriter w;
  render_gpus(*rig.snap.get(kGpuAmdgpu), nullptr, w);
  auto fams = std::move(w).finish();
  std::map<std::string, double> capacity, used;
  for (const auto& f : fams) {
    if (f.name != "tierscope_memory_capacity_bytes" && f.name != "tierscope_memory_used_bytes") continue;
    for (const auto& m : f.metric) {
      std::string tier;
      for (const auto& l : m.label)
        if (l.name == "tier") tier = l.value;
      (f.name == "tierscope_memory_capacity_bytes" ? capacity : used)[tier] = m.gauge.value;
    }
  }
  EXPECT_EQ(capacity, (std::map<std::string, double>{{"gtt", 103079215104.0}, {"vram", 536870912.0}}));
  EXPECT_EQ(used, (std::map<std::string, double>{{"gtt", 8925478912.0}, {"vram", 312475648.0}}));
}

TEST(GpuAmdgpuProbe, SecondSampleReusesCardFacts) {
  ProbeRig rig(tierscope::testing::fixture_roots("amd-strix-halo"));
  GpuAmdgpuProbe probe;
  ASSERT_EQ(rig.run(probe).status, ProbeStatus::ok);
  rig.snap = Snapshot{};
  ASSERT_EQ(rig.run(probe).status, ProbeStatus::ok);
  const auto* g = gpu(rig.snap, "card0");
  ASSERT_TRUE(g);
  EXPECT_EQ(g->memory_model, "unified");
  EXPECT_EQ(g->pci_bus_id, "0000:c3:00.0");
  EXPECT_EQ(g->gtt_total_bytes, 103079215104u);
}

// ---- Trees written by the tests ----

namespace {
// An amdgpu card as the kernel lays it out: class/drm/<card> -> devices/…/drm/<card>,
// <card>/device -> the PCI function. Only the uevent and the PCI id.
std::string amd_card(const TempDir& t, const std::string& card, const std::string& slot, const std::string& device_id,
                     const std::string& driver = "amdgpu") {
  const std::string pci = "sys/devices/pci0000:00/0000:00:08.1/" + slot;
  t.write(pci + "/uevent", "DRIVER=" + driver + "\nPCI_ID=1002:" + device_id + "\nPCI_SLOT_NAME=" + slot + "\n");
  t.write(pci + "/device", "0x" + device_id + "\n");
  t.symlink("../../../" + slot, pci + "/drm/" + card + "/device");
  t.symlink("../../devices/pci0000:00/0000:00:08.1/" + slot + "/drm/" + card, "sys/class/drm/" + card);
  return pci;
}
}  // namespace

TEST(GpuAmdgpuProbe, NoDrmClassOrNoAmdgpuCardIsNoData) {
  TempDir t;
  t.write("sys/class/block/.keep", "");
  ProbeRig rig(t.roots());
  GpuAmdgpuProbe probe;
  EXPECT_EQ(rig.run(probe).status, ProbeStatus::no_data);
  EXPECT_FALSE(rig.snap.get(kGpuAmdgpu));

  amd_card(t, "card0", "0000:00:02.0", "a780", "i915");
  t.write("sys/class/drm/version", "drm 1.1.0 20060810\n");
  ProbeRig rig2(t.roots());
  EXPECT_EQ(rig2.run(probe).status, ProbeStatus::no_data);
  EXPECT_FALSE(rig2.snap.get(kGpuAmdgpu));
}

TEST(GpuAmdgpuProbe, CardWithoutHwmonOrAttributesHasThoseFieldsAbsent) {
  TempDir t;
  const auto pci = amd_card(t, "card0", "0000:0a:00.0", "73bf");
  t.write(pci + "/mem_info_vram_total", "17163091968\n");
  t.write(pci + "/mem_info_vram_used", "garbage\n");  // unparsable: absent, not 0
  t.write(pci + "/gpu_busy_percent", "0\n");          // a real 0
  t.write(pci + "/product_name", "AMD Radeon PRO W6800\n");
  t.write(pci + "/unique_id", "\n");  // empty: no uuid
  ProbeRig rig(t.roots());
  GpuAmdgpuProbe probe;
  ASSERT_EQ(rig.run(probe).status, ProbeStatus::ok);
  const auto* g = gpu(rig.snap, "card0");
  ASSERT_TRUE(g);
  EXPECT_EQ(g->name, "AMD Radeon PRO W6800");
  EXPECT_FALSE(g->uuid);
  EXPECT_EQ(g->memory_model, "discrete");
  EXPECT_EQ(g->vram_total_bytes, 17163091968u);
  EXPECT_FALSE(g->vram_used_bytes);
  EXPECT_FALSE(g->visible_vram_total_bytes);
  EXPECT_FALSE(g->gtt_total_bytes);
  EXPECT_FALSE(g->gtt_used_bytes);
  EXPECT_EQ(g->utilization_ratio, 0.0);
  EXPECT_FALSE(g->memory_utilization_ratio);
  EXPECT_FALSE(g->graphics_clock_hz);
  EXPECT_FALSE(g->memory_clock_hz);
  EXPECT_FALSE(g->power_watts);
  EXPECT_FALSE(g->energy_joules);
  EXPECT_TRUE(g->temperatures.empty());
  EXPECT_FALSE(g->driver_version);
}

TEST(GpuAmdgpuProbe, HwmonFallbacksAndUnlabelledTemperatures) {
  TempDir t;
  const auto pci = amd_card(t, "card0", "0000:0a:00.0", "73bf");
  const auto h = pci + "/hwmon/hwmon2/";
  t.write(h + "name", "amdgpu\n");
  t.write(h + "power1_input", "45250000\n");  // no power1_average
  t.write(h + "energy1_input", "123456789\n");
  t.write(h + "temp1_input", "40000\n");
  t.write(h + "temp1_label", "edge\n");
  t.write(h + "temp2_input", "-5000\n");  // no label
  t.write(h + "temp10_input", "60000\n");
  t.write(h + "temp10_label", "\n");      // empty label
  t.write(h + "temp3_input", "oops\n");   // unparsable: left out
  t.write(h + "temp_input", "1\n");       // not a numbered sensor
  ProbeRig rig(t.roots());
  GpuAmdgpuProbe probe;
  ASSERT_EQ(rig.run(probe).status, ProbeStatus::ok);
  const auto* g = gpu(rig.snap, "card0");
  ASSERT_TRUE(g);
  EXPECT_EQ(g->power_watts, 45.25);
  EXPECT_EQ(g->energy_joules, 123.456789);
  ASSERT_EQ(g->temperatures.size(), 3u);
  EXPECT_EQ(g->temperatures[0].sensor, "edge");
  EXPECT_EQ(g->temperatures[1].sensor, "temp2");  // numeric order: 1, 2, (3 unreadable), 10
  EXPECT_EQ(g->temperatures[1].celsius, -5.0);
  EXPECT_EQ(g->temperatures[2].sensor, "temp10");
  EXPECT_EQ(g->temperatures[2].celsius, 60.0);
}

TEST(GpuAmdgpuProbe, PciAddressFromUeventWhenDeviceIsACopiedDirectory) {
  // Captured trees copy device/ as a plain directory: its name is "device".
  TempDir t;
  t.write("sys/class/drm/card0/device/uevent",
          "DRIVER=amdgpu\nPCI_ID=1002:687F\nPCI_SLOT_NAME=0000:09:00.0\n");
  t.write("sys/class/drm/card0/device/product_name", "\n");  // empty, as on consumer cards
  ProbeRig rig(t.roots());
  GpuAmdgpuProbe probe;
  ASSERT_EQ(rig.run(probe).status, ProbeStatus::ok);
  const auto* g = gpu(rig.snap, "card0");
  ASSERT_TRUE(g);
  EXPECT_EQ(g->pci_bus_id, "0000:09:00.0");
  EXPECT_EQ(g->name, "AMD GPU 0x687f");  // device id from the uevent's PCI_ID
}

TEST(GpuAmdgpuProbe, ApuFromGcVersionOrGpuMetricsAlone) {
  TempDir t;
  // An unknown device id whose GC version is an APU's.
  auto pci = amd_card(t, "card0", "0000:c4:00.0", "1234");
  t.write(pci + "/ip_discovery/die/0/11/0/major", "11\n");
  t.write(pci + "/ip_discovery/die/0/11/0/minor", "0\n");
  t.write(pci + "/ip_discovery/die/0/11/0/revision", "1\n");
  t.symlink("11", pci + "/ip_discovery/die/0/GC");
  // An unknown device with nothing but a gpu_metrics v2.1 table whose size
  // bytes look like whitespace (0x0a20): the header must not be trimmed.
  pci = amd_card(t, "card1", "0000:c5:00.0", "1235");
  t.write(pci + "/gpu_metrics", std::string("\x20\x0a\x02\x01", 4) + std::string(60, '\0'));
  // A dGPU table (format 1) and a discrete GC version.
  pci = amd_card(t, "card2", "0000:03:00.0", "1236");
  t.write(pci + "/gpu_metrics", std::string("\x08\x01\x01\x03", 4));
  t.write(pci + "/ip_discovery/die/0/11/0/major", "12\n");
  t.write(pci + "/ip_discovery/die/0/11/0/minor", "0\n");
  t.write(pci + "/ip_discovery/die/0/11/0/revision", "1\n");
  t.symlink("11", pci + "/ip_discovery/die/0/GC");
  // A hwmon vddnb rail alone.
  pci = amd_card(t, "card3", "0000:c6:00.0", "1237");
  t.write(pci + "/hwmon/hwmon1/in1_label", "vddnb\n");
  // A known APU id alone (MI300A).
  amd_card(t, "card4", "0000:02:00.0", "74a0");

  ProbeRig rig(t.roots());
  GpuAmdgpuProbe probe;
  ASSERT_EQ(rig.run(probe).status, ProbeStatus::ok);
  ASSERT_EQ(rig.snap.get(kGpuAmdgpu)->gpus.size(), 5u);
  EXPECT_EQ(gpu(rig.snap, "card0")->memory_model, "unified");
  EXPECT_EQ(gpu(rig.snap, "card1")->memory_model, "unified");
  EXPECT_EQ(gpu(rig.snap, "card2")->memory_model, "discrete");
  EXPECT_EQ(gpu(rig.snap, "card3")->memory_model, "unified");
  EXPECT_EQ(gpu(rig.snap, "card4")->memory_model, "unified");
  EXPECT_TRUE(gpu(rig.snap, "card4")->power_includes_cpu);
  EXPECT_FALSE(gpu(rig.snap, "card2")->power_includes_cpu);
}

TEST(GpuAmdgpuProbe, ReplacedCardIsLearntAgainAndVanishedCardDropped) {
  TempDir t;
  auto pci = amd_card(t, "card0", "0000:03:00.0", "744c");
  amd_card(t, "card1", "0000:c3:00.0", "1586");
  ProbeRig rig(t.roots());
  GpuAmdgpuProbe probe;
  ASSERT_EQ(rig.run(probe).status, ProbeStatus::ok);
  EXPECT_EQ(gpu(rig.snap, "card0")->name, "AMD GPU 0x744c");
  EXPECT_EQ(gpu(rig.snap, "card1")->memory_model, "unified");

  // card0 is now another device (driver rebound after a swap); card1 is gone.
  t.write(pci + "/uevent", "DRIVER=amdgpu\nPCI_ID=1002:7550\nPCI_SLOT_NAME=0000:03:00.0\n");
  t.write(pci + "/device", "0x7550\n");
  std::filesystem::remove(t.path() / "sys/class/drm/card1");
  rig.snap = Snapshot{};
  ASSERT_EQ(rig.run(probe).status, ProbeStatus::ok);
  ASSERT_EQ(rig.snap.get(kGpuAmdgpu)->gpus.size(), 1u);
  EXPECT_EQ(gpu(rig.snap, "card0")->name, "AMD GPU 0x7550");
  EXPECT_EQ(gpu(rig.snap, "card0")->memory_model, "discrete");
}

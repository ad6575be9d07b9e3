// DRM fdinfo: parse_drm_fdinfo + parse_drm_size + drm_node_of_link +
// render_drm_fdinfo.
#include <cstdint>
#include <set>
#include <string>

#include "core/metric_catalog.h"
#include "core/text.h"
#include "probes/drm_fdinfo.h"
#include "probes/gpu.h"
#include "probes/workload.h"
#include "tests/fuzz/fuzz_common.h"

using namespace tierscope;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = fuzz::as_text(data, size);
  const DrmFdinfo info = parse_drm_fdinfo(text);

  auto clean = [](const std::string& s) { return !s.empty() && s.find_first_of(" \t\r\n") == std::string::npos; };
  if (info.driver) FUZZ_CHECK(clean(*info.driver), *info.driver);
  if (info.pdev) FUZZ_CHECK(clean(*info.pdev), *info.pdev);
  FUZZ_CHECK(info.regions.size() <= 64);
  std::set<std::string> names;
  for (const auto& r : info.regions) {
    FUZZ_CHECK(clean(r.region) && r.region.find(':') == std::string::npos, r.region);
    FUZZ_CHECK(names.insert(r.region).second, "region twice: " + r.region);
    FUZZ_CHECK(r.total || r.shared || r.resident || r.purgeable || r.active || r.memory, r.region);
    FUZZ_CHECK(r.resident_bytes() == (r.resident ? r.resident : r.memory));
    FUZZ_CHECK(info.region(r.region) == &r);
  }
  const DrmFdinfo again = parse_drm_fdinfo(text);
  FUZZ_CHECK(again.driver == info.driver && again.pdev == info.pdev && again.client_id == info.client_id &&
             again.regions.size() == info.regions.size());

  // Every line's value as a size: a value accepted is a whole number of its unit.
  text::Lines lines(text);
  std::string_view line;
  while (lines.next(line)) {
    auto colon = line.find(':');
    auto v = parse_drm_size(colon == std::string_view::npos ? line : line.substr(colon + 1));
    if (!v) continue;
    auto t = text::trim(colon == std::string_view::npos ? line : line.substr(colon + 1));
    if (t.ends_with("KiB")) FUZZ_CHECK(*v % 1024 == 0);
    if (t.ends_with("MiB")) FUZZ_CHECK(*v % (1024 * 1024) == 0);
    if (t.ends_with("GiB")) FUZZ_CHECK(*v % (1024 * 1024 * 1024) == 0);
  }

  // The input as an fd link target: a node name is renderD<N> or card<N>.
  if (auto node = drm_node_of_link(text, "/srv/f/proc/1/fd", "/srv/f/dev")) {
    FUZZ_CHECK(node->starts_with("renderD") || node->starts_with("card"), *node);
  }

  // What the probe would make of this client for one process.
  DrmMemoryUsage usage;
  for (const auto& r : info.regions)
    if (auto b = r.resident_bytes()) usage.entries.push_back({42, info.pdev.value_or("renderD128"), info.driver.value_or(""), r.region, *b});
  GpuInventory amd;
  GpuReading card;
  card.id = "card1";
  card.pci_bus_id = info.pdev;
  amd.gpus.push_back(card);
  WorkloadProcesses watched;
  watched.processes = {{42, "llama-server", "pid"}};
  MetricWriter w;
  render_drm_fdinfo(usage, &amd, &watched, w);
  const auto families = fuzz::finish_and_check(std::move(w));
  const auto* fam = fuzz::find_family(families, metric::process_gpu_memory.name);
  FUZZ_CHECK(usage.entries.empty() ? families.empty() : fam != nullptr);
  for (const auto& e : usage.entries) {
    std::string region = e.region;
    text::make_valid_utf8(region);
    const std::string gpu = info.pdev ? "card1" : "renderD128";
    const auto* s = fuzz::find_series(fam, {{"gpu", gpu}, {"pid", "42"}, {"comm", "llama-server"}, {"region", region}});
    FUZZ_CHECK(s != nullptr, region);
  }
  return 0;
}

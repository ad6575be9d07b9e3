// /proc/cpuinfo for the audit manifest: parse_cpuinfo + flags_of_interest
// (workloads/manifest.h), x86 and arm64 layouts.
#include <cstdint>
#include <set>
#include <string>

#include "tests/fuzz/fuzz_common.h"
#include "workloads/manifest.h"

using namespace tierscope;
using namespace tierscope::workloads;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = fuzz::as_text(data, size);
  const CpuInfo c = parse_cpuinfo(text);

  // Deterministic.
  const CpuInfo again = parse_cpuinfo(text);
  FUZZ_CHECK(again.logical_cpus == c.logical_cpus);
  FUZZ_CHECK(again.flags == c.flags);
  FUZZ_CHECK(again.model_name == c.model_name);
  FUZZ_CHECK(again.physical_cores == c.physical_cores && again.sockets == c.sockets);

  // Each logical CPU came from a "processor" line of the input.
  FUZZ_CHECK(c.logical_cpus <= size / 10 + 1);
  if (c.logical_cpus > 0) FUZZ_CHECK(text.find("processor") != std::string_view::npos);
  // Topology counts are present only when ids were, never 0, and never more
  // cores than logical CPUs or sockets than cores.
  if (c.physical_cores) {
    FUZZ_CHECK(*c.physical_cores >= 1 && *c.physical_cores <= c.logical_cpus);
    FUZZ_CHECK(c.sockets && *c.sockets <= *c.physical_cores);
  }
  if (c.sockets) FUZZ_CHECK(*c.sockets >= 1 && *c.sockets <= c.logical_cpus);
  // Values are trimmed, non-empty, single-line and come from the input.
  for (const auto* v : {&c.model_name, &c.vendor_id, &c.arm_implementer, &c.arm_part}) {
    if (!*v) continue;
    FUZZ_CHECK(!(*v)->empty());
    FUZZ_CHECK((*v)->find('\n') == std::string::npos, **v);
    FUZZ_CHECK((*v)->front() != ' ' && (*v)->back() != ' ', **v);
    FUZZ_CHECK(text.find(**v) != std::string_view::npos, **v);
  }
  FUZZ_CHECK(!c.flags_field || *c.flags_field == "flags" || *c.flags_field == "Features");
  FUZZ_CHECK(c.flags_field || c.flags.empty());
  for (const auto& f : c.flags) {
    FUZZ_CHECK(!f.empty());
    FUZZ_CHECK(f.find_first_of(" \t\n") == std::string::npos, f);
  }
  // The flags of interest are a subset of the flags, each once.
  const std::set<std::string> all(c.flags.begin(), c.flags.end());
  std::set<std::string> seen;
  for (const auto& f : flags_of_interest(c)) {
    FUZZ_CHECK(all.count(f), f);
    FUZZ_CHECK(seen.insert(f).second, f);
  }
  return 0;
}

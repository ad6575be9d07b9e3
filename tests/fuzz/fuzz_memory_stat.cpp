// A memory cgroup's key/value files: memory.stat (read as v2 and as v1),
// memory.events and memory.oom_control. Every value returned is the value of
// a line of the text with that key; the composition rendered from them never
// shows a tier that the text did not give.
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>

#include "core/metric_catalog.h"
#include "core/text.h"
#include "probes/cgroup.h"
#include "probes/workload_memory.h"
#include "tests/fuzz/fuzz_common.h"

using namespace tierscope;

namespace {

// Whether some line of `text` is exactly "key value".
bool has_pair(std::string_view text, std::string_view key, std::uint64_t value) {
  text::Lines lines(text);
  std::string_view line;
  while (lines.next(line)) {
    text::Fields f(line);
    if (f.next() != key) continue;
    auto v = text::parse_u64(f.next());
    if (v == value && f.done()) return true;
  }
  return false;
}

void check(std::string_view text, std::string_view key, const std::optional<std::uint64_t>& v) {
  if (v) FUZZ_CHECK(has_pair(text, key, *v), std::string(key));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = fuzz::as_text(data, size);

  auto v2 = parse_memory_stat(text, CgroupVersion::v2);
  check(text, "anon", v2.anon);
  check(text, "file", v2.file);
  check(text, "file_mapped", v2.file_mapped);
  check(text, "shmem", v2.shmem);
  check(text, "sock", v2.sock);
  check(text, "anon_thp", v2.anon_thp);
  check(text, "pgmajfault", v2.pgmajfault);
  FUZZ_CHECK(!v2.swap);
  if (v2.kernel && !v2.kernel_from_parts) check(text, "kernel", v2.kernel);
  if (v2.kernel_from_parts) FUZZ_CHECK(v2.kernel.has_value());
  FUZZ_CHECK(parse_memory_stat(text, CgroupVersion::v2) == v2);  // deterministic

  auto v1 = parse_memory_stat(text, CgroupVersion::v1);
  check(text, "total_rss", v1.anon);
  check(text, "total_cache", v1.file);
  check(text, "total_mapped_file", v1.file_mapped);
  check(text, "total_shmem", v1.shmem);
  check(text, "total_swap", v1.swap);
  check(text, "total_pgmajfault", v1.pgmajfault);
  FUZZ_CHECK(!v1.kernel && !v1.sock && !v1.kernel_from_parts);

  auto e = parse_memory_events(text);
  check(text, "low", e.low);
  check(text, "high", e.high);
  check(text, "max", e.max);
  check(text, "oom", e.oom);
  check(text, "oom_kill", e.oom_kill);
  auto c = parse_oom_control(text);
  check(text, "oom_kill", c.oom_kill);
  if (c.under_oom) FUZZ_CHECK(has_pair(text, "under_oom", *c.under_oom ? 1 : 0));

  // The composition as the probe builds it from these, rendered.
  WorkloadMemory m;
  m.source = WorkloadSource::cgroup;
  m.cgroups.push_back(CgroupDir{CgroupVersion::v2, "/fuzz", "/fuzz"});
  m.ram_anon = v2.anon;
  if (v2.file && v2.shmem && *v2.shmem <= *v2.file) m.page_cache = *v2.file - *v2.shmem;
  m.file_mapped = v2.file_mapped;
  m.shmem = v2.shmem;
  m.kernel = v2.kernel;
  m.events = e;
  MetricWriter w;
  render_workload_memory(m, w);
  const auto families = fuzz::finish_and_check(std::move(w));
  const auto* tiers = fuzz::find_family(families, metric::workload_memory.name);
  for (auto [tier, v] : {std::pair{"ram_anon", m.ram_anon}, std::pair{"page_cache", m.page_cache},
                         std::pair{"shmem", m.shmem}, std::pair{"kernel", m.kernel}}) {
    const auto* s = fuzz::find_series(tiers, {{"tier", tier}});
    FUZZ_CHECK(!s == !v, tier);
    if (s) FUZZ_CHECK(s->gauge.value == static_cast<double>(*v) && s->gauge.value >= 0);
  }
  const auto* kills = fuzz::find_family(families, metric::workload_oom_kills.name);
  FUZZ_CHECK(!kills == !e.oom_kill);
  return 0;
}

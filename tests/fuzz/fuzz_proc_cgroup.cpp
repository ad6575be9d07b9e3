// /proc/<pid>/cgroup and a memory limit file. Lines come back only with a
// numeric hierarchy and an absolute path taken from the text; the memory
// cgroup found for them stays below the hierarchy root whatever the path
// says ("..", "."); a limit is "max" (v2) or a number of the text.
#include <cstdint>
#include <string>

#include "core/text.h"
#include "probes/cgroup.h"
#include "tests/fuzz/fuzz_common.h"

using namespace tierscope;

namespace {

bool below(const std::filesystem::path& dir, const std::filesystem::path& root) {
  auto d = dir.native();
  const auto& r = root.native();
  if (d.compare(0, r.size(), r) != 0) return false;
  return d.find("/../") == std::string::npos && !d.ends_with("/..") && d.find("/./") == std::string::npos &&
         !d.ends_with("/.");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = fuzz::as_text(data, size);
  auto lines = parse_proc_cgroup(text);
  for (const auto& l : lines) {
    FUZZ_CHECK(!l.path.empty() && l.path.front() == '/');
    FUZZ_CHECK(text.find(l.path) != std::string_view::npos);
    for (const auto& c : l.controllers) FUZZ_CHECK(!c.empty() && c.find(',') == std::string::npos);
  }
  CgroupMounts v2;
  v2.v2 = "/sys/fs/cgroup";
  v2.v2_memory = true;
  CgroupMounts v1;
  v1.v2 = "/sys/fs/cgroup/unified";
  v1.v1_memory = "/sys/fs/cgroup/memory";
  v1.v1_blkio = "/sys/fs/cgroup/blkio";
  for (const auto* m : {&v2, &v1}) {
    auto cg = memory_cgroup_of(*m, text);
    if (cg) {
      FUZZ_CHECK(below(cg->dir, cg->version == CgroupVersion::v2 ? *m->v2 : *m->v1_memory), cg->dir.native());
      FUZZ_CHECK(memory_cgroup_at(*m, cg->path) == cg);
    }
    if (auto at = memory_cgroup_at(*m, text)) FUZZ_CHECK(below(at->dir, at->version == CgroupVersion::v2 ? *m->v2 : *m->v1_memory));
  }
  if (auto b = blkio_cgroup_of(v1, text)) FUZZ_CHECK(below(*b, *v1.v1_blkio));

  for (auto v : {CgroupVersion::v1, CgroupVersion::v2}) {
    auto limit = parse_memory_limit(text, v);
    if (!limit) continue;
    if (limit->unlimited) {
      FUZZ_CHECK(limit->bytes == 0);
      FUZZ_CHECK(v == CgroupVersion::v2 ? text::trim(text) == "max"
                                        : *text::parse_u64(text::trim(text)) >= kV1UnlimitedFrom);
    } else {
      FUZZ_CHECK(text::parse_u64(text::trim(text)) == limit->bytes);
    }
  }
  return 0;
}

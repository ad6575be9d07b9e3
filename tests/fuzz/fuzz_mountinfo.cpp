// /proc/self/mountinfo: parse_mountinfo + mount_for_path, the latter checked
// against a brute-force search.
#include <cstdint>
#include <string>

#include "core/text.h"
#include "probes/swaps.h"
#include "tests/fuzz/fuzz_common.h"

using namespace tierscope;

namespace {

bool covers(std::string_view mount_point, std::string_view path) {
  if (mount_point == "/") return path.starts_with('/');
  return path.starts_with(mount_point) && (path.size() == mount_point.size() || path[mount_point.size()] == '/');
}

void check_lookup(const std::vector<MountEntry>& mounts, std::string_view path) {
  const MountEntry* got = mount_for_path(mounts, path);
  // Reference: the longest covering mount point, the last one among equals.
  const MountEntry* want = nullptr;
  for (const auto& m : mounts)
    if (covers(m.mount_point, path) && (!want || m.mount_point.size() >= want->mount_point.size())) want = &m;
  FUZZ_CHECK(got == want, std::string(path));
  if (got) FUZZ_CHECK(covers(got->mount_point, path), std::string(path));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = fuzz::as_text(data, size);
  const auto mounts = parse_mountinfo(text);

  std::size_t lines = 0;
  {
    text::Lines l(text);
    std::string_view line;
    while (l.next(line)) ++lines;
  }
  FUZZ_CHECK(mounts.size() <= lines);

  for (const auto& m : mounts) {
    FUZZ_CHECK(!m.mount_point.empty());
    FUZZ_CHECK(!m.fstype.empty() && m.fstype.find_first_of(" \t\n") == std::string::npos, m.fstype);
    FUZZ_CHECK(m.mount_point.size() <= text.size() && m.source.size() <= text.size());
    // Every mount point is found by looking itself up (by itself or a later
    // mount of the same point), and so is a path below it.
    const MountEntry* self = mount_for_path(mounts, m.mount_point);
    if (m.mount_point.front() == '/') {
      FUZZ_CHECK(self != nullptr, m.mount_point);
      FUZZ_CHECK(self->mount_point.size() >= m.mount_point.size(), m.mount_point);
    }
    check_lookup(mounts, m.mount_point);
    check_lookup(mounts, m.mount_point + "/swapfile");
    check_lookup(mounts, m.mount_point + "x");
  }
  check_lookup(mounts, "/");
  check_lookup(mounts, "");
  check_lookup(mounts, "/mnt/offload/swapfile");
  // The input's own first line, taken as a path.
  {
    text::Lines l(text);
    std::string_view first;
    if (l.next(first)) check_lookup(mounts, first);
  }
  return 0;
}

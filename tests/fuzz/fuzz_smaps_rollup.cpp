// A process's memory files: /proc/<pid>/smaps_rollup, status and stat. Every
// value is a "Key: N kB" line of the text times 1024 (never wrapped past 64
// bits), and the major faults come from after the last ')'.
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "core/text.h"
#include "probes/workload_memory.h"
#include "tests/fuzz/fuzz_common.h"

using namespace tierscope;

namespace {

bool has_kb(std::string_view text, std::string_view key, std::uint64_t bytes) {
  if (bytes % 1024 != 0) return false;
  text::Lines lines(text);
  std::string_view line;
  while (lines.next(line)) {
    auto colon = line.find(':');
    if (colon == std::string_view::npos || line.substr(0, colon) != key) continue;
    text::Fields f(line.substr(colon + 1));
    if (text::parse_u64(f.next()) == bytes / 1024 && f.next() == "kB" && f.done()) return true;
  }
  return false;
}

void check(std::string_view text, std::string_view key, const std::optional<std::uint64_t>& v) {
  if (v) FUZZ_CHECK(has_kb(text, key, *v), std::string(key));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = fuzz::as_text(data, size);
  auto s = parse_smaps_rollup(text);
  check(text, "Rss", s.rss);
  check(text, "Pss", s.pss);
  check(text, "Pss_Anon", s.pss_anon);
  check(text, "Pss_File", s.pss_file);
  check(text, "Pss_Shmem", s.pss_shmem);
  check(text, "Anonymous", s.anonymous);
  check(text, "Swap", s.swap);
  check(text, "SwapPss", s.swap_pss);

  auto st = parse_proc_status_memory(text);
  check(text, "RssAnon", st.rss_anon);
  check(text, "RssFile", st.rss_file);
  check(text, "RssShmem", st.rss_shmem);
  check(text, "VmSwap", st.vm_swap);

  auto majflt = parse_proc_stat_major_faults(text);
  if (majflt) {
    auto close = text.rfind(')');
    FUZZ_CHECK(close != std::string_view::npos);
    FUZZ_CHECK(text.substr(close).find(std::to_string(*majflt)) != std::string_view::npos);
  }
  return 0;
}

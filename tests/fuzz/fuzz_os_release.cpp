// /etc/os-release for the audit manifest: parse_os_release
// (workloads/manifest.h).
#include <cstdint>
#include <set>
#include <string>

#include "tests/fuzz/fuzz_common.h"
#include "workloads/manifest.h"

using namespace tierscope;
using namespace tierscope::workloads;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = fuzz::as_text(data, size);
  const OsRelease r = parse_os_release(text);
  const OsRelease again = parse_os_release(text);
  FUZZ_CHECK(again.fields == r.fields);

  std::set<std::string> keys;
  for (const auto& [k, v] : r.fields) {
    // Keys: shell variable names from the input, each once; get() finds
    // the first occurrence, which is the one kept.
    FUZZ_CHECK(!k.empty() && !(k[0] >= '0' && k[0] <= '9'), k);
    for (char ch : k) FUZZ_CHECK(ch == '_' || (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'), k);
    FUZZ_CHECK(keys.insert(k).second, k);
    FUZZ_CHECK(text.find(k + "=") != std::string_view::npos, k);
    FUZZ_CHECK(r.get(k) == v, k);
    // A value is one line and no longer than its line.
    FUZZ_CHECK(v.find('\n') == std::string::npos, v);
    FUZZ_CHECK(v.size() <= size);
  }
  return 0;
}

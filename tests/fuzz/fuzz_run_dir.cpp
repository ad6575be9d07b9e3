// requests.jsonl as the report reads it (workloads/run_dir.h parse_json_lines):
// every line is accounted for exactly once (kept, torn or corrupt), only
// JSON objects are kept, only the last line can be torn, and a torn line is
// one without its newline.
#include <cstdint>
#include <string>

#include "core/text.h"
#include "tests/fuzz/fuzz_common.h"
#include "workloads/run_dir.h"

using namespace tierscope;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = fuzz::as_text(data, size);
  const auto lines = workloads::parse_json_lines(text);
  std::size_t count = 0;
  text::Lines it(text);
  std::string_view line;
  while (it.next(line)) ++count;
  FUZZ_CHECK(lines.records.size() + lines.torn + lines.corrupt == count);
  FUZZ_CHECK(lines.torn <= 1);
  if (lines.torn) FUZZ_CHECK(!text.empty() && text.back() != '\n');
  FUZZ_CHECK((lines.corrupt == 0) == (lines.first_corrupt_line == 0));
  FUZZ_CHECK(lines.first_corrupt_line <= count);
  for (const auto& r : lines.records) FUZZ_CHECK(r.is_object());
  return 0;
}

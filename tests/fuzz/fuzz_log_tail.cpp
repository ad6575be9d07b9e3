// The tail of engine.log shown in messages and summaries (tail_lines, the
// part of log_tail that sees the engine's bytes): whatever the engine wrote,
// at most the asked number of lines, valid UTF-8, no control characters but
// newline and tab, no final newline, and no more bytes than came in (each
// invalid byte may grow to the 3 of U+FFFD). First input byte: line count
// (low 7 bits) and whether the text starts mid-line (high bit).
#include <algorithm>
#include <cstdint>
#include <string>

#include "core/text.h"
#include "tests/fuzz/fuzz_common.h"
#include "workloads/engine_launch.h"

using namespace tierscope::workloads;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t max_lines = data[0] & 0x7f;
  const bool cut = (data[0] & 0x80) != 0;
  const auto text = tierscope::fuzz::as_text(data + 1, size - 1);
  const std::string out = tail_lines(text, max_lines, cut);
  if (out.empty()) return 0;
  FUZZ_CHECK(max_lines > 0);
  FUZZ_CHECK(static_cast<std::size_t>(std::count(out.begin(), out.end(), '\n')) < max_lines, out);
  FUZZ_CHECK(out.back() != '\n');
  for (char c : out)
    FUZZ_CHECK(!((static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') || c == 0x7f), out);
  std::string copy = out;
  FUZZ_CHECK(tierscope::text::make_valid_utf8(copy), out);
  FUZZ_CHECK(out.size() <= 3 * text.size());
  return 0;
}

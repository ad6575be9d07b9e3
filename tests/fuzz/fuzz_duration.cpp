// Durations of the config and command line: parse_duration / format_duration.
#include <cctype>
#include <chrono>
#include <cstdint>
#include <string>

#include "core/duration.h"
#include "core/text.h"
#include "tests/fuzz/fuzz_common.h"

using namespace tierscope;
using std::chrono::milliseconds;

namespace {

void check_format(milliseconds d) {
  const std::string s = format_duration(d);
  // Digits, then "ms" or "s".
  std::size_t digits = 0;
  while (digits < s.size() && std::isdigit(static_cast<unsigned char>(s[digits]))) ++digits;
  FUZZ_CHECK(digits > 0, s);
  FUZZ_CHECK(s.substr(digits) == "ms" || s.substr(digits) == "s", s);
  // Re-parses to the same value.
  const auto back = parse_duration(s);
  FUZZ_CHECK(back.has_value(), s);
  FUZZ_CHECK(*back == d, s + " -> " + std::to_string(back->count()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto s = fuzz::as_text(data, size);
  const auto d = parse_duration(s);
  FUZZ_CHECK(d == parse_duration(s));  // deterministic
  if (d) {
    FUZZ_CHECK(d->count() >= 0, std::string(s));
    FUZZ_CHECK(d->count() <= 1'000'000'000'000'000, std::string(s));
    check_format(*d);
    // Surrounding whitespace is ignored.
    FUZZ_CHECK(parse_duration(" " + std::string(s) + "\n") == d, std::string(s));
    // The same amount in milliseconds.
    FUZZ_CHECK(parse_duration(std::to_string(d->count()) + "ms") == d, std::string(s));
  }
  const auto trimmed = text::trim(s);
  if (trimmed.empty() || trimmed.front() == '-') FUZZ_CHECK(!d, std::string(s));

  // Any value the input spells as a count of milliseconds formats and
  // re-parses exactly.
  std::uint64_t raw = 0;
  for (std::size_t i = 0; i < size && i < 8; ++i) raw = (raw << 8) | data[i];
  check_format(milliseconds(static_cast<std::int64_t>(raw % 1'000'000'000'000'001ULL)));
  return 0;
}

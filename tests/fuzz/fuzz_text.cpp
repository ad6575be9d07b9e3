// The shared kernel-text helpers of probes/text.h, each against a reference
// written out longhand: trim, parse_u64/parse_i64/parse_hex/parse_double,
// Lines, Fields and unescape_octal. They are applied to the whole input and to
// every field of every line.
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "core/text.h"
#include "tests/fuzz/fuzz_common.h"

using namespace tierscope;

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_blank(char c) { return c == ' ' || c == '\t'; }

// Digits of `base` (10 or 16) only, at least one, value within 64 bits.
std::optional<std::uint64_t> ref_unsigned(std::string_view s, unsigned base) {
  if (s.empty()) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    unsigned d;
    if (c >= '0' && c <= '9') d = static_cast<unsigned>(c - '0');
    else if (base == 16 && c >= 'a' && c <= 'f') d = static_cast<unsigned>(c - 'a' + 10);
    else if (base == 16 && c >= 'A' && c <= 'F') d = static_cast<unsigned>(c - 'A' + 10);
    else return std::nullopt;
    if (v > (std::numeric_limits<std::uint64_t>::max() - d) / base) return std::nullopt;
    v = v * base + d;
  }
  return v;
}

std::optional<std::int64_t> ref_i64(std::string_view s) {
  const bool negative = !s.empty() && s.front() == '-';
  if (negative) s.remove_prefix(1);
  auto magnitude = ref_unsigned(s, 10);
  if (!magnitude) return std::nullopt;
  constexpr auto max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (!negative) {
    if (*magnitude > max) return std::nullopt;
    return static_cast<std::int64_t>(*magnitude);
  }
  if (*magnitude > max + 1) return std::nullopt;
  if (*magnitude == max + 1) return std::numeric_limits<std::int64_t>::min();
  return -static_cast<std::int64_t>(*magnitude);
}

// The kernel's escaping in /proc/swaps and mountinfo (seq_escape with " \t\n\\").
std::string kernel_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\\') {
      const auto u = static_cast<unsigned char>(c);
      out.push_back('\\');
      out.push_back(static_cast<char>('0' + (u >> 6)));
      out.push_back(static_cast<char>('0' + ((u >> 3) & 7)));
      out.push_back(static_cast<char>('0' + (u & 7)));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string ref_unescape(std::string_view s) {
  std::string out;
  std::size_t i = 0;
  while (i < s.size()) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' &&
        s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
      out.push_back(static_cast<char>(((s[i + 1] - '0') << 6) | ((s[i + 2] - '0') << 3) | (s[i + 3] - '0')));
      i += 4;
    } else {
      out.push_back(s[i++]);
    }
  }
  return out;
}

void check_trim(std::string_view s) {
  const auto t = text::trim(s);
  FUZZ_CHECK(t.empty() || (t.data() >= s.data() && t.data() + t.size() <= s.data() + s.size()));
  FUZZ_CHECK(t.empty() || (!is_space(t.front()) && !is_space(t.back())));
  if (!t.empty()) {
    const auto before = static_cast<std::size_t>(t.data() - s.data());
    for (std::size_t i = 0; i < before; ++i) FUZZ_CHECK(is_space(s[i]));
    for (std::size_t i = before + t.size(); i < s.size(); ++i) FUZZ_CHECK(is_space(s[i]));
  } else {
    for (char c : s) FUZZ_CHECK(is_space(c));
  }
  FUZZ_CHECK(text::trim(t) == t);
}

void check_numbers(std::string_view s) {
  FUZZ_CHECK(text::parse_u64(s) == ref_unsigned(s, 10), std::string(s));
  FUZZ_CHECK(text::parse_i64(s) == ref_i64(s), std::string(s));

  auto h = text::trim(s);
  if (h.size() > 2 && h[0] == '0' && (h[1] == 'x' || h[1] == 'X')) h.remove_prefix(2);
  FUZZ_CHECK(text::parse_hex(s) == ref_unsigned(h, 16), std::string(s));

  if (auto d = text::parse_double(s)) {
    FUZZ_CHECK(std::isfinite(*d), std::string(s));
    // The shortest spelling of the value reads back as the same value.
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, *d);
    FUZZ_CHECK(ec == std::errc{});
    FUZZ_CHECK(text::parse_double(std::string_view(buf, static_cast<std::size_t>(end - buf))) == *d, std::string(s));
    // A whole number parses as the same value either way.
    if (auto u = text::parse_u64(s); u && *u < (1ULL << 53)) FUZZ_CHECK(*d == static_cast<double>(*u), std::string(s));
  } else {
    // Every decimal integer is a valid (finite) double.
    FUZZ_CHECK(!text::parse_u64(s), std::string(s));
  }
}

void check_unescape(std::string_view s) {
  const std::string u = text::unescape_octal(s);
  FUZZ_CHECK(u.size() <= s.size());
  FUZZ_CHECK(u == ref_unescape(s), std::string(s));
  if (s.find('\\') == std::string_view::npos) FUZZ_CHECK(u == s);
  // What the kernel escapes comes back unchanged.
  FUZZ_CHECK(text::unescape_octal(kernel_escape(s)) == s, std::string(s));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto input = fuzz::as_text(data, size);
  check_trim(input);
  check_numbers(input);
  check_unescape(input);

  // Lines: none contains '\n'; joined with '\n' they give back the text (the
  // final '\n', when there is one, ends the last line rather than starting an
  // empty one).
  std::string joined;
  std::size_t count = 0;
  text::Lines lines(input);
  std::string_view line;
  while (lines.next(line)) {
    FUZZ_CHECK(line.find('\n') == std::string_view::npos);
    if (count++) joined.push_back('\n');
    joined.append(line);

    // Fields: non-empty runs of non-blanks, in order, that make up the line
    // once the blanks are removed; done() exactly when next() is empty.
    std::string nonblank, concatenated;
    for (char c : line)
      if (!is_blank(c)) nonblank.push_back(c);
    text::Fields fields(line);
    std::size_t nfields = 0;
    for (;;) {
      const bool done = fields.done();
      const auto field = fields.next();
      FUZZ_CHECK(done == field.empty());
      if (field.empty()) break;
      ++nfields;
      for (char c : field) FUZZ_CHECK(!is_blank(c));
      FUZZ_CHECK(field.data() >= line.data() && field.data() + field.size() <= line.data() + line.size());
      concatenated.append(field);
      check_numbers(field);
      check_unescape(field);
      check_trim(field);
    }
    FUZZ_CHECK(concatenated == nonblank);
    FUZZ_CHECK(fields.done() && fields.next().empty());  // stays exhausted
    FUZZ_CHECK(nfields <= line.size());
  }
  FUZZ_CHECK(!lines.next(line));  // stays exhausted
  if (!input.empty() && input.back() == '\n') joined.push_back('\n');
  FUZZ_CHECK(joined == input);
  std::size_t newlines = 0;
  for (char c : input) newlines += c == '\n';
  FUZZ_CHECK(count == newlines + (!input.empty() && input.back() != '\n' ? 1 : 0));
  return 0;
}

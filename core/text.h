#pragma once
// Small, allocation-free helpers for parsing kernel text (procfs/sysfs).
// Every parser in probes/ is a pure function from std::string_view to a typed
// reading; these are the pieces they share.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tierscope::text {

// Strips ASCII spaces, tabs and newlines at both ends.
std::string_view trim(std::string_view s);

// Parses a whole unsigned decimal number; nullopt on anything else (sign,
// garbage, overflow, empty).
std::optional<std::uint64_t> parse_u64(std::string_view s);
// Signed decimal.
std::optional<std::int64_t> parse_i64(std::string_view s);
// Hexadecimal with an optional 0x prefix, as in sysfs `vendor` files.
std::optional<std::uint64_t> parse_hex(std::string_view s);
// Decimal fraction such as "0.18" (PSI averages).
std::optional<double> parse_double(std::string_view s);

// Iterates over the lines of a text; the last line need not end in '\n'.
class Lines {
 public:
  explicit Lines(std::string_view text) : rest_(text) {}
  bool next(std::string_view& line);

 private:
  std::string_view rest_;
};

// Splits on runs of spaces/tabs, like awk. Returns the next field or an empty
// view when there are no more.
class Fields {
 public:
  explicit Fields(std::string_view line) : rest_(line) {}
  std::string_view next();
  bool done();

 private:
  std::string_view rest_;
};

// Undoes the octal escapes the kernel uses in /proc/swaps and mountinfo
// (`\040` for space, `\011` tab, `\012` newline, `\134` backslash).
std::string unescape_octal(std::string_view s);

// Valid UTF-8 as required by the Prometheus exposition format and JSON:
// every invalid or truncated sequence becomes U+FFFD. Returns true (and
// leaves `s` alone) when it already was valid.
bool make_valid_utf8(std::string& s);

// The most bytes of an outside value that a message quotes.
inline constexpr std::size_t kQuotedChars = 80;

// A value from outside quoted for a one-line message: at most `max_chars`
// bytes of it (cut at a UTF-8 boundary, made valid, control characters
// shown as '?'), in double quotes, with "… (N bytes)" when it was longer. A 100 MB value in a config file never
// reaches the log.
std::string quoted(std::string_view value, std::size_t max_chars = kQuotedChars);

// A size cap in the words of a message: "4 MiB", "64 KiB", or "N bytes"
// when it is not a whole number of either.
std::string size_words(std::size_t bytes);

}  // namespace tierscope::text

#include "core/yaml_reader.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <exception>

#include "core/did_you_mean.h"
#include "core/byte_size.h"
#include "core/duration.h"
#include "core/text.h"

namespace tierscope {

void YamlReader::fail(const YAML::Mark& mark, std::string_view key, std::string_view what) const {
  std::string message = origin(mark, key) + ": ";
  // A key is a file's text too: a long one is cut like any quoted value.
  if (!key.empty()) message += (key.size() > text::kQuotedChars ? text::quoted(key) : std::string(key)) + ": ";
  message += what;
  raise(message);
  std::abort();  // raise() always throws
}

std::string YamlReader::file_position(const std::string& file, const YAML::Mark& mark) {
  if (mark.line < 0) return file;
  return file + ':' + std::to_string(mark.line + 1) + ':' + std::to_string(mark.column + 1);
}

void YamlReader::check_key(const YAML::Mark& mark, const std::string& key, const std::string& full,
                           const std::vector<std::string_view>& known, std::vector<std::string>& seen) const {
  if (std::find(known.begin(), known.end(), key) == known.end()) {
    std::string what = "unknown key";
    if (auto guess = did_you_mean(key, known)) what += "; did you mean \"" + *guess + "\"?";
    what += " (expected one of: " + join(known) + ")";
    fail(mark, full, what);
  }
  if (std::find(seen.begin(), seen.end(), key) != seen.end()) fail(mark, full, "key given twice");
  seen.push_back(key);
}

std::string YamlReader::scalar(const YAML::Node& n, const std::string& key, std::string_view expected) const {
  if (!n.IsScalar()) fail(n.Mark(), key, "expected " + std::string(expected));
  return n.Scalar();
}

bool YamlReader::boolean(const YAML::Node& n, const std::string& key) const {
  auto s = scalar(n, key, "true or false");
  if (s == "true" || s == "yes" || s == "on") return true;
  if (s == "false" || s == "no" || s == "off") return false;
  fail(n.Mark(), key, "expected true or false, got " + text::quoted(s));
}

std::string YamlReader::choice(const YAML::Node& n, const std::string& key,
                               const std::vector<std::string_view>& options) const {
  auto s = scalar(n, key, "one of " + join(options));
  if (std::find(options.begin(), options.end(), s) != options.end()) return s;
  std::string what = "expected one of " + join(options) + ", got " + text::quoted(s);
  if (auto g = did_you_mean(s, options)) what += "; did you mean \"" + *g + "\"?";
  fail(n.Mark(), key, what);
}

std::uint32_t YamlReader::integer(const YAML::Node& n, const std::string& key, std::uint32_t lo,
                                  std::uint32_t hi) const {
  std::string expected = "an integer from " + std::to_string(lo) + " to " + std::to_string(hi);
  auto s = scalar(n, key, expected);
  auto v = text::parse_u64(s);
  if (!v || *v < lo || *v > hi) fail(n.Mark(), key, "expected " + expected + ", got " + text::quoted(s));
  return static_cast<std::uint32_t>(*v);
}

double YamlReader::number(const YAML::Node& n, const std::string& key, double lo, double hi, bool open_low,
                          std::string_view expected) const {
  auto s = scalar(n, key, expected);
  double v = 0;
  std::size_t used = 0;
  try {
    v = std::stod(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != s.size() || !std::isfinite(v) || v > hi || v < lo || (open_low && v <= lo))
    fail(n.Mark(), key, "expected " + std::string(expected) + ", got " + text::quoted(s));
  return v;
}

std::chrono::milliseconds YamlReader::duration(const YAML::Node& n, const std::string& key,
                                               std::chrono::milliseconds lo, std::chrono::milliseconds hi) const {
  std::string expected =
      "a duration from " + format_duration(lo) + " to " + format_duration(hi) + " (e.g. 500ms, 1s, 2m)";
  auto s = scalar(n, key, expected);
  auto d = parse_duration(s);
  if (!d || *d < lo || *d > hi) fail(n.Mark(), key, "expected " + expected + ", got " + text::quoted(s));
  return *d;
}

std::uint64_t YamlReader::byte_size(const YAML::Node& n, const std::string& key, std::uint64_t lo,
                                    std::uint64_t hi) const {
  std::string expected = "a size from " + format_byte_size(lo) + " to " + format_byte_size(hi) + " (e.g. 512M, 16G)";
  auto s = scalar(n, key, expected);
  auto r = parse_byte_size(s);
  if (!r.bytes) fail(n.Mark(), key, "expected " + expected + ", got " + text::quoted(s) + ": " + r.error);
  if (*r.bytes < lo || *r.bytes > hi) fail(n.Mark(), key, "expected " + expected + ", got " + text::quoted(s));
  return *r.bytes;
}

std::string YamlReader::join(const std::vector<std::string_view>& v) {
  std::string out;
  for (auto s : v) out += (out.empty() ? "" : ", ") + std::string(s);
  return out;
}

}  // namespace tierscope

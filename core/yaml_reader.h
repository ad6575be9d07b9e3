#pragma once
// Strict reading of a YAML document, shared by the daemon's config parser and
// the benchmark's scenario parser: unknown and repeated keys are errors, a
// misspelt key gets a "did you mean", and every error names where it came
// from (file:line:col, or the --set override that supplied the value), the
// dotted key and what was expected.

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tierscope {

class YamlReader {
 public:
  virtual ~YamlReader() = default;

  // Throws (through raise()) "ORIGIN: KEY: WHAT".
  [[noreturn]] void fail(const YAML::Mark& mark, std::string_view key, std::string_view what) const;

  // Calls fn(key, dotted_key, value) for each entry of a mapping (nothing for
  // an absent or null node), rejecting unknown and repeated keys.
  template <typename Fn>
  void each_key(const YAML::Node& map, const std::string& path, const std::vector<std::string_view>& known,
                Fn fn) const {
    if (!map.IsDefined() || map.IsNull()) return;
    if (!map.IsMap()) fail(map.Mark(), path, "expected a mapping of keys (" + join(known) + ")");
    std::vector<std::string> seen;
    for (auto it = map.begin(); it != map.end(); ++it) {
      if (!it->first.IsScalar()) fail(it->first.Mark(), path, "expected a plain key");
      const std::string key = it->first.Scalar();
      const std::string full = path.empty() ? key : path + "." + key;
      check_key(it->first.Mark(), key, full, known, seen);
      fn(key, full, it->second);
    }
  }

  std::string scalar(const YAML::Node& n, const std::string& key, std::string_view expected) const;
  bool boolean(const YAML::Node& n, const std::string& key) const;
  // One of `options`, with a "did you mean" for a near miss.
  std::string choice(const YAML::Node& n, const std::string& key, const std::vector<std::string_view>& options) const;
  std::uint32_t integer(const YAML::Node& n, const std::string& key, std::uint32_t lo, std::uint32_t hi) const;
  // A finite number in [lo, hi] ((lo, hi] when open_low); `expected` describes it.
  double number(const YAML::Node& n, const std::string& key, double lo, double hi, bool open_low,
                std::string_view expected) const;
  std::chrono::milliseconds duration(const YAML::Node& n, const std::string& key, std::chrono::milliseconds lo,
                                     std::chrono::milliseconds hi) const;
  // A byte size (core/byte_size.h: "512M", "16G", bytes) in [lo, hi].
  std::uint64_t byte_size(const YAML::Node& n, const std::string& key, std::uint64_t lo, std::uint64_t hi) const;

  static std::string join(const std::vector<std::string_view>& v);

 protected:
  // Where the value of `key` at `mark` came from, e.g. "file.yaml:3:5".
  virtual std::string origin(const YAML::Mark& mark, std::string_view key) const = 0;
  // Throws the parser's own error type with `message`.
  [[noreturn]] virtual void raise(const std::string& message) const = 0;

  // "FILE:LINE:COL" (1-based), or just FILE for a mark without a position.
  static std::string file_position(const std::string& file, const YAML::Mark& mark);

 private:
  void check_key(const YAML::Mark& mark, const std::string& key, const std::string& full,
                 const std::vector<std::string_view>& known, std::vector<std::string>& seen) const;
};

}  // namespace tierscope

#pragma once
// Reading fields of engine JSON without throwing: every engine's stream
// messages and error bodies go through these, so a field of an unexpected
// type reads as absent (or, for text, as a shape error the caller reports as
// malformed) instead of an exception.
//
// Units: nanoseconds_as_ms() converts Ollama's nanosecond durations to ms.
// Threading: pure functions.

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace tierscope::workloads::json_fields {

using nlohmann::json;

// The member `key` of an object; null when `object` is not an object or has none.
inline const json* member(const json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

inline const std::string* string_member(const json& object, std::string_view key) {
  const json* v = member(object, key);
  return v && v->is_string() ? v->get_ptr<const std::string*>() : nullptr;
}

// A non-negative integer (an integral float counts); absent otherwise.
inline std::optional<std::uint64_t> count_member(const json& object, std::string_view key) {
  const json* v = member(object, key);
  if (!v) return std::nullopt;
  if (v->is_number_unsigned()) return v->get<std::uint64_t>();
  if (v->is_number_integer()) {
    const auto i = v->get<std::int64_t>();
    if (i >= 0) return static_cast<std::uint64_t>(i);
  } else if (v->is_number_float()) {
    const double d = v->get<double>();
    if (d >= 0 && d < 1.8e19 && d == std::floor(d)) return static_cast<std::uint64_t>(d);
  }
  return std::nullopt;
}

// A finite number; absent otherwise.
inline std::optional<double> number_member(const json& object, std::string_view key) {
  const json* v = member(object, key);
  if (!v || !v->is_number()) return std::nullopt;
  const double d = v->get<double>();
  if (!std::isfinite(d)) return std::nullopt;
  return d;
}

inline std::optional<double> nanoseconds_as_ms(const json& object, std::string_view key) {
  if (auto ns = number_member(object, key)) return *ns / 1e6;
  return std::nullopt;
}

// Appends a string member to `out`; false when the member is there but not a
// string or null (an unexpected shape).
inline bool append_text(const json& object, std::string_view key, std::string& out) {
  const json* v = member(object, key);
  if (!v || v->is_null()) return true;
  if (!v->is_string()) return false;
  out += v->get_ref<const std::string&>();
  return true;
}

}  // namespace tierscope::workloads::json_fields

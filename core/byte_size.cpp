#include "core/byte_size.h"

#include <array>

#include "core/text.h"

namespace tierscope {

namespace {

struct Unit {
  std::string_view name;
  unsigned shift;
};

constexpr std::array<Unit, 9> kUnits{{{"", 0},
                                      {"K", 10},
                                      {"M", 20},
                                      {"G", 30},
                                      {"T", 40},
                                      {"KiB", 10},
                                      {"MiB", 20},
                                      {"GiB", 30},
                                      {"TiB", 40}}};

}  // namespace

ByteSizeResult parse_byte_size(std::string_view s) {
  s = text::trim(s);
  std::size_t end = 0;
  while (end < s.size() && ((s[end] >= '0' && s[end] <= '9') || s[end] == '.')) ++end;
  std::string_view number = s.substr(0, end), suffix = s.substr(end);
  if (suffix.size() == 1 && (suffix == "k" || suffix == "m" || suffix == "g" || suffix == "t")) {
    static constexpr std::string_view upper = "KMGT";
    suffix = upper.substr(std::string_view("kmgt").find(suffix[0]), 1);
  }
  if (suffix == "B" || suffix == "b") suffix = "";
  if (number.empty()) return {std::nullopt, "expected a size such as 512M, 16G or a number of bytes"};
  if (suffix == "KB" || suffix == "MB" || suffix == "GB" || suffix == "TB" || suffix == "kB")
    return {std::nullopt, "ambiguous unit " + std::string(suffix) + ": write " + std::string(number) +
                              std::string(1, suffix[0] == 'k' ? 'K' : suffix[0]) +
                              " (powers of 1024) or a number of bytes"};
  const Unit* unit = nullptr;
  for (const auto& u : kUnits)
    if (u.name == suffix) unit = &u;
  if (!unit) return {std::nullopt, "unknown unit " + text::quoted(suffix) + " (expected K, M, G, T or none)"};
  auto dot = number.find('.');
  if (dot == std::string_view::npos) {
    auto whole = text::parse_u64(number);
    if (!whole || (unit->shift > 0 && *whole > (UINT64_MAX >> unit->shift)))
      return {std::nullopt, "too large (at most 2^64-1 bytes)"};
    return {*whole << unit->shift, {}};
  }
  if (number.find('.', dot + 1) != std::string_view::npos || dot + 1 == number.size() || unit->shift == 0)
    return {std::nullopt, unit->shift == 0 ? "a number of bytes must be whole" : "malformed number"};
  auto whole = dot == 0 ? std::optional<std::uint64_t>(0) : text::parse_u64(number.substr(0, dot));
  std::string_view frac_digits = number.substr(dot + 1);
  if (!whole || frac_digits.size() > 9 || *whole > (UINT64_MAX >> unit->shift) - 1)
    return {std::nullopt, "too large or too precise (at most 9 decimals)"};
  // whole << shift plus frac × 2^shift / 10^digits in integers, rounded down:
  // 2^shift = q × scale + r, and frac < scale keeps every product below 2^64.
  auto frac = text::parse_u64(frac_digits);
  if (!frac) return {std::nullopt, "malformed number"};
  std::uint64_t scale = 1;
  for (std::size_t i = 0; i < frac_digits.size(); ++i) scale *= 10;
  const std::uint64_t pow2 = std::uint64_t{1} << unit->shift, q = pow2 / scale, r = pow2 % scale;
  const std::uint64_t part = *frac * q + *frac * r / scale;
  return {(*whole << unit->shift) + part, {}};
}

std::string format_byte_size(std::uint64_t bytes) {
  for (auto it = kUnits.rbegin() + 4; it != kUnits.rend(); ++it) {
    if (it->shift == 0) break;
    const std::uint64_t mask = (std::uint64_t{1} << it->shift) - 1;
    if (bytes != 0 && (bytes & mask) == 0) return std::to_string(bytes >> it->shift) + std::string(it->name);
  }
  return std::to_string(bytes);
}

}  // namespace tierscope

#include "core/duration.h"

#include <cmath>

#include "core/text.h"

namespace tierscope {

std::optional<std::chrono::milliseconds> parse_duration(std::string_view s) {
  s = text::trim(s);
  double scale_ms = 1000;  // bare number: seconds
  if (s.ends_with("ms")) {
    scale_ms = 1;
    s.remove_suffix(2);
  } else if (s.ends_with("s")) {
    s.remove_suffix(1);
  } else if (s.ends_with("m")) {
    scale_ms = 60'000;
    s.remove_suffix(1);
  } else if (s.ends_with("h")) {
    scale_ms = 3'600'000;
    s.remove_suffix(1);
  }
  if (s.empty() || s.front() == '-' || s.front() == '+') return std::nullopt;
  auto v = text::parse_double(s);
  if (!v || *v < 0) return std::nullopt;
  double ms = *v * scale_ms;
  if (ms > 1e15) return std::nullopt;
  double whole = std::round(ms);
  if (std::fabs(ms - whole) > 1e-6) return std::nullopt;
  return std::chrono::milliseconds(static_cast<long long>(whole));
}

std::string format_duration(std::chrono::milliseconds d) {
  auto ms = d.count();
  if (ms % 1000 != 0) return std::to_string(ms) + "ms";
  return std::to_string(ms / 1000) + "s";
}

}  // namespace tierscope

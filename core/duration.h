#pragma once
// Durations in the config and on the command line: "250ms", "1s", "1.5s",
// "2m", "1h", or a bare number of seconds ("0.5").

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace tierscope {

// nullopt for anything malformed, negative, or not a whole number of milliseconds.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view s);
// The shortest exact spelling: "250ms", "1s", "90s".
std::string format_duration(std::chrono::milliseconds d);

}  // namespace tierscope

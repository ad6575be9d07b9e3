#pragma once
// Listen addresses as the daemon config, `--listen` and a scenario's live
// /metrics take them: "HOST:PORT", or "[IPV6]:PORT".

#include <optional>
#include <string>
#include <string_view>

namespace tierscope {

// nullopt when valid; otherwise what is wrong, e.g. "expected HOST:PORT, e.g. 127.0.0.1:9847".
std::optional<std::string> listen_address_problem(std::string_view listen);

}  // namespace tierscope

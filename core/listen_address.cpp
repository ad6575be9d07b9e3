#include "core/listen_address.h"

#include "core/text.h"

namespace tierscope {

std::optional<std::string> listen_address_problem(std::string_view listen) {
  std::string_view host, port;
  if (!listen.empty() && listen.front() == '[') {
    auto close = listen.find(']');
    if (close == std::string_view::npos || close + 1 >= listen.size() || listen[close + 1] != ':')
      return "expected [IPV6]:PORT";
    host = listen.substr(1, close - 1);
    port = listen.substr(close + 2);
  } else {
    auto colon = listen.rfind(':');
    if (colon == std::string_view::npos) return "expected HOST:PORT, e.g. 127.0.0.1:9847";
    host = listen.substr(0, colon);
    port = listen.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return "an IPv6 address needs brackets: [::1]:9847";
  }
  if (host.empty()) return "expected a host before the port (0.0.0.0 for every interface)";
  auto p = text::parse_u64(port);
  if (!p || *p > 65535) return "expected a port number 0-65535 after the colon";
  return std::nullopt;
}

}  // namespace tierscope

#pragma once
// The listening socket of an HTTP endpoint, bound by us (not by the HTTP
// library) so that a failure names its cause — the address is in use, the
// port needs privilege, the address is not one of this host's — and IPv6
// addresses work: "HOST:PORT", "[IPV6]:PORT"; port 0 picks a free port.

#include <stdexcept>
#include <string>

#include "core/unique_fd.h"

namespace tierscope {

class ListenError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Listener {
  UniqueFd fd;       // non-blocking, listening
  std::string host;  // as given, without brackets
  int port = 0;      // the port actually bound
  bool ipv6 = false;

  // "http://HOST:PORT" / "https://[V6]:PORT" for log lines.
  std::string url(bool tls) const;
};

// Throws ListenError: "cannot listen on 127.0.0.1:80: permission denied (ports
// below 1024 need root or CAP_NET_BIND_SERVICE)".
Listener bind_listener(const std::string& listen);

}  // namespace tierscope

#include "exporters/listener.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace tierscope {

namespace {

std::string cause(int err, int port) {
  switch (err) {
    case EADDRINUSE: return "address already in use (another process listens on this port)";
    case EACCES:
    case EPERM:
      return port > 0 && port < 1024 ? "permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)"
                                     : "permission denied";
    case EADDRNOTAVAIL: return "not an address of this host";
    default: return std::strerror(err);
  }
}

}  // namespace

std::string Listener::url(bool tls) const {
  return std::string(tls ? "https://" : "http://") + (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Listener bind_listener(const std::string& listen) {
  std::string host, port;
  if (!listen.empty() && listen.front() == '[') {
    auto close = listen.find(']');
    host = listen.substr(1, close == std::string::npos ? std::string::npos : close - 1);
    port = close == std::string::npos ? "" : listen.substr(close + 2);
  } else {
    auto colon = listen.rfind(':');
    host = listen.substr(0, colon);
    port = colon == std::string::npos ? "" : listen.substr(colon + 1);
  }
  const std::string where = "cannot listen on " + listen + ": ";
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0)
    throw ListenError(where + "cannot resolve \"" + host + "\": " + ::gai_strerror(rc));
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> addresses(found, ::freeaddrinfo);
  int last_error = EADDRNOTAVAIL;
  for (const addrinfo* a = found; a; a = a->ai_next) {
    UniqueFd fd(::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol));
    if (!fd) {
      last_error = errno;
      continue;
    }
    const int one = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd.get(), a->ai_addr, a->ai_addrlen) != 0 || ::listen(fd.get(), 1024) != 0) {
      last_error = errno;
      continue;
    }
    sockaddr_storage bound{};
    socklen_t len = sizeof bound;
    ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &len);
    Listener l;
    l.host = host;
    l.ipv6 = bound.ss_family == AF_INET6;
    l.port = ntohs(l.ipv6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                          : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
    l.fd = std::move(fd);
    return l;
  }
  throw ListenError(where + cause(last_error, std::atoi(port.c_str())));
}

}  // namespace tierscope

// http_abuse: hostile HTTP clients against a /metrics server on 127.0.0.1,
// with a probe that scrapes /metrics on a fresh connection while they run.
//
//   http_abuse PORT SECONDS ATTACK [ARGS...]
//
// ATTACK:
//   none                  the probe alone (another process attacks: wrk)
//   slowloris N           N sockets sending a request header one byte a second,
//                         never finishing it; reconnected when closed
//   idle N                N connected sockets sending nothing; reconnected
//   noread N              N sockets pipelining 200 GET /metrics each and never
//                         reading (small receive buffer); reconnected
//   keepalive N PERIOD_MS N clients scraping over one kept-alive connection
//                         each, every PERIOD_MS (reconnecting when closed)
//   reset N               N scrapes cut by a TCP reset: half after the first
//                         response bytes (mid-response), half right after the
//                         request; 16 at a time
//   bigheader BYTES       one GET /metrics with a BYTES-long header line
//   bigbody BYTES         one POST /metrics with a BYTES-long body
//
// The probe: one scrape every ~200 ms on a new connection, 5 s limit each
// (connect, request, whole response). A probe succeeds on HTTP 200 with a
// whole body (Content-Length or chunked, or until close) that holds a
// tierscope_samples_total line and ends with a newline.
//
// Prints one line of key=value figures, e.g.
//   attack=idle n=200 seconds=5 probes=24 failed=0 p50_ms=1.2 p99_ms=3.4 max_ms=3.4 connects=200 ...
// and, on stderr, the first few probe failures. Exit status: 0 when every
// probe succeeded, 1 when one failed, 2 on bad usage or a broken harness.
// Only 127.0.0.1; bounded in sockets (<= 5000) and time (<= 600 s).

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}
double now_ms_f() {
  using namespace std::chrono;
  return duration<double, std::milli>(steady_clock::now().time_since_epoch()).count();
}

// A non-blocking socket with a connect to 127.0.0.1:port in progress (or
// done); -1 on failure. rcvbuf > 0 shrinks the receive buffer first.
int connect_nb(int port, int rcvbuf = 0) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (rcvbuf > 0) ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && errno != EINPROGRESS) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Closes with a TCP reset instead of a FIN.
void close_reset(int fd) {
  linger l{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  ::close(fd);
}

bool socket_error(int fd) {
  int err = 0;
  socklen_t len = sizeof err;
  return ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0;
}

// ---- HTTP/1.1 responses

struct Response {
  int status = 0;
  std::string body;
  std::size_t end = 0;  // bytes of the buffer the response took
};
enum class Parse { incomplete, complete, until_close, bad };

// Decodes a chunked body starting at `pos`; complete when the last chunk is in.
Parse parse_chunked(const std::string& buf, std::size_t pos, Response& r) {
  for (;;) {
    std::size_t eol = buf.find("\r\n", pos);
    if (eol == std::string::npos) return Parse::incomplete;
    char* stop = nullptr;
    unsigned long size = std::strtoul(buf.c_str() + pos, &stop, 16);
    if (stop == buf.c_str() + pos) return Parse::bad;
    pos = eol + 2;
    if (size == 0) {
      std::size_t trailer_end = buf.find("\r\n", pos);
      if (trailer_end == std::string::npos) return Parse::incomplete;
      r.end = trailer_end + 2;
      return Parse::complete;
    }
    if (buf.size() < pos + size + 2) return Parse::incomplete;
    r.body.append(buf, pos, size);
    pos += size + 2;
  }
}

// One response at the start of `buf` (to a GET unless `head`).
Parse parse_response(const std::string& buf, Response& r, bool head = false) {
  std::size_t hdr_end = buf.find("\r\n\r\n");
  if (hdr_end == std::string::npos) return buf.size() > (1u << 20) ? Parse::bad : Parse::incomplete;
  if (buf.compare(0, 5, "HTTP/") != 0) return Parse::bad;
  std::size_t sp = buf.find(' ');
  r.status = sp == std::string::npos ? 0 : std::atoi(buf.c_str() + sp + 1);
  std::string headers = buf.substr(0, hdr_end + 2);
  for (char& ch : headers) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  std::size_t body_at = hdr_end + 4;
  r.body.clear();
  if (head || r.status == 204 || r.status == 304 || r.status / 100 == 1) {
    r.end = body_at;
    return Parse::complete;
  }
  if (headers.find("\r\ntransfer-encoding: chunked") != std::string::npos) return parse_chunked(buf, body_at, r);
  std::size_t cl = headers.find("\r\ncontent-length:");
  if (cl == std::string::npos) {
    r.body = buf.substr(body_at);
    return Parse::until_close;
  }
  std::size_t length = std::strtoul(headers.c_str() + cl + 17, nullptr, 10);
  if (buf.size() < body_at + length) return Parse::incomplete;
  r.body = buf.substr(body_at, length);
  r.end = body_at + length;
  return Parse::complete;
}

// ---- the probe

struct ProbeResult {
  bool ok = false;
  double ms = 0;
  std::string why;
};

// Waits until fd is ready for `events` or the deadline passes.
bool wait_fd(int fd, short events, int64_t deadline) {
  for (;;) {
    int64_t left = deadline - now_ms();
    if (left <= 0) return false;
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, static_cast<int>(left));
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) return false;
  }
}

// Reads a response to the request already sent; "" when it is a good one.
std::string read_metrics(int fd, int64_t deadline) {
  std::string buf;
  char chunk[65536];
  Response r;
  for (;;) {
    if (!wait_fd(fd, POLLIN, deadline)) return "timed out after " + std::to_string(buf.size()) + " bytes";
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n < 0) return std::string("read: ") + std::strerror(errno);
    if (n > 0) buf.append(chunk, static_cast<std::size_t>(n));
    Parse p = parse_response(buf, r);
    if (p == Parse::bad) return "malformed response";
    if (n == 0 && p != Parse::complete && p != Parse::until_close)
      return "closed after " + std::to_string(buf.size()) + " bytes";
    if (p == Parse::complete || (n == 0 && p == Parse::until_close)) break;
  }
  if (r.status != 200) return "HTTP " + std::to_string(r.status);
  if (r.body.empty() || r.body.back() != '\n') return "body does not end with a newline";
  if (r.body.compare(0, 24, "tierscope_samples_total ") != 0 &&
      r.body.find("\ntierscope_samples_total ") == std::string::npos)
    return "body lacks tierscope_samples_total";
  return "";
}

ProbeResult probe_once(int port, int timeout_ms) {
  ProbeResult res;
  double t0 = now_ms_f();
  int64_t deadline = now_ms() + timeout_ms;
  int fd = connect_nb(port);
  if (fd < 0) {
    res.why = std::string("connect: ") + std::strerror(errno);
    return res;
  }
  static const std::string req = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  if (!wait_fd(fd, POLLOUT, deadline)) res.why = "connect timed out";
  else if (socket_error(fd)) res.why = "connect failed";
  else if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size()))
    res.why = "request not sent";
  else res.why = read_metrics(fd, deadline);
  ::close(fd);
  res.ok = res.why.empty();
  res.ms = now_ms_f() - t0;
  return res;
}

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  std::size_t rank = static_cast<std::size_t>(q * static_cast<double>(v.size()) + 0.999999);
  return v[std::min(v.size(), std::max<std::size_t>(rank, 1)) - 1];
}

struct ProbeStats {
  long count = 0, failed = 0;
  std::vector<double> ms;
};

// Probes every ~200 ms until end_ms.
ProbeStats run_probe(int port, int64_t end_ms) {
  ProbeStats s;
  int64_t next = now_ms();
  while (now_ms() < end_ms) {
    ProbeResult r = probe_once(port, 5000);
    ++s.count;
    s.ms.push_back(r.ms);
    if (!r.ok) {
      if (++s.failed <= 5) std::fprintf(stderr, "http_abuse: probe %ld failed after %.0f ms: %s\n", s.count, r.ms, r.why.c_str());
    }
    next += 200;
    int64_t wait = next - now_ms();
    if (wait > 0) std::this_thread::sleep_for(std::chrono::milliseconds(wait));
    else next = now_ms();
  }
  return s;
}

// ---- attacks: a set of non-blocking sockets driven by one poll loop

struct Conn {
  int fd = -1;
  bool connected = false;
  int64_t next_ms = 0;   // next action (a byte, a reset, a reconnect)
  int64_t due_ms = 0;    // next request (keepalive); kept across reconnects
  std::size_t sent = 0;  // bytes of the current payload sent
  int requests = 0;      // requests sent on this connection
  bool awaiting = false; // a response is expected (keepalive)
  std::string in;
  long id = 0;
};

struct Figures {
  long connects = 0, server_closes = 0, responses = 0, errors = 0, resets = 0;
  std::string result;  // bigheader / bigbody: what the server did
};

class Attack {
 public:
  virtual ~Attack() = default;
  virtual std::size_t sockets() const = 0;
  virtual int rcvbuf() const { return 0; }
  virtual short events(const Conn& c) const { return c.connected ? POLLIN : POLLOUT; }
  // Called each tick on a connected socket; false closes it.
  virtual bool tick(Conn&, int64_t) { return true; }
  // Called when the socket is readable or hung up; false closes it.
  virtual bool ready(Conn& c, short revents, int64_t now);
  virtual void on_connected(Conn&, int64_t) {}
  // True once the attack has nothing more to do.
  virtual bool done() const { return false; }
  // Whether a closed socket is opened again.
  virtual bool reconnect() const { return true; }
  // Called before each socket is opened; false: not this one.
  virtual bool may_open() { return true; }
  Figures fig;
};

// Reads and discards; false on EOF or error (the server closed).
bool drain(Conn& c, Figures& fig) {
  char buf[16384];
  for (;;) {
    ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
    if (n > 0) continue;
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return true;
    ++fig.server_closes;
    return false;
  }
}

bool Attack::ready(Conn& c, short revents, int64_t) {
  if (revents & (POLLERR | POLLHUP)) {
    ++fig.server_closes;
    return false;
  }
  return drain(c, fig);
}

// N sockets each sending a header that never ends, one byte a second.
class Slowloris : public Attack {
 public:
  explicit Slowloris(std::size_t n) : n_(n) {}
  std::size_t sockets() const override { return n_; }
  void on_connected(Conn& c, int64_t now) override { c.next_ms = now + c.id % 1000; }
  bool tick(Conn& c, int64_t now) override {
    if (now < c.next_ms) return true;
    static const std::string head = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    static const std::string line = "X-Slow: aaaa\r\n";
    char byte = c.sent < head.size() ? head[c.sent] : line[(c.sent - head.size()) % line.size()];
    ssize_t n = ::send(c.fd, &byte, 1, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN) {
      ++fig.server_closes;
      return false;
    }
    if (n == 1) ++c.sent;
    c.next_ms = now + 1000;
    return true;
  }

 private:
  std::size_t n_;
};

// N connected sockets that send nothing.
class Idle : public Attack {
 public:
  explicit Idle(std::size_t n) : n_(n) {}
  std::size_t sockets() const override { return n_; }

 private:
  std::size_t n_;
};

// N sockets pipelining GET /metrics and never reading.
class NoRead : public Attack {
 public:
  explicit NoRead(std::size_t n) : n_(n) {}
  std::size_t sockets() const override { return n_; }
  int rcvbuf() const override { return 4096; }
  short events(const Conn& c) const override {
    if (!c.connected) return POLLOUT;
    return static_cast<short>(POLLRDHUP | (c.requests < kPipelined ? POLLOUT : 0));
  }
  bool ready(Conn& c, short revents, int64_t) override {
    if (revents & (POLLERR | POLLHUP | POLLRDHUP)) {
      ++fig.server_closes;
      return false;
    }
    static const std::string req = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    while (c.requests < kPipelined) {
      ssize_t n = ::send(c.fd, req.data() + c.sent, req.size() - c.sent, MSG_NOSIGNAL);
      if (n < 0 && errno == EAGAIN) return true;
      if (n <= 0) {
        ++fig.server_closes;
        return false;
      }
      c.sent += static_cast<std::size_t>(n);
      if (c.sent == req.size()) {
        c.sent = 0;
        ++c.requests;
      }
    }
    return true;
  }

 private:
  static constexpr int kPipelined = 200;
  std::size_t n_;
};

// N clients scraping over kept-alive connections every period.
class KeepAlive : public Attack {
 public:
  KeepAlive(std::size_t n, int64_t period) : n_(n), period_(period) {}
  std::size_t sockets() const override { return n_; }
  void on_connected(Conn& c, int64_t now) override {
    if (c.due_ms < now) c.due_ms = now;
  }
  bool tick(Conn& c, int64_t now) override {
    if (c.awaiting || now < c.due_ms) return true;
    static const std::string req = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    if (::send(c.fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
      ++fig.errors;
      return false;
    }
    c.awaiting = true;
    c.due_ms += period_;
    if (c.due_ms < now) c.due_ms = now + period_;
    return true;
  }
  // Reads what came; a response is complete with its length (the server may
  // then close: the client reconnects for the next scrape, as Prometheus does).
  bool ready(Conn& c, short, int64_t) override {
    char buf[65536];
    bool open = true;
    for (;;) {
      ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
      if (n <= 0) {
        open = false;
        ++fig.server_closes;
        break;
      }
      c.in.append(buf, static_cast<std::size_t>(n));
    }
    Response r;
    Parse p = parse_response(c.in, r);
    if (p == Parse::complete || (!open && p == Parse::until_close)) {
      ++fig.responses;
      if (r.status != 200) ++fig.errors;
      c.in.erase(0, p == Parse::complete ? r.end : c.in.size());
      c.awaiting = false;
    }
    if (p == Parse::bad || (!open && c.awaiting)) ++fig.errors;
    return open && p != Parse::bad;
  }

 private:
  std::size_t n_;
  int64_t period_;
};

// Scrapes cut by a reset: odd ones after the first response bytes arrive,
// even ones right after the request.
class Reset : public Attack {
 public:
  explicit Reset(long n) : n_(n) {}
  std::size_t sockets() const override { return 16; }
  int rcvbuf() const override { return 2048; }
  bool may_open() override { return opened_++ < n_; }
  bool done() const override { return fig.resets >= n_; }
  void on_connected(Conn& c, int64_t now) override {
    ++started_;
    c.next_ms = now + 5000;
    static const std::string req = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    if (::send(c.fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) ++fig.errors;
    c.requests = 1;
    c.awaiting = (started_ % 2) != 0;
  }
  bool tick(Conn& c, int64_t now) override {
    if (c.awaiting && now < c.next_ms) return true;
    if (c.awaiting) ++fig.errors;  // no response within 5 s
    reset(c);
    return false;
  }
  bool ready(Conn& c, short revents, int64_t) override {
    char byte;
    if ((revents & POLLIN) && ::recv(c.fd, &byte, 1, 0) == 1) ++fig.responses;
    else ++fig.errors;  // closed before answering
    reset(c);
    return false;
  }

 private:
  void reset(Conn& c) {
    close_reset(c.fd);
    c.fd = -1;
    c.next_ms = 0;  // the next one at once
    ++fig.resets;
  }
  long n_;
  long started_ = 0;
  long opened_ = 0;
};

// One request too large (a header line or a body of `bytes`), sent while
// reading: records the server's status line, or that it closed.
class TooLarge : public Attack {
 public:
  TooLarge(bool body, std::size_t bytes) {
    if (body) {
      payload_ = "POST /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: " +
                 std::to_string(bytes) + "\r\n\r\n" + std::string(bytes, 'b');
    } else {
      payload_ = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + std::string(bytes, 'a') + "\r\n\r\n";
    }
  }
  std::size_t sockets() const override { return 1; }
  bool reconnect() const override { return false; }
  bool done() const override { return !fig.result.empty(); }
  short events(const Conn& c) const override {
    if (!c.connected) return POLLOUT;
    return static_cast<short>(POLLIN | (c.sent < payload_.size() ? POLLOUT : 0));
  }
  void on_connected(Conn& c, int64_t now) override { c.next_ms = now + 10000; }
  bool tick(Conn& c, int64_t now) override;
  bool ready(Conn& c, short revents, int64_t now) override;

 private:
  std::string payload_;
};

bool TooLarge::tick(Conn& c, int64_t now) {
  if (now < c.next_ms) return true;
  fig.result = "timeout(sent=" + std::to_string(c.sent) + ")";
  return false;
}

bool TooLarge::ready(Conn& c, short revents, int64_t) {
  while ((revents & POLLOUT) && c.sent < payload_.size()) {
    ssize_t n = ::send(c.fd, payload_.data() + c.sent, payload_.size() - c.sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EAGAIN) break;
    if (n <= 0) break;  // the read below tells what happened
    c.sent += static_cast<std::size_t>(n);
  }
  char buf[4096];
  ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
  if (n > 0) c.in.append(buf, static_cast<std::size_t>(n));
  std::size_t eol = c.in.find("\r\n");
  if (eol != std::string::npos && c.in.compare(0, 5, "HTTP/") == 0) {
    std::size_t sp = c.in.find(' ');
    fig.result = "status:" + std::to_string(std::atoi(c.in.c_str() + sp + 1));
    return false;
  }
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
    fig.result = "closed(sent=" + std::to_string(c.sent) + ")";
    return false;
  }
  return true;
}

// Opens, drives and reopens the attack's sockets until end_ms or `stop`.
void run_attack(Attack& a, int port, int64_t end_ms, const std::atomic<bool>& stop) {
  std::vector<Conn> conns(a.sockets());
  long ids = 0;
  std::vector<pollfd> pfds;
  while (!stop && now_ms() < end_ms && !a.done()) {
    int64_t now = now_ms();
    for (Conn& c : conns) {
      if (c.fd >= 0 || now < c.next_ms || (c.id && !a.reconnect()) || !a.may_open()) continue;
      const int64_t due = c.due_ms;
      c = Conn{};
      c.due_ms = due;
      c.id = ++ids;
      c.fd = connect_nb(port, a.rcvbuf());
      if (c.fd < 0) c.next_ms = now + 100;
    }
    pfds.clear();
    for (Conn& c : conns) pfds.push_back({c.fd, c.fd >= 0 ? a.events(c) : short(0), 0});
    ::poll(pfds.data(), pfds.size(), 50);
    now = now_ms();
    for (std::size_t i = 0; i < conns.size(); ++i) {
      Conn& c = conns[i];
      if (c.fd < 0) continue;
      short rev = pfds[i].revents;
      bool keep = true;
      if (!c.connected && rev) {
        if (socket_error(c.fd)) {
          keep = false;
          ++a.fig.errors;
        } else {
          c.connected = true;
          ++a.fig.connects;
          a.on_connected(c, now);
          rev = 0;
        }
      }
      if (keep && c.fd >= 0 && c.connected && rev) keep = a.ready(c, rev, now);
      if (keep && c.fd >= 0 && c.connected) keep = a.tick(c, now);
      if (!keep && c.fd >= 0) {
        ::close(c.fd);
        c.fd = -1;
        c.next_ms = now + 100;
      }
    }
  }
  for (Conn& c : conns)
    if (c.fd >= 0) ::close(c.fd);
}

// ---- command line

long number(const char* s, long lo, long hi) {
  char* end = nullptr;
  long v = std::strtol(s, &end, 10);
  if (!*s || *end || v < lo || v > hi) {
    std::fprintf(stderr, "http_abuse: \"%s\": expected a number from %ld to %ld\n", s, lo, hi);
    std::exit(2);
  }
  return v;
}

std::unique_ptr<Attack> make_attack(int argc, char** argv, std::string& label) {
  std::string kind = argv[3];
  auto arg = [&](int i, long lo, long hi) {
    if (argc <= i) {
      std::fprintf(stderr, "http_abuse: %s needs more arguments\n", kind.c_str());
      std::exit(2);
    }
    return number(argv[i], lo, hi);
  };
  label = "attack=" + kind;
  if (kind == "none") return nullptr;
  long n = kind == "bigheader" || kind == "bigbody" ? arg(4, 1, 1L << 30) : arg(4, 1, 5000);
  label += " n=" + std::to_string(n);
  if (kind == "slowloris") return std::make_unique<Slowloris>(n);
  if (kind == "idle") return std::make_unique<Idle>(n);
  if (kind == "noread") return std::make_unique<NoRead>(n);
  if (kind == "reset") return std::make_unique<Reset>(n);
  if (kind == "bigheader" || kind == "bigbody") return std::make_unique<TooLarge>(kind == "bigbody", n);
  if (kind == "keepalive") {
    long period = arg(5, 10, 600000);
    label += " period_ms=" + std::to_string(period);
    return std::make_unique<KeepAlive>(n, period);
  }
  std::fprintf(stderr, "http_abuse: unknown attack \"%s\"\n", kind.c_str());
  std::exit(2);
}

void raise_fd_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr,
                 "usage: http_abuse PORT SECONDS ATTACK [ARGS]\n"
                 "  ATTACK: none | slowloris N | idle N | noread N | keepalive N PERIOD_MS | reset N\n"
                 "          | bigheader BYTES | bigbody BYTES\n");
    return 2;
  }
  int port = static_cast<int>(number(argv[1], 1, 65535));
  long seconds = number(argv[2], 1, 600);
  std::string label;
  std::unique_ptr<Attack> attack = make_attack(argc, argv, label);
  raise_fd_limit();
  ::signal(SIGPIPE, SIG_IGN);
  const int64_t end_ms = now_ms() + seconds * 1000;
  std::atomic<bool> stop{false};
  std::thread attacker;
  if (attack) attacker = std::thread([&] { run_attack(*attack, port, end_ms + 6000, stop); });
  std::this_thread::sleep_for(std::chrono::milliseconds(attack ? 300 : 0));  // let the sockets open
  ProbeStats s = run_probe(port, end_ms);
  stop = true;
  if (attacker.joinable()) attacker.join();
  std::printf("%s seconds=%ld probes=%ld failed=%ld p50_ms=%.1f p99_ms=%.1f max_ms=%.1f", label.c_str(), seconds,
              s.count, s.failed, percentile(s.ms, 0.5), percentile(s.ms, 0.99), percentile(s.ms, 1.0));
  if (attack) {
    const Figures& f = attack->fig;
    std::printf(" connects=%ld server_closes=%ld responses=%ld errors=%ld resets=%ld", f.connects, f.server_closes,
                f.responses, f.errors, f.resets);
    if (!f.result.empty()) std::printf(" result=%s", f.result.c_str());
  }
  std::printf("\n");
  std::fflush(stdout);
  if (s.count == 0) return 2;
  return s.failed ? 1 : 0;
}

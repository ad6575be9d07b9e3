// bench_scrape: scrapes a /metrics URL sequentially with one libcurl handle
// (the connection is reused when the server keeps it alive; when it does
// not, each scrape opens its own, as `curl` in a loop would) and reports what
// the *server* spent: the delta of utime+stime of its /proc/<pid>/stat across
// the scrapes, divided by their number, and its VmRSS afterwards.
//
// Usage: bench_scrape --url URL --pid PID [--min-scrapes N] [--min-seconds S]
//                     [--max-scrapes N] [--max-seconds S] [--warmup N]
// Scrapes until at least min-scrapes were made and min-seconds passed, or
// max-scrapes / max-seconds is reached (but never fewer than min-scrapes).
// Output: "key value" lines on stdout. Exit 1 when a scrape fails.

#include <curl/curl.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

namespace {

struct Options {
  std::string url;
  long pid = 0;
  long min_scrapes = 500;
  double min_seconds = 3;
  long max_scrapes = 20000;
  double max_seconds = 60;
  long warmup = 10;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "bench_scrape: %s\nusage: bench_scrape --url URL --pid PID [--min-scrapes N] [--min-seconds S] "
               "[--max-scrapes N] [--max-seconds S] [--warmup N]\n",
               why);
  std::exit(2);
}

Options parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (i + 1 >= argc) usage("missing value after an option");
    const char* v = argv[++i];
    char* end = nullptr;
    auto integer = [&](long& out) {
      out = std::strtol(v, &end, 10);
      if (end == v || *end != '\0' || out < 0) usage("bad number");
    };
    auto real = [&](double& out) {
      out = std::strtod(v, &end);
      if (end == v || *end != '\0' || out < 0) usage("bad number");
    };
    if (a == "--url") o.url = v;
    else if (a == "--pid") integer(o.pid);
    else if (a == "--min-scrapes") integer(o.min_scrapes);
    else if (a == "--min-seconds") real(o.min_seconds);
    else if (a == "--max-scrapes") integer(o.max_scrapes);
    else if (a == "--max-seconds") real(o.max_seconds);
    else if (a == "--warmup") integer(o.warmup);
    else usage("unknown option");
  }
  if (o.url.empty() || o.pid <= 0) usage("--url and --pid are required");
  if (o.min_scrapes < 1) usage("--min-scrapes must be at least 1");
  return o;
}

double now(clockid_t clock) {
  timespec ts{};
  ::clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

bool slurp(const std::string& path, std::string& out) {
  std::ifstream in(path);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

// utime + stime (fields 14 and 15 of proc(5)), in clock ticks; -1 if unreadable.
long long cpu_ticks(long pid) {
  std::string s;
  if (!slurp("/proc/" + std::to_string(pid) + "/stat", s)) return -1;
  auto close = s.rfind(')');  // the command name may hold spaces
  if (close == std::string::npos) return -1;
  std::istringstream in(s.substr(close + 1));
  std::string tok;
  long long utime = -1, stime = -1;
  for (int field = 3; field <= 15 && (in >> tok); ++field) {
    if (field == 14) utime = std::atoll(tok.c_str());
    if (field == 15) stime = std::atoll(tok.c_str());
  }
  return utime < 0 || stime < 0 ? -1 : utime + stime;
}

// Sum over the process's threads of the run time in ns (first field of
// /proc/<pid>/task/<tid>/schedstat): finer than ticks, but it forgets threads
// that exited in between. A cross-check only; -1 when unavailable.
long long schedstat_ns(long pid) {
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  DIR* d = ::opendir(dir.c_str());
  if (!d) return -1;
  long long sum = 0;
  bool any = false;
  while (const dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::string s;
    if (!slurp(dir + "/" + e->d_name + "/schedstat", s)) continue;
    sum += std::atoll(s.c_str());
    any = true;
  }
  ::closedir(d);
  return any ? sum : -1;
}

long vm_rss_kb(long pid) {
  std::string s;
  if (!slurp("/proc/" + std::to_string(pid) + "/status", s)) return -1;
  auto at = s.find("\nVmRSS:");
  return at == std::string::npos ? -1 : std::atol(s.c_str() + at + 7);
}

std::size_t count_bytes(char*, std::size_t size, std::size_t n, void* userdata) {
  *static_cast<std::size_t*>(userdata) += size * n;
  return size * n;
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = parse_args(argc, argv);
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    std::fprintf(stderr, "bench_scrape: curl_global_init failed\n");
    return 1;
  }
  CURL* h = curl_easy_init();
  if (!h) {
    std::fprintf(stderr, "bench_scrape: curl_easy_init failed\n");
    return 1;
  }
  std::size_t body = 0;
  curl_easy_setopt(h, CURLOPT_URL, opt.url.c_str());
  curl_easy_setopt(h, CURLOPT_PROXY, "");  // never a proxy from the environment: 127.0.0.1 only
  curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, count_bytes);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);

  long connects = 0, retries = 0;
  // A server that closes the connection after each response without saying
  // "Connection: close" makes a reused connection fail now and then (the
  // request goes out as the close comes in). Such a request never reached the
  // handler; it is retried once on a fresh connection, as Go's client does.
  auto scrape = [&]() -> bool {
    for (int attempt = 0;; ++attempt) {
      body = 0;
      CURLcode rc = curl_easy_perform(h);
      long code = 0, nc = 0;
      curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
      curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &nc);
      connects += nc;
      bool reused_conn_died = nc == 0 && (rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR || rc == CURLE_GOT_NOTHING);
      if (reused_conn_died && attempt == 0) {
        ++retries;
        continue;
      }
      if (rc != CURLE_OK || code != 200) {
        std::fprintf(stderr, "bench_scrape: %s: %s (HTTP %ld)\n", opt.url.c_str(), curl_easy_strerror(rc), code);
        return false;
      }
      return true;
    }
  };

  for (long i = 0; i < opt.warmup; ++i)
    if (!scrape()) return 1;
  const std::size_t body_bytes = body;
  // More than one connection for the warm-up: the server does not keep
  // connections alive. Then every scrape opens its own, cleanly.
  const bool keep_alive = connects <= 1;
  if (!keep_alive) curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
  connects = 0;
  retries = 0;

  const long long t0 = cpu_ticks(opt.pid);
  const long long s0 = schedstat_ns(opt.pid);
  const double w0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
  long n = 0;
  for (;;) {
    if (!scrape()) return 1;
    ++n;
    double elapsed = now(CLOCK_MONOTONIC) - w0;
    if (n >= opt.min_scrapes && (elapsed >= opt.min_seconds || n >= opt.max_scrapes || elapsed >= opt.max_seconds))
      break;
  }
  const double w1 = now(CLOCK_MONOTONIC), c1 = now(CLOCK_PROCESS_CPUTIME_ID);
  const long long t1 = cpu_ticks(opt.pid);
  const long long s1 = schedstat_ns(opt.pid);
  const long rss = vm_rss_kb(opt.pid);
  curl_easy_cleanup(h);
  curl_global_cleanup();
  if (t0 < 0 || t1 < 0) {
    std::fprintf(stderr, "bench_scrape: cannot read /proc/%ld/stat\n", opt.pid);
    return 1;
  }

  const double tck = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double dn = static_cast<double>(n);
  std::printf("scrapes %ld\n", n);
  std::printf("wall_s %.3f\n", w1 - w0);
  std::printf("wall_ms_per_scrape %.4f\n", (w1 - w0) * 1e3 / dn);
  std::printf("server_cpu_ticks %lld\n", t1 - t0);
  std::printf("clk_tck %.0f\n", tck);
  std::printf("server_cpu_ms_per_scrape %.4f\n", static_cast<double>(t1 - t0) / tck * 1e3 / dn);
  if (s0 >= 0 && s1 >= 0) std::printf("server_schedstat_ms_per_scrape %.4f\n", static_cast<double>(s1 - s0) / 1e6 / dn);
  std::printf("client_cpu_ms_per_scrape %.4f\n", (c1 - c0) * 1e3 / dn);
  std::printf("keep_alive %d\n", keep_alive ? 1 : 0);
  std::printf("connections %ld\n", connects);
  std::printf("retries %ld\n", retries);
  std::printf("rss_kb %ld\n", rss);
  std::printf("body_bytes %zu\n", body_bytes);
  return 0;
}

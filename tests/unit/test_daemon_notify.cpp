// The daemon binary under a stand-in for systemd's notify socket: the
// sequence of sd_notify(3) messages it sends through libsystemd, and that
// READY=1 comes only once /metrics accepts connections.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "test_util.h"

extern char** environ;

using namespace tierscope;
using tierscope::testing::TempDir;
using Clock = std::chrono::steady_clock;

namespace {

int free_port() {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(s);
  return ntohs(a.sin_port);
}

bool accepts_connections(int port) {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(s);
  return ok;
}

struct Message {
  Clock::time_point at;
  std::string text;
};

class Daemon {
 public:
  Daemon(const TempDir& dir, int port) {
    sock_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::string path = (dir.path() / "notify").string();
    path.copy(addr.sun_path, sizeof addr.sun_path - 1);
    if (::bind(sock_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) throw std::runtime_error("bind");
    auto config = dir.write("tierscope.yaml", "sample_interval: 100ms\nlisten: 127.0.0.1:" + std::to_string(port) +
                                                  "\nprobes: {gpu_nvml: false}\n");
    std::vector<std::string> env_strings;
    for (char** e = environ; *e; ++e) {
      std::string v(*e);
      if (v.rfind("NOTIFY_SOCKET=", 0) != 0 && v.rfind("WATCHDOG_", 0) != 0 && v.rfind("JOURNAL_STREAM=", 0) != 0)
        env_strings.push_back(v);
    }
    env_strings.push_back("NOTIFY_SOCKET=" + path);
    env_strings.push_back("WATCHDOG_USEC=1000000");
    std::vector<char*> envp;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::string bin = TIERSCOPE_BIN, cmd = "daemon", opt = "--config", cfg = config.string();
    char* argv[] = {bin.data(), cmd.data(), opt.data(), cfg.data(), nullptr};
    if (::posix_spawn(&pid_, bin.c_str(), nullptr, nullptr, argv, envp.data()) != 0) throw std::runtime_error("spawn");
  }
  ~Daemon() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    ::close(sock_);
  }
  // Next datagram within `timeout`, or nullopt.
  std::optional<Message> next(std::chrono::milliseconds timeout) {
    timeval tv{static_cast<time_t>(timeout.count() / 1000), static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
    ::setsockopt(sock_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[4096];
    ssize_t n = ::recv(sock_, buf, sizeof buf, 0);
    if (n <= 0) return std::nullopt;
    return Message{Clock::now(), std::string(buf, static_cast<std::size_t>(n))};
  }
  // Skips keep-alives and status refreshes until a message starting with `prefix`.
  std::optional<Message> wait_for(std::string_view prefix, std::vector<Message>* skipped = nullptr) {
    auto deadline = Clock::now() + std::chrono::seconds(15);
    while (Clock::now() < deadline) {
      auto m = next(std::chrono::milliseconds(500));
      if (!m) continue;
      if (m->text.rfind(prefix, 0) == 0) return m;
      if (skipped) skipped->push_back(*m);
    }
    return std::nullopt;
  }
  pid_t pid() const { return pid_; }
  int wait_exit() {
    int st = 0;
    ::waitpid(pid_, &st, 0);
    pid_ = -1;
    return st;
  }

 private:
  int sock_ = -1;
  pid_t pid_ = -1;
};

}  // namespace

TEST(DaemonNotify, ReadyAfterBindThenWatchdogReloadAndStop) {
  TempDir dir;
  int port = free_port();
  Daemon d(dir, port);

  auto extend = d.next(std::chrono::seconds(15));
  ASSERT_TRUE(extend);
  EXPECT_EQ(extend->text, "EXTEND_TIMEOUT_USEC=60000000\nSTATUS=initializing probes");

  auto ready = d.wait_for("READY=1");
  ASSERT_TRUE(ready);
  EXPECT_TRUE(accepts_connections(port)) << "READY=1 was sent before /metrics was listening";
  EXPECT_NE(ready->text.find("\nSTATUS=sampling 11 probes every 100ms;"), std::string::npos) << ready->text;

  // Keep-alives: the timeout is 1 s, so one about every 500 ms, never a gap
  // as long as the timeout.
  std::vector<Clock::time_point> pings;
  auto until = Clock::now() + std::chrono::milliseconds(2500);
  while (Clock::now() < until) {
    auto m = d.next(std::chrono::milliseconds(200));
    if (m && m->text == "WATCHDOG=1") pings.push_back(m->at);
  }
  ASSERT_GE(pings.size(), 3u);
  for (std::size_t i = 1; i < pings.size(); ++i)
    EXPECT_LT(pings[i] - pings[i - 1], std::chrono::milliseconds(1000)) << "keep-alive gap reaches the timeout";

  ASSERT_EQ(::kill(d.pid(), SIGHUP), 0);
  auto reloading = d.wait_for("RELOADING=1");
  ASSERT_TRUE(reloading);
  EXPECT_NE(reloading->text.find("\nMONOTONIC_USEC="), std::string::npos);
  auto reloaded = d.wait_for("READY=1");
  ASSERT_TRUE(reloaded);
  EXPECT_NE(reloaded->text.find("STATUS=sampling 11 probes"), std::string::npos) << reloaded->text;

  auto sent_term = Clock::now();
  ASSERT_EQ(::kill(d.pid(), SIGTERM), 0);
  auto stopping = d.wait_for("STOPPING=1");
  ASSERT_TRUE(stopping);
  int status = d.wait_exit();
  auto took = Clock::now() - sent_term;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  std::printf("stop took %.1f ms\n", std::chrono::duration<double, std::milli>(took).count());
}

#pragma once
// Starts the mock_engine binary (tests/workloads/mock_engine) on 127.0.0.1
// with a port of its own choosing, reads "listening on 127.0.0.1:PORT" from
// its stdout, and stops it (SIGTERM, then SIGKILL) when destroyed.
// The binary's path comes from the compile definition MOCK_ENGINE_BIN unless
// given explicitly (the benchmark takes it from its command line).

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

extern char** environ;

namespace tierscope::testing {

// True in an AddressSanitizer build: timing tests keep their correctness
// checks there but skip upper bounds that only the sanitizer's slowdown breaks.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif
#else
inline constexpr bool kSanitized = false;
#endif

class MockEngineProcess {
 public:
#ifdef MOCK_ENGINE_BIN
  explicit MockEngineProcess(std::vector<std::string> args = {}) : MockEngineProcess(MOCK_ENGINE_BIN, std::move(args)) {}
#endif
  MockEngineProcess(std::string binary, std::vector<std::string> args) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
    std::vector<std::string> argv_s{binary, "--port", "0"};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);  // dup2 clears O_CLOEXEC
    int rc = ::posix_spawn(&pid_, binary.c_str(), &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    ::close(fds[1]);
    if (rc != 0) {
      ::close(fds[0]);
      throw std::runtime_error("cannot start " + binary);
    }
    std::string line;
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (line.find('\n') == std::string::npos) {
      pollfd p{fds[0], POLLIN, 0};
      if (std::chrono::steady_clock::now() > give_up || ::poll(&p, 1, 100) < 0) break;
      if (!(p.revents & (POLLIN | POLLHUP))) continue;
      char buf[256];
      ssize_t n = ::read(fds[0], buf, sizeof buf);
      if (n <= 0) break;
      line.append(buf, static_cast<size_t>(n));
    }
    ::close(fds[0]);
    const std::string_view prefix = "listening on 127.0.0.1:";
    size_t at = line.find(prefix);
    if (at == std::string::npos) {
      stop();
      throw std::runtime_error("mock_engine did not report its port: '" + line + "'");
    }
    port_ = static_cast<uint16_t>(std::stoul(line.substr(at + prefix.size())));
  }
  ~MockEngineProcess() { stop(); }
  MockEngineProcess(const MockEngineProcess&) = delete;
  MockEngineProcess& operator=(const MockEngineProcess&) = delete;

  uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string url(std::string_view path = "") const {
    return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
  }

  // Kills the engine at once (an engine that dies mid-step).
  void kill_now() { stop(SIGKILL); }

 private:
  void stop(int sig = SIGTERM) {
    if (pid_ <= 0) return;
    ::kill(pid_, sig);
    int status = 0;
    for (int i = 0; i < 200; ++i) {  // up to 2 s, then SIGKILL
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

}  // namespace tierscope::testing

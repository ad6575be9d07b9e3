#include "core/signals.h"

#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <system_error>

namespace tierscope {

SignalWaiter::SignalWaiter(std::initializer_list<int> signals) {
  sigemptyset(&set_);
  for (int s : signals) sigaddset(&set_, s);
  pthread_sigmask(SIG_BLOCK, &set_, &previous_);
  signal_fd_.reset(::signalfd(-1, &set_, SFD_CLOEXEC | SFD_NONBLOCK));
  wake_fd_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!signal_fd_ || !wake_fd_) {
    int err = errno;
    pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
    throw std::system_error(err, std::generic_category(), "signalfd/eventfd");
  }
}

SignalWaiter::~SignalWaiter() {
  // Signals that arrived and were never read would be delivered once
  // unblocked: read them off first.
  signalfd_siginfo info{};
  while (::read(signal_fd_.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
  }
  pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
}

std::optional<int> SignalWaiter::wait(std::optional<std::chrono::milliseconds> timeout) {
  const auto deadline = timeout ? std::chrono::steady_clock::now() + *timeout : std::chrono::steady_clock::time_point{};
  for (;;) {
    pollfd fds[2] = {{signal_fd_.get(), POLLIN, 0}, {wake_fd_.get(), POLLIN, 0}};
    int wait_ms = -1;
    if (timeout) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      wait_ms = static_cast<int>(std::max<std::int64_t>(0, left.count()));
    }
    int n = ::poll(fds, 2, wait_ms);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;  // timeout (or a poll error: nothing to wait on)
    if (fds[1].revents & POLLIN) {
      std::uint64_t count = 0;
      ssize_t r = ::read(wake_fd_.get(), &count, sizeof count);
      (void)r;
      return std::nullopt;
    }
    signalfd_siginfo info{};
    if (::read(signal_fd_.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info))
      return static_cast<int>(info.ssi_signo);
  }
}

void SignalWaiter::interrupt() {
  const std::uint64_t one = 1;
  ssize_t r = ::write(wake_fd_.get(), &one, sizeof one);
  (void)r;
}

void SignalWaiter::die_by(int signal) {
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  ::sigaction(signal, &dfl, nullptr);
  sigset_t one;
  sigemptyset(&one);
  sigaddset(&one, signal);
  pthread_sigmask(SIG_UNBLOCK, &one, nullptr);
  pthread_kill(pthread_self(), signal);
  std::_Exit(128 + signal);  // a signal whose default action is not to terminate
}

}  // namespace tierscope

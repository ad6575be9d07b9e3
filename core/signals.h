#pragma once
// Signals taken synchronously, with no handler and no global state: the
// signals are blocked and read from a signalfd(2), so the thread that waits
// gets them as ordinary return values.
//
// Construct the waiter on the main thread before any other thread starts:
// threads inherit the blocked mask, so no thread ever runs a default action
// for these signals while the waiter exists. Destruction restores the mask
// the constructing thread had.
//
// wait() may run on any thread; interrupt() (any thread, async-safe) makes a
// wait() in progress, or the next one, return nullopt, e.g. to end a watcher
// thread when the work it guards is done.

#include <signal.h>

#include <chrono>
#include <initializer_list>
#include <optional>

#include "core/unique_fd.h"

namespace tierscope {

class SignalWaiter {
 public:
  // Throws std::system_error when the signalfd or eventfd cannot be created.
  explicit SignalWaiter(std::initializer_list<int> signals);
  ~SignalWaiter();
  SignalWaiter(const SignalWaiter&) = delete;
  SignalWaiter& operator=(const SignalWaiter&) = delete;

  // The next signal, or nullopt after interrupt() or when `timeout` passed.
  // Without a timeout it waits until one of the two happens.
  std::optional<int> wait(std::optional<std::chrono::milliseconds> timeout = std::nullopt);
  void interrupt();

  // Ends the process the way `signal` does by default (terminate, with the
  // signal as the exit status), e.g. for a second SIGINT while a first one is
  // still being handled.
  [[noreturn]] void die_by(int signal);

 private:
  sigset_t set_{};
  sigset_t previous_{};
  UniqueFd signal_fd_;
  UniqueFd wake_fd_;
};

}  // namespace tierscope

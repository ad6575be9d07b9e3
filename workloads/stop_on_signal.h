#pragma once
// SIGINT and SIGTERM for the commands that run something long (bench, soak),
// read on a watcher thread of its own (no handler, no global): while a run is
// going on, the first one stops it (the run's stop function: what is done so
// far is kept and written) and a second one ends the process the default way;
// with no run going on, the first one does. Construct it before any other
// thread starts (the metrics server's, libcurl's, the sampler's), so that
// every thread has the signals blocked.

#include <signal.h>

#include <functional>
#include <mutex>
#include <thread>

#include "core/signals.h"

namespace tierscope::workloads {

class StopOnSignal {
 public:
  StopOnSignal() : signals_({SIGINT, SIGTERM}), watcher_([this] { watch(); }) {}
  ~StopOnSignal() {
    signals_.interrupt();
    watcher_.join();
  }
  StopOnSignal(const StopOnSignal&) = delete;
  StopOnSignal& operator=(const StopOnSignal&) = delete;

  // What the first signal calls (a run's request_stop); empty: none. Once it
  // returns, the watcher no longer calls the previous one.
  void set_stop(std::function<void()> stop) {
    std::lock_guard lock(mu_);
    stop_ = std::move(stop);
  }

 private:
  void watch() {
    auto signal = signals_.wait();
    if (!signal) return;  // interrupted: the command is done
    {
      std::lock_guard lock(mu_);
      if (!stop_) signals_.die_by(*signal);
      stop_();
    }
    if (auto again = signals_.wait()) signals_.die_by(*again);
  }

  SignalWaiter signals_;
  std::mutex mu_;
  std::function<void()> stop_;
  std::thread watcher_;  // last: starts once the rest is constructed
};

}  // namespace tierscope::workloads

#pragma once
// The systemd side of the daemon (sd_notify(3), sd_watchdog_enabled(3)):
// readiness, a human-readable STATUS= line for `systemctl status`, start-up
// timeout extension, RELOADING=/READY= around a reload, STOPPING=, and the
// watchdog keep-alive. Outside systemd (no NOTIFY_SOCKET) every call is a
// no-op, so the daemon behaves the same in a terminal.

#include <chrono>
#include <mutex>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tierscope {

struct Snapshot;

class ServiceManager {
 public:
  // Reads NOTIFY_SOCKET and WATCHDOG_USEC/WATCHDOG_PID from the environment.
  ServiceManager();

  bool notify_enabled() const { return notify_; }
  // The watchdog timeout systemd expects keep-alives within (WatchdogSec=).
  std::optional<std::chrono::microseconds> watchdog_timeout() const { return watchdog_; }

  void ready(std::string_view status);
  void status(std::string_view status);
  void extend_timeout(std::chrono::microseconds by, std::string_view status);
  void reloading();  // RELOADING=1 with MONOTONIC_USEC, as systemd.service(5) asks
  void stopping(std::string_view status);
  void watchdog_ping();

  // Every message sent, in order (kept only while recording is on; tests).
  void record(bool on) {
    std::lock_guard lock(mutex_);
    record_ = on;
  }
  std::vector<std::string> sent() const {
    std::lock_guard lock(mutex_);
    return sent_;
  }

 private:
  void send(const std::string& message);
  bool notify_ = false;
  mutable std::mutex mutex_;  // the sampler thread pings, the main thread notifies
  bool record_ = false;
  std::optional<std::chrono::microseconds> watchdog_;
  std::vector<std::string> sent_;
};

// When to send WATCHDOG=1: about every half of the timeout. The sampler calls
// due() after each tick; a ping is due once the next tick (one interval
// away) would land later than half the timeout after the last ping.
class WatchdogPacer {
 public:
  using Clock = std::chrono::steady_clock;
  WatchdogPacer(std::chrono::microseconds timeout, Clock::time_point start) : half_(timeout / 2), last_(start) {}
  bool due(Clock::time_point now, std::chrono::nanoseconds tick_interval);
  // False when ticks are too far apart for the timeout: the daemon warns.
  bool feasible(std::chrono::nanoseconds tick_interval) const { return tick_interval < half_; }

 private:
  std::chrono::microseconds half_;
  Clock::time_point last_;
};

// The STATUS= line, e.g. "sampling 9 probes every 1s; offload nvme0n1 (nvme0,
// Phison); last scrape 3s ago". `since_scrape`: nullopt before the first scrape.
std::string service_status_text(const Snapshot* snap, std::size_t probes, std::chrono::milliseconds interval,
                                std::optional<std::chrono::seconds> since_scrape);

}  // namespace tierscope

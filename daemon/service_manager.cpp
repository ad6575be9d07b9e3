#include "daemon/service_manager.h"

#include <systemd/sd-daemon.h>
#include <time.h>

#include <algorithm>
#include <cstdint>

#include "core/duration.h"
#include "probes/offload.h"
#include "probes/snapshot.h"

namespace tierscope {

ServiceManager::ServiceManager() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  notify_ = socket != nullptr && *socket != '\0';
  std::uint64_t usec = 0;
  // > 0 only when WATCHDOG_USEC is set and WATCHDOG_PID (if set) is us.
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0)
    watchdog_ = std::chrono::microseconds(static_cast<std::chrono::microseconds::rep>(usec));
}

void ServiceManager::send(const std::string& message) {
  std::lock_guard lock(mutex_);
  if (record_) sent_.push_back(message);
  // NOTIFY_SOCKET stays in the environment: this process notifies many times.
  if (notify_) sd_notify(0, message.c_str());
}

void ServiceManager::ready(std::string_view status) { send("READY=1\nSTATUS=" + std::string(status)); }

void ServiceManager::status(std::string_view status) { send("STATUS=" + std::string(status)); }

void ServiceManager::extend_timeout(std::chrono::microseconds by, std::string_view status) {
  send("EXTEND_TIMEOUT_USEC=" + std::to_string(by.count()) + "\nSTATUS=" + std::string(status));
}

void ServiceManager::reloading() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  auto usec = static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000u + static_cast<std::uint64_t>(ts.tv_nsec) / 1000u;
  send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec) + "\nSTATUS=reloading configuration");
}

void ServiceManager::stopping(std::string_view status) { send("STOPPING=1\nSTATUS=" + std::string(status)); }

void ServiceManager::watchdog_ping() { send("WATCHDOG=1"); }

bool WatchdogPacer::due(Clock::time_point now, std::chrono::nanoseconds tick_interval) {
  if (now + tick_interval - last_ < half_) return false;
  last_ = now;
  return true;
}

std::string service_status_text(const Snapshot* snap, std::size_t probes, std::chrono::milliseconds interval,
                                std::optional<std::chrono::seconds> since_scrape) {
  std::string s = "sampling " + std::to_string(probes) + (probes == 1 ? " probe" : " probes") + " every " +
                  format_duration(interval);
  if (snap) {
    std::string failing;
    for (const auto& run : snap->probes)
      if (run.status == ProbeStatus::error) failing += (failing.empty() ? "" : ", ") + run.probe;
    if (!failing.empty()) s += "; failing: " + failing;
    std::string offload;
    std::vector<std::string_view> seen;
    static const OffloadVerdict kNone;
    const OffloadVerdict& verdict = snap->get(kOffload) ? *snap->get(kOffload) : kNone;
    for (const auto& d : verdict.devices) {
      if (std::find(seen.begin(), seen.end(), d.device) != seen.end()) continue;
      seen.push_back(d.device);
      const auto& phison = verdict.phison_controllers;
      bool is_phison = std::find(phison.begin(), phison.end(), d.controller) != phison.end();
      offload += (offload.empty() ? "" : ", ") + d.device;
      if (!d.controller.empty()) offload += " (" + d.controller + (is_phison ? ", Phison)" : ")");
    }
    s += offload.empty() ? "; no offload device" : "; offload " + offload;
  }
  if (since_scrape) s += "; last scrape " + std::to_string(since_scrape->count()) + "s ago";
  else s += "; not scraped yet";
  return s;
}

}  // namespace tierscope

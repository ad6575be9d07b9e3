#pragma once
// Transient systemd scopes through the system bus (libsystemd's sd-bus), the
// way `systemd-run --scope` makes them: org.freedesktop.systemd1.Manager
// StartTransientUnit(name, "fail", properties, []) with the process given in
// PIDs, and StopUnit to end one. Used by the memory budget where systemd is
// PID 1.

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

namespace tierscope::workloads {

struct ScopeProperties {
  std::string description;
  std::string slice;  // empty: systemd's default (system.slice)
  std::optional<std::uint64_t> memory_max, memory_high, memory_swap_max;
};

// True when systemd is PID 1 (sd_booted).
bool systemd_is_init();

// Starts scope `unit` (ending in .scope) holding `pid`; returns once systemd
// has queued the job. Throws std::runtime_error with the bus error's name and
// message.
void start_transient_scope(const std::string& unit, pid_t pid, const ScopeProperties& props);

// StopUnit(unit, "fail"); false (and `error` set) when systemd refused, e.g.
// because the scope is already gone.
bool stop_unit(const std::string& unit, std::string& error);

}  // namespace tierscope::workloads

#pragma once
// Process exit codes of every tierscope command (sysexits.h values where one
// fits). Scripts and systemd units rely on them: docs/configuration.md "Exit codes".

namespace tierscope::exit_code {

inline constexpr int ok = 0;
inline constexpr int failure = 1;  // runtime failure (cannot bind, a probe failed in `probe`, engine down)
inline constexpr int usage = 64;   // EX_USAGE: bad command line
inline constexpr int data_err = 65;  // EX_DATAERR: the input holds nothing usable (report: no run directory with anything to report)
inline constexpr int cant_create = 73;  // EX_CANTCREAT: an output directory or file cannot be created or written
inline constexpr int config = 78;  // EX_CONFIG: bad configuration or scenario file

}  // namespace tierscope::exit_code

#pragma once
// The commands that need libcurl (bench) live in a helper executable,
// tierscope-workloads, so that `tierscope daemon` and `tierscope probe` never
// map libcurl and its TLS stack: `top` shows the daemon's own size. The
// `tierscope` command parses the command line itself (usage errors and
// --help answer at once) and then replaces itself with the helper (same
// PID, same signals, same exit status).

#include <string>
#include <vector>

namespace tierscope {

inline constexpr const char* kWorkloadsHelper = "tierscope-workloads";

// Where the helper is: beside the running executable (the build tree), else
// ../libexec/tierscope relative to it (the installed layout). The first that
// exists; the installed path when neither does (for the error message).
std::string helper_path(const std::string& name);

// execv()s the helper with `args` (the command line without argv[0]).
// Returns only on failure, with the exit code after printing why.
int exec_helper(const std::string& name, const std::vector<std::string>& args);

}  // namespace tierscope

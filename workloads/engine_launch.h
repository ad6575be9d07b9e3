#pragma once
// Launching the inference engine of a scenario (`engine.launch`,
// docs/benchmarks.md "Launching the engine"): tierscope starts the engine
// itself, waits until it answers, and stops it again, so a sweep can restart
// it per step with a different context size, and the memory budget code can
// put it into a capped cgroup before it runs a single instruction.
//
// Placeholders. argv entries, env values, cwd, the engine URL and a ready URL
// may hold `{port}` (a free TCP port on 127.0.0.1, chosen once per launch by
// binding port 0 and releasing it), `{ctx}` (the step's context size plus its
// output budget, from the caller), `{model}` (the model path, from the
// caller); `{{` and `}}` are literal braces. An unknown `{name}`, a
// placeholder the caller has no value for, or a lone brace is an error naming
// it. One function, expand_placeholders(), does all of them.
//
// The process. EngineProcess::start() forks and execs argv without a shell:
// argv[0] is looked up in PATH as execvp(3) does (the PATH of the engine's
// environment), and a program that cannot be run is an error saying why,
// reported by the child through a close-on-exec pipe (never a silent exit
// 127). The engine's environment is tierscope's own plus the spec's entries
// (which replace variables of the same name). stdout and stderr are appended
// to the log file; stdin reads nothing (EOF). The engine runs in a process
// group of its own (pid = pgid), with every signal at its default action and
// none blocked, and gets SIGKILL when the thread that started it ends
// (PR_SET_PDEATHSIG), so an engine never outlives tierscope: start it from a
// thread that lives as long as the engine (the main thread). Between fork and
// exec the child makes only async-signal-safe calls; everything it needs
// (paths, environment, argv) is built before the fork.
//
// before_exec runs in the parent while the child waits, blocked on a pipe,
// before it execs: the memory budget code puts the pid into a cgroup or a
// systemd scope there, so the engine's first allocation is already charged
// to the budget. When it throws, the child is killed and reaped, and start()
// throws LaunchError with the hook's message.
//
// Threading: an EngineProcess belongs to one thread (not thread-safe); only
// the stop flag given to wait_ready() may be set from another thread.

#include <signal.h>
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tierscope::workloads {

class LaunchError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The values the placeholders expand to; an absent one is an error where it is used.
struct Placeholders {
  std::optional<std::uint16_t> port;
  std::optional<std::uint64_t> ctx;
  std::optional<std::string> model;
};

// The placeholder names in `text`, each once, in order of first use; throws
// LaunchError for an unknown name, a lone '{' or '}', or an empty "{}".
std::vector<std::string> placeholders_used(std::string_view text);
// `text` with every placeholder replaced. Throws LaunchError as
// placeholders_used() does, and for a placeholder without a value.
std::string expand_placeholders(std::string_view text, const Placeholders& values);

// A free TCP port on 127.0.0.1: bound as port 0, read back, released. Another
// process may take it before the engine binds it (the engine then fails to
// start, which wait_ready() reports). Throws LaunchError.
std::uint16_t pick_free_port();

// How tierscope tells that the engine is ready.
enum class ReadyKind {
  none,      // as soon as exec succeeded
  llamacpp,  // GET <url>/health answers 200 (503 while the model loads)
  vllm,      // GET <url>/health answers 200
  ollama,    // GET <url>/api/version answers 200
  url,       // GET ReadyCheck::url answers 2xx
};
std::string_view to_string(ReadyKind k);

struct ReadyCheck {
  ReadyKind kind = ReadyKind::none;
  std::string url;  // kind url: the full URL (may hold placeholders)
};

enum class RestartPolicy {
  per_run,   // one engine for the whole sweep; {ctx} is the largest step's
  per_step,  // a fresh engine (and {port}) for every step; {ctx} is that step's
};
std::string_view to_string(RestartPolicy r);

struct LaunchSpec {
  std::vector<std::string> argv;  // argv[0]: the program, a path or a name looked up in PATH
  std::vector<std::pair<std::string, std::string>> env;  // added to (or replacing in) tierscope's environment
  std::optional<std::string> cwd;  // the engine's working directory; absent: tierscope's
  std::string url;                 // the engine's base URL, e.g. http://127.0.0.1:{port}
  ReadyCheck ready;
  std::chrono::milliseconds ready_timeout{std::chrono::seconds(120)};
  int stop_signal = SIGTERM;
  std::chrono::milliseconds stop_timeout{std::chrono::seconds(30)};
  RestartPolicy restart = RestartPolicy::per_run;
  // argv, env, cwd and url used as given, no placeholder expanded (`tierscope
  // run-capped` runs a user's command line, which may hold braces).
  bool literal = false;
  // What the messages call it: "cannot start the engine: …" (run-capped: "command").
  std::string what = "engine";
};

// "SIGTERM" for SIGTERM, "signal 77" for a number without a name.
std::string signal_name(int signal);
// The signal `name` (SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2,
// SIGKILL) stands for; nullopt for any other name.
std::optional<int> stop_signal_by_name(std::string_view name);
// The names stop_signal_by_name() knows, for messages.
std::vector<std::string_view> stop_signal_names();

// How the engine process ended: exactly one of exit_status and signal is set.
struct ExitInfo {
  std::optional<int> exit_status;
  std::optional<int> signal;
  bool core_dumped = false;
  // "exited with status 1", "killed by signal 9 (SIGKILL)", "… (core dumped)".
  std::string describe() const;
};

// What stop() did.
struct StopResult {
  ExitInfo exit;
  bool already_ended = false;  // it had ended before (on its own, or an earlier stop)
  bool killed = false;         // the stop signal did not end it within stop_timeout: SIGKILL
  int stop_signal = SIGTERM;
  std::chrono::milliseconds stop_timeout{0};
  // "exited with status 0 after SIGTERM", "still running 30s after SIGTERM:
  // killed by signal 9 (SIGKILL)", "had already exited with status 3".
  std::string describe() const;
};

struct ReadyResult {
  enum class State {
    ready,      // the ready check passed
    exited,     // the engine ended before it was ready (exit holds how)
    timed_out,  // not ready by the deadline; the engine was stopped (exit holds how)
    stopped,    // the stop flag was set; the engine was stopped (exit holds how)
  };
  State state = State::ready;
  std::optional<ExitInfo> exit;
  // One line: what happened, the ready check and its last answer, e.g.
  // "engine not ready within 2s (GET http://127.0.0.1:40000/health: HTTP 503)".
  std::string message;
  std::string log_tail;  // the end of the engine's log (not ready)
  bool ok() const { return state == State::ready; }
};

// The last lines of a log, made safe to show: at most `max_lines` lines from
// the last `max_bytes` bytes (a line cut by that window is dropped, unless it
// is the only one), invalid UTF-8 replaced, control characters other than
// tab shown as '?', lines joined by '\n' without a final one. "" for a
// missing or empty file.
std::string log_tail(const std::string& path, std::size_t max_lines = 20, std::size_t max_bytes = 4096);
// The same for text already read; `cut_at_start` says the text starts in the
// middle of a line.
std::string tail_lines(std::string_view text, std::size_t max_lines, bool cut_at_start);

class EngineProcess {
 public:
  EngineProcess() = default;
  // Kills the process group with SIGKILL and reaps it when still running;
  // stop() first for a graceful end.
  ~EngineProcess();
  EngineProcess(const EngineProcess&) = delete;
  EngineProcess& operator=(const EngineProcess&) = delete;

  // Expands the spec (picking {port} when `values` has none), opens
  // `log_path` (created 0644, appended to; empty: the engine shares
  // tierscope's stdin, stdout and stderr), forks, runs `before_exec(pid)`,
  // and execs. Returns when exec succeeded. Throws LaunchError when the spec
  // does not expand, the log cannot be opened, the hook throws, or the
  // program cannot be run (not found in PATH, not executable, bad cwd); no
  // child is left behind then. Once per object.
  void start(const LaunchSpec& spec, Placeholders values, const std::string& log_path,
             const std::function<void(pid_t)>& before_exec = {});

  // Polls the ready check every 100 ms (250 ms after the first 2 s), each
  // request bounded to 2 s, until it passes, the engine exits, `deadline`
  // passes or `stop` is set. Not ready: the engine is stopped (as stop())
  // and the result says why, with the log's tail.
  ReadyResult wait_ready(std::chrono::steady_clock::time_point deadline, const std::atomic<bool>& stop);
  // start() + the spec's ready_timeout.
  std::chrono::steady_clock::time_point ready_deadline() const { return started_ + spec_.ready_timeout; }

  // Sends the stop signal to the process group, waits up to stop_timeout,
  // then SIGKILL. Every process left in the group gets SIGKILL once the
  // engine itself has ended. Blocks; returns at once when already ended.
  StopResult stop();

  // How the engine ended, once it has (reaped then); nullopt while it runs.
  // Never blocks.
  std::optional<ExitInfo> poll_exit();

  bool running() const { return pid_ > 0 && !exit_; }
  pid_t pid() const { return pid_; }  // also the process group; -1 before start()
  std::uint16_t port() const { return port_; }
  const std::string& url() const { return url_; }              // the engine URL, expanded
  const std::string& ready_url() const { return ready_url_; }  // "" for ReadyKind::none
  const std::vector<std::string>& argv() const { return argv_; }  // expanded
  const std::string& log_path() const { return log_path_; }

 private:
  // Reaps the engine when it has ended (waiting for it when `block`),
  // killing what is left of its group first.
  std::optional<ExitInfo> reap(bool block);
  ReadyResult not_ready(ReadyResult::State state, std::string message);

  LaunchSpec spec_;
  pid_t pid_ = -1;
  std::optional<ExitInfo> exit_;
  std::uint16_t port_ = 0;
  std::string url_;
  std::string ready_url_;
  std::vector<std::string> argv_;
  std::string log_path_;
  std::chrono::steady_clock::time_point started_{};
};

}  // namespace tierscope::workloads

#include "workloads/engine_launch.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <thread>

#include "core/duration.h"
#include "core/text.h"
#include "core/unique_fd.h"
#include "workloads/http_stream.h"

extern char** environ;

namespace tierscope::workloads {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// ---------------------------------------------------------------- placeholders

namespace {

constexpr std::string_view kPlaceholderNames[] = {"port", "ctx", "model"};

std::string literal_braces_hint() { return "write {{ or }} for a literal brace"; }

// Walks `text`: appends literal text to `out` and calls on_name(name) for
// each placeholder, whose return value is appended. Throws LaunchError for
// malformed text and unknown names.
template <typename OnName>
void scan_placeholders(std::string_view text, std::string& out, OnName on_name) {
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '{' && i + 1 < text.size() && text[i + 1] == '{') {
      out += '{';
      i += 2;
    } else if (c == '}' && i + 1 < text.size() && text[i + 1] == '}') {
      out += '}';
      i += 2;
    } else if (c == '}') {
      throw LaunchError("lone '}' at offset " + std::to_string(i) + " of " + text::quoted(text) + " (" +
                        literal_braces_hint() + ")");
    } else if (c == '{') {
      const auto close = text.find('}', i + 1);
      if (close == std::string_view::npos)
        throw LaunchError("lone '{' at offset " + std::to_string(i) + " of " + text::quoted(text) + " (" +
                          literal_braces_hint() + ")");
      const std::string_view name = text.substr(i + 1, close - i - 1);
      if (std::find(std::begin(kPlaceholderNames), std::end(kPlaceholderNames), name) ==
          std::end(kPlaceholderNames))
        throw LaunchError("unknown placeholder " + text::quoted("{" + std::string(name) + "}") + " in " +
                          text::quoted(text) + " (expected {port}, {ctx} or {model}; " + literal_braces_hint() + ")");
      out += on_name(name, text);
      i = close + 1;
    } else {
      out += c;
      ++i;
    }
  }
}

}  // namespace

std::vector<std::string> placeholders_used(std::string_view text) {
  std::vector<std::string> names;
  std::string ignored;
  scan_placeholders(text, ignored, [&](std::string_view name, std::string_view) {
    if (std::find(names.begin(), names.end(), name) == names.end()) names.emplace_back(name);
    return std::string();
  });
  return names;
}

std::string expand_placeholders(std::string_view text, const Placeholders& values) {
  std::string out;
  out.reserve(text.size());
  scan_placeholders(text, out, [&](std::string_view name, std::string_view whole) -> std::string {
    auto missing = [&]() {
      return LaunchError("placeholder {" + std::string(name) + "} has no value here (in " + text::quoted(whole) + ")");
    };
    if (name == "port") {
      if (!values.port) throw missing();
      return std::to_string(*values.port);
    }
    if (name == "ctx") {
      if (!values.ctx) throw missing();
      return std::to_string(*values.ctx);
    }
    if (!values.model) throw missing();
    return *values.model;
  });
  return out;
}

std::uint16_t pick_free_port() {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) throw LaunchError(std::string("cannot pick a free port: socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0)
    throw LaunchError(std::string("cannot pick a free port: bind 127.0.0.1:0: ") + std::strerror(errno));
  socklen_t len = sizeof addr;
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    throw LaunchError(std::string("cannot pick a free port: getsockname: ") + std::strerror(errno));
  return ntohs(addr.sin_port);
}

// ---------------------------------------------------------------- names

std::string_view to_string(ReadyKind k) {
  switch (k) {
    case ReadyKind::none: return "none";
    case ReadyKind::llamacpp: return "llamacpp";
    case ReadyKind::vllm: return "vllm";
    case ReadyKind::ollama: return "ollama";
    case ReadyKind::url: return "url";
  }
  return "?";
}

std::string_view to_string(RestartPolicy r) {
  switch (r) {
    case RestartPolicy::per_run: return "per_run";
    case RestartPolicy::per_step: return "per_step";
  }
  return "?";
}

namespace {

struct NamedSignal {
  std::string_view name;
  int signal;
};
constexpr NamedSignal kStopSignals[] = {{"SIGTERM", SIGTERM}, {"SIGINT", SIGINT},   {"SIGQUIT", SIGQUIT},
                                        {"SIGHUP", SIGHUP},   {"SIGUSR1", SIGUSR1}, {"SIGUSR2", SIGUSR2},
                                        {"SIGKILL", SIGKILL}};

}  // namespace

std::string signal_name(int signal) {
  if (const char* abbrev = ::sigabbrev_np(signal)) return std::string("SIG") + abbrev;
  return "signal " + std::to_string(signal);
}

std::optional<int> stop_signal_by_name(std::string_view name) {
  for (const auto& s : kStopSignals)
    if (s.name == name) return s.signal;
  return std::nullopt;
}

std::vector<std::string_view> stop_signal_names() {
  std::vector<std::string_view> names;
  for (const auto& s : kStopSignals) names.push_back(s.name);
  return names;
}

std::string ExitInfo::describe() const {
  if (exit_status) return "exited with status " + std::to_string(*exit_status);
  if (signal)
    return "killed by signal " + std::to_string(*signal) + " (" + signal_name(*signal) + ")" +
           (core_dumped ? " (core dumped)" : "");
  return "ended (its exit status was collected elsewhere)";
}

std::string StopResult::describe() const {
  if (already_ended) return "had already ended: " + exit.describe();
  if (killed)
    return "still running " + format_duration(stop_timeout) + " after " + signal_name(stop_signal) + ": " +
           exit.describe();
  return exit.describe() + " after " + signal_name(stop_signal);
}

// ---------------------------------------------------------------- log tail

std::string tail_lines(std::string_view text, std::size_t max_lines, bool cut_at_start) {
  if (cut_at_start) {
    const auto nl = text.find('\n');
    if (nl != std::string_view::npos && nl + 1 < text.size()) text.remove_prefix(nl + 1);
  }
  while (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  if (text.empty() || max_lines == 0) return "";
  // Back from the end, newline by newline, until max_lines lines are in.
  std::size_t start = text.size();
  std::size_t lines = 0;
  while (start > 0) {
    const auto nl = text.rfind('\n', start - 1);
    if (nl == std::string_view::npos) {
      start = 0;
      break;
    }
    if (++lines == max_lines) {
      start = nl + 1;
      break;
    }
    start = nl;
  }
  std::string out(text.substr(start));
  text::make_valid_utf8(out);
  for (char& c : out)
    if ((static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') || c == 0x7f) c = '?';
  return out;
}

std::string log_tail(const std::string& path, std::size_t max_lines, std::size_t max_bytes) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd) return "";
  struct stat st{};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) return "";
  const auto size = static_cast<std::uint64_t>(st.st_size);
  // One byte before the window tells whether it starts at a line's start.
  const std::uint64_t from = size > max_bytes ? size - max_bytes - 1 : 0;
  std::string buf(static_cast<std::size_t>(size - from), '\0');
  std::size_t got = 0;
  while (got < buf.size()) {
    const ssize_t n = ::pread(fd.get(), buf.data() + got, buf.size() - got, static_cast<off_t>(from + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  buf.resize(got);
  std::string_view text = buf;
  bool cut = false;
  if (from > 0 || size > max_bytes) {
    if (!text.empty()) {
      cut = text.front() != '\n';
      text.remove_prefix(1);
    }
  }
  return tail_lines(text, max_lines, cut);
}

// ---------------------------------------------------------------- the process

namespace {

// What the child reports through the error pipe before it gives up.
enum class ChildStage : int { setup = 1, chdir = 2, exec = 3 };
struct ChildReport {
  int stage;
  int error;
};

// Child side, between fork and exec: async-signal-safe calls only.
[[noreturn]] void child_fail(int report_fd, ChildStage stage, int error) {
  const ChildReport r{static_cast<int>(stage), error};
  ssize_t ignored = ::write(report_fd, &r, sizeof r);
  (void)ignored;
  ::_exit(127);
}

// `fd` as `target`, without close-on-exec.
bool place_fd(int fd, int target) {
  if (fd == target) return ::fcntl(fd, F_SETFD, 0) == 0;
  return ::dup2(fd, target) == target;
}

struct ChildPlan {
  pid_t parent;
  int stdin_fd;
  int log_fd;
  int go_fd;        // read end: EOF is the go-ahead
  int go_write_fd;  // the parent's end, closed here so that EOF can come
  int report_fd;
  const char* cwd;                     // null: stay
  const std::vector<std::string>* candidates;  // paths to try, in order
  char* const* argv;
  char* const* envp;
};

[[noreturn]] void run_child(const ChildPlan& plan) {
  if (::setpgid(0, 0) != 0) child_fail(plan.report_fd, ChildStage::setup, errno);
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) child_fail(plan.report_fd, ChildStage::setup, errno);
  if (::getppid() != plan.parent) ::_exit(127);  // the parent is already gone
  struct sigaction dfl{};
  dfl.sa_handler = SIG_DFL;
  ::sigemptyset(&dfl.sa_mask);
  for (int s = 1; s < NSIG; ++s) (void)::sigaction(s, &dfl, nullptr);  // KILL, STOP, glibc's own: EINVAL
  sigset_t none;
  ::sigemptyset(&none);
  if (::sigprocmask(SIG_SETMASK, &none, nullptr) != 0) child_fail(plan.report_fd, ChildStage::setup, errno);
  if (plan.log_fd >= 0 && (!place_fd(plan.stdin_fd, STDIN_FILENO) || !place_fd(plan.log_fd, STDOUT_FILENO) ||
                           !place_fd(plan.log_fd, STDERR_FILENO)))
    child_fail(plan.report_fd, ChildStage::setup, errno);
  // Descriptors tierscope opened without close-on-exec stay out of the engine.
  (void)::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
  // Wait for the parent's hook: EOF on the go pipe.
  ::close(plan.go_write_fd);
  char byte;
  while (true) {
    const ssize_t n = ::read(plan.go_fd, &byte, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n != 0) ::_exit(127);  // not EOF: the parent gave up
    break;
  }
  if (plan.cwd && ::chdir(plan.cwd) != 0) child_fail(plan.report_fd, ChildStage::chdir, errno);
  int error = ENOENT;
  bool denied = false;
  for (const std::string& path : *plan.candidates) {
    ::execve(path.c_str(), plan.argv, plan.envp);
    error = errno;
    if (error == EACCES) denied = true;
    else if (error != ENOENT && error != ENOTDIR) break;  // as execvp: only "not here" tries the next
  }
  if (denied && (error == ENOENT || error == ENOTDIR)) error = EACCES;
  child_fail(plan.report_fd, ChildStage::exec, error);
}

std::string env_name(std::string_view entry) { return std::string(entry.substr(0, entry.find('='))); }

// Where execvp would look for `program` with this PATH.
std::vector<std::string> exec_candidates(const std::string& program, const std::optional<std::string>& path) {
  if (program.find('/') != std::string::npos) return {program};
  std::vector<std::string> out;
  const std::string dirs = path ? *path : "/bin:/usr/bin";
  std::size_t start = 0;
  while (true) {
    const auto colon = dirs.find(':', start);
    std::string dir = dirs.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    out.push_back((dir.empty() ? std::string(".") : dir) + "/" + program);
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return out;
}

ExitInfo exit_info(int status) {
  ExitInfo e;
  if (WIFEXITED(status)) e.exit_status = WEXITSTATUS(status);
  else if (WIFSIGNALED(status)) {
    e.signal = WTERMSIG(status);
    e.core_dumped = WCOREDUMP(status) != 0;
  }
  return e;
}

std::string errno_text(int error) { return std::strerror(error); }

}  // namespace

EngineProcess::~EngineProcess() {
  if (running()) {
    ::kill(-pid_, SIGKILL);
    reap(true);
  }
}

void EngineProcess::start(const LaunchSpec& spec, Placeholders values, const std::string& log_path,
                          const std::function<void(pid_t)>& before_exec) {
  if (pid_ > 0) throw LaunchError("engine already started (pid " + std::to_string(pid_) + ")");
  const std::string cannot = "cannot start the " + spec.what + ": ";
  if (spec.argv.empty() || spec.argv.front().empty()) throw LaunchError(cannot + "argv has no program");
  spec_ = spec;

  // {port} is picked only when something uses it and the caller gave none.
  bool uses_port = false;
  auto note = [&](std::string_view text) {
    if (spec.literal) return;
    for (const auto& name : placeholders_used(text)) uses_port = uses_port || name == "port";
  };
  auto expand = [&](std::string_view text) {
    return spec.literal ? std::string(text) : expand_placeholders(text, values);
  };
  for (const auto& a : spec.argv) note(a);
  for (const auto& kv : spec.env) note(kv.second);
  if (spec.cwd) note(*spec.cwd);
  note(spec.url);
  note(spec.ready.url);
  if (uses_port && !values.port) values.port = pick_free_port();
  port_ = values.port.value_or(0);

  argv_.clear();
  for (const auto& a : spec.argv) argv_.push_back(expand(a));
  if (argv_.front().empty()) throw LaunchError(cannot + "argv[0] expands to an empty program");
  std::vector<std::pair<std::string, std::string>> env;
  for (const auto& [k, v] : spec.env) env.emplace_back(k, expand(v));
  std::optional<std::string> cwd;
  if (spec.cwd) cwd = expand(*spec.cwd);
  url_ = expand(spec.url);
  while (!url_.empty() && url_.back() == '/') url_.pop_back();
  switch (spec.ready.kind) {
    case ReadyKind::none: ready_url_.clear(); break;
    case ReadyKind::llamacpp:
    case ReadyKind::vllm: ready_url_ = url_ + "/health"; break;
    case ReadyKind::ollama: ready_url_ = url_ + "/api/version"; break;
    case ReadyKind::url: ready_url_ = expand(spec.ready.url); break;
  }
  if (spec.ready.kind != ReadyKind::none && ready_url_.rfind("http://", 0) != 0 &&
      ready_url_.rfind("https://", 0) != 0)
    throw LaunchError(cannot + "the ready check needs an http:// or https:// URL, got " +
                      text::quoted(ready_url_));

  // The environment: tierscope's, with the spec's entries replacing or added.
  std::vector<std::string> env_strings;
  for (char** e = environ; e && *e; ++e) {
    const std::string name = env_name(*e);
    if (std::none_of(env.begin(), env.end(), [&](const auto& kv) { return kv.first == name; }))
      env_strings.emplace_back(*e);
  }
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::optional<std::string> path_var;
  for (const auto& e : env_strings)
    if (e.rfind("PATH=", 0) == 0) path_var = e.substr(5);
  const std::vector<std::string> candidates = exec_candidates(argv_.front(), path_var);

  std::vector<char*> argv_ptrs;
  for (auto& a : argv_) argv_ptrs.push_back(a.data());
  argv_ptrs.push_back(nullptr);
  std::vector<char*> env_ptrs;
  for (auto& e : env_strings) env_ptrs.push_back(e.data());
  env_ptrs.push_back(nullptr);

  log_path_ = log_path;
  UniqueFd log_fd, stdin_read;  // both -1: the engine inherits tierscope's stdin, stdout, stderr
  int fds[2];
  if (!log_path.empty()) {
    log_fd.reset(::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0644));
    if (!log_fd) throw LaunchError("cannot open the engine log " + log_path + ": " + errno_text(errno));
    if (::pipe2(fds, O_CLOEXEC) != 0) throw LaunchError(cannot + "pipe2: " + errno_text(errno));
    stdin_read.reset(fds[0]);
    ::close(fds[1]);  // the engine's stdin: EOF at once
  }
  if (::pipe2(fds, O_CLOEXEC) != 0) throw LaunchError(cannot + "pipe2: " + errno_text(errno));
  UniqueFd go_read(fds[0]), go_write(fds[1]);
  if (::pipe2(fds, O_CLOEXEC) != 0) throw LaunchError(cannot + "pipe2: " + errno_text(errno));
  UniqueFd report_read(fds[0]), report_write(fds[1]);

  const ChildPlan plan{::getpid(),         stdin_read.get(),
                       log_fd.get(),        go_read.get(),
                       go_write.get(),      report_write.get(),
                       cwd ? cwd->c_str() : nullptr, &candidates,
                       argv_ptrs.data(),    env_ptrs.data()};
  const pid_t pid = ::fork();
  if (pid < 0) throw LaunchError(cannot + "fork: " + errno_text(errno));
  if (pid == 0) run_child(plan);

  pid_ = pid;
  started_ = Clock::now();
  (void)::setpgid(pid, pid);  // also here, so the group exists whichever runs first
  go_read.reset();
  report_write.reset();
  stdin_read.reset();
  log_fd.reset();
  auto abandon = [&](const std::string& message) {
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);
    reap(true);
    throw LaunchError(message);
  };
  if (before_exec) {
    try {
      before_exec(pid);
    } catch (const std::exception& e) {
      abandon(cannot + "before it ran: " + e.what());
    } catch (...) {
      abandon(cannot + "before it ran: unknown error");
    }
  }
  go_write.reset();  // EOF: go

  ChildReport report{};
  std::size_t got = 0;
  while (got < sizeof report) {
    const ssize_t n = ::read(report_read.get(), reinterpret_cast<char*>(&report) + got, sizeof report - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  if (got == 0) return;  // exec succeeded (the pipe closed on exec)

  const std::string& program = argv_.front();
  std::string why;
  if (got < sizeof report) {
    why = "the child process ended before exec";
  } else if (report.stage == static_cast<int>(ChildStage::chdir)) {
    why = "cwd " + text::quoted(*cwd) + ": " + errno_text(report.error);
  } else if (report.stage == static_cast<int>(ChildStage::exec)) {
    if (report.error == ENOENT && program.find('/') == std::string::npos)
      why = text::quoted(program) + " not found in PATH (" + text::quoted(path_var.value_or("/bin:/usr/bin")) + ")";
    else
      why = text::quoted(program) + ": " + errno_text(report.error);
  } else {
    why = "setting up the child process: " + errno_text(report.error);
  }
  reap(true);
  throw LaunchError(cannot + why);
}

std::optional<ExitInfo> EngineProcess::reap(bool block) {
  if (exit_ || pid_ <= 0) return exit_;
  siginfo_t info{};
  int rc;
  do {
    info.si_pid = 0;
    rc = ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOWAIT | (block ? 0 : WNOHANG));
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {  // ECHILD: reaped elsewhere (SIGCHLD ignored, or another waitpid)
    exit_ = ExitInfo{};
    return exit_;
  }
  if (info.si_pid == 0) return std::nullopt;  // still running
  // Ended but not reaped: its pid, and so its group id, is not reused yet.
  ::kill(-pid_, SIGKILL);
  int status = 0;
  pid_t r;
  do r = ::waitpid(pid_, &status, 0);
  while (r < 0 && errno == EINTR);
  exit_ = r == pid_ ? exit_info(status) : ExitInfo{};
  return exit_;
}

std::optional<ExitInfo> EngineProcess::poll_exit() { return reap(false); }

StopResult EngineProcess::stop() {
  StopResult result;
  result.stop_signal = spec_.stop_signal;
  result.stop_timeout = spec_.stop_timeout;
  if (pid_ <= 0) throw LaunchError("stop(): the engine was never started");
  if (reap(false)) {
    result.already_ended = true;
    result.exit = *exit_;
    return result;
  }
  ::kill(-pid_, spec_.stop_signal);
  const auto until = Clock::now() + spec_.stop_timeout;
  while (!reap(false) && Clock::now() < until)
    std::this_thread::sleep_for(std::min<Clock::duration>(milliseconds(10), until - Clock::now()));
  if (!exit_) {
    ::kill(-pid_, SIGKILL);
    reap(true);
    result.killed = true;
  }
  result.exit = *exit_;
  return result;
}

ReadyResult EngineProcess::not_ready(ReadyResult::State state, std::string message) {
  ReadyResult r;
  r.state = state;
  if (state != ReadyResult::State::exited) stop();
  r.exit = exit_;
  r.message = std::move(message);
  r.log_tail = log_tail(log_path_);
  return r;
}

ReadyResult EngineProcess::wait_ready(Clock::time_point deadline, const std::atomic<bool>& stop_flag) {
  if (pid_ <= 0) throw LaunchError("wait_ready(): the engine was never started");
  const std::string check = ready_url_.empty() ? std::string("the process") : "GET " + ready_url_;
  std::string last = "no answer yet";
  auto with_last = [&]() { return " (" + check + ": " + last + ")"; };
  const auto fast_until = Clock::now() + std::chrono::seconds(2);
  while (true) {
    if (auto e = poll_exit())
      return not_ready(ReadyResult::State::exited, "engine " + e->describe() + " before it was ready" + with_last());
    if (stop_flag.load()) return not_ready(ReadyResult::State::stopped, "stopped while waiting for the engine" + with_last());
    if (spec_.ready.kind == ReadyKind::none) return ReadyResult{};
    const auto now = Clock::now();
    HttpRequest req;
    req.url = ready_url_;
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - now);
    req.timeout = std::clamp(left, milliseconds(50), milliseconds(2000));
    req.connect_timeout = std::min(req.timeout, milliseconds(1000));
    req.max_body_bytes = 64 * 1024;
    const HttpResponse r = http_fetch(req);
    const long status = r.result.http_status;
    const bool passed = spec_.ready.kind == ReadyKind::url ? status >= 200 && status < 300 : status == 200;
    if (passed && r.result.curl_code == 0) {
      // It answered; make sure the answer came from our engine and not from
      // a process that took the port after it died.
      if (auto e = poll_exit())
        return not_ready(ReadyResult::State::exited, "engine " + e->describe() + " before it was ready" + with_last());
      return ReadyResult{};
    }
    last = status ? "HTTP " + std::to_string(status) : r.result.error;
    if (Clock::now() >= deadline)
      return not_ready(ReadyResult::State::timed_out,
                       "engine not ready within " + format_duration(spec_.ready_timeout) + with_last());
    const auto next = Clock::now() + (Clock::now() < fast_until ? milliseconds(100) : milliseconds(250));
    while (Clock::now() < std::min(next, deadline) && !stop_flag.load()) {
      if (poll_exit()) break;
      std::this_thread::sleep_for(milliseconds(20));
    }
  }
}

}  // namespace tierscope::workloads

// Launching the engine (workloads/engine_launch.h): placeholder expansion,
// then real processes on 127.0.0.1 — the mock engine with {port}, programs
// that fail to start, exit early, never listen or ignore SIGTERM, the
// before_exec hook, engine.log — and the real llama.cpp server beside the
// checkout when it is there.
#include "emulation.h"
#include "workloads/engine_launch.h"

#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>

#include "test_util.h"
#include "tests/workloads/mock_process.h"
#include "workloads/http_stream.h"

#ifndef TIERSCOPE_SHARED_MODELS
#define TIERSCOPE_SHARED_MODELS "../shared/models"
#endif
#ifndef TIERSCOPE_SHARED_ENGINES
#define TIERSCOPE_SHARED_ENGINES "../shared/engines"
#endif

using namespace tierscope::workloads;
using tierscope::testing::TempDir;
using tierscope::testing::kSanitized;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

std::string launch_error(const std::string& text, const Placeholders& values = {}) {
  try {
    expand_placeholders(text, values);
  } catch (const LaunchError& e) {
    return e.what();
  }
  return "";
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// True when this process has no child at all, running or zombie.
bool no_children() {
  int status = 0;
  return ::waitpid(-1, &status, WNOHANG) == -1 && errno == ECHILD;
}

bool process_gone(pid_t pid) { return ::kill(pid, 0) == -1 && errno == ESRCH; }

// Waits up to `limit` for `needle` in the file.
bool file_shows(const fs::path& p, const std::string& needle, std::chrono::milliseconds limit = 5s) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (read_file(p).find(needle) != std::string::npos) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

std::optional<ExitInfo> wait_exit(EngineProcess& e, std::chrono::milliseconds limit = 5s) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (auto x = e.poll_exit()) return x;
    std::this_thread::sleep_for(10ms);
  }
  return std::nullopt;
}

LaunchSpec spec_of(std::vector<std::string> argv, ReadyKind ready = ReadyKind::none) {
  LaunchSpec s;
  s.argv = std::move(argv);
  s.url = "http://127.0.0.1:{port}";
  s.ready.kind = ready;
  s.ready_timeout = 10s;
  s.stop_timeout = 5s;
  return s;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

// ---------------------------------------------------------------- placeholders

TEST(Placeholders, ExpandEveryName) {
  Placeholders v{40123, 4224, "/models/m.gguf"};
  EXPECT_EQ(expand_placeholders("--port={port}", v), "--port=40123");
  EXPECT_EQ(expand_placeholders("{ctx}", v), "4224");
  EXPECT_EQ(expand_placeholders("-m {model} -c {ctx} {port}{port}", v), "-m /models/m.gguf -c 4224 4012340123");
  EXPECT_EQ(expand_placeholders("plain text", v), "plain text");
  EXPECT_EQ(expand_placeholders("", v), "");
}

TEST(Placeholders, DoubledBracesAreLiteral) {
  Placeholders v{1, 2, "m"};
  EXPECT_EQ(expand_placeholders("{{port}}", v), "{port}");
  EXPECT_EQ(expand_placeholders("{{{port}}}", v), "{1}");
  EXPECT_EQ(expand_placeholders("{{}}", v), "{}");
}

TEST(Placeholders, JsonWithLiteralBracesAndAValue) {
  Placeholders v{1, 2048, "m"};
  EXPECT_EQ(expand_placeholders("{{\"num_ctx\": {ctx}}}", v), "{\"num_ctx\": 2048}");
  EXPECT_EQ(expand_placeholders("}}{{", v), "}{");
}

TEST(Placeholders, ErrorsNameTheProblem) {
  Placeholders v{1, 2, "m"};
  auto e = launch_error("--port {prot}", v);
  EXPECT_NE(e.find("unknown placeholder \"{prot}\""), std::string::npos) << e;
  EXPECT_NE(e.find("{port}, {ctx} or {model}"), std::string::npos) << e;
  e = launch_error("{}", v);
  EXPECT_NE(e.find("unknown placeholder \"{}\""), std::string::npos) << e;
  e = launch_error("a {port", v);
  EXPECT_NE(e.find("lone '{' at offset 2"), std::string::npos) << e;
  e = launch_error("a } b", v);
  EXPECT_NE(e.find("lone '}' at offset 2"), std::string::npos) << e;
  e = launch_error("-c {ctx}", Placeholders{1, std::nullopt, "m"});
  EXPECT_NE(e.find("placeholder {ctx} has no value"), std::string::npos) << e;
  e = launch_error("{model}", {});
  EXPECT_NE(e.find("{model} has no value"), std::string::npos) << e;
}

TEST(Placeholders, UsedNamesOnceInOrder) {
  EXPECT_EQ(placeholders_used("{model} {port} {model} {{ctx}}"), (std::vector<std::string>{"model", "port"}));
  EXPECT_TRUE(placeholders_used("no braces").empty());
  EXPECT_THROW(placeholders_used("{nope}"), LaunchError);
}

TEST(Placeholders, FreePortCanBeBound) {
  const std::uint16_t port = pick_free_port();
  ASSERT_GT(port, 0);
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  EXPECT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0) << std::strerror(errno);
  ::close(fd);
}

// ---------------------------------------------------------------- names and tails

TEST(EngineLaunch, ExitAndStopDescriptions) {
  EXPECT_EQ((ExitInfo{1, std::nullopt, false}.describe()), "exited with status 1");
  EXPECT_EQ((ExitInfo{std::nullopt, SIGKILL, false}.describe()), "killed by signal 9 (SIGKILL)");
  EXPECT_EQ((ExitInfo{std::nullopt, SIGSEGV, true}.describe()), "killed by signal 11 (SIGSEGV) (core dumped)");
  StopResult s;
  s.exit = ExitInfo{std::nullopt, SIGKILL, false};
  s.killed = true;
  s.stop_signal = SIGTERM;
  s.stop_timeout = 30s;
  EXPECT_EQ(s.describe(), "still running 30s after SIGTERM: killed by signal 9 (SIGKILL)");
  EXPECT_EQ(signal_name(SIGINT), "SIGINT");
  EXPECT_EQ(stop_signal_by_name("SIGQUIT"), SIGQUIT);
  EXPECT_FALSE(stop_signal_by_name("TERM"));
}

TEST(EngineLaunch, LogTailKeepsTheLastLinesMadeSafe) {
  TempDir dir;
  std::string text;
  for (int i = 1; i <= 30; ++i) text += "line " + std::to_string(i) + "\n";
  auto p = dir.write("engine.log", text);
  auto tail = log_tail(p.string());
  EXPECT_EQ(tail.substr(0, 8), "line 11\n");
  EXPECT_EQ(tail.substr(tail.size() - 7), "line 30");
  EXPECT_EQ(std::count(tail.begin(), tail.end(), '\n'), 19);
  // A byte window that starts mid-line drops that line.
  EXPECT_EQ(log_tail(p.string(), 20, 12), "line 30");
  EXPECT_EQ(log_tail(p.string(), 2, 4096), "line 29\nline 30");
  p = dir.write("ctl.log", std::string("ok\x1b[31mred\r\x01\tTab\n\xff\n", 19));
  EXPECT_EQ(log_tail(p.string()), "ok?[31mred??\tTab\n\xef\xbf\xbd");
  EXPECT_EQ(log_tail((dir.path() / "absent.log").string()), "");
  // One long line cut by the window is kept (it is all there is).
  p = dir.write("long.log", std::string(10000, 'x'));
  EXPECT_EQ(log_tail(p.string(), 20, 100), std::string(100, 'x'));
}

// ---------------------------------------------------------------- processes

TEST(EngineLaunch, MockEngineWithPortReadyAndSigterm) {
  TempDir dir;
  const auto log = dir.path() / "engine.log";
  auto spec = spec_of({MOCK_ENGINE_BIN, "--port", "{port}", "--loading-ms", "300"}, ReadyKind::llamacpp);
  EngineProcess e;
  const auto t0 = std::chrono::steady_clock::now();
  e.start(spec, {}, log.string());
  ASSERT_GT(e.pid(), 0);
  EXPECT_EQ(::getpgid(e.pid()), e.pid());  // a process group of its own
  ASSERT_GT(e.port(), 0);
  EXPECT_EQ(e.url(), "http://127.0.0.1:" + std::to_string(e.port()));
  EXPECT_EQ(e.ready_url(), e.url() + "/health");
  EXPECT_EQ(e.argv()[2], std::to_string(e.port()));
  std::atomic<bool> stop{false};
  auto r = e.wait_ready(e.ready_deadline(), stop);
  ASSERT_TRUE(r.ok()) << r.message << "\n" << r.log_tail;
  EXPECT_GE(seconds_since(t0), 0.3);  // /health answered 503 while "loading"
  EXPECT_EQ(http_get(e.url() + "/health").result.http_status, 200);
  EXPECT_FALSE(e.poll_exit());
  auto s = e.stop();
  EXPECT_FALSE(s.killed);
  EXPECT_FALSE(s.already_ended);
  EXPECT_EQ(s.exit.exit_status, 0);  // the mock ends cleanly on SIGTERM
  EXPECT_EQ(s.describe(), "exited with status 0 after SIGTERM");
  EXPECT_TRUE(process_gone(e.pid()));
  EXPECT_NE(read_file(log).find("listening on 127.0.0.1:" + std::to_string(e.port())), std::string::npos);
  // Stopping again reports the earlier end.
  EXPECT_TRUE(e.stop().already_ended);
}

TEST(EngineLaunch, GivenPortIsUsed) {
  TempDir dir;
  const std::uint16_t port = pick_free_port();
  auto spec = spec_of({MOCK_ENGINE_BIN, "--port", "{port}"}, ReadyKind::ollama);
  EngineProcess e;
  e.start(spec, Placeholders{port, std::nullopt, std::nullopt}, (dir.path() / "engine.log").string());
  EXPECT_EQ(e.port(), port);
  EXPECT_EQ(e.ready_url(), "http://127.0.0.1:" + std::to_string(port) + "/api/version");
  std::atomic<bool> stop{false};
  auto r = e.wait_ready(e.ready_deadline(), stop);
  EXPECT_TRUE(r.ok()) << r.message;
}

TEST(EngineLaunch, MissingProgramIsACleanError) {
  TempDir dir;
  const auto log = (dir.path() / "engine.log").string();
  ASSERT_TRUE(no_children());
  for (const std::string program : {"tierscope-no-such-engine", "/nonexistent/dir/engine"}) {
    EngineProcess e;
    try {
      e.start(spec_of({program, "--port", "{port}"}), {}, log);
      ADD_FAILURE() << program << " started";
    } catch (const LaunchError& err) {
      const std::string m = err.what();
      if (program.front() == '/') EXPECT_NE(m.find("No such file or directory"), std::string::npos) << m;
      else EXPECT_NE(m.find("\"tierscope-no-such-engine\" not found in PATH"), std::string::npos) << m;
    }
    EXPECT_TRUE(no_children()) << program;
    EXPECT_FALSE(e.running());
  }
  // Not executable.
  auto script = dir.write("not-executable", "#!/bin/sh\n");
  EngineProcess e;
  try {
    e.start(spec_of({script.string()}), {}, log);
    ADD_FAILURE() << "started";
  } catch (const LaunchError& err) {
    EXPECT_NE(std::string(err.what()).find("Permission denied"), std::string::npos) << err.what();
  }
  EXPECT_TRUE(no_children());
  // A cwd that does not exist.
  auto spec = spec_of({"true"});
  spec.cwd = (dir.path() / "no-such-dir").string();
  EngineProcess c;
  try {
    c.start(spec, {}, log);
    ADD_FAILURE() << "started";
  } catch (const LaunchError& err) {
    EXPECT_NE(std::string(err.what()).find("cwd"), std::string::npos) << err.what();
  }
  EXPECT_TRUE(no_children());
}

TEST(EngineLaunch, ExitBeforeReadyGivesStatusAndLogTail) {
  TempDir dir;
  const auto log = dir.path() / "engine.log";
  EngineProcess e;
  e.start(spec_of({"sh", "-c", "echo starting; echo boom >&2; exit 3"}, ReadyKind::llamacpp), {}, log.string());
  std::atomic<bool> stop{false};
  const auto t0 = std::chrono::steady_clock::now();
  auto r = e.wait_ready(e.ready_deadline(), stop);
  EXPECT_LT(seconds_since(t0), 5.0);
  EXPECT_EQ(r.state, ReadyResult::State::exited);
  ASSERT_TRUE(r.exit);
  EXPECT_EQ(r.exit->exit_status, 3);
  EXPECT_NE(r.message.find("engine exited with status 3 before it was ready"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("/health"), std::string::npos) << r.message;
  EXPECT_EQ(r.log_tail, "starting\nboom");
  EXPECT_TRUE(no_children());
}

TEST(EngineLaunch, ReadyTimeoutStopsTheEngine) {
  TempDir dir;
  auto spec = spec_of({"sleep", "30"}, ReadyKind::vllm);
  spec.ready_timeout = 1s;
  EngineProcess e;
  e.start(spec, {}, (dir.path() / "engine.log").string());
  std::atomic<bool> stop{false};
  const auto t0 = std::chrono::steady_clock::now();
  auto r = e.wait_ready(e.ready_deadline(), stop);
  const double took = seconds_since(t0);
  EXPECT_EQ(r.state, ReadyResult::State::timed_out);
  EXPECT_GE(took, 0.9);
  EXPECT_LT(took, kSanitized ? 10.0 : 4.0);
  EXPECT_NE(r.message.find("engine not ready within 1s"), std::string::npos) << r.message;
  ASSERT_TRUE(r.exit);
  EXPECT_EQ(r.exit->signal, SIGTERM);
  EXPECT_TRUE(process_gone(e.pid()));
  EXPECT_FALSE(e.running());
}

TEST(EngineLaunch, StopFlagEndsTheWait) {
  TempDir dir;
  EngineProcess e;
  e.start(spec_of({"sleep", "30"}, ReadyKind::llamacpp), {}, (dir.path() / "engine.log").string());
  std::atomic<bool> stop{false};
  std::thread setter([&] {
    std::this_thread::sleep_for(300ms);
    stop = true;
  });
  const auto t0 = std::chrono::steady_clock::now();
  auto r = e.wait_ready(e.ready_deadline(), stop);
  setter.join();
  EXPECT_EQ(r.state, ReadyResult::State::stopped);
  EXPECT_LT(seconds_since(t0), kSanitized ? 10.0 : 4.0);
  EXPECT_TRUE(process_gone(e.pid()));
}

TEST(EngineLaunch, IgnoredSigtermEndsInSigkill) {
  TempDir dir;
  const auto log = dir.path() / "engine.log";
  auto spec = spec_of({"sh", "-c", "trap '' TERM; echo trapped; sleep 60"});
  spec.stop_timeout = 500ms;
  EngineProcess e;
  e.start(spec, {}, log.string());
  ASSERT_TRUE(file_shows(log, "trapped"));
  const auto t0 = std::chrono::steady_clock::now();
  auto s = e.stop();
  const double took = seconds_since(t0);
  EXPECT_TRUE(s.killed);
  EXPECT_EQ(s.exit.signal, SIGKILL);
  EXPECT_EQ(s.describe(), "still running 500ms after SIGTERM: killed by signal 9 (SIGKILL)");
  EXPECT_GE(took, 0.45);
  EXPECT_LT(took, kSanitized ? 10.0 : 3.0);
  EXPECT_TRUE(process_gone(e.pid()));
  EXPECT_TRUE(no_children());  // the shell's sleep went with the group
}

TEST(EngineLaunch, OtherStopSignal) {
  TempDir dir;
  const auto log = dir.path() / "engine.log";
  auto spec = spec_of({"sh", "-c", "trap 'echo got INT; exit 5' INT; echo ready; while :; do sleep 0.05; done"});
  spec.stop_signal = SIGINT;
  EngineProcess e;
  e.start(spec, {}, log.string());
  ASSERT_TRUE(file_shows(log, "ready"));
  auto s = e.stop();
  EXPECT_FALSE(s.killed);
  EXPECT_EQ(s.exit.exit_status, 5);
  EXPECT_EQ(s.describe(), "exited with status 5 after SIGINT");
  EXPECT_NE(read_file(log).find("got INT"), std::string::npos);
}

TEST(EngineLaunch, BeforeExecSeesTheChildBeforeExec) {
  TIERSCOPE_SKIP_UNDER_EMULATOR("/proc/PID/exe names the emulator");
  TempDir dir;
  const fs::path self = fs::read_symlink("/proc/self/exe");
  const fs::path sleep_bin = fs::canonical("/bin/sleep");
  fs::path exe_in_hook;
  pid_t hook_pid = -1;
  pid_t group_in_hook = -1;
  EngineProcess e;
  e.start(spec_of({"/bin/sleep", "30"}), {}, (dir.path() / "engine.log").string(), [&](pid_t pid) {
    hook_pid = pid;
    group_in_hook = ::getpgid(pid);
    // Give a child that would not wait time to exec.
    std::this_thread::sleep_for(100ms);
    exe_in_hook = fs::read_symlink("/proc/" + std::to_string(pid) + "/exe");
  });
  EXPECT_EQ(hook_pid, e.pid());
  EXPECT_EQ(group_in_hook, e.pid());
  EXPECT_EQ(exe_in_hook, self);  // still the test binary: not yet exec'd
  EXPECT_EQ(fs::read_symlink("/proc/" + std::to_string(e.pid()) + "/exe"), sleep_bin);
  e.stop();
}

TEST(EngineLaunch, ThrowingBeforeExecKillsTheChild) {
  TempDir dir;
  const auto log = dir.path() / "engine.log";
  pid_t hook_pid = -1;
  EngineProcess e;
  try {
    e.start(spec_of({"sh", "-c", "echo ran > " + (dir.path() / "ran").string()}), {}, log.string(), [&](pid_t pid) {
      hook_pid = pid;
      throw std::runtime_error("cannot create the cgroup: Permission denied");
    });
    ADD_FAILURE() << "started";
  } catch (const LaunchError& err) {
    EXPECT_NE(std::string(err.what()).find("cannot create the cgroup: Permission denied"), std::string::npos)
        << err.what();
  }
  ASSERT_GT(hook_pid, 0);
  EXPECT_TRUE(process_gone(hook_pid));
  EXPECT_TRUE(no_children());
  EXPECT_FALSE(fs::exists(dir.path() / "ran"));  // it never ran
}

TEST(EngineLaunch, LogGetsStdoutAndStderrAppended) {
  TempDir dir;
  const auto log = dir.write("engine.log", "earlier run\n");
  EngineProcess e;
  e.start(spec_of({"sh", "-c", "echo to-stdout; echo to-stderr >&2; exit 7"}), {}, log.string());
  auto x = wait_exit(e);
  ASSERT_TRUE(x);
  EXPECT_EQ(x->exit_status, 7);
  EXPECT_EQ(x->describe(), "exited with status 7");
  EXPECT_EQ(read_file(log), "earlier run\nto-stdout\nto-stderr\n");
}

TEST(EngineLaunch, EnvironmentCwdAndSignalsOfTheChild) {
  TempDir dir;
  const auto log = dir.path() / "engine.log";
  ::setenv("TIERSCOPE_TEST_INHERITED", "inherited", 1);
  ::setenv("TIERSCOPE_TEST_REPLACED", "old", 1);
  auto spec = spec_of({"sh", "-c",
                       "echo \"$TIERSCOPE_TEST_INHERITED $TIERSCOPE_TEST_REPLACED $TIERSCOPE_TEST_ADDED\"; pwd; "
                       "grep -E '^(SigBlk|SigIgn):' /proc/self/status"});
  spec.env = {{"TIERSCOPE_TEST_REPLACED", "new"}, {"TIERSCOPE_TEST_ADDED", "port={port}"}};
  spec.cwd = dir.path().string();
  // tierscope blocks and ignores signals of its own; the engine must not inherit that.
  sigset_t block, previous;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  ASSERT_EQ(::pthread_sigmask(SIG_BLOCK, &block, &previous), 0);
  auto old_int = ::signal(SIGINT, SIG_IGN);
  EngineProcess e;
  e.start(spec, Placeholders{4242, std::nullopt, std::nullopt}, log.string());
  ::signal(SIGINT, old_int);
  ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  ::unsetenv("TIERSCOPE_TEST_INHERITED");
  ::unsetenv("TIERSCOPE_TEST_REPLACED");
  auto x = wait_exit(e);
  ASSERT_TRUE(x);
  EXPECT_EQ(x->exit_status, 0);
  const std::string out = read_file(log);
  EXPECT_NE(out.find("inherited new port=4242\n"), std::string::npos) << out;
  EXPECT_NE(out.find(fs::canonical(dir.path()).string() + "\n"), std::string::npos) << out;
  EXPECT_NE(out.find("SigBlk:\t0000000000000000\n"), std::string::npos) << out;
  EXPECT_NE(out.find("SigIgn:\t0000000000000000\n"), std::string::npos) << out;
}

TEST(EngineLaunch, DeathMidRunIsNoticed) {
  TempDir dir;
  EngineProcess e;
  e.start(spec_of({"sleep", "30"}), {}, (dir.path() / "engine.log").string());
  EXPECT_FALSE(e.poll_exit());
  ::kill(e.pid(), SIGKILL);
  auto x = wait_exit(e);
  ASSERT_TRUE(x);
  EXPECT_EQ(x->describe(), "killed by signal 9 (SIGKILL)");
  auto s = e.stop();
  EXPECT_TRUE(s.already_ended);
  EXPECT_EQ(s.describe(), "had already ended: killed by signal 9 (SIGKILL)");
}

TEST(EngineLaunch, DestructorKillsARunningEngine) {
  TempDir dir;
  pid_t pid;
  {
    EngineProcess e;
    e.start(spec_of({"sleep", "30"}), {}, (dir.path() / "engine.log").string());
    pid = e.pid();
  }
  EXPECT_TRUE(process_gone(pid));
  EXPECT_TRUE(no_children());
}

TEST(EngineLaunch, BadSpecsFailBeforeAnyFork) {
  TempDir dir;
  const auto log = (dir.path() / "engine.log").string();
  EngineProcess e;
  EXPECT_THROW(e.start(spec_of({}), {}, log), LaunchError);
  EXPECT_THROW(e.start(spec_of({"x", "{prot}"}), {}, log), LaunchError);
  EXPECT_THROW(e.start(spec_of({"x", "-c", "{ctx}"}), {}, log), LaunchError);  // no ctx given
  EXPECT_THROW(e.start(spec_of({"true"}), {}, (dir.path() / "no-dir" / "engine.log").string()), LaunchError);
  EXPECT_TRUE(no_children());
}

// ---------------------------------------------------------------- llama.cpp

TEST(EngineLaunch, RealLlamaServer) {
  const fs::path server = fs::path(TIERSCOPE_SHARED_ENGINES) / "llama-server";
  const fs::path model = fs::path(TIERSCOPE_SHARED_MODELS) / "stories260K.gguf";
  if (!fs::exists(server) || !fs::exists(model))
    GTEST_SKIP() << "no " << server << " or " << model << " (../shared is absent)";
  TempDir dir;
  const auto log = dir.path() / "engine.log";
  auto spec = spec_of({server.string(), "-m", "{model}", "-c", "{ctx}", "--host", "127.0.0.1", "--port", "{port}",
                       "-np", "1", "-t", "1"},
                      ReadyKind::llamacpp);
  spec.ready_timeout = 60s;
  spec.stop_timeout = 10s;
  EngineProcess e;
  e.start(spec, Placeholders{std::nullopt, 256, model.string()}, log.string());
  std::atomic<bool> stop{false};
  auto r = e.wait_ready(e.ready_deadline(), stop);
  ASSERT_TRUE(r.ok()) << r.message << "\n" << r.log_tail;
  auto props = http_get(e.url() + "/props", 5s);
  EXPECT_EQ(props.result.http_status, 200);
  EXPECT_NE(props.body.find("\"n_ctx\":256"), std::string::npos) << props.body.substr(0, 400);
  auto s = e.stop();
  EXPECT_FALSE(s.killed) << s.describe();
  EXPECT_TRUE(process_gone(e.pid()));
  EXPECT_FALSE(log_tail(log.string()).empty());
}

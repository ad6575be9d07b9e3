#pragma once
// One line per event on stderr. When stderr is connected to the journal
// (JOURNAL_STREAM names our stderr, see systemd.exec(5)), lines carry the
// sd-daemon(3) "<N>" priority prefix and no timestamp (journald adds one);
// otherwise they carry an ISO-8601 UTC timestamp and the level in words.
//
// No floods: a line identical to one already written 5 times within the last
// minute is suppressed and counted (the count is appended when it is next
// written), and beyond 100 lines in 10 s further lines are dropped and
// counted, like journald's RateLimitBurst; the next line written says how
// many were lost.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <unordered_map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace tierscope {

enum class LogLevel { error = 0, warn = 1, info = 2, debug = 3 };

std::optional<LogLevel> parse_log_level(std::string_view s);
std::string_view to_string(LogLevel level);

// Decides, per line, whether it is written. Pure (time is passed in).
class LogRateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  struct Limits {
    std::chrono::seconds repeat_window{60};
    std::size_t repeat_burst = 5;  // identical lines written per repeat_window
    std::size_t burst = 100;
    std::chrono::seconds burst_window{10};
  };
  struct Verdict {
    bool write = false;
    std::uint64_t repeats = 0;  // identical lines suppressed since this one was last written
    std::uint64_t dropped = 0;  // lines dropped by the burst limit since the last written line
  };
  LogRateLimiter() : LogRateLimiter(Limits{}) {}
  explicit LogRateLimiter(Limits limits) : limits_(limits) {}
  Verdict admit(std::string_view line, Clock::time_point now);

 private:
  struct Seen {
    Clock::time_point window_start;
    std::size_t written = 0;
    std::uint64_t suppressed = 0;
  };
  Limits limits_;
  std::unordered_map<std::string, Seen> seen_;
  Clock::time_point window_start_{};
  std::size_t in_window_ = 0;
  std::uint64_t dropped_ = 0;
};

class Logger {
 public:
  // fd: where lines go (2 = stderr). journal: nullopt = detect from JOURNAL_STREAM.
  explicit Logger(LogLevel level = LogLevel::info, int fd = 2, std::optional<bool> journal = std::nullopt);

  void set_level(LogLevel level) { level_.store(level, std::memory_order_relaxed); }
  LogLevel level() const { return level_.load(std::memory_order_relaxed); }
  bool enabled(LogLevel level) const { return level <= this->level(); }

  void log(LogLevel level, std::string_view message);
  void error(std::string_view m) { log(LogLevel::error, m); }
  void warn(std::string_view m) { log(LogLevel::warn, m); }
  void info(std::string_view m) { log(LogLevel::info, m); }
  void debug(std::string_view m) { log(LogLevel::debug, m); }

  // Tests: a clock to drive the rate limiter, and its limits.
  void set_clock(std::function<LogRateLimiter::Clock::time_point()> clock) { clock_ = std::move(clock); }
  void set_rate_limits(LogRateLimiter::Limits limits) { limiter_ = LogRateLimiter(limits); }

 private:
  void write_line(LogLevel level, std::string_view message);  // requires write_mutex_
  std::atomic<LogLevel> level_;
  int fd_;
  bool journal_;
  std::mutex write_mutex_;  // guards limiter_ and the write
  LogRateLimiter limiter_;
  std::function<LogRateLimiter::Clock::time_point()> clock_ = [] { return LogRateLimiter::Clock::now(); };
};

// True when JOURNAL_STREAM's "<dev>:<inode>" matches the file behind `fd`.
bool stderr_is_journal(int fd);

}  // namespace tierscope

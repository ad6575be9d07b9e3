#pragma once
// One line per event on stderr. When stderr is connected to the journal
// (JOURNAL_STREAM names our stderr, see systemd.exec(5)), lines carry the
// sd-daemon(3) "<N>" priority prefix and no timestamp (journald adds one);
// otherwise they carry an ISO-8601 UTC timestamp and the level in words.

#include <atomic>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace tierscope {

enum class LogLevel { error = 0, warn = 1, info = 2, debug = 3 };

std::optional<LogLevel> parse_log_level(std::string_view s);
std::string_view to_string(LogLevel level);

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

 private:
  std::atomic<LogLevel> level_;
  int fd_;
  bool journal_;
  std::mutex write_mutex_;
};

// True when JOURNAL_STREAM's "<dev>:<inode>" matches the file behind `fd`.
bool stderr_is_journal(int fd);

}  // namespace tierscope

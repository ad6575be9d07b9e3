#include "core/logging.h"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "core/text.h"

namespace tierscope {

std::optional<LogLevel> parse_log_level(std::string_view s) {
  if (s == "error") return LogLevel::error;
  if (s == "warn" || s == "warning") return LogLevel::warn;
  if (s == "info") return LogLevel::info;
  if (s == "debug") return LogLevel::debug;
  return std::nullopt;
}

std::string_view to_string(LogLevel level) {
  switch (level) {
    case LogLevel::error: return "error";
    case LogLevel::warn: return "warn";
    case LogLevel::info: return "info";
    case LogLevel::debug: return "debug";
  }
  return "info";
}

bool stderr_is_journal(int fd) {
  const char* env = std::getenv("JOURNAL_STREAM");
  if (!env) return false;
  std::string_view s(env);
  auto colon = s.find(':');
  if (colon == std::string_view::npos) return false;
  auto dev = text::parse_u64(s.substr(0, colon));
  auto ino = text::parse_u64(s.substr(colon + 1));
  struct stat st{};
  if (!dev || !ino || ::fstat(fd, &st) != 0) return false;
  return st.st_dev == *dev && st.st_ino == *ino;
}

LogRateLimiter::Verdict LogRateLimiter::admit(std::string_view line, Clock::time_point now) {
  Verdict v;
  auto it = seen_.find(std::string(line));
  if (it != seen_.end() && now - it->second.window_start >= limits_.repeat_window) {
    it->second.window_start = now;
    it->second.written = 0;
  }
  if (it != seen_.end() && it->second.written >= limits_.repeat_burst) {
    it->second.suppressed++;
    return v;
  }
  if (now - window_start_ >= limits_.burst_window) {
    window_start_ = now;
    in_window_ = 0;
  }
  if (in_window_ >= limits_.burst) {
    dropped_++;
    return v;
  }
  in_window_++;
  v.write = true;
  v.dropped = dropped_;
  dropped_ = 0;
  if (it == seen_.end()) {
    // Bounded memory: forget lines whose window has passed (their
    // suppressed counts are lost, an acceptable loss for a log).
    if (seen_.size() >= 1024) {
      for (auto i = seen_.begin(); i != seen_.end();)
        i = now - i->second.window_start >= limits_.repeat_window ? seen_.erase(i) : std::next(i);
      if (seen_.size() >= 1024) seen_.clear();
    }
    it = seen_.emplace(std::string(line), Seen{now, 0, 0}).first;
  }
  it->second.written++;
  v.repeats = it->second.suppressed;
  it->second.suppressed = 0;
  return v;
}

Logger::Logger(LogLevel level, int fd, std::optional<bool> journal)
    : level_(level), fd_(fd), journal_(journal.value_or(stderr_is_journal(fd))) {}

void Logger::log(LogLevel level, std::string_view message) {
  if (!enabled(level)) return;
  std::lock_guard lock(write_mutex_);
  auto verdict = limiter_.admit(message, clock_());
  if (!verdict.write) return;
  if (verdict.dropped > 0)
    write_line(LogLevel::warn, std::to_string(verdict.dropped) + " log lines dropped by the rate limit");
  if (verdict.repeats > 0) {
    write_line(level, std::string(message) + " (" + std::to_string(verdict.repeats) +
                          " identical lines suppressed since it was last logged)");
    return;
  }
  write_line(level, message);
}

void Logger::write_line(LogLevel level, std::string_view message) {
  std::string line;
  line.reserve(message.size() + 48);
  if (journal_) {
    // sd-daemon(3) priorities: 3 err, 4 warning, 6 info, 7 debug.
    static constexpr char kPriority[] = {'3', '4', '6', '7'};
    line += '<';
    line += kPriority[static_cast<int>(level)];
    line += '>';
  } else {
    auto now = std::chrono::system_clock::now();
    std::time_t t = std::chrono::system_clock::to_time_t(now);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char stamp[96];
    std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
    line += stamp;
    line += to_string(level);
    line += ' ';
  }
  // One event, one line: embedded newlines would split it in the journal.
  for (char c : message) line += (c == '\n' ? ' ' : c);
  line += '\n';
  std::size_t off = 0;
  while (off < line.size()) {
    ssize_t n = ::write(fd_, line.data() + off, line.size() - off);
    if (n <= 0) break;
    off += static_cast<std::size_t>(n);
  }
}

}  // namespace tierscope

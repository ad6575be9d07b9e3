#include "core/user_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/unique_fd.h"

namespace tierscope {

namespace {

const char* kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a plain file";
}

// Opens `path` for reading when it is a regular file, filling `st`.
UniqueFd open_regular(const std::string& path, struct stat& st, std::string& error) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd) {
    error = std::strerror(errno);
    return fd;
  }
  if (::fstat(fd.get(), &st) != 0) {
    error = std::strerror(errno);
    return UniqueFd();
  }
  if (!S_ISREG(st.st_mode)) {
    error = std::string("not a regular file (") + kind_of(st.st_mode) + ")";
    return UniqueFd();
  }
  return fd;
}

// Reads until the end of the file or until more than `stop_after` bytes are
// held (the last chunk may go past it; the caller decides what that means).
bool read_until(int fd, std::string& text, std::size_t stop_after, std::string& error) {
  char chunk[16384];
  while (text.size() <= stop_after) {
    ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      error = std::strerror(errno);
      return false;
    }
    if (n == 0) break;
    text.append(chunk, static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

std::optional<std::string> read_user_file(const std::string& path, std::string& error, std::size_t max_bytes) {
  struct stat st {};
  UniqueFd fd = open_regular(path, st, error);
  if (!fd) return std::nullopt;
  auto too_large = [&](std::size_t at_least) {
    error = std::to_string(at_least) + " bytes, more than the " + std::to_string(max_bytes) + " read at most";
    return std::nullopt;
  };
  if (static_cast<std::size_t>(st.st_size) > max_bytes) return too_large(static_cast<std::size_t>(st.st_size));
  std::string text;
  if (!read_until(fd.get(), text, max_bytes, error)) return std::nullopt;
  if (text.size() > max_bytes) return too_large(text.size());  // it grew while being read
  return text;
}

std::optional<UserFileHead> read_user_file_head(const std::string& path, std::string& error, std::size_t max_bytes) {
  struct stat st {};
  UniqueFd fd = open_regular(path, st, error);
  if (!fd) return std::nullopt;
  UserFileHead head;
  head.file_size = static_cast<std::uint64_t>(st.st_size);
  if (!read_until(fd.get(), head.bytes, max_bytes, error)) return std::nullopt;
  if (head.bytes.size() > max_bytes) head.bytes.resize(max_bytes);
  head.file_size = std::max<std::uint64_t>(head.file_size, head.bytes.size());  // it grew while being read
  return head;
}

}  // namespace tierscope

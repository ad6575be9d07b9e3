#include "probes/file_cache.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace tierscope {
namespace {

// Reads from offset 0 to EOF (or to the first short read). Returns 0 or errno.
int read_all(int fd, std::string& buf, FileCache::Read mode) {
  if (buf.capacity() < 4096) buf.reserve(4096);
  buf.resize(buf.capacity());
  std::size_t used = 0;
  for (;;) {
    if (used == buf.size()) buf.resize(buf.size() * 2);
    ssize_t n = ::pread(fd, buf.data() + used, buf.size() - used, static_cast<off_t>(used));
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      buf.clear();
      return err;
    }
    if (n == 0) break;
    bool short_read = used + static_cast<std::size_t>(n) < buf.size();
    used += static_cast<std::size_t>(n);
    if (short_read && mode == FileCache::Read::attribute) break;
  }
  buf.resize(used);
  return 0;
}

int open_ro(const std::string& path) {
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  return fd < 0 ? -errno : fd;
}

}  // namespace

FileCache::~FileCache() { clear(); }

int FileCache::read(const std::filesystem::path& path, std::string& buf, Read mode) {
  const std::string& key = path.native();
  auto it = files_.find(key);
  if (it != files_.end() && it->second.fd < 0) {
    // Known absent: answer without a syscall until it is time to look again.
    if (std::chrono::steady_clock::now() < it->second.retry_at) {
      it->second.used = true;
      buf.clear();
      return it->second.error;
    }
    files_.erase(it);
    it = files_.end();
  }
  if (it != files_.end()) {
    it->second.used = true;
    if (read_all(it->second.fd, buf, mode) == 0) return 0;
    // Stale descriptor (device removed and perhaps re-added): reopen once.
    ::close(it->second.fd);
    files_.erase(it);
  }
  int fd = open_ro(key);
  if (fd < 0) {
    buf.clear();
    if (fd == -ENOENT || fd == -EOPNOTSUPP)
      files_.emplace(key, Entry{-1, true, -fd, std::chrono::steady_clock::now() + kRecheckAbsentAfter});
    return -fd;
  }
  int err = read_all(fd, buf, mode);
  if (err != 0) {
    ::close(fd);
    return err;
  }
  files_.emplace(key, Entry{fd, true, 0, {}});
  return 0;
}

void FileCache::sweep() {
  for (auto it = files_.begin(); it != files_.end();) {
    if (!it->second.used) {
      if (it->second.fd >= 0) ::close(it->second.fd);
      it = files_.erase(it);
    } else {
      it->second.used = false;
      ++it;
    }
  }
}

void FileCache::clear() {
  for (auto& [path, entry] : files_)
    if (entry.fd >= 0) ::close(entry.fd);
  files_.clear();
}

int read_uncached(const std::filesystem::path& path, std::string& buf, std::size_t max_bytes) {
  buf.clear();
  int fd = open_ro(path.native());
  if (fd < 0) return -fd;
  char chunk[4096];
  int err = 0;
  while (buf.size() < max_bytes) {
    ssize_t n = ::read(fd, chunk, std::min(sizeof chunk, max_bytes - buf.size()));
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      buf.clear();
      break;
    }
    if (n == 0) break;
    buf.append(chunk, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return err;
}

std::size_t FileCache::open_files() const {
  std::size_t n = 0;
  for (const auto& [path, entry] : files_) n += entry.fd >= 0 ? 1 : 0;
  return n;
}

std::string describe_errno(const std::filesystem::path& path, int err) {
  return path.native() + ": " + std::strerror(err);
}

}  // namespace tierscope

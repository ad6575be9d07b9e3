#include "core/file_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/text.h"
#include "core/unique_fd.h"

namespace tierscope {
namespace {

// Reads from offset 0 to EOF (or to the first short read), at most
// kMaxFileBytes. Returns 0 or errno (EFBIG over the cap).
int read_all(int fd, std::string& buf, FileCache::Read mode) {
  if (buf.capacity() < 4096) buf.reserve(4096);
  buf.resize(buf.capacity());
  std::size_t used = 0;
  for (;;) {
    if (used == buf.size()) {
      if (used >= FileCache::kMaxFileBytes) {
        buf.clear();
        return EFBIG;
      }
      buf.resize(std::min(buf.size() * 2, FileCache::kMaxFileBytes));
    }
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

// The open file, or the errno of the failed open. O_NONBLOCK: a FIFO put
// where a kernel file belongs must not make the sampler wait for a writer.
UniqueFd open_ro(const std::string& path, int& err) {
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  } while (fd < 0 && errno == EINTR);
  err = fd < 0 ? errno : 0;
  return UniqueFd(fd);
}

// procfs and sysfs files are regular files; anything else (a FIFO, a device
// such as /dev/zero, a directory) in a root is refused before it is read.
bool regular(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace

int FileCache::read(const std::filesystem::path& path, std::string& buf, Read mode) {
  const std::string& key = path.native();
  auto it = files_.find(key);
  if (it != files_.end() && !it->second.fd) {
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
    if (read_all(it->second.fd.get(), buf, mode) == 0) return 0;
    // Stale descriptor (device removed and perhaps re-added): reopen once.
    files_.erase(it);
  }
  int open_error = 0;
  UniqueFd fd = open_ro(key, open_error);
  if (!fd) {
    buf.clear();
    if (open_error == ENOENT || open_error == EOPNOTSUPP)
      files_.emplace(key, Entry{UniqueFd(), true, open_error, std::chrono::steady_clock::now() + kRecheckAbsentAfter});
    return open_error;
  }
  if (!regular(fd.get())) {
    buf.clear();
    return kNotRegularFile;
  }
  if (int err = read_all(fd.get(), buf, mode)) return err;
  files_.emplace(key, Entry{std::move(fd), true, 0, {}});
  return 0;
}

void FileCache::sweep() {
  for (auto it = files_.begin(); it != files_.end();) {
    if (!it->second.used) {
      it = files_.erase(it);
    } else {
      it->second.used = false;
      ++it;
    }
  }
}

void FileCache::clear() { files_.clear(); }

int read_uncached(const std::filesystem::path& path, std::string& buf, std::size_t max_bytes) {
  buf.clear();
  int err = 0;
  UniqueFd fd = open_ro(path.native(), err);
  if (!fd) return err;
  if (!regular(fd.get())) return kNotRegularFile;
  char chunk[4096];
  while (buf.size() < max_bytes) {
    ssize_t n = ::read(fd.get(), chunk, std::min(sizeof chunk, max_bytes - buf.size()));
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      buf.clear();
      break;
    }
    if (n == 0) break;
    buf.append(chunk, static_cast<std::size_t>(n));
  }
  return err;
}

std::size_t FileCache::open_files() const {
  std::size_t n = 0;
  for (const auto& [path, entry] : files_) n += entry.fd ? 1 : 0;
  return n;
}

std::string describe_errno(const std::filesystem::path& path, int err) {
  if (err == kNotRegularFile) return path.native() + ": not a regular file (a FIFO, device or directory): not read";
  if (err == EFBIG) return path.native() + ": larger than " + text::size_words(FileCache::kMaxFileBytes) + ": not read";
  return path.native() + ": " + std::strerror(err);
}

}  // namespace tierscope

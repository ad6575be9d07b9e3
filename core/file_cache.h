#pragma once
// Keeps procfs/sysfs files open between samples and re-reads them from offset
// 0 with pread(2): a tick then costs one syscall per file instead of three
// (open, read, close). Both seq_file (procfs) and sysfs attributes regenerate
// their content when read again at offset 0.
//
// A file that vanished (device unplugged) fails its pread with ENODEV or
// similar; the entry is reopened once, and its error is returned if that fails
// too. A file that does not exist (ENOENT, or EOPNOTSUPP as PSI answers with
// psi=0) is remembered as absent and looked for again after
// kRecheckAbsentAfter, so hardware a host lacks costs no syscall per tick.
// `sweep()` closes files that were not read since the previous sweep, so
// devices that come and go do not leak descriptors.

#include <chrono>
#include <filesystem>
#include <string>
#include <unordered_map>

#include "core/unique_fd.h"

namespace tierscope {

// The error of a read refused because the path is not a regular file (procfs
// and sysfs files are; a FIFO or device in a fixture root is not). Not an
// errno value; describe_errno() spells it out.
inline constexpr int kNotRegularFile = -1;

class FileCache {
 public:
  static constexpr std::chrono::seconds kRecheckAbsentAfter{30};
  // The most one file may hold (EFBIG beyond): /proc/diskstats of 100 000
  // block devices is about 10 MiB.
  static constexpr std::size_t kMaxFileBytes = std::size_t{32} << 20;

  FileCache() = default;
  FileCache(const FileCache&) = delete;
  FileCache& operator=(const FileCache&) = delete;

  // Reads the whole file into `buf` (replacing its content). Returns 0 on
  // success, otherwise the errno of the failing open/read, EFBIG over
  // kMaxFileBytes, or kNotRegularFile.
  //
  // procfs seq_files may return less than asked before their end (they fill
  // one buffer page of whole records per read), so reads go on until a read
  // returns 0. sysfs attributes (`Read::attribute`) hold at most one page and
  // return it whole in the first read: a shorter read is the end, which saves
  // the extra syscall per attribute.
  enum class Read { to_eof, attribute };
  int read(const std::filesystem::path& path, std::string& buf, Read mode = Read::to_eof);

  // Closes every file not read since the last sweep.
  void sweep();
  // Closes everything (roots changed, tests).
  void clear();
  // Open descriptors (absent files remembered do not count).
  std::size_t open_files() const;

 private:
  struct Entry {
    UniqueFd fd;  // none: known absent
    bool used = false;
    int error = 0;  // why it is absent
    std::chrono::steady_clock::time_point retry_at{};
  };
  std::unordered_map<std::string, Entry> files_;
};

// Reads a file with open/read/close, keeping nothing: for files that come and
// go with processes (/proc/<pid>/comm, fdinfo, /proc/self/*), where a kept
// descriptor or a remembered absence would be wrong. Reads at most
// `max_bytes`. Returns 0, errno or kNotRegularFile (`buf` emptied on error).
int read_uncached(const std::filesystem::path& path, std::string& buf, std::size_t max_bytes = 1 << 20);

// "path: strerror(err)" for error messages.
std::string describe_errno(const std::filesystem::path& path, int err);

}  // namespace tierscope

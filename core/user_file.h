#pragma once
// Files a user names (the config file, a scenario, the web config, TLS
// certificates and keys): read whole, but only when they are regular files
// of bounded size. A FIFO, a device (/dev/zero, /dev/stdin) or a directory is
// refused at once, never read and never waited on; a file over the limit is
// refused before it is read.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace tierscope {

inline constexpr std::size_t kMaxUserFileBytes = 1 << 20;  // 1 MiB

// The content of `path`, or nullopt with `error` set to the reason, for the
// caller to put after the path: "not a regular file (a FIFO)", "104857600
// bytes, more than the 1048576 read at most", "No such file or directory".
std::optional<std::string> read_user_file(const std::string& path, std::string& error,
                                          std::size_t max_bytes = kMaxUserFileBytes);

// The first bytes of a large file a user names (a model file of many GB whose
// header alone is wanted): the same checks as read_user_file, but a file over
// `max_bytes` is not refused; only its first `max_bytes` are read.
struct UserFileHead {
  std::string bytes;            // at most max_bytes
  std::uint64_t file_size = 0;  // the whole file's size (fstat)
};
std::optional<UserFileHead> read_user_file_head(const std::string& path, std::string& error, std::size_t max_bytes);

}  // namespace tierscope

#pragma once
// Files a user names (the config file, a scenario, the web config, TLS
// certificates and keys): read whole, but only when they are regular files
// of bounded size. A FIFO, a device (/dev/zero, /dev/stdin) or a directory is
// refused at once, never read and never waited on; a file over the limit is
// refused before it is read.

#include <cstddef>
#include <optional>
#include <string>

namespace tierscope {

inline constexpr std::size_t kMaxUserFileBytes = 1 << 20;  // 1 MiB

// The content of `path`, or nullopt with `error` set to the reason, for the
// caller to put after the path: "not a regular file (a FIFO)", "104857600
// bytes, more than the 1048576 read at most", "No such file or directory".
std::optional<std::string> read_user_file(const std::string& path, std::string& error,
                                          std::size_t max_bytes = kMaxUserFileBytes);

}  // namespace tierscope

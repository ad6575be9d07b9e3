#pragma once
// Byte sizes in scenarios and on the command line, as systemd's MemoryMax=
// and the kernel's memory.max take them: a whole number of bytes ("1048576"),
// or a number with a binary suffix K, M, G or T (also written KiB, MiB, GiB,
// TiB; all powers of 1024), e.g. "512M", "16G", "1.5G". "GB", "MB" and "KB"
// are refused with a hint: they mean powers of 1000 to some tools and of
// 1024 to others, and a memory budget must not depend on which.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tierscope {

struct ByteSizeResult {
  std::optional<std::uint64_t> bytes;  // nullopt: see error
  std::string error;                   // why not, e.g. "ambiguous unit GB: write 16G (GiB) or bytes"
};

// A fraction ("1.5G") is rounded down to a whole byte. Overflow past 2^64-1,
// a negative number, an empty string or an unknown suffix is an error.
ByteSizeResult parse_byte_size(std::string_view s);

// The shortest exact spelling: "48M", "16G", "1536K", or plain bytes.
std::string format_byte_size(std::uint64_t bytes);

}  // namespace tierscope

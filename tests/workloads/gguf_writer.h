#pragma once
// A minimal GGUF writer for tests and fuzz seeds: little-endian fields built
// byte by byte, so any file (valid or hostile) can be spelled out.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tierscope::testing {

// `width` bytes of `v`, least significant first.
inline std::string le(std::uint64_t v, int width) {
  std::string out;
  for (int i = 0; i < width; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
  return out;
}
inline std::string u32(std::uint64_t v) { return le(v, 4); }
inline std::string u64(std::uint64_t v) { return le(v, 8); }
inline std::string gstr(std::string_view s) { return u64(s.size()) + std::string(s); }

// Value type numbers of the specification.
enum : std::uint32_t { kU8, kI8, kU16, kI16, kU32, kI32, kF32, kBool, kStr, kArr, kU64, kI64, kF64 };

// A key/value: the key, the type, then the value's bytes as given.
inline std::string kv(std::string_view key, std::uint32_t type, const std::string& value) {
  return gstr(key) + u32(type) + value;
}
// An array value: element type, count, then the elements' bytes as given.
inline std::string arr(std::uint32_t element_type, std::uint64_t count, const std::string& elements) {
  return u32(element_type) + u64(count) + elements;
}
inline std::string tensor_info(std::string_view name, const std::vector<std::uint64_t>& dims, std::uint32_t type,
                               std::uint64_t offset) {
  std::string out = gstr(name) + u32(dims.size());
  for (std::uint64_t d : dims) out += u64(d);
  return out + u32(type) + u64(offset);
}

// A whole file: header, the key/values, the tensor infos, padding to
// `alignment` and `data_bytes` zero bytes of tensor data.
inline std::string gguf_file(std::uint32_t version, const std::vector<std::string>& kvs,
                             const std::vector<std::string>& tensors = {}, std::uint64_t data_bytes = 0,
                             std::size_t alignment = 32) {
  std::string out = "GGUF" + u32(version) + u64(tensors.size()) + u64(kvs.size());
  for (const auto& k : kvs) out += k;
  for (const auto& t : tensors) out += t;
  if (!tensors.empty()) out.append((alignment - out.size() % alignment) % alignment, '\0');
  out.append(data_bytes, '\0');
  return out;
}

}  // namespace tierscope::testing

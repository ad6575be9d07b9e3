#pragma once
// GGUF model files (llama.cpp, ggml): the header, every metadata key/value
// and the tensor infos, never the tensor data. Versions 2 and 3 are read
// (little-endian; the layout of both is the same); version 1, with its 32-bit
// counts, and big-endian files are refused with a message.
//
// Bounded: a file is read through read_user_file_head (regular files only,
// never waited on) and only its first kMaxGgufHeadBytes; every count and
// length is checked against the bytes left before anything is allocated;
// arrays are walked, and only small ones kept; nested arrays stop at
// kMaxArrayDepth. A malformed file throws GgufError with one line: "NAME:
// offset N: what is wrong".

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tierscope {

class GgufError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Header, metadata and tensor infos of real models fit well within this: a
// 150k-token vocabulary (tokens, scores, types, merges) is a few MB.
inline constexpr std::size_t kMaxGgufHeadBytes = std::size_t{64} << 20;
inline constexpr std::uint64_t kMaxGgufKeys = 65536;
inline constexpr std::uint64_t kMaxGgufTensors = 262144;
inline constexpr std::size_t kMaxGgufNameBytes = 65536;  // a key or a tensor name
inline constexpr std::size_t kMaxTensorDims = 4;         // GGML_MAX_DIMS
inline constexpr int kMaxArrayDepth = 8;
inline constexpr std::uint64_t kKeptArrayElements = 64;  // longer arrays: type and count only
inline constexpr std::uint64_t kMaxKeptValues = 65536;   // array elements kept in one file
inline constexpr std::uint32_t kDefaultGgufAlignment = 32;

// The 13 value types of the GGUF specification, by their numbers.
enum class GgufType : std::uint32_t {
  uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float32 = 6,
  boolean = 7, string = 8, array = 9, uint64 = 10, int64 = 11, float64 = 12,
};
std::string_view gguf_type_name(GgufType type);

struct GgufValue {
  GgufType type = GgufType::uint8;
  // Unsigned integers as uint64, signed as int64, floats as double. Empty
  // (monostate) for arrays.
  std::variant<std::monostate, std::uint64_t, std::int64_t, double, bool, std::string> scalar;
  // Arrays: the element type, how many the file holds, and all of them when
  // there are at most kKeptArrayElements (and the file's kMaxKeptValues is
  // not spent); otherwise `elements` is empty.
  GgufType element_type = GgufType::uint8;
  std::uint64_t count = 0;
  std::vector<GgufValue> elements;
};

// A ggml tensor type: elements per block and bytes per block.
struct GgmlType {
  std::uint32_t id;
  std::string_view name;
  std::uint32_t block_elements;
  std::uint32_t block_bytes;
};
// nullptr for a type this reader does not know (or one ggml removed).
const GgmlType* ggml_type(std::uint32_t id);
// `general.file_type` (llama_ftype) by name, "MOSTLY_Q4_K_M"; nullopt when unknown.
std::optional<std::string_view> file_type_name(std::uint64_t file_type);

struct GgufTensor {
  std::string name;
  std::vector<std::uint64_t> dims;
  std::uint32_t ggml_type = 0;
  std::uint64_t offset = 0;  // from the start of the tensor data
  std::uint64_t bytes = 0;   // from the dims and the type's blocks
};

struct GgufFile {
  std::string name;  // as errors name it
  std::uint32_t version = 0;
  std::uint64_t file_size = 0;
  std::uint32_t alignment = kDefaultGgufAlignment;
  std::uint64_t data_offset = 0;  // where the tensor data starts
  std::map<std::string, GgufValue, std::less<>> metadata;
  std::vector<GgufTensor> tensors;
  std::uint64_t tensor_bytes = 0;  // sum of the tensors' bytes

  const GgufValue* find(std::string_view key) const;
  // An integer value that is not negative; nullopt when absent. Throws
  // GgufError when the key holds something else.
  std::optional<std::uint64_t> count(std::string_view key) const;
  // A string value; nullopt when absent; throws GgufError for another type.
  std::optional<std::string> text(std::string_view key) const;
};

// `bytes` is the start of a file of `file_size` bytes (the whole file when
// file_size is 0): parsing that needs more than `bytes` fails as truncated or,
// when the file is longer, as past the bytes read.
GgufFile parse_gguf(std::string_view bytes, const std::string& name, std::uint64_t file_size = 0);
// Reads the first kMaxGgufHeadBytes of `path` and parses them.
GgufFile read_gguf(const std::string& path);

// The figures the memory wall needs, from the metadata of the architecture
// named by general.architecture ("llama.block_count", ...).
struct GgufModelFacts {
  std::string architecture;
  std::optional<std::uint64_t> file_type;  // general.file_type
  std::optional<std::uint64_t> context_length;
  std::uint64_t block_count = 0;
  std::uint64_t embedding_length = 0;
  std::uint64_t head_count = 0;
  std::uint64_t head_count_kv = 0;  // head_count when absent (no GQA)
  std::uint64_t key_length = 0;     // embedding_length / head_count when absent
  std::uint64_t value_length = 0;   // embedding_length / head_count when absent
  std::uint64_t expert_count = 0;   // 0: not a mixture of experts
  std::uint64_t expert_used_count = 0;
  std::uint64_t tensor_bytes = 0;
};
// Throws GgufError when general.architecture, block_count or head_count is
// missing, or a value has the wrong type.
GgufModelFacts model_facts(const GgufFile& file);

}  // namespace tierscope

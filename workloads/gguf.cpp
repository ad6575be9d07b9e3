#include "workloads/gguf.h"

#include <algorithm>
#include <array>
#include <bit>
#include <limits>
#include <set>
#include <utility>

#include "core/text.h"
#include "core/user_file.h"

namespace tierscope {

namespace {

constexpr std::uint32_t kGgufTypeCount = 13;

// Ids from ggml.h's enum ggml_type; block layouts from its block_* structs.
// Ids 4, 5 (Q4_2, Q4_3) and 31-33, 36-38 (repacked layouts) were removed.
constexpr std::array<GgmlType, 32> kGgmlTypes{{
    {0, "F32", 1, 4},         {1, "F16", 1, 2},         {2, "Q4_0", 32, 18},      {3, "Q4_1", 32, 20},
    {6, "Q5_0", 32, 22},      {7, "Q5_1", 32, 24},      {8, "Q8_0", 32, 34},      {9, "Q8_1", 32, 36},
    {10, "Q2_K", 256, 84},    {11, "Q3_K", 256, 110},   {12, "Q4_K", 256, 144},   {13, "Q5_K", 256, 176},
    {14, "Q6_K", 256, 210},   {15, "Q8_K", 256, 292},   {16, "IQ2_XXS", 256, 66}, {17, "IQ2_XS", 256, 74},
    {18, "IQ3_XXS", 256, 98}, {19, "IQ1_S", 256, 50},   {20, "IQ4_NL", 32, 18},   {21, "IQ3_S", 256, 110},
    {22, "IQ2_S", 256, 82},   {23, "IQ4_XS", 256, 136}, {24, "I8", 1, 1},         {25, "I16", 1, 2},
    {26, "I32", 1, 4},        {27, "I64", 1, 8},        {28, "F64", 1, 8},        {29, "IQ1_M", 256, 56},
    {30, "BF16", 1, 2},       {34, "TQ1_0", 256, 54},   {35, "TQ2_0", 256, 66},   {39, "MXFP4", 32, 17},
}};

// llama.h's enum llama_ftype, LLAMA_FTYPE_ALL_F32 .. ; "" for removed ids.
constexpr std::array<std::string_view, 39> kFileTypes{
    "ALL_F32",         "MOSTLY_F16",      "MOSTLY_Q4_0",     "MOSTLY_Q4_1",    "MOSTLY_Q4_1_SOME_F16",
    "",                "",                "MOSTLY_Q8_0",     "MOSTLY_Q5_0",    "MOSTLY_Q5_1",
    "MOSTLY_Q2_K",     "MOSTLY_Q3_K_S",   "MOSTLY_Q3_K_M",   "MOSTLY_Q3_K_L",  "MOSTLY_Q4_K_S",
    "MOSTLY_Q4_K_M",   "MOSTLY_Q5_K_S",   "MOSTLY_Q5_K_M",   "MOSTLY_Q6_K",    "MOSTLY_IQ2_XXS",
    "MOSTLY_IQ2_XS",   "MOSTLY_Q2_K_S",   "MOSTLY_IQ3_XS",   "MOSTLY_IQ3_XXS", "MOSTLY_IQ1_S",
    "MOSTLY_IQ4_NL",   "MOSTLY_IQ3_S",    "MOSTLY_IQ3_M",    "MOSTLY_IQ2_S",   "MOSTLY_IQ2_M",
    "MOSTLY_IQ4_XS",   "MOSTLY_IQ1_M",    "MOSTLY_BF16",     "",               "",
    "",                "MOSTLY_TQ1_0",    "MOSTLY_TQ2_0",    "MOSTLY_MXFP4_MOE",
};

constexpr std::array<std::string_view, kGgufTypeCount> kGgufTypeNames{
    "uint8", "int8", "uint16", "int16", "uint32", "int32", "float32",
    "bool",  "string", "array", "uint64", "int64", "float64",
};

std::optional<std::uint64_t> checked_mul(std::uint64_t a, std::uint64_t b) {
  if (a != 0 && b > std::numeric_limits<std::uint64_t>::max() / a) return std::nullopt;
  return a * b;
}

std::optional<std::uint64_t> checked_add(std::uint64_t a, std::uint64_t b) {
  if (b > std::numeric_limits<std::uint64_t>::max() - a) return std::nullopt;
  return a + b;
}

// Little-endian reads from the bytes of the file, each bounded by what is
// left; errors carry the offset of what was being read.
class Cursor {
 public:
  Cursor(std::string_view bytes, const std::string& name, std::uint64_t file_size)
      : bytes_(bytes), name_(name), file_size_(file_size) {}

  std::size_t offset() const { return pos_; }
  std::size_t left() const { return bytes_.size() - pos_; }
  // Bytes of the whole file after the offset (more than left() when only
  // the file's first bytes were read).
  std::uint64_t file_left() const { return file_size_ - pos_; }
  const std::string& name() const { return name_; }

  [[noreturn]] void fail(std::size_t at, const std::string& what) const {
    throw GgufError(name_ + ": offset " + std::to_string(at) + ": " + what);
  }

  std::string_view take(std::size_t n, std::string_view what) {
    if (n > left()) {
      if (file_size_ > bytes_.size())
        fail(pos_, std::string(what) + " lies past the first " + text::size_words(bytes_.size()) +
                       " read at most (header, metadata and tensor infos must fit)");
      fail(pos_, "file ends in " + std::string(what) + " (" + std::to_string(n) + " bytes needed, " +
                     std::to_string(left()) + " left)");
    }
    std::string_view out = bytes_.substr(pos_, n);
    pos_ += n;
    return out;
  }

  std::uint64_t uint(std::size_t width, std::string_view what) {
    std::string_view b = take(width, what);
    std::uint64_t v = 0;
    for (std::size_t i = width; i-- > 0;) v = (v << 8) | static_cast<unsigned char>(b[i]);
    return v;
  }
  std::uint32_t u32(std::string_view what) { return static_cast<std::uint32_t>(uint(4, what)); }
  std::uint64_t u64(std::string_view what) { return uint(8, what); }

  // A GGUF string: uint64 length, then the bytes.
  std::string string(std::string_view what, std::size_t max_bytes) {
    const std::size_t at = pos_;
    const std::uint64_t n = u64(what);
    if (n > max_bytes) fail(at, std::string(what) + " is " + std::to_string(n) + " bytes, more than " +
                                    std::to_string(max_bytes));
    if (n > left() && file_size_ <= bytes_.size())
      fail(at, std::string(what) + " is " + std::to_string(n) + " bytes, past the end of the file (" +
                   std::to_string(left()) + " bytes left)");
    return std::string(take(static_cast<std::size_t>(n), what));
  }

 private:
  std::string_view bytes_;
  const std::string& name_;
  std::uint64_t file_size_;
  std::size_t pos_ = 0;
};

// The fewest bytes a value of `type` takes in the file.
std::size_t min_value_bytes(GgufType type) {
  switch (type) {
    case GgufType::uint8: case GgufType::int8: case GgufType::boolean: return 1;
    case GgufType::uint16: case GgufType::int16: return 2;
    case GgufType::uint32: case GgufType::int32: case GgufType::float32: return 4;
    case GgufType::string: case GgufType::uint64: case GgufType::int64: case GgufType::float64: return 8;
    case GgufType::array: return 12;
  }
  return 1;
}

// Numbers and bools, whose arrays can be skipped in one step.
bool fixed_size(GgufType type) { return type != GgufType::string && type != GgufType::array; }

class Parser {
 public:
  explicit Parser(Cursor& in) : in_(in) {}

  GgufType type(const std::string& what) {
    const std::size_t at = in_.offset();
    const std::uint32_t t = in_.u32(what + " type");
    if (t >= kGgufTypeCount) in_.fail(at, what + " has type " + std::to_string(t) + ", not a GGUF type");
    return static_cast<GgufType>(t);
  }

  GgufValue value(GgufType type, const std::string& what, int depth) {
    GgufValue v;
    v.type = type;
    switch (type) {
      case GgufType::uint8: v.scalar = in_.uint(1, what); break;
      case GgufType::uint16: v.scalar = in_.uint(2, what); break;
      case GgufType::uint32: v.scalar = in_.uint(4, what); break;
      case GgufType::uint64: v.scalar = in_.uint(8, what); break;
      case GgufType::int8: v.scalar = signed_of(1, what); break;
      case GgufType::int16: v.scalar = signed_of(2, what); break;
      case GgufType::int32: v.scalar = signed_of(4, what); break;
      case GgufType::int64: v.scalar = signed_of(8, what); break;
      case GgufType::float32: v.scalar = double{std::bit_cast<float>(in_.u32(what))}; break;
      case GgufType::float64: v.scalar = std::bit_cast<double>(in_.u64(what)); break;
      case GgufType::boolean: v.scalar = boolean(what); break;
      case GgufType::string: v.scalar = in_.string(what, kMaxGgufHeadBytes); break;
      case GgufType::array: array(v, what, depth); break;
    }
    return v;
  }

 private:
  std::int64_t signed_of(std::size_t width, const std::string& what) {
    const std::uint64_t u = in_.uint(width, what);
    const unsigned shift = static_cast<unsigned>(64 - 8 * width);
    return static_cast<std::int64_t>(u << shift) >> shift;  // sign-extended
  }

  bool boolean(const std::string& what) {
    const std::size_t at = in_.offset();
    const std::uint64_t b = in_.uint(1, what);
    if (b > 1) in_.fail(at, what + " is a bool of value " + std::to_string(b) + ", not 0 or 1");
    return b == 1;
  }

  void array(GgufValue& v, const std::string& what, int depth) {
    const std::size_t at = in_.offset();
    if (depth >= kMaxArrayDepth)
      in_.fail(at, what + " nests arrays deeper than " + std::to_string(kMaxArrayDepth) + " levels");
    v.element_type = type(what + " element");
    const std::size_t count_at = in_.offset();
    v.count = in_.u64(what + " count");
    const std::size_t least = min_value_bytes(v.element_type);
    if (v.count > in_.file_left() / least)
      in_.fail(count_at, what + " holds " + std::to_string(v.count) + " " + std::string(gguf_type_name(v.element_type)) +
                             " elements, more than the " + std::to_string(in_.file_left()) + " bytes left can hold");
    const bool keep = v.count <= kKeptArrayElements && v.count <= kMaxKeptValues - kept_;
    if (!keep && fixed_size(v.element_type)) {  // a long array of numbers: skipped whole
      in_.take(static_cast<std::size_t>(v.count * least), what + " elements");
      return;
    }
    if (keep) {
      kept_ += v.count;
      v.elements.reserve(static_cast<std::size_t>(v.count));
    }
    for (std::uint64_t i = 0; i < v.count; ++i) {
      GgufValue e = value(v.element_type, what + " element " + std::to_string(i), depth + 1);
      if (keep) v.elements.push_back(std::move(e));
    }
  }

  Cursor& in_;
  std::uint64_t kept_ = 0;
};

// A count from the header, bounded by a sane maximum and by the bytes left
// (each item takes at least `least` bytes).
std::uint64_t bounded_count(Cursor& in, std::string_view what, std::uint64_t max, std::size_t least) {
  const std::size_t at = in.offset();
  const std::uint64_t n = in.u64(what);
  if (n > max) in.fail(at, std::string(what) + " is " + std::to_string(n) + ", more than the " + std::to_string(max) + " read at most");
  if (n > in.file_left() / least)
    in.fail(at, std::string(what) + " is " + std::to_string(n) + ", more than the " + std::to_string(in.file_left()) +
                    " bytes left can hold");
  return n;
}

void read_header(Cursor& in, GgufFile& f) {
  if (in.take(4, "the magic") != "GGUF") in.fail(0, "not a GGUF file (the magic is not \"GGUF\")");
  const std::uint32_t version = in.u32("the version");
  if (version == 1) in.fail(4, "GGUF version 1 (32-bit counts) is not supported; re-convert the model with a current llama.cpp");
  if (version != 0 && (version & 0x00ffffffu) == 0)  // 2 or 3 written big-endian
    in.fail(4, "a big-endian GGUF file (version " + std::to_string(version >> 24) + "), not supported");
  if (version != 2 && version != 3)
    in.fail(4, "GGUF version " + std::to_string(version) + ", not 2 or 3");
  f.version = version;
}

void read_metadata(Cursor& in, Parser& p, GgufFile& f, std::uint64_t keys) {
  for (std::uint64_t i = 0; i < keys; ++i) {
    const std::string label = "metadata key " + std::to_string(i);
    const std::size_t at = in.offset();
    std::string key = in.string(label, kMaxGgufNameBytes);
    const std::string what = label + " " + text::quoted(key);
    const GgufType t = p.type(what);
    GgufValue v = p.value(t, what, 0);
    if (!f.metadata.emplace(std::move(key), std::move(v)).second) in.fail(at, what + " appears twice");
  }
}

void read_alignment(Cursor& in, GgufFile& f) {
  const GgufValue* a = f.find("general.alignment");
  if (!a) return;
  const auto* u = std::get_if<std::uint64_t>(&a->scalar);
  if (a->type != GgufType::uint32 || !u || *u == 0 || !std::has_single_bit(*u))
    in.fail(in.offset(), "general.alignment is not a uint32 power of two");
  f.alignment = static_cast<std::uint32_t>(*u);
}

std::uint64_t tensor_byte_count(Cursor& in, std::size_t at, const GgufTensor& t, const std::string& what) {
  const GgmlType* type = ggml_type(t.ggml_type);
  if (!type) in.fail(at, what + " has ggml type " + std::to_string(t.ggml_type) + ", not a type this reader knows");
  std::uint64_t elements = 1;
  for (std::uint64_t d : t.dims) {
    auto n = checked_mul(elements, d);
    if (!n || *n > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      in.fail(at, what + " has dimensions whose element count overflows");
    elements = *n;
  }
  if (!t.dims.empty() && t.dims[0] % type->block_elements != 0)
    in.fail(at, what + " has a first dimension of " + std::to_string(t.dims[0]) + ", not a multiple of the " +
                    std::to_string(type->block_elements) + " elements of a " + std::string(type->name) + " block");
  auto bytes = checked_mul(elements / type->block_elements, type->block_bytes);
  if (!bytes) in.fail(at, what + " has dimensions whose byte count overflows");
  return *bytes;
}

GgufTensor read_tensor_info(Cursor& in, std::uint64_t i, std::uint32_t alignment) {
  const std::size_t at = in.offset();
  GgufTensor t;
  t.name = in.string("tensor " + std::to_string(i) + " name", kMaxGgufNameBytes);
  const std::string what = "tensor " + std::to_string(i) + " " + text::quoted(t.name);
  const std::uint32_t n_dims = in.u32(what + " dimension count");
  if (n_dims > kMaxTensorDims)
    in.fail(at, what + " has " + std::to_string(n_dims) + " dimensions, more than " + std::to_string(kMaxTensorDims));
  for (std::uint32_t d = 0; d < n_dims; ++d) t.dims.push_back(in.u64(what + " dimension"));
  t.ggml_type = in.u32(what + " ggml type");
  t.offset = in.u64(what + " offset");
  t.bytes = tensor_byte_count(in, at, t, what);
  if (t.offset % alignment != 0)
    in.fail(at, what + " has data offset " + std::to_string(t.offset) + ", not a multiple of the alignment " +
                    std::to_string(alignment));
  return t;
}

void read_tensor_infos(Cursor& in, GgufFile& f, std::uint64_t count) {
  std::set<std::string_view> names;
  f.tensors.reserve(static_cast<std::size_t>(count));
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::size_t at = in.offset();
    f.tensors.push_back(read_tensor_info(in, i, f.alignment));
    const GgufTensor& t = f.tensors.back();
    if (!names.insert(t.name).second) in.fail(at, "tensor " + std::to_string(i) + " " + text::quoted(t.name) + " appears twice");
  }
}

// The tensor data starts at the next multiple of the alignment; every
// tensor's bytes must lie within the file.
void place_tensor_data(Cursor& in, GgufFile& f) {
  const std::uint64_t end = in.offset();
  f.data_offset = (end + f.alignment - 1) / f.alignment * f.alignment;
  for (const GgufTensor& t : f.tensors) {
    auto start = checked_add(f.data_offset, t.offset);
    auto stop = start ? checked_add(*start, t.bytes) : std::nullopt;
    if (!stop || *stop > f.file_size)
      in.fail(end, "tensor " + text::quoted(t.name) + " (" + std::to_string(t.bytes) + " bytes at data offset " +
                       std::to_string(t.offset) + ") ends past the end of the file (" + std::to_string(f.file_size) +
                       " bytes)");
    auto sum = checked_add(f.tensor_bytes, t.bytes);
    if (!sum) in.fail(end, "the tensors' byte counts overflow");
    f.tensor_bytes = *sum;
  }
}

}  // namespace

std::string_view gguf_type_name(GgufType type) {
  const auto i = static_cast<std::uint32_t>(type);
  return i < kGgufTypeCount ? kGgufTypeNames[i] : "unknown";
}

const GgmlType* ggml_type(std::uint32_t id) {
  for (const GgmlType& t : kGgmlTypes)
    if (t.id == id) return &t;
  return nullptr;
}

std::optional<std::string_view> file_type_name(std::uint64_t file_type) {
  if (file_type >= kFileTypes.size() || kFileTypes[file_type].empty()) return std::nullopt;
  return kFileTypes[file_type];
}

const GgufValue* GgufFile::find(std::string_view key) const {
  auto it = metadata.find(key);
  return it == metadata.end() ? nullptr : &it->second;
}

std::optional<std::uint64_t> GgufFile::count(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (const auto* u = std::get_if<std::uint64_t>(&v->scalar)) return *u;
  if (const auto* s = std::get_if<std::int64_t>(&v->scalar); s && *s >= 0) return static_cast<std::uint64_t>(*s);
  std::string kind = v->type == GgufType::array ? "an array" : "a " + std::string(gguf_type_name(v->type));
  if (std::holds_alternative<std::int64_t>(v->scalar)) kind = "a negative " + std::string(gguf_type_name(v->type));
  throw GgufError(name + ": " + text::quoted(key) + " is " + kind + ", not a count");
}

std::optional<std::string> GgufFile::text(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (const auto* s = std::get_if<std::string>(&v->scalar)) return *s;
  throw GgufError(name + ": " + text::quoted(key) + " is a " + std::string(gguf_type_name(v->type)) + ", not a string");
}

GgufFile parse_gguf(std::string_view bytes, const std::string& name, std::uint64_t file_size) {
  GgufFile f;
  f.name = name;
  f.file_size = std::max<std::uint64_t>(file_size, bytes.size());
  Cursor in(bytes, f.name, f.file_size);
  Parser p(in);
  read_header(in, f);
  const std::uint64_t tensors = bounded_count(in, "the tensor count", kMaxGgufTensors, 24);
  const std::uint64_t keys = bounded_count(in, "the metadata key count", kMaxGgufKeys, 13);
  read_metadata(in, p, f, keys);
  read_alignment(in, f);
  read_tensor_infos(in, f, tensors);
  place_tensor_data(in, f);
  return f;
}

GgufFile read_gguf(const std::string& path) {
  std::string error;
  auto head = read_user_file_head(path, error, kMaxGgufHeadBytes);
  if (!head) throw GgufError(path + ": " + error);
  return parse_gguf(head->bytes, path, head->file_size);
}

GgufModelFacts model_facts(const GgufFile& f) {
  GgufModelFacts m;
  auto arch = f.text("general.architecture");
  if (!arch) throw GgufError(f.name + ": general.architecture is absent");
  m.architecture = *arch;
  auto key = [&](std::string_view suffix) { return m.architecture + "." + std::string(suffix); };
  m.file_type = f.count("general.file_type");
  m.context_length = f.count(key("context_length"));
  auto blocks = f.count(key("block_count"));
  if (!blocks) throw GgufError(f.name + ": " + text::quoted(key("block_count")) + " is absent");
  m.block_count = *blocks;
  m.embedding_length = f.count(key("embedding_length")).value_or(0);
  m.head_count = f.count(key("attention.head_count")).value_or(0);
  m.head_count_kv = f.count(key("attention.head_count_kv")).value_or(m.head_count);
  auto derived = [&](std::string_view suffix) {
    if (auto v = f.count(key(suffix))) return *v;
    if (m.head_count == 0)
      throw GgufError(f.name + ": " + text::quoted(key(suffix)) + " is absent and " + text::quoted(key("attention.head_count")) +
                      " is absent or 0, so it cannot be derived");
    return m.embedding_length / m.head_count;
  };
  m.key_length = derived("attention.key_length");
  m.value_length = derived("attention.value_length");
  m.expert_count = f.count(key("expert_count")).value_or(0);
  m.expert_used_count = f.count(key("expert_used_count")).value_or(0);
  m.tensor_bytes = f.tensor_bytes;
  return m;
}

}  // namespace tierscope

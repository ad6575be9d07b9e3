// GGUF model files: parse_gguf, then model_facts and the memory-wall
// prediction on whatever it accepts.
#include <cstdint>
#include <string>

#include "tests/fuzz/fuzz_common.h"
#include "workloads/gguf.h"
#include "workloads/memory_wall.h"

using namespace tierscope;

namespace {

constexpr std::size_t kMaxMessageBytes = 1024;

// An error names the file and an offset within it, on one bounded line.
void check_error(const GgufError& e, std::size_t size) {
  const std::string_view m = e.what();
  FUZZ_CHECK(m.size() < kMaxMessageBytes, m.substr(0, 200));
  FUZZ_CHECK(m.find('\n') == std::string_view::npos, m);
  FUZZ_CHECK(m.starts_with("in.gguf: offset "), m);
  const std::uint64_t at = std::stoull(std::string(m.substr(16)));
  FUZZ_CHECK(at <= size, m);
}

// Kept arrays hold every element or none, never more than kKeptArrayElements.
void check_value(const GgufValue& v, int depth) {
  FUZZ_CHECK(depth <= kMaxArrayDepth);
  if (v.type != GgufType::array) {
    FUZZ_CHECK(!std::holds_alternative<std::monostate>(v.scalar));
    return;
  }
  FUZZ_CHECK(v.elements.empty() || v.elements.size() == v.count);
  FUZZ_CHECK(v.elements.size() <= kKeptArrayElements);
  for (const GgufValue& e : v.elements) {
    FUZZ_CHECK(e.type == v.element_type);
    check_value(e, depth + 1);
  }
}

void check_file(const GgufFile& f, std::size_t size) {
  FUZZ_CHECK(f.version == 2 || f.version == 3);
  FUZZ_CHECK(f.file_size == size);
  FUZZ_CHECK(f.metadata.size() <= kMaxGgufKeys);
  FUZZ_CHECK(f.tensors.size() <= kMaxGgufTensors);
  FUZZ_CHECK(f.alignment != 0 && f.data_offset % f.alignment == 0);
  for (const auto& [key, value] : f.metadata) check_value(value, 0);
  std::uint64_t sum = 0;
  for (const GgufTensor& t : f.tensors) {
    FUZZ_CHECK(t.dims.size() <= kMaxTensorDims, t.name);
    FUZZ_CHECK(ggml_type(t.ggml_type) != nullptr, t.name);
    FUZZ_CHECK(t.offset % f.alignment == 0, t.name);
    FUZZ_CHECK(f.data_offset + t.offset + t.bytes <= f.file_size, t.name);
    sum += t.bytes;
  }
  FUZZ_CHECK(sum == f.tensor_bytes);
}

void check_wall(const GgufFile& f) {
  GgufModelFacts m;
  try {
    m = model_facts(f);
  } catch (const GgufError& e) {
    FUZZ_CHECK(std::string_view(e.what()).find('\n') == std::string_view::npos, e.what());
    return;
  }
  FUZZ_CHECK(m.tensor_bytes == f.tensor_bytes);
  const WallModel model = wall_model(m, KvCacheType::f16, KvCacheType::f16);
  // Same blocks of 32, 18 bytes against 34.
  FUZZ_CHECK(wall_model(m, KvCacheType::q4_0, KvCacheType::q4_0).kv_bytes_per_token <=
             wall_model(m, KvCacheType::q8_0, KvCacheType::q8_0).kv_bytes_per_token);
  const WallPrediction p = predict_wall({"ram", std::uint64_t{64} << 30, {}}, model);
  FUZZ_CHECK(p.weights_fit || p.max_context == 0);
  FUZZ_CHECK(!m.context_length || (p.max_context && *p.max_context <= *m.context_length));
  FUZZ_CHECK(!p.weights_fit || model.kv_bytes_per_token == 0 ||
             (p.max_context && *p.max_context <= (p.budget_bytes - p.weights_bytes) / model.kv_bytes_per_token));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto bytes = fuzz::as_text(data, size);
  std::string first_error;
  try {
    const GgufFile f = parse_gguf(bytes, "in.gguf");
    check_file(f, size);
    check_wall(f);
  } catch (const GgufError& e) {
    check_error(e, size);
    first_error = e.what();
  } catch (const std::exception& e) {
    fuzz::violated("parse_gguf threw something other than GgufError", __FILE__, __LINE__, e.what());
  }
  // Deterministic: the same input gives the same verdict.
  try {
    (void)parse_gguf(bytes, "in.gguf");
    FUZZ_CHECK(first_error.empty(), first_error);
  } catch (const GgufError& e) {
    FUZZ_CHECK(first_error == e.what(), e.what());
  }
  return 0;
}

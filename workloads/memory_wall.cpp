#include "workloads/memory_wall.h"

#include <array>
#include <limits>

namespace tierscope {

namespace {

// The cache types as llama.cpp names them, in KvCacheType order, and their
// ggml tensor types, whose block layouts (workloads/gguf.cpp) they take.
struct CacheTypeName {
  std::string_view name;
  std::uint32_t ggml_id;
};
constexpr std::array<CacheTypeName, 8> kCacheTypes{{
    {"f32", 0}, {"f16", 1}, {"bf16", 30}, {"q8_0", 8}, {"q4_0", 2}, {"q4_1", 3}, {"q5_0", 6}, {"q5_1", 7},
}};

constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();

// a * b, saturating: a prediction from hostile metadata stays a number.
std::uint64_t mul_sat(std::uint64_t a, std::uint64_t b) { return a != 0 && b > kMax / a ? kMax : a * b; }
std::uint64_t add_sat(std::uint64_t a, std::uint64_t b) { return b > kMax - a ? kMax : a + b; }

}  // namespace

KvCacheLayout kv_cache_layout(KvCacheType type) {
  const CacheTypeName& c = kCacheTypes[static_cast<std::size_t>(type)];
  const GgmlType& g = *ggml_type(c.ggml_id);  // every id above is in ggml's table
  return {c.name, g.block_elements, g.block_bytes};
}

std::optional<KvCacheType> kv_cache_type_from_name(std::string_view name) {
  for (std::size_t i = 0; i < kCacheTypes.size(); ++i)
    if (kCacheTypes[i].name == name) return static_cast<KvCacheType>(i);
  return std::nullopt;
}

std::uint64_t kv_row_bytes(KvCacheType type, std::uint64_t elements) {
  const KvCacheLayout l = kv_cache_layout(type);
  const std::uint64_t blocks = elements / l.block_elements + (elements % l.block_elements != 0 ? 1 : 0);
  return mul_sat(blocks, l.block_bytes);
}

KvShape kv_shape(const GgufModelFacts& facts) {
  return {facts.block_count, facts.head_count_kv, facts.key_length, facts.value_length};
}

std::uint64_t kv_bytes_per_token(const KvShape& s, KvCacheType k_type, KvCacheType v_type) {
  const std::uint64_t k = kv_row_bytes(k_type, mul_sat(s.head_count_kv, s.key_length));
  const std::uint64_t v = kv_row_bytes(v_type, mul_sat(s.head_count_kv, s.value_length));
  return mul_sat(s.block_count, add_sat(k, v));
}

WallModel wall_model(const GgufModelFacts& facts, KvCacheType k_type, KvCacheType v_type) {
  return {facts.tensor_bytes, kv_bytes_per_token(kv_shape(facts), k_type, v_type), facts.context_length,
          facts.expert_count, facts.expert_used_count};
}

WallPrediction predict_wall(const TierBudget& budget, const WallModel& model, std::uint64_t overhead_bytes) {
  WallPrediction p;
  p.tier = budget.name;
  p.budget_bytes = budget.bytes;
  p.weights_bytes = budget.weights_share.value_or(model.weights_bytes);
  p.overhead_bytes = overhead_bytes;
  p.kv_bytes_per_token = model.kv_bytes_per_token;
  const std::uint64_t fixed = add_sat(p.weights_bytes, overhead_bytes);
  p.weights_fit = fixed <= budget.bytes;
  if (!p.weights_fit) {
    p.max_context = 0;
    return p;
  }
  std::optional<std::uint64_t> by_budget;
  if (model.kv_bytes_per_token != 0) by_budget = (budget.bytes - fixed) / model.kv_bytes_per_token;
  p.clamped = model.context_length && (!by_budget || *model.context_length <= *by_budget);
  p.max_context = p.clamped ? model.context_length : by_budget;
  return p;
}

std::vector<WallPrediction> predict_walls(std::span<const TierBudget> budgets, const WallModel& model,
                                          std::uint64_t overhead_bytes) {
  std::vector<WallPrediction> out;
  out.reserve(budgets.size());
  for (const TierBudget& b : budgets) out.push_back(predict_wall(b, model, overhead_bytes));
  return out;
}

}  // namespace tierscope

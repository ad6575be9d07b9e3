#pragma once
// The memory wall, predicted from a model file: the bytes of the weights, the
// bytes the KV cache takes per token of context, and for each memory tier's
// budget the largest context that fits. Pure functions over GgufModelFacts.
//
// KV cache per token = block_count x (K row + V row), a K row being
// head_count_kv x key_length elements and a V row head_count_kv x
// value_length elements of the cache type. Assumption: like llama.cpp, the
// cache keeps one row per layer and token, so a quantized row is a whole
// number of blocks; a row whose element count is not a multiple of the block
// is rounded up to whole blocks here (llama.cpp refuses such a cache type
// instead). Per-layer head counts (arrays) are not modelled.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "workloads/gguf.h"

namespace tierscope {

// llama.cpp's --cache-type-k / --cache-type-v values.
enum class KvCacheType { f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1 };

struct KvCacheLayout {
  std::string_view name;  // as llama.cpp spells it: "f16", "q8_0"
  std::uint32_t block_elements;
  std::uint32_t block_bytes;  // the block's scale (and min) included
};
KvCacheLayout kv_cache_layout(KvCacheType type);
std::optional<KvCacheType> kv_cache_type_from_name(std::string_view name);

// Bytes of one row of `elements` values, rounded up to whole blocks.
std::uint64_t kv_row_bytes(KvCacheType type, std::uint64_t elements);

struct KvShape {
  std::uint64_t block_count = 0;
  std::uint64_t head_count_kv = 0;
  std::uint64_t key_length = 0;
  std::uint64_t value_length = 0;
};
KvShape kv_shape(const GgufModelFacts& facts);

// Bytes per token of context, K and V in their own cache types.
std::uint64_t kv_bytes_per_token(const KvShape& shape, KvCacheType k_type, KvCacheType v_type);

// What the prediction is made from.
struct WallModel {
  std::uint64_t weights_bytes = 0;       // total tensor bytes of the file
  std::uint64_t kv_bytes_per_token = 0;
  std::optional<std::uint64_t> context_length;  // the model's trained context; absent: no clamp
  std::uint64_t expert_count = 0;        // reported, not used: all experts' weights count
  std::uint64_t expert_used_count = 0;
};
WallModel wall_model(const GgufModelFacts& facts, KvCacheType k_type, KvCacheType v_type);

// A tier's memory (VRAM, a cgroup's memory_max, host RAM) and the part of
// the weights placed in it (all of them when absent).
struct TierBudget {
  std::string name;
  std::uint64_t bytes = 0;
  std::optional<std::uint64_t> weights_share;
};

struct WallPrediction {
  std::string tier;
  std::uint64_t budget_bytes = 0;
  std::uint64_t weights_bytes = 0;   // the share counted in this tier
  std::uint64_t overhead_bytes = 0;  // fixed: compute buffers, runtime
  std::uint64_t kv_bytes_per_token = 0;
  bool weights_fit = false;          // weights + overhead <= budget
  // Tokens; 0 when the weights do not fit; absent when nothing bounds it (no
  // KV bytes per token and no context_length).
  std::optional<std::uint64_t> max_context;
  bool clamped = false;              // limited by the model's context_length, not the budget
};

// (budget - weights share - overhead) / kv_bytes_per_token, clamped to the
// model's context_length. A kv_bytes_per_token of 0 gives context_length.
WallPrediction predict_wall(const TierBudget& budget, const WallModel& model, std::uint64_t overhead_bytes = 0);
std::vector<WallPrediction> predict_walls(std::span<const TierBudget> budgets, const WallModel& model,
                                          std::uint64_t overhead_bytes = 0);

}  // namespace tierscope

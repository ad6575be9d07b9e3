#pragma once
// Prompts of an exact token count for the sweeps.
//
// The text is a per-request prefix ("[<nonce>]", different for every
// request, so an engine's prefix cache cannot serve one request from an
// earlier one) followed by k words of a deterministic filler text. k is
// chosen so the prompt has exactly N tokens:
//   - tokenizer (POST /tokenize, as the engine's descriptor says: llama.cpp,
//     and vLLM when it answers; workloads/engines/): count the tokens of the
//     text with k words, move k by the shortfall (scaled by the words-per-token
//     ratio seen so far), bracket, and finish with single-character pads;
//     the last count is the one recorded. The k found for N is reused as the
//     next request's starting point, so most requests cost one /tokenize.
//   - calibrated (Ollama, generic OpenAI): two probe requests (max_tokens 1)
//     of k1 and k2 filler words give the engine's prompt token count as
//     a + b·k (b: tokens per word; a: template and prefix overhead); k =
//     round((N − a)/b). Each counted request's record compares the engine's
//     reported prompt tokens with the target.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "workloads/scenario.h"

namespace tierscope::workloads {

struct BuiltPrompt {
  std::string text;
  std::uint32_t target_tokens = 0;
  std::optional<std::uint64_t> counted_tokens;  // the tokenizer's count of `text` (tokenizer source only)
  std::string source;  // tokenizer | calibrated | text (protocol) | estimated (tokenizer failed mid-run)
};

// The deterministic filler: `words` words after the prefix "[nonce]".
std::string filler_text(std::uint64_t nonce, std::size_t words);

class PromptBuilder {
 public:
  explicit PromptBuilder(const Scenario& scenario);

  // Chooses the method and, for calibration, sends the probe requests.
  // Throws std::runtime_error when the engine cannot be reached or reports no
  // prompt token count.
  void prepare();
  bool uses_tokenizer() const { return tokenizer_; }

  // A prompt of `tokens` tokens, unique to `nonce`. Throws std::runtime_error
  // when the tokenizer fails.
  BuiltPrompt make(std::uint32_t tokens, std::uint64_t nonce);

  // {"source", "tokenize_calls", "calibration": {"intercept", "tokens_per_word"}}
  nlohmann::json facts() const;

 private:
  BuiltPrompt make_exact(std::uint32_t tokens, std::uint64_t nonce);
  std::uint64_t count_tokens(const std::string& text);
  std::optional<std::uint64_t> probe_prompt_tokens(const std::string& text);

  const Scenario& scenario_;
  bool tokenizer_ = false;
  bool prepared_ = false;
  double words_per_token_ = 0.75;
  std::vector<std::pair<std::uint32_t, std::size_t>> last_k_;  // N → k that worked last
  double intercept_ = 0, tokens_per_word_ = 1;
  std::uint64_t tokenize_calls_ = 0;
};

}  // namespace tierscope::workloads

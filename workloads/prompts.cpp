#include "workloads/prompts.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "workloads/engine_stream.h"
#include "workloads/engines/engine.h"
#include "workloads/http_stream.h"

namespace tierscope::workloads {

namespace {

constexpr const char* kVocabulary[] = {
    "memory", "bandwidth", "tier",    "cache",   "latency", "river",   "mountain", "signal",  "garden",  "window",
    "system", "process",   "kernel",  "page",    "vector",  "token",   "silver",   "harbor",  "meadow",  "lantern",
    "orbit",  "crystal",   "thunder", "quiet",   "market",  "bridge",  "engine",   "compass", "forest",  "ladder",
    "copper", "velvet",    "rapid",   "gentle",  "ancient", "modern",  "simple",   "careful", "bright",  "hollow",
    "record", "measure",   "balance", "pattern", "journey", "harvest", "station",  "letter",  "number",  "circle",
    "summer", "winter",    "autumn",  "spring",  "travel",  "follow",  "gather",   "listen",  "wonder",  "answer",
    "island", "desert",    "valley",  "canyon"};
constexpr std::size_t kVocabularySize = sizeof(kVocabulary) / sizeof(kVocabulary[0]);

}  // namespace

std::string filler_text(std::uint64_t nonce, std::size_t words) {
  std::string out = "[" + std::to_string(nonce) + "]";
  out.reserve(out.size() + words * 8);
  std::uint64_t state = 0x9E3779B97F4A7C15ull;  // fixed: the filler is the same for every nonce
  for (std::size_t i = 0; i < words; ++i) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    out += ' ';
    out += kVocabulary[(state >> 33) % kVocabularySize];
  }
  return out;
}

namespace {

// Why a blocking request failed: the engine's error for an HTTP error, else
// the transport's (a size cap, a reset, …).
std::string failure_text(const HttpResponse& r) {
  if (r.result.outcome == TransferOutcome::http_error && !r.result.headers_too_large)
    return "HTTP " + std::to_string(r.result.http_status) + " " + extract_engine_error(r.body).message;
  return r.result.error;
}

}  // namespace

PromptBuilder::PromptBuilder(const Scenario& scenario) : scenario_(scenario) {}

std::uint64_t PromptBuilder::count_tokens(const std::string& text) {
  HttpRequest req;
  req.method = "POST";
  req.url = scenario_.engine.url + "/tokenize";
  req.headers = engine_headers(scenario_.engine);
  req.body = engine_descriptor(scenario_.engine.kind).tokenize_body(scenario_.engine, text);
  req.timeout = std::chrono::seconds(60);
  ++tokenize_calls_;
  auto r = http_fetch(std::move(req));
  if (r.result.outcome != TransferOutcome::ok)
    throw std::runtime_error("POST " + scenario_.engine.url + "/tokenize failed: " +
                             failure_text(r));
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (j.is_object()) {
    if (j.contains("count") && j["count"].is_number_unsigned()) return j["count"].get<std::uint64_t>();
    if (j.contains("tokens") && j["tokens"].is_array()) return j["tokens"].size();
  }
  throw std::runtime_error("POST " + scenario_.engine.url + "/tokenize: expected {\"tokens\": [...]}");
}

std::optional<std::uint64_t> PromptBuilder::probe_prompt_tokens(const std::string& text) {
  GenerationRequest g;
  g.model = scenario_.engine.model;
  g.prompt = text;
  g.max_tokens = 1;
  g.temperature = 0.0;
  g.num_ctx = 8192;
  const Dialect d = scenario_.engine.dialect();
  HttpRequest req;
  req.method = "POST";
  req.url = scenario_.engine.url + std::string(request_path(d));
  req.headers = engine_headers(scenario_.engine);
  req.body = build_request_body(d, g);
  req.timeout = std::max<std::chrono::milliseconds>(scenario_.request_timeout, std::chrono::seconds(10));
  auto r = http_fetch(std::move(req));
  if (r.result.outcome != TransferOutcome::ok)
    throw std::runtime_error("calibration request to " + scenario_.engine.url + std::string(request_path(d)) +
                             " failed: " +
                             failure_text(r));
  StreamDecoder decoder(d);
  std::optional<std::uint64_t> tokens;
  auto on_message = [&](const StreamMessage& m) {
    if (m.prompt_tokens) tokens = m.prompt_tokens;
    else if (m.timings.prompt_tokens && !tokens) tokens = m.timings.prompt_tokens;
  };
  decoder.feed(r.body, on_message);
  decoder.finish(on_message);
  return tokens;
}

void PromptBuilder::prepare() {
  if (prepared_) return;
  prepared_ = true;
  const PromptSizing sizing = engine_descriptor(scenario_.engine.kind).prompt_sizing;
  if (sizing != PromptSizing::calibration) {
    try {
      count_tokens("probe");
      tokenizer_ = true;
      return;
    } catch (const std::exception&) {
      if (sizing == PromptSizing::tokenizer) throw;
      // A tokenizer endpoint that is missing (older or disabled): calibrate.
    }
  }
  constexpr std::size_t k1 = 32, k2 = 256;
  auto t1 = probe_prompt_tokens(filler_text(1, k1));
  auto t2 = probe_prompt_tokens(filler_text(2, k2));
  if (!t1 || !t2 || *t2 <= *t1)
    throw std::runtime_error("calibration: the engine reported no usable prompt token count (usage or "
                             "prompt_eval_count) for the probe requests");
  tokens_per_word_ = static_cast<double>(*t2 - *t1) / static_cast<double>(k2 - k1);
  intercept_ = static_cast<double>(*t1) - tokens_per_word_ * static_cast<double>(k1);
}

BuiltPrompt PromptBuilder::make(std::uint32_t tokens, std::uint64_t nonce) {
  prepare();
  BuiltPrompt out;
  out.target_tokens = tokens;
  if (!tokenizer_) {
    double k = std::round((static_cast<double>(tokens) - intercept_) / tokens_per_word_);
    out.text = filler_text(nonce, static_cast<std::size_t>(std::max(0.0, k)));
    out.source = "calibrated";
    return out;
  }
  try {
    return make_exact(tokens, nonce);
  } catch (const std::exception&) {
    // The tokenizer went away (engine died mid-run): send an estimate, so the
    // request still runs and records what became of it.
    out.text = filler_text(nonce, static_cast<std::size_t>(std::round(words_per_token_ * static_cast<double>(tokens))));
    out.source = "estimated";
    return out;
  }
}

BuiltPrompt PromptBuilder::make_exact(std::uint32_t tokens, std::uint64_t nonce) {
  BuiltPrompt out;
  out.target_tokens = tokens;
  out.source = "tokenizer";
  const std::uint64_t target = tokens;
  std::size_t k = static_cast<std::size_t>(std::max(0.0, std::round(words_per_token_ * static_cast<double>(tokens))));
  for (const auto& [n, kk] : last_k_)
    if (n == tokens) k = kk;
  std::size_t lo = 0, hi = SIZE_MAX;  // count(lo) < N < count(hi) once known
  bool have_lo = false;
  std::uint64_t best_count = 0;
  std::size_t best_k = k;
  bool have_best = false;
  for (int iter = 0; iter < 32; ++iter) {
    std::string text = filler_text(nonce, k);
    std::uint64_t n = count_tokens(text);
    if (!have_best || (n <= target && (best_count > target || n > best_count)) ||
        (n > target && best_count > target && n < best_count)) {
      best_count = n;
      best_k = k;
      have_best = true;
    }
    if (n == target) {
      out.text = std::move(text);
      out.counted_tokens = n;
      bool found = false;
      for (auto& [nn, kk] : last_k_)
        if (nn == tokens) kk = k, found = true;
      if (!found) last_k_.emplace_back(tokens, k);
      if (k > 0 && n > 0) words_per_token_ = static_cast<double>(k) / static_cast<double>(n);
      return out;
    }
    if (k > 0 && n > 0) words_per_token_ = std::clamp(static_cast<double>(k) / static_cast<double>(n), 0.05, 4.0);
    if (n < target) {
      lo = k;
      have_lo = true;
      std::size_t step = static_cast<std::size_t>(std::max(1.0, std::round(words_per_token_ * static_cast<double>(target - n))));
      k = std::min(k + step, hi == SIZE_MAX ? k + step : hi - 1);
    } else {
      hi = k;
      if (k == 0) break;
      std::size_t step = static_cast<std::size_t>(std::max(1.0, std::round(words_per_token_ * static_cast<double>(n - target))));
      k = step >= k ? 0 : k - step;
      if (have_lo) k = std::max(k, lo + 1);
    }
    if (have_lo && hi != SIZE_MAX && hi - lo <= 1) break;
    if (k == hi || (have_lo && k == lo)) break;
  }
  // No word count hits N exactly (a word is several tokens): pad the largest
  // prompt below N with single characters.
  std::string text = filler_text(nonce, have_lo ? lo : best_k);
  std::uint64_t n = count_tokens(text);
  for (int pad = 0; pad < 16 && n < target; ++pad) {
    std::string next = text + " .";
    std::uint64_t m = count_tokens(next);
    if (m > target) break;
    text = std::move(next);
    n = m;
  }
  out.text = std::move(text);
  out.counted_tokens = n;
  return out;
}

nlohmann::json PromptBuilder::facts() const {
  nlohmann::json j{{"source", tokenizer_ ? "tokenizer" : "calibrated"}, {"tokenize_calls", tokenize_calls_}};
  if (!tokenizer_) j["calibration"] = {{"intercept", intercept_}, {"tokens_per_word", tokens_per_word_}};
  return j;
}

}  // namespace tierscope::workloads

#pragma once
// "Did you mean …?" for misspelt commands, options, config keys and choices.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tierscope {

// The candidate closest to `word` by edit distance (Levenshtein), when it is
// within a third of the word's length (at least 1, at most 3 edits).
std::optional<std::string> did_you_mean(std::string_view word, const std::vector<std::string_view>& candidates);

}  // namespace tierscope

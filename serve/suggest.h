// Nearest-key suggestions for configuration errors ("did you mean ...?").
#pragma once

#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

namespace h2::serve {

// Levenshtein distance between `a` and `b` (insert, delete, substitute each cost 1).
// Called by the config validator only; O(|a|*|b|) time, O(|b|) memory.
size_t edit_distance(std::string_view a, std::string_view b);

// Returns the candidate closest to `word` when it is close enough to be a plausible typo
// (distance <= max(2, |word| / 3)), otherwise an empty string. Ties keep the first candidate.
std::string nearest_key(std::string_view word, std::span<const std::string_view> candidates);

}  // namespace h2::serve

// tasks/grading/choice_permutation.h — the seeded shuffle of GPQA's four choices, the same on every
// platform.
//
// std::shuffle and the std distributions differ between standard libraries, so neither is used. The
// permutation for (seed, question id, sample index) is a Fisher-Yates shuffle driven by SplitMix64,
// seeded with FNV-1a-64(question id) ^ seed ^ (sample index * golden ratio), with unbiased bounded draws
// (rejection sampling). The algorithm is part of the task version: changing it changes every prompt.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace r1lab::grading {

std::uint64_t fnv1a64(std::string_view text);

// permutation[shown] = original index (0..3).
std::array<int, 4> choice_permutation(std::uint64_t seed, std::string_view question_id, std::uint64_t sample_index);

}  // namespace r1lab::grading

#include "tasks/grading/choice_permutation.h"

namespace r1lab::grading {

namespace {

struct SplitMix64 {
  std::uint64_t state;
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, bound) without modulo bias.
  std::uint64_t below(std::uint64_t bound) {
    std::uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
    std::uint64_t x;
    do x = next();
    while (x >= limit);
    return x % bound;
  }
};

}  // namespace

std::uint64_t fnv1a64(std::string_view text) {
  std::uint64_t hash = 0xcbf29ce484222325ull;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 0x100000001b3ull;
  }
  return hash;
}

std::array<int, 4> choice_permutation(std::uint64_t seed, std::string_view question_id, std::uint64_t sample_index) {
  SplitMix64 rng{fnv1a64(question_id) ^ seed ^ (sample_index * 0x9E3779B97F4A7C15ull)};
  std::array<int, 4> permutation = {0, 1, 2, 3};
  for (int i = 3; i > 0; --i) {
    int j = static_cast<int>(rng.below(static_cast<std::uint64_t>(i) + 1));
    std::swap(permutation[i], permutation[j]);
  }
  return permutation;
}

}  // namespace r1lab::grading

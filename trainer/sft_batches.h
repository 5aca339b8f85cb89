// trainer/sft_batches.h — the order of the data and the micro-batches of an optimizer step.
//
// Order: epoch e visits the examples in a permutation drawn from (seed, e) (Fisher-Yates over
// splitmix64, the same on every platform), or in file order without shuffling. An optimizer step takes
// the next batch_size examples of the current epoch (the last step of an epoch may take fewer); a
// cursor (epoch, index) is all a checkpoint needs to continue the order exactly.
// Micro-batches: the step's examples in order, as many per forward pass as fit the token budget; packed
// into one row (attention kept inside each example) or one right-padded row each.
#pragma once

#include <cstdint>
#include <vector>

#include <ATen/ATen.h>

#include "trainer/causal_lm.h"
#include "trainer/sft_data.h"

namespace r1lab::trainer {

struct DataCursor {
  std::int64_t epoch = 0;
  std::int64_t index = 0;   // position in the epoch's order of the next example
};

std::vector<std::size_t> epoch_order(std::size_t examples, std::uint64_t seed, std::int64_t epoch, bool shuffle);
std::int64_t steps_per_epoch(std::size_t examples, std::int64_t batch_size);
// The examples of the next optimizer step; advances the cursor (into the next epoch after the last).
std::vector<std::size_t> take_step_examples(std::size_t examples, std::uint64_t seed, bool shuffle, std::int64_t batch_size,
                                            DataCursor& cursor);

struct MicroBatch {
  std::vector<std::size_t> examples;   // which examples, in order (their targets follow in this order)
  at::Tensor ids;              // (rows, columns)
  DocumentLayout layout;
  at::Tensor predict_from;     // flat token positions whose next token is a target
  at::Tensor targets;          // the target token of each
  std::int64_t tokens = 0;     // real tokens (no padding)
  std::int64_t loss_tokens = 0;
};

// Splits `chosen` examples (in order) into micro-batches of at most `token_budget` tokens (padding
// included when not packing). Every example must fit the budget.
std::vector<MicroBatch> make_micro_batches(const SftDataset& data, const std::vector<std::size_t>& chosen, bool packing,
                                           std::int64_t token_budget, at::Device device);

}  // namespace r1lab::trainer

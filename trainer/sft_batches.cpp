#include "trainer/sft_batches.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>

namespace r1lab::trainer {
namespace {

std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

MicroBatch assemble(const SftDataset& data, const std::vector<std::size_t>& members, bool packing, at::Device device) {
  MicroBatch batch;
  batch.examples = members;
  std::vector<DocumentSpan> spans;
  std::int64_t longest = 0, total = 0;
  for (std::size_t e : members) {
    const auto n = static_cast<std::int64_t>(data.examples[e].tokens.size());
    longest = std::max(longest, n);
    total += n;
  }
  const std::int64_t rows = packing ? 1 : static_cast<std::int64_t>(members.size());
  const std::int64_t columns = packing ? total : longest;
  std::vector<std::int64_t> ids(static_cast<std::size_t>(rows * columns), 0), predict_from, targets;
  std::int64_t row = 0, column = 0;
  for (std::size_t e : members) {
    const SftExample& ex = data.examples[e];
    const auto n = static_cast<std::int64_t>(ex.tokens.size());
    const std::int64_t first = row * columns + column;
    spans.push_back({row, column, n});
    for (std::int64_t i = 0; i < n; ++i) {
      ids[static_cast<std::size_t>(first + i)] = ex.tokens[static_cast<std::size_t>(i)];
      if (i > 0 && ex.target[static_cast<std::size_t>(i)]) {
        predict_from.push_back(first + i - 1);
        targets.push_back(ex.tokens[static_cast<std::size_t>(i)]);
      }
    }
    batch.tokens += n;
    if (packing) {
      column += n;
    } else {
      ++row;
    }
  }
  auto long_options = at::TensorOptions().dtype(at::kLong);
  batch.ids = at::tensor(ids, long_options).view({rows, columns}).to(device);
  batch.layout = DocumentLayout::build(rows, columns, spans, device);
  batch.predict_from = at::tensor(predict_from, long_options).to(device);
  batch.targets = at::tensor(targets, long_options).to(device);
  batch.loss_tokens = static_cast<std::int64_t>(targets.size());
  return batch;
}

}  // namespace

std::vector<std::size_t> epoch_order(std::size_t examples, std::uint64_t seed, std::int64_t epoch, bool shuffle) {
  std::vector<std::size_t> order(examples);
  std::iota(order.begin(), order.end(), std::size_t{0});
  if (!shuffle) return order;
  std::uint64_t state = seed * 0x100000001b3ULL ^ static_cast<std::uint64_t>(epoch) * 0x9e3779b97f4a7c15ULL;
  for (std::size_t i = examples; i > 1; --i) {
    std::size_t j = static_cast<std::size_t>(splitmix64(state) % i);
    std::swap(order[i - 1], order[j]);
  }
  return order;
}

std::int64_t steps_per_epoch(std::size_t examples, std::int64_t batch_size) {
  return (static_cast<std::int64_t>(examples) + batch_size - 1) / batch_size;
}

std::vector<std::size_t> take_step_examples(std::size_t examples, std::uint64_t seed, bool shuffle, std::int64_t batch_size,
                                            DataCursor& cursor) {
  std::vector<std::size_t> order = epoch_order(examples, seed, cursor.epoch, shuffle);
  const auto end = std::min<std::int64_t>(cursor.index + batch_size, static_cast<std::int64_t>(examples));
  std::vector<std::size_t> chosen(order.begin() + cursor.index, order.begin() + end);
  cursor.index = end;
  if (cursor.index >= static_cast<std::int64_t>(examples)) {
    ++cursor.epoch;
    cursor.index = 0;
  }
  return chosen;
}

std::vector<MicroBatch> make_micro_batches(const SftDataset& data, const std::vector<std::size_t>& chosen, bool packing,
                                           std::int64_t token_budget, at::Device device) {
  std::vector<MicroBatch> batches;
  std::vector<std::size_t> members;
  std::int64_t total = 0, longest = 0;
  for (std::size_t e : chosen) {
    const auto n = static_cast<std::int64_t>(data.examples[e].tokens.size());
    if (n > token_budget) {
      throw std::invalid_argument("line " + std::to_string(data.examples[e].line) + " has " + std::to_string(n) +
                                  " tokens, more than --micro-batch-tokens " + std::to_string(token_budget));
    }
    const std::int64_t cost = packing ? total + n : static_cast<std::int64_t>(members.size() + 1) * std::max(longest, n);
    if (!members.empty() && cost > token_budget) {
      batches.push_back(assemble(data, members, packing, device));
      members.clear();
      total = longest = 0;
    }
    members.push_back(e);
    total += n;
    longest = std::max(longest, n);
  }
  if (!members.empty()) batches.push_back(assemble(data, members, packing, device));
  return batches;
}

}  // namespace r1lab::trainer

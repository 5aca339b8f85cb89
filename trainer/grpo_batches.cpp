#include "trainer/grpo_batches.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace r1lab::trainer {

namespace {

// One row: a prompt and some of its group's completions (positions into the group's lists).
struct Row {
  const PromptGroup* group = nullptr;
  std::vector<std::size_t> members;
  std::int64_t tokens = 0;
};

MicroBatch assemble(const std::vector<Row>& rows, at::Device device) {
  MicroBatch batch;
  std::int64_t columns = 0;
  for (const Row& row : rows) columns = std::max(columns, row.tokens);
  const auto R = static_cast<std::int64_t>(rows.size());
  std::vector<std::int64_t> ids(static_cast<std::size_t>(R * columns), 0), predict_from, targets;
  std::vector<SharedPrefixRow> shapes;
  for (std::int64_t r = 0; r < R; ++r) {
    const Row& row = rows[static_cast<std::size_t>(r)];
    const std::vector<std::int64_t>& prompt = *row.group->prompt;
    const auto P = static_cast<std::int64_t>(prompt.size());
    const std::int64_t base = r * columns;
    std::copy(prompt.begin(), prompt.end(), ids.begin() + base);
    SharedPrefixRow shape;
    shape.prefix = P;
    std::int64_t start = P;
    for (std::size_t m : row.members) {
      const std::vector<std::int64_t>& completion = *row.group->completions[m];
      const auto C = static_cast<std::int64_t>(completion.size());
      std::copy(completion.begin(), completion.end(), ids.begin() + base + start);
      for (std::int64_t j = 0; j < C; ++j) {
        predict_from.push_back(base + (j == 0 ? P - 1 : start + j - 1));
        targets.push_back(completion[static_cast<std::size_t>(j)]);
      }
      shape.continuations.push_back(C);
      batch.examples.push_back(row.group->sequences[m]);
      start += C;
    }
    batch.tokens += row.tokens;
    shapes.push_back(std::move(shape));
  }
  auto long_options = at::TensorOptions().dtype(at::kLong);
  batch.ids = at::tensor(ids, long_options).view({R, columns}).to(device);
  batch.layout = DocumentLayout::build_shared_prefix(columns, shapes, device);
  batch.predict_from = at::tensor(predict_from, long_options).to(device);
  batch.targets = at::tensor(targets, long_options).to(device);
  batch.loss_tokens = static_cast<std::int64_t>(targets.size());
  return batch;
}

}  // namespace

std::vector<MicroBatch> make_shared_prompt_micro_batches(const std::vector<PromptGroup>& groups, std::int64_t token_budget,
                                                         at::Device device) {
  // Rows first: each group's completions in order, a new row (with the prompt again) when one would overflow.
  std::vector<Row> rows;
  for (const PromptGroup& group : groups) {
    const auto P = static_cast<std::int64_t>(group.prompt->size());
    Row row{&group, {}, P};
    for (std::size_t m = 0; m < group.completions.size(); ++m) {
      const auto C = static_cast<std::int64_t>(group.completions[m]->size());
      if (P + C > token_budget)
        throw std::invalid_argument("a prompt of " + std::to_string(P) + " tokens and a completion of " + std::to_string(C) +
                                    " exceed --micro-batch-tokens " + std::to_string(token_budget));
      if (!row.members.empty() && row.tokens + C > token_budget) {
        rows.push_back(std::move(row));
        row = Row{&group, {}, P};
      }
      row.members.push_back(m);
      row.tokens += C;
    }
    if (!row.members.empty()) rows.push_back(std::move(row));
  }
  // Then micro-batches: rows while rows x the longest row fits the budget.
  std::vector<MicroBatch> batches;
  std::vector<Row> members;
  std::int64_t longest = 0;
  for (Row& row : rows) {
    const std::int64_t wider = std::max(longest, row.tokens);
    if (!members.empty() && static_cast<std::int64_t>(members.size() + 1) * wider > token_budget) {
      batches.push_back(assemble(members, device));
      members.clear();
      longest = 0;
    }
    longest = std::max(longest, row.tokens);
    members.push_back(std::move(row));
  }
  if (!members.empty()) batches.push_back(assemble(members, device));
  return batches;
}

}  // namespace r1lab::trainer

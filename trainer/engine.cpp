#include "trainer/engine.h"

#include <ATen/core/grad_mode.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <map>
#include <stdexcept>

namespace r1lab::trainer {

std::vector<GeneratedSequence> Engine::generate(const std::vector<GenerationSpec>& specs, const std::atomic<bool>* stop) const {
  c10::InferenceMode inference;
  const std::int64_t B = static_cast<std::int64_t>(specs.size());
  std::vector<GeneratedSequence> out(specs.size());
  if (B == 0) return out;
  const ModelConfig& config = model_.config();

  std::int64_t prompt_len = 0, longest = 0;
  for (const auto& s : specs) {
    if (s.prompt.empty()) throw std::invalid_argument("generate: an empty prompt (a prompt needs at least one token)");
    prompt_len = std::max<std::int64_t>(prompt_len, static_cast<std::int64_t>(s.prompt.size()));
  }
  std::vector<std::int64_t> max_new(specs.size());
  for (std::size_t i = 0; i < specs.size(); ++i) {
    std::int64_t room = config.max_position_embeddings - static_cast<std::int64_t>(specs[i].prompt.size());
    if (room <= 0) {
      throw std::invalid_argument("generate: a prompt of " + std::to_string(specs[i].prompt.size()) +
                                  " tokens does not fit the model's " + std::to_string(config.max_position_embeddings) + " positions");
    }
    max_new[i] = std::min(specs[i].max_new_tokens, room);
    longest = std::max(longest, max_new[i]);
  }

  // Identical prompts (a GRPO group's G samples, an eval problem's n samples) are prefilled once: the
  // distinct prompts run through the model, then each row takes its prompt's cache row and logits.
  std::map<std::vector<std::int64_t>, std::int64_t> distinct_index;
  std::vector<std::int64_t> prefill_row(specs.size());   // spec -> row of the prefill batch
  std::vector<std::size_t> distinct;                      // prefill row -> first spec with that prompt
  for (std::size_t i = 0; i < specs.size(); ++i) {
    auto [it, added] = distinct_index.emplace(specs[i].prompt, static_cast<std::int64_t>(distinct.size()));
    if (added) distinct.push_back(i);
    prefill_row[i] = it->second;
  }
  const auto U = static_cast<std::int64_t>(distinct.size());

  // Left-pad the distinct prompts into one (U, P) batch; positions count each row's own tokens.
  std::vector<std::int64_t> ids(static_cast<std::size_t>(U * prompt_len), 0), positions(ids.size(), 0);
  std::vector<std::uint8_t> valid(ids.size(), 0);
  std::vector<std::int64_t> next_position(specs.size());
  for (std::int64_t u = 0; u < U; ++u) {
    const auto& prompt = specs[distinct[static_cast<std::size_t>(u)]].prompt;
    std::int64_t pad = prompt_len - static_cast<std::int64_t>(prompt.size());
    for (std::size_t t = 0; t < prompt.size(); ++t) {
      std::size_t cell = static_cast<std::size_t>(u * prompt_len + pad) + t;
      ids[cell] = prompt[t];
      positions[cell] = static_cast<std::int64_t>(t);
      valid[cell] = 1;
    }
  }
  for (std::size_t i = 0; i < specs.size(); ++i) next_position[i] = static_cast<std::int64_t>(specs[i].prompt.size());
  const at::Device device = model_.device();
  auto long_options = at::TensorOptions().dtype(at::kLong);
  KvCache cache = model_.new_cache(U, prompt_len + std::min<std::int64_t>(longest, 1024));
  at::Tensor logits = model_.forward(at::tensor(ids, long_options).view({U, prompt_len}).to(device),
                                     at::tensor(positions, long_options).view({U, prompt_len}).to(device),
                                     at::tensor(valid, at::TensorOptions().dtype(at::kByte)).view({U, prompt_len}).to(at::kBool).to(device),
                                     cache, /*last_only=*/true);
  if (U < B) {
    at::Tensor rows_of = at::tensor(prefill_row, long_options).to(device);
    cache.select_rows(rows_of);
    logits = logits.index_select(0, rows_of);
  }

  std::vector<std::size_t> rows(specs.size());   // cache row -> spec index
  for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = i;
  std::vector<std::uint64_t> steps(specs.size(), 0);
  std::vector<bool> finished(specs.size(), false);
  std::vector<std::string> bytes(specs.size());   // all decoded bytes, before cutting at a stop string

  auto finish = [&](std::size_t i, const char* reason) {
    finished[i] = true;
    out[i].finish_reason = reason;
  };
  while (true) {
    std::vector<RowSampling> row_sampling;
    std::vector<std::uint64_t> row_steps;
    for (std::size_t i : rows) {
      row_sampling.push_back(specs[i].sampling);
      row_steps.push_back(steps[i]);
    }
    SampledTokens sampled = sample_next_tokens(logits, row_sampling, row_steps);
    std::vector<std::int64_t> next_ids(rows.size(), 0), next_positions(rows.size(), 0);
    std::vector<std::uint8_t> next_valid(rows.size(), 0);
    for (std::size_t r = 0; r < rows.size(); ++r) {
      std::size_t i = rows[r];
      if (finished[i]) continue;
      const GenerationSpec& spec = specs[i];
      std::int64_t token = sampled.tokens[r];
      GeneratedSequence& seq = out[i];
      seq.tokens.push_back(token);
      seq.logprobs.push_back(sampled.logprobs[r]);
      seq.sampling_logprobs.push_back(sampled.sampling_logprobs[r]);
      ++steps[i];
      bool is_eos = !spec.ignore_eos && std::find(config.eos_token_ids.begin(), config.eos_token_ids.end(), token) != config.eos_token_ids.end();
      bool is_stop_token = std::find(spec.stop_token_ids.begin(), spec.stop_token_ids.end(), token) != spec.stop_token_ids.end();
      if (is_eos || is_stop_token) {
        finish(i, "stop");
        continue;
      }
      std::size_t before = bytes[i].size();
      bytes[i].append(tokenizer_.token_bytes(static_cast<tokenizer::TokenId>(token)));
      bool stopped = false;
      for (const std::string& s : spec.stop) {
        if (s.empty()) continue;
        std::size_t from = before >= s.size() ? before - s.size() + 1 : 0;
        std::size_t found = bytes[i].find(s, from);
        if (found != std::string::npos) {
          bytes[i].resize(found);
          stopped = true;
          break;
        }
      }
      if (stopped) {
        finish(i, "stop");
        continue;
      }
      if (static_cast<std::int64_t>(seq.tokens.size()) >= max_new[i]) {
        finish(i, "length");
        continue;
      }
      next_ids[r] = token;
      next_positions[r] = next_position[i]++;
      next_valid[r] = 1;
    }
    std::size_t active = 0;
    for (std::size_t i : rows) active += finished[i] ? 0 : 1;
    if (active == 0) break;
    if (stop && stop->load()) {
      for (std::size_t i : rows) {
        if (!finished[i]) finish(i, "abort");
      }
      break;
    }
    // Compact when a quarter of the rows are done.
    if (active * 4 <= rows.size() * 3) {
      std::vector<std::int64_t> keep;
      std::vector<std::size_t> kept_rows;
      std::vector<std::int64_t> kept_ids, kept_positions;
      std::vector<std::uint8_t> kept_valid;
      for (std::size_t r = 0; r < rows.size(); ++r) {
        if (finished[rows[r]]) continue;
        keep.push_back(static_cast<std::int64_t>(r));
        kept_rows.push_back(rows[r]);
        kept_ids.push_back(next_ids[r]);
        kept_positions.push_back(next_positions[r]);
        kept_valid.push_back(next_valid[r]);
      }
      cache.select_rows(at::tensor(keep, long_options).to(device));
      rows.swap(kept_rows);
      next_ids.swap(kept_ids);
      next_positions.swap(kept_positions);
      next_valid.swap(kept_valid);
    }
    const auto R = static_cast<std::int64_t>(rows.size());
    logits = model_.forward(at::tensor(next_ids, long_options).view({R, 1}).to(device),
                            at::tensor(next_positions, long_options).view({R, 1}).to(device),
                            at::tensor(next_valid, at::TensorOptions().dtype(at::kByte)).view({R, 1}).to(at::kBool).to(device),
                            cache, /*last_only=*/true);
  }
  for (std::size_t i = 0; i < out.size(); ++i) out[i].text = std::move(bytes[i]);
  return out;
}

}  // namespace r1lab::trainer

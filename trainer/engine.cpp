#include "trainer/engine.h"

#include <ATen/core/grad_mode.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <limits>
#include <map>
#include <numeric>
#include <stdexcept>

namespace r1lab::trainer {

namespace {

// One sequence being decoded: its spec, where its output goes, and its decoding state.
struct Row {
  GenerationSpec spec;
  std::size_t index = 0;           // the order in which it was pulled
  std::int64_t max_new = 0;        // max_new_tokens within the model's positions
  std::int64_t next_position = 0;
  std::uint64_t steps = 0;         // the sampler's draw counter
  std::string bytes;               // every decoded byte, before cutting at a stop string
  GeneratedSequence out;
  bool finished = false;
};

// The prefill of newly admitted rows: their cache (one row each) and the logits of their last prompt token.
struct Prefill {
  KvCache cache;
  at::Tensor logits;
};

// Prompts left padded into one batch through the model: their cache and the logits of their last token.
Prefill prefill_batch(const CausalLM& model, const std::vector<const std::vector<std::int64_t>*>& prompts, std::int64_t room) {
  const auto U = static_cast<std::int64_t>(prompts.size());
  std::int64_t prompt_len = 0;
  for (const auto* prompt : prompts) prompt_len = std::max<std::int64_t>(prompt_len, static_cast<std::int64_t>(prompt->size()));
  // Positions count each row's own tokens.
  std::vector<std::int64_t> ids(static_cast<std::size_t>(U * prompt_len), 0), positions(ids.size(), 0);
  std::vector<std::uint8_t> valid(ids.size(), 0);
  for (std::int64_t u = 0; u < U; ++u) {
    const auto& prompt = *prompts[static_cast<std::size_t>(u)];
    const std::int64_t pad = prompt_len - static_cast<std::int64_t>(prompt.size());
    for (std::size_t t = 0; t < prompt.size(); ++t) {
      const std::size_t cell = static_cast<std::size_t>(u * prompt_len + pad) + t;
      ids[cell] = prompt[t];
      positions[cell] = static_cast<std::int64_t>(t);
      valid[cell] = 1;
    }
  }
  const at::Device device = model.device();
  auto long_options = at::TensorOptions().dtype(at::kLong);
  Prefill p{model.new_cache(U, prompt_len + room), at::Tensor()};
  p.logits = model.forward(at::tensor(ids, long_options).view({U, prompt_len}).to(device),
                           at::tensor(positions, long_options).view({U, prompt_len}).to(device),
                           at::tensor(valid, at::TensorOptions().dtype(at::kByte)).view({U, prompt_len}).to(at::kBool).to(device),
                           p.cache, /*last_only=*/true);
  return p;
}

// Identical prompts (a GRPO group's G samples, an eval problem's n samples) are prefilled once: the
// distinct prompts run through the model (as `layout` says, engine.h), then each row takes its prompt's
// cache row and logits. By length, the groups' caches are joined (KvCache::append_rows aligns them at
// their last token). `with_room`: the cache has room for the tokens to come (it becomes the batch's cache);
// without, only the prompts' slots (their rows are placed into the batch's cache).
Prefill prefill(const CausalLM& model, const std::vector<Row>& rows, PrefillLayout layout, bool with_room) {
  std::map<std::vector<std::int64_t>, std::int64_t> distinct_index;
  std::vector<std::int64_t> prefill_row;   // row -> distinct prompt
  std::vector<const std::vector<std::int64_t>*> distinct;
  std::int64_t longest = 0;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    auto [it, added] = distinct_index.emplace(rows[r].spec.prompt, static_cast<std::int64_t>(distinct.size()));
    if (added) distinct.push_back(&rows[r].spec.prompt);
    prefill_row.push_back(it->second);
    longest = std::max(longest, rows[r].max_new);
  }
  const std::int64_t room = with_room ? std::min<std::int64_t>(longest, 1024) : 0;
  std::vector<std::vector<std::int64_t>> groups;   // distinct prompt indices, in the order they are joined
  if (layout == PrefillLayout::by_length || (layout == PrefillLayout::automatic && model.device().is_cuda())) {
    std::map<std::size_t, std::vector<std::int64_t>> by_length;
    for (std::size_t u = 0; u < distinct.size(); ++u) by_length[distinct[u]->size()].push_back(static_cast<std::int64_t>(u));
    for (auto& [length, members] : by_length) groups.push_back(std::move(members));
  } else {
    groups.emplace_back(distinct.size());
    std::iota(groups.back().begin(), groups.back().end(), 0);
  }
  Prefill p;
  std::vector<std::int64_t> joined_position(distinct.size());
  std::int64_t joined = 0;
  for (const auto& group : groups) {
    std::vector<const std::vector<std::int64_t>*> prompts;
    for (std::int64_t u : group) {
      prompts.push_back(distinct[static_cast<std::size_t>(u)]);
      joined_position[static_cast<std::size_t>(u)] = joined++;
    }
    Prefill part = prefill_batch(model, prompts, room);
    if (!p.logits.defined()) {
      p = std::move(part);
    } else {
      p.cache.append_rows(part.cache);
      p.logits = at::cat({p.logits, part.logits});
    }
  }
  std::vector<std::int64_t> rows_of;
  bool identity = prefill_row.size() == distinct.size();
  for (std::size_t i = 0; i < prefill_row.size(); ++i) {
    rows_of.push_back(joined_position[static_cast<std::size_t>(prefill_row[i])]);
    identity = identity && rows_of.back() == static_cast<std::int64_t>(i);
  }
  if (!identity) {
    at::Tensor index = at::tensor(rows_of, at::TensorOptions().dtype(at::kLong)).to(model.device());
    p.cache.select_rows(index);
    p.logits = p.logits.index_select(0, index);
  }
  return p;
}

}  // namespace

void Engine::stream(const std::function<std::optional<GenerationSpec>()>& next, std::int64_t max_batch,
                    const std::function<void(std::size_t, GeneratedSequence&&)>& done, const std::atomic<bool>* stop) const {
  c10::InferenceMode inference;
  const ModelConfig& config = model_.config();
  const at::Device device = model_.device();
  auto long_options = at::TensorOptions().dtype(at::kLong);
  DecodeSteps decode_steps(model_, decode_);
  if (max_batch <= 0) max_batch = std::numeric_limits<std::int64_t>::max();

  std::vector<Row> rows;        // cache row r is rows[r]
  KvCache cache;
  at::Tensor logits;            // (rows, vocab): what each row samples from next
  std::size_t pulled = 0;
  bool exhausted = false;
  std::int64_t decoding = 0;    // rows not finished
  auto finish = [&](Row& row, const char* reason) {
    row.finished = true;
    row.out.finish_reason = reason;
    row.out.text = std::move(row.bytes);
    --decoding;
    done(row.index, std::move(row.out));
  };

  auto unfinished_rows = [&]() {
    std::vector<std::int64_t> keep;
    for (std::size_t r = 0; r < rows.size(); ++r)
      if (!rows[r].finished) keep.push_back(static_cast<std::int64_t>(r));
    return keep;
  };
  // Keeps only the given rows of the batch (their cache rows and logits): finished sequences leave. Each
  // removal copies the cache (and on CUDA the next decode step captures a new graph).
  auto keep_rows = [&](const std::vector<std::int64_t>& keep) {
    std::vector<Row> kept_rows;
    for (std::int64_t r : keep) kept_rows.push_back(std::move(rows[static_cast<std::size_t>(r)]));
    rows.swap(kept_rows);
    if (rows.empty()) return;
    at::Tensor kept = at::tensor(keep, long_options).to(device);
    cache.select_rows(kept);
    if (logits.defined()) logits = logits.index_select(0, kept);
  };
  // The slots at the front that no row holds any more (finished or replaced sequences): a batch that keeps
  // taking new work would otherwise grow forever.
  auto trim_front = [&]() {
    const std::int64_t unused = cache.unused_front();
    if (unused >= 64 && unused * 4 >= cache.length) cache.drop_front(unused);
  };

  while (true) {
    // Admission: pending specs take the rows of finished sequences and free rows. Not one at a time (each
    // admission is a prefill): when an eighth of the batch is free, or the batch is empty.
    const std::int64_t free_rows = max_batch - decoding;
    const std::int64_t worth_joining = (std::min<std::int64_t>(max_batch, 1 << 20) + 7) / 8;
    if (!exhausted && free_rows > 0 && (decoding == 0 || free_rows >= worth_joining)) {
      std::vector<Row> admitted;
      std::size_t longest_prompt = 0;
      while (static_cast<std::int64_t>(admitted.size()) < free_rows) {
        std::optional<GenerationSpec> spec = next();
        if (!spec) {
          exhausted = true;
          break;
        }
        if (spec->prompt.empty()) throw std::invalid_argument("generate: an empty prompt (a prompt needs at least one token)");
        const std::int64_t room = config.max_position_embeddings - static_cast<std::int64_t>(spec->prompt.size());
        if (room <= 0)
          throw std::invalid_argument("generate: a prompt of " + std::to_string(spec->prompt.size()) +
                                      " tokens does not fit the model's " + std::to_string(config.max_position_embeddings) + " positions");
        Row row;
        row.max_new = std::min(spec->max_new_tokens, room);
        row.next_position = static_cast<std::int64_t>(spec->prompt.size());
        row.spec = std::move(*spec);
        row.index = pulled++;
        longest_prompt = std::max(longest_prompt, row.spec.prompt.size());
        admitted.push_back(std::move(row));
      }
      if (!admitted.empty()) {
        // A new sequence takes a finished one's row in place when its prompt fits in the slots written so
        // far (KvCache::place_rows: no copy of the cache, and a decode graph stays bound); otherwise the
        // finished rows leave first and the new ones join at the end of the batch.
        // (rows is empty when nothing decodes: the leave path below has emptied it.)
        const bool in_place = decoding > 0 && static_cast<std::int64_t>(longest_prompt) <= cache.length;
        if (decoding > 0 && !in_place && decoding < static_cast<std::int64_t>(rows.size())) {
          keep_rows(unfinished_rows());
          trim_front();
        }
        Prefill fresh = prefill(model_, admitted, prefill_, /*with_room=*/!in_place);
        decoding += static_cast<std::int64_t>(admitted.size());
        if (rows.empty()) {
          cache = std::move(fresh.cache);
          logits = fresh.logits;
          rows = std::move(admitted);
        } else {
          std::vector<std::int64_t> targets;
          for (std::size_t r = 0; r < rows.size() && targets.size() < admitted.size(); ++r)
            if (rows[r].finished) targets.push_back(static_cast<std::int64_t>(r));
          const auto placed = static_cast<std::int64_t>(targets.size());
          const auto joining = static_cast<std::int64_t>(admitted.size()) - placed;
          if (placed > 0) {
            at::Tensor target_rows = at::tensor(targets, long_options).to(device);
            cache.place_rows(target_rows, fresh.cache.row_range(0, placed));
            logits = logits.index_copy(0, target_rows, fresh.logits.narrow(0, 0, placed).to(logits.scalar_type()));
            for (std::int64_t i = 0; i < placed; ++i)
              rows[static_cast<std::size_t>(targets[static_cast<std::size_t>(i)])] = std::move(admitted[static_cast<std::size_t>(i)]);
            trim_front();
          }
          // Rows beyond the finished ones join at the end. (While specs wait the batch is full, so every
          // admitted row finds a finished one; this is for a batch that is not.)
          if (joining > 0) {
            cache.append_rows(fresh.cache.row_range(placed, joining));
            logits = at::cat({logits, fresh.logits.narrow(0, placed, joining).to(logits.scalar_type())});
            for (std::int64_t i = placed; i < placed + joining; ++i) rows.push_back(std::move(admitted[static_cast<std::size_t>(i)]));
          }
        }
      }
    }
    if (static_cast<std::int64_t>(rows.size()) > max_batch) throw std::logic_error("engine: more rows than max_batch");
    if (decoding == 0) break;   // nothing decoding and nothing left to admit
    if (stop && stop->load()) {
      for (Row& row : rows)
        if (!row.finished) finish(row, "abort");
      break;
    }

    std::vector<RowSampling> row_sampling;
    std::vector<std::uint64_t> row_steps;
    for (const Row& row : rows) {
      row_sampling.push_back(row.spec.sampling);
      row_steps.push_back(row.steps);
    }
    SampledTokens sampled = sample_next_tokens(logits, row_sampling, row_steps);
    std::vector<std::int64_t> next_ids(rows.size(), 0), next_positions(rows.size(), 0);
    std::vector<std::uint8_t> next_valid(rows.size(), 0);
    for (std::size_t r = 0; r < rows.size(); ++r) {
      Row& row = rows[r];
      if (row.finished) continue;
      const GenerationSpec& spec = row.spec;
      const std::int64_t token = sampled.tokens[r];
      row.out.tokens.push_back(token);
      row.out.logprobs.push_back(sampled.logprobs[r]);
      row.out.sampling_logprobs.push_back(sampled.sampling_logprobs[r]);
      ++row.steps;
      const bool is_eos = !spec.ignore_eos && std::find(config.eos_token_ids.begin(), config.eos_token_ids.end(), token) != config.eos_token_ids.end();
      const bool is_stop_token = std::find(spec.stop_token_ids.begin(), spec.stop_token_ids.end(), token) != spec.stop_token_ids.end();
      if (is_eos || is_stop_token) {
        finish(row, "stop");
        continue;
      }
      const std::size_t before = row.bytes.size();
      row.bytes.append(tokenizer_.token_bytes(static_cast<tokenizer::TokenId>(token)));
      bool stopped = false;
      for (const std::string& s : spec.stop) {
        if (s.empty()) continue;
        const std::size_t from = before >= s.size() ? before - s.size() + 1 : 0;
        const std::size_t found = row.bytes.find(s, from);
        if (found != std::string::npos) {
          row.bytes.resize(found);
          stopped = true;
          break;
        }
      }
      if (stopped) {
        finish(row, "stop");
        continue;
      }
      if (static_cast<std::int64_t>(row.out.tokens.size()) >= row.max_new) {
        finish(row, "length");
        continue;
      }
      next_ids[r] = token;
      next_positions[r] = row.next_position++;
      next_valid[r] = 1;
    }
    // Finished rows leave the batch once they are a quarter of it, or all of it. While specs wait they stay,
    // for the next admission to take in place.
    const std::size_t finished = rows.size() - static_cast<std::size_t>(decoding);
    if (finished > 0 && (decoding == 0 || (exhausted && finished * 4 >= rows.size()))) {
      const std::vector<std::int64_t> keep = unfinished_rows();
      std::vector<std::int64_t> kept_ids, kept_positions;
      std::vector<std::uint8_t> kept_valid;
      for (std::int64_t r : keep) {
        kept_ids.push_back(next_ids[static_cast<std::size_t>(r)]);
        kept_positions.push_back(next_positions[static_cast<std::size_t>(r)]);
        kept_valid.push_back(next_valid[static_cast<std::size_t>(r)]);
      }
      keep_rows(keep);
      next_ids.swap(kept_ids);
      next_positions.swap(kept_positions);
      next_valid.swap(kept_valid);
      if (rows.empty()) continue;   // the batch is empty: admit more, or end
      trim_front();
    }
    logits = decode_steps.step(next_ids, next_positions, next_valid, cache);
  }
}

std::vector<GeneratedSequence> Engine::generate(const std::vector<GenerationSpec>& specs, const std::atomic<bool>* stop,
                                                std::int64_t max_batch) const {
  std::vector<GeneratedSequence> out(specs.size());
  for (auto& sequence : out) sequence.finish_reason = "abort";   // until generated (a stop can come first)
  std::size_t next = 0;
  stream([&]() -> std::optional<GenerationSpec> {
           if (next == specs.size()) return std::nullopt;
           return specs[next++];
         },
         max_batch, [&](std::size_t index, GeneratedSequence&& sequence) { out[index] = std::move(sequence); }, stop);
  return out;
}

}  // namespace r1lab::trainer

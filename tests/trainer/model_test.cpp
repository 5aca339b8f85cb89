// The model core against transformers (tiny random Qwen2 and Llama models made by transformers itself):
// logits, greedy generation, saving, and the sampler's distribution.
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <tuple>

#include "tests/support/tiny_models.h"
#include "tokenizer/bpe_tokenizer.h"
#include "trainer/causal_lm.h"
#include "trainer/engine.h"
#include "trainer/sampler.h"

namespace fs = std::filesystem;
using namespace r1lab::trainer;

namespace {

const fs::path& kWork = r1lab::testing::work_folder();

int run(const std::vector<std::string>& argv, const std::string& output = "/dev/null") {
  return r1lab::testing::run_program(argv, output);
}

void oracle(const std::vector<std::string>& args) { r1lab::testing::run_python_oracle("model_oracle.py", args); }

const fs::path& model_dir(const std::string& family) { return r1lab::testing::tiny_model(family); }

// Three prompts of different lengths for the engine's tests (mixed lengths, one of two tokens).
const std::vector<std::vector<std::int64_t>> kEnginePrompts = {{3838, 374, 220, 17, 10, 17, 30}, {9707, 11},
                                                               {9707, 11, 1879, 0, 358, 1079, 264, 1614, 13}};

// Three prompts of different lengths, left padded into one batch.
struct Batch {
  std::vector<std::vector<std::int64_t>> ids, mask;
};
Batch padded_batch() {
  Batch b;
  std::vector<std::vector<std::int64_t>> prompts = {{9707, 11, 1879, 0, 358, 1079, 264, 1614, 13, 151645, 198},
                                                    {3838, 374, 220, 17, 10, 17, 30},
                                                    {151644, 872}};
  std::size_t width = 0;
  for (const auto& p : prompts) width = std::max(width, p.size());
  for (const auto& p : prompts) {
    std::vector<std::int64_t> ids(width - p.size(), 151643), mask(width - p.size(), 0);
    ids.insert(ids.end(), p.begin(), p.end());
    mask.insert(mask.end(), p.size(), 1);
    b.ids.push_back(ids);
    b.mask.push_back(mask);
  }
  return b;
}

at::Tensor to_tensor(const std::vector<std::vector<std::int64_t>>& rows) {
  std::vector<std::int64_t> flat;
  for (const auto& r : rows) flat.insert(flat.end(), r.begin(), r.end());
  return at::tensor(flat, at::kLong).view({static_cast<std::int64_t>(rows.size()), static_cast<std::int64_t>(rows[0].size())});
}

at::Tensor transformers_logits(const fs::path& model, const Batch& batch, std::int64_t vocab, const std::string& dtype = "float32") {
  fs::path in = kWork / "logits_in.json", out = kWork / "logits_out.bin";
  std::ofstream(in) << nlohmann::json{{"ids", batch.ids}, {"mask", batch.mask}, {"dtype", dtype}}.dump();
  oracle({"logits", model.string(), in.string(), out.string()});
  std::ifstream file(out, std::ios::binary);
  std::vector<float> values(batch.ids.size() * batch.ids[0].size() * static_cast<std::size_t>(vocab));
  file.read(reinterpret_cast<char*>(values.data()), static_cast<std::streamsize>(values.size() * sizeof(float)));
  EXPECT_TRUE(file) << "the oracle wrote fewer logits than expected";
  return at::tensor(values).view({static_cast<std::int64_t>(batch.ids.size()), static_cast<std::int64_t>(batch.ids[0].size()), vocab});
}

// Largest |a - b| over the real (unpadded) positions.
double max_error_on_real_tokens(const at::Tensor& a, const at::Tensor& b, const Batch& batch) {
  at::Tensor mask = to_tensor(batch.mask).to(at::kBool);
  return (a.to(at::kFloat) - b).abs().index({mask}).max().item<double>();
}

class ModelTest : public ::testing::TestWithParam<std::string> {};

}  // namespace

TEST_P(ModelTest, LogitsMatchTransformersSingleAndPaddedBatch) {
  const fs::path& dir = model_dir(GetParam());
  auto model = CausalLM::load(dir);
  Batch batch = padded_batch();
  at::Tensor expected = transformers_logits(dir, batch, model->config().vocab_size);
  at::Tensor ours = model->logits(to_tensor(batch.ids), to_tensor(batch.mask));
  double error = max_error_on_real_tokens(ours, expected, batch);
  std::cout << GetParam() << ": max abs logit error, padded batch of 3: " << error << "\n";
  EXPECT_LT(error, 1e-4);
  // The first prompt alone (no padding) gives the same logits as in the batch.
  Batch single{{batch.ids[0]}, {batch.mask[0]}};
  at::Tensor alone = model->logits(to_tensor(single.ids), to_tensor(single.mask));
  EXPECT_LT(max_error_on_real_tokens(alone, expected.narrow(0, 0, 1), single), 1e-4);
}

TEST_P(ModelTest, GreedyGenerationEqualsTransformersGenerate) {
  const fs::path& dir = model_dir(GetParam());
  auto model = CausalLM::load(dir);
  auto tokenizer = r1lab::tokenizer::BpeTokenizer::load(dir);
  Batch batch = padded_batch();
  std::vector<std::vector<std::int64_t>> prompts;
  for (std::size_t i = 0; i < batch.ids.size(); ++i) {
    std::vector<std::int64_t> p;
    for (std::size_t t = 0; t < batch.ids[i].size(); ++t)
      if (batch.mask[i][t]) p.push_back(batch.ids[i][t]);
    prompts.push_back(p);
  }
  const int max_new = 24;
  fs::path in = kWork / "generate_in.json", out = kWork / "generate_out.json";
  std::ofstream(in) << nlohmann::json{{"prompts", prompts}, {"max_new_tokens", max_new}}.dump();
  oracle({"generate", dir.string(), in.string(), out.string()});
  auto expected = nlohmann::json::parse(std::ifstream(out))["tokens"].get<std::vector<std::vector<std::int64_t>>>();

  std::vector<GenerationSpec> specs;
  for (const auto& p : prompts) {
    GenerationSpec spec;
    spec.prompt = p;
    spec.sampling.temperature = 0;
    spec.max_new_tokens = max_new;
    specs.push_back(spec);
  }
  auto generated = Engine(*model, *tokenizer).generate(specs);   // all three in one batch
  ASSERT_EQ(generated.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(generated[i].tokens, expected[i]) << "prompt " << i;
    EXPECT_EQ(generated[i].logprobs.size(), generated[i].tokens.size());
  }
}

TEST_P(ModelTest, SavedModelLoadsInTransformersWithIdenticalLogits) {
  const fs::path& dir = model_dir(GetParam());
  auto model = CausalLM::load(dir);
  fs::path saved = kWork / (GetParam() + "_saved");
  model->save(saved, at::kFloat, /*max_shard_bytes=*/GetParam() == "qwen2" ? (std::size_t{1} << 20) : (std::size_t{5} << 30));
  Batch batch = padded_batch();
  at::Tensor original = transformers_logits(dir, batch, model->config().vocab_size);
  at::Tensor reloaded = transformers_logits(saved, batch, model->config().vocab_size);
  EXPECT_EQ(max_error_on_real_tokens(reloaded, original, batch), 0.0) << "transformers reads different weights back";
  EXPECT_TRUE(fs::exists(saved / "tokenizer.json")) << "the saved folder is not a whole model";
  // And r1lab reads its own checkpoint back.
  auto again = CausalLM::load(saved);
  EXPECT_EQ(max_error_on_real_tokens(again->logits(to_tensor(batch.ids), to_tensor(batch.mask)),
                                     model->logits(to_tensor(batch.ids), to_tensor(batch.mask)), batch), 0.0);
}

// bf16 rounds differently in every GEMM, so bf16 logits are compared with transformers' own bf16 logits,
// with fp32 as the yardstick: r1lab's bf16 must be as close to fp32 as transformers' bf16 is (x1.5).
TEST_P(ModelTest, Bfloat16AgreesWithTransformersBfloat16) {
  const fs::path& dir = model_dir(GetParam());
  auto bf16 = CausalLM::load(dir, {at::kCPU, "bfloat16"});
  EXPECT_EQ(bf16->dtype(), at::kBFloat16);
  Batch batch = padded_batch();
  at::Tensor ours = bf16->logits(to_tensor(batch.ids), to_tensor(batch.mask));
  at::Tensor theirs = transformers_logits(dir, batch, bf16->config().vocab_size, "bfloat16");
  at::Tensor fp32 = transformers_logits(dir, batch, bf16->config().vocab_size, "float32");
  double ours_vs_fp32 = max_error_on_real_tokens(ours, fp32, batch);
  double theirs_vs_fp32 = max_error_on_real_tokens(theirs, fp32, batch);
  double ours_vs_theirs = max_error_on_real_tokens(ours, theirs, batch);
  std::cout << GetParam() << ": bf16 max abs logit error vs fp32: r1lab " << ours_vs_fp32 << ", transformers "
            << theirs_vs_fp32 << "; r1lab vs transformers bf16 " << ours_vs_theirs << "\n";
  EXPECT_GT(ours_vs_fp32, 0.0) << "bf16 weights should round";
  EXPECT_LT(ours_vs_fp32, 1.5 * theirs_vs_fp32);
  // Same argmax almost everywhere (ties within bf16 rounding aside).
  at::Tensor mask = to_tensor(batch.mask).to(at::kBool);
  double agree = (ours.argmax(-1) == theirs.argmax(-1)).index({mask}).to(at::kFloat).mean().item<double>();
  EXPECT_GE(agree, 0.9);
}

INSTANTIATE_TEST_SUITE_P(Families, ModelTest, ::testing::Values("qwen2", "llama"));

TEST(ModelLoading, ErrorsNameTheTensorAndFile) {
  const fs::path& dir = model_dir("qwen2");
  fs::path broken = kWork / "broken";
  fs::create_directories(broken);
  fs::copy_file(dir / "model.safetensors", broken / "model.safetensors", fs::copy_options::overwrite_existing);
  auto config = nlohmann::json::parse(std::ifstream(dir / "config.json"));
  config["intermediate_size"] = 96;
  std::ofstream(broken / "config.json") << config.dump();
  try {
    CausalLM::load(broken);
    FAIL() << "a wrong shape was accepted";
  } catch (const std::runtime_error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("model.layers.0.mlp.gate_proj.weight"), std::string::npos) << what;
    EXPECT_NE(what.find("model.safetensors"), std::string::npos) << what;
    EXPECT_NE(what.find("[128, 64]"), std::string::npos) << what;
  }
  config["intermediate_size"] = 128;
  config["num_hidden_layers"] = 3;
  std::ofstream(broken / "config.json") << config.dump();
  try {
    CausalLM::load(broken);
    FAIL() << "a missing tensor was accepted";
  } catch (const std::runtime_error& e) {
    // Layer 2 is absent from the file: the error names one of its tensors and the folder.
    const std::string what = e.what();
    EXPECT_NE(what.find("'model.layers.2."), std::string::npos) << what;
    EXPECT_NE(what.find("is missing"), std::string::npos) << what;
    EXPECT_NE(what.find("broken"), std::string::npos) << what;
  }
}

TEST(Engine, SameSeedSameTextAndStopStrings) {
  const fs::path& dir = model_dir("qwen2");
  auto model = CausalLM::load(dir);
  auto tokenizer = r1lab::tokenizer::BpeTokenizer::load(dir);
  Engine engine(*model, *tokenizer);
  GenerationSpec spec;
  spec.prompt = {3838, 374, 220, 17, 10, 17, 30};
  spec.sampling = {1.0, 0.9, 0, 42};
  spec.max_new_tokens = 20;
  GenerationSpec other = spec;
  other.sampling.seed = 43;
  GenerationSpec longer = spec;
  longer.prompt = {9707, 11, 1879, 0, 358, 1079, 264, 1614, 13};
  // Seed 42 alone, and seed 42 in a batch beside other prompts and seeds: the same tokens.
  auto alone = engine.generate({spec});
  auto batched = engine.generate({longer, spec, other});
  EXPECT_EQ(alone[0].tokens, batched[1].tokens);
  EXPECT_NE(batched[1].tokens, batched[2].tokens) << "different seeds gave the same 20 tokens";
  // Samples that share a prompt share its prefill (one row, copied): each equals its run alone.
  auto shared = engine.generate({spec, other, spec, longer});
  auto other_alone = engine.generate({other});
  EXPECT_EQ(shared[0].tokens, alone[0].tokens);
  EXPECT_EQ(shared[2].tokens, alone[0].tokens);
  EXPECT_EQ(shared[1].tokens, other_alone[0].tokens);
  EXPECT_EQ(shared[3].tokens, batched[0].tokens);
  // A stop string cuts the text before it and ends the sequence.
  std::string text = alone[0].text;
  ASSERT_GT(text.size(), 6u);
  GenerationSpec stopping = spec;
  stopping.stop = {text.substr(3, 3)};
  auto stopped = engine.generate({stopping});
  EXPECT_EQ(stopped[0].finish_reason, "stop");
  EXPECT_EQ(stopped[0].text, text.substr(0, text.find(text.substr(3, 3))));
  EXPECT_LT(stopped[0].tokens.size(), alone[0].tokens.size() + 1);
}

// Continuous batching: at most max_batch rows decode; finished rows are replaced by waiting specs, which
// join the running batch (their cache aligned to its slots), and slots no row holds any more are dropped.
// Every sequence must come out as it does when all are decoded in one batch, and as it does alone.
TEST(Engine, ContinuousBatchingGivesTheSameSequences) {
  const fs::path& dir = model_dir("qwen2");
  auto model = CausalLM::load(dir);
  auto tokenizer = r1lab::tokenizer::BpeTokenizer::load(dir);
  Engine engine(*model, *tokenizer);
  const auto& prompts = kEnginePrompts;
  std::vector<GenerationSpec> specs;
  for (std::uint64_t i = 0; i < 14; ++i) {
    GenerationSpec spec;
    spec.prompt = prompts[i % 3];
    // Sampled from the 8 likeliest tokens: this random model's distribution over 151k tokens is nearly
    // flat, so over all of them a rounding difference between batch shapes (1e-7) would move a draw
    // across a token boundary every few dozen steps; over 8 tokens, never in practice.
    spec.sampling = {i % 4 == 0 ? 0.0 : 0.9, 0.95, 8, 100 + i};
    // Mixed lengths: short ones finish early and make room; long ones (up to 120 tokens) keep running
    // while others join, so the front slots of the finished ones are dropped.
    spec.max_new_tokens = i % 5 == 1 ? 120 : 6 + static_cast<std::int64_t>(i % 4) * 7;
    spec.ignore_eos = i % 2 == 0;
    specs.push_back(spec);
  }
  const auto together = engine.generate(specs);
  for (std::int64_t max_batch : {1, 3, 5}) {
    const auto continuous = engine.generate(specs, nullptr, max_batch);
    ASSERT_EQ(continuous.size(), specs.size());
    for (std::size_t i = 0; i < specs.size(); ++i) {
      EXPECT_EQ(continuous[i].tokens, together[i].tokens) << "spec " << i << ", max_batch " << max_batch;
      EXPECT_EQ(continuous[i].text, together[i].text) << "spec " << i;
      EXPECT_EQ(continuous[i].finish_reason, together[i].finish_reason) << "spec " << i;
      ASSERT_EQ(continuous[i].logprobs.size(), together[i].logprobs.size());
      for (std::size_t t = 0; t < together[i].logprobs.size(); ++t)
        EXPECT_NEAR(continuous[i].logprobs[t], together[i].logprobs[t], 1e-4) << "spec " << i << " token " << t;
    }
  }
  EXPECT_EQ(together[1].tokens.size(), 120u);
  // Streaming hands each sequence over once, as it finishes: a short one before the long ones.
  std::size_t pulled = 0;
  std::vector<std::size_t> order;
  engine.stream([&]() -> std::optional<GenerationSpec> { return pulled < specs.size() ? std::optional(specs[pulled++]) : std::nullopt; },
                3, [&](std::size_t index, GeneratedSequence&& sequence) {
                  EXPECT_EQ(sequence.tokens, together[index].tokens) << "spec " << index;
                  order.push_back(index);
                });
  ASSERT_EQ(order.size(), specs.size());
  std::vector<std::size_t> sorted = order;
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t i = 0; i < sorted.size(); ++i) EXPECT_EQ(sorted[i], i);
  EXPECT_NE(order.back(), 0u) << "the first spec (6 tokens) finished last";
}

// Both ways a waiting sequence enters a running batch give one batch's sequences: into a finished row in
// place, and, when its prompt is longer than the slots written so far (a 9-token prompt after a 2-token
// one finished in 4 slots), by the finished rows leaving and the new row joining at the end.
TEST(Engine, ALongPromptJoinsAShortBatchWithTheSameSequences) {
  const fs::path& dir = model_dir("qwen2");
  auto model = CausalLM::load(dir);
  auto tokenizer = r1lab::tokenizer::BpeTokenizer::load(dir);
  Engine engine(*model, *tokenizer);
  const std::vector<std::pair<std::size_t, std::int64_t>> prompt_and_length = {{1, 3}, {1, 40}, {2, 6}, {0, 5}, {1, 4}, {2, 9}};
  std::vector<GenerationSpec> specs;
  for (std::size_t i = 0; i < prompt_and_length.size(); ++i) {
    GenerationSpec spec;
    spec.prompt = kEnginePrompts[prompt_and_length[i].first];
    spec.sampling = {i % 2 == 0 ? 0.0 : 0.9, 0.95, 8, 400 + i};   // top-k 8: see ContinuousBatchingGivesTheSameSequences
    spec.max_new_tokens = prompt_and_length[i].second;
    spec.ignore_eos = true;
    specs.push_back(spec);
  }
  const auto together = engine.generate(specs);
  const auto two_rows = engine.generate(specs, nullptr, 2);
  for (std::size_t i = 0; i < specs.size(); ++i) {
    EXPECT_EQ(two_rows[i].tokens, together[i].tokens) << "spec " << i;
    EXPECT_EQ(static_cast<std::int64_t>(two_rows[i].tokens.size()), specs[i].max_new_tokens) << "spec " << i;
  }
}

// Prompts prefilled by length (unpadded, plain causal attention; what a GPU does) give the sequences of
// one padded prefill: distinct prompts of three lengths, one shared by several samples, two of one length.
TEST(Engine, PrefillByLengthGivesThePaddedPrefillsSequences) {
  const fs::path& dir = model_dir("llama");
  auto model = CausalLM::load(dir);
  auto tokenizer = r1lab::tokenizer::BpeTokenizer::load(dir);
  const std::vector<std::vector<std::int64_t>> prompts = {{3838, 374, 220, 17, 10, 17, 30}, {9707, 11},
                                                          {9707, 11, 1879, 0, 358, 1079, 264, 1614, 13}, {151644, 872}};
  std::vector<GenerationSpec> specs;
  for (std::uint64_t i = 0; i < 9; ++i) {
    GenerationSpec spec;
    spec.prompt = prompts[i % 4];
    spec.sampling = {i % 3 == 0 ? 0.0 : 0.8, 0.95, 8, 40 + i};
    spec.max_new_tokens = 10 + static_cast<std::int64_t>(i);
    spec.ignore_eos = true;
    specs.push_back(spec);
  }
  const auto padded = Engine(*model, *tokenizer, PrefillLayout::padded).generate(specs);
  for (std::int64_t max_batch : {0, 4}) {
    const auto by_length = Engine(*model, *tokenizer, PrefillLayout::by_length).generate(specs, nullptr, max_batch);
    for (std::size_t i = 0; i < specs.size(); ++i) {
      EXPECT_EQ(by_length[i].tokens, padded[i].tokens) << "spec " << i << ", max_batch " << max_batch;
      for (std::size_t t = 0; t < padded[i].logprobs.size(); ++t)
        EXPECT_NEAR(by_length[i].logprobs[t], padded[i].logprobs[t], 1e-4) << "spec " << i << " token " << t;
    }
  }
}

// Decode steps in fixed shapes (what a CUDA graph replays: inputs in one device buffer, the write slot a
// device tensor, attention over a window of 256 slots under the validity mask) give the eager steps'
// sequences: past a window boundary (prompt + 300 tokens), with rows joining and leaving the batch
// (continuous batching, max_batch 3 of 7 specs) and with greedy and sampled rows. Both families. The
// windowed attention sums over more (masked) slots, so logits agree to rounding, not bit for bit.
TEST(Engine, FixedShapeDecodeStepsGiveTheEagerSequences) {
  for (const char* family : {"qwen2", "llama"}) {
    const fs::path& dir = model_dir(family);
    auto model = CausalLM::load(dir);
    auto tokenizer = r1lab::tokenizer::BpeTokenizer::load(dir);
    const auto& prompts = kEnginePrompts;
    std::vector<GenerationSpec> specs;
    for (std::uint64_t i = 0; i < 7; ++i) {
      GenerationSpec spec;
      spec.prompt = prompts[i % 3];
      spec.sampling = {i % 2 == 0 ? 0.0 : 0.8, 0.95, 8, 7 + i};   // top-k 8: see ContinuousBatchingGivesTheSameSequences
      spec.max_new_tokens = i == 1 ? 300 : 20 + 9 * static_cast<std::int64_t>(i);
      spec.ignore_eos = true;
      specs.push_back(spec);
    }
    for (std::int64_t max_batch : {0, 3}) {
      const auto eager = Engine(*model, *tokenizer, PrefillLayout::padded, DecodeMode::eager).generate(specs, nullptr, max_batch);
      const auto fixed = Engine(*model, *tokenizer, PrefillLayout::padded, DecodeMode::fixed_shape).generate(specs, nullptr, max_batch);
      for (std::size_t i = 0; i < specs.size(); ++i) {
        ASSERT_EQ(fixed[i].tokens.size(), static_cast<std::size_t>(specs[i].max_new_tokens)) << family << " spec " << i;
        EXPECT_EQ(fixed[i].tokens, eager[i].tokens) << family << " spec " << i << ", max_batch " << max_batch;
        for (std::size_t t = 0; t < eager[i].logprobs.size() && t < fixed[i].logprobs.size(); ++t)
          EXPECT_NEAR(fixed[i].logprobs[t], eager[i].logprobs[t], 1e-4) << family << " spec " << i << " token " << t;
      }
    }
  }
}

// A fixed-shape step writes exactly one slot: the cache's keys, values and validity after it equal the
// eager step's, and cache.length advances by one in both.
TEST(Engine, FixedShapeDecodeStepWritesTheEagerStepsCache) {
  const fs::path& dir = model_dir("qwen2");
  auto model = CausalLM::load(dir);
  c10::InferenceMode inference;
  auto prompt = at::tensor(std::vector<std::int64_t>{9707, 11, 1879, 0, 358, 3838, 374, 220}, at::kLong).view({2, 4});
  auto positions = at::arange(4, at::kLong).unsqueeze(0).repeat({2, 1});
  auto valid = at::ones({2, 4}, at::kBool);
  valid[1][0] = false;   // a left-padded row
  KvCache eager_cache = model->new_cache(2, 6), fixed_cache = model->new_cache(2, 6);
  model->forward(prompt, positions, valid, eager_cache);
  model->forward(prompt, positions, valid, fixed_cache);
  DecodeSteps eager(*model, DecodeMode::eager), fixed(*model, DecodeMode::fixed_shape);
  for (int step = 0; step < 3; ++step) {   // the third step grows the cache past its 6 slots
    const std::vector<std::int64_t> ids{17 + step, 30 + step}, at_position{4 + step, 3 + step};
    const std::vector<std::uint8_t> real{1, static_cast<std::uint8_t>(step == 1 ? 0 : 1)};   // row 1 idles one step
    at::Tensor a = eager.step(ids, at_position, real, eager_cache);
    at::Tensor b = fixed.step(ids, at_position, real, fixed_cache);
    EXPECT_TRUE(at::allclose(a, b, 1e-5, 1e-5)) << "step " << step;
    ASSERT_EQ(fixed_cache.length, eager_cache.length);
    const std::int64_t n = eager_cache.length;
    EXPECT_TRUE(at::equal(fixed_cache.valid.narrow(1, 0, n), eager_cache.valid.narrow(1, 0, n))) << "step " << step;
    for (std::size_t l = 0; l < eager_cache.keys.size(); ++l) {
      EXPECT_TRUE(at::allclose(fixed_cache.keys[l].narrow(2, 0, n), eager_cache.keys[l].narrow(2, 0, n), 1e-5, 1e-5)) << "step " << step << " layer " << l;
      EXPECT_TRUE(at::allclose(fixed_cache.values[l].narrow(2, 0, n), eager_cache.values[l].narrow(2, 0, n), 1e-5, 1e-5)) << "step " << step << " layer " << l;
    }
  }
  EXPECT_EQ(eager_cache.length, 7);
  EXPECT_THROW(DecodeSteps(*model, DecodeMode::cuda_graph), std::invalid_argument);   // a CPU model
  EXPECT_EQ(DecodeSteps(*model, DecodeMode::automatic).mode(), DecodeMode::eager);
}

// A new sequence placed into a finished row of a longer cache (continuous batching in place) decodes as
// it does in a cache of its own; the other row is untouched, and the cache keeps its tensors (a decode
// graph captured on them stays valid).
TEST(Engine, ARowPlacedInAFinishedRowDecodesAsInItsOwnCache) {
  const fs::path& dir = model_dir("qwen2");
  auto model = CausalLM::load(dir);
  c10::InferenceMode inference;
  auto step_inputs = [](std::vector<std::int64_t> ids, std::vector<std::int64_t> positions) {
    const auto rows = static_cast<std::int64_t>(ids.size());
    return std::tuple{at::tensor(ids, at::kLong).view({rows, 1}), at::tensor(positions, at::kLong).view({rows, 1}),
                      at::ones({rows, 1}, at::kBool)};
  };
  // Two rows of 6 prompt tokens, decoded 3 steps: 9 slots written.
  auto prompt = at::tensor(std::vector<std::int64_t>{9707, 11, 1879, 0, 358, 3838, 374, 220, 17, 10, 17, 30}, at::kLong).view({2, 6});
  KvCache batch = model->new_cache(2, 16);
  model->forward(prompt, at::arange(6, at::kLong).unsqueeze(0).repeat({2, 1}), at::ones({2, 6}, at::kBool), batch);
  for (std::int64_t s = 0; s < 3; ++s) {
    auto [ids, positions, valid] = step_inputs({40 + s, 50 + s}, {6 + s, 6 + s});
    model->forward(ids, positions, valid, batch, /*last_only=*/true);
  }
  // A new 3-token prompt in a cache of its own.
  auto fresh_prompt = at::tensor(std::vector<std::int64_t>{151644, 872, 198}, at::kLong).view({1, 3});
  KvCache alone = model->new_cache(1, 16);
  model->forward(fresh_prompt, at::arange(3, at::kLong).view({1, 3}), at::ones({1, 3}, at::kBool), alone);
  const void* keys_before = batch.keys[0].data_ptr();
  const void* valid_before = batch.valid.data_ptr();
  at::Tensor row_zero_keys = batch.keys[0][0].clone();

  batch.place_rows(at::tensor(std::vector<std::int64_t>{1}, at::kLong), alone.row_range(0, 1));
  EXPECT_EQ(batch.keys[0].data_ptr(), keys_before);
  EXPECT_EQ(batch.valid.data_ptr(), valid_before);
  EXPECT_EQ(batch.length, 9);
  EXPECT_TRUE(at::equal(batch.keys[0][0], row_zero_keys));
  std::vector<std::uint8_t> expected_valid(9, 0);
  for (int slot = 6; slot < 9; ++slot) expected_valid[static_cast<std::size_t>(slot)] = 1;   // aligned at the last slot
  EXPECT_TRUE(at::equal(batch.valid[1].narrow(0, 0, 9), at::tensor(expected_valid, at::kByte).to(at::kBool)));
  EXPECT_THROW(alone.place_rows(at::tensor(std::vector<std::int64_t>{0}, at::kLong), batch.row_range(0, 1)), std::invalid_argument);

  for (std::int64_t s = 0; s < 4; ++s) {
    auto [ids, positions, valid] = step_inputs({60 + s, 70 + s}, {9 + s, 3 + s});
    at::Tensor together = model->forward(ids, positions, valid, batch, /*last_only=*/true);
    auto [own_ids, own_positions, own_valid] = step_inputs({70 + s}, {3 + s});
    at::Tensor own = model->forward(own_ids, own_positions, own_valid, alone, /*last_only=*/true);
    EXPECT_TRUE(at::allclose(together[1], own[0], 1e-4, 1e-4))
        << "step " << s << ": max difference " << (together[1] - own[0]).abs().max().item<double>();
  }
}

// The sampler draws from the distribution transformers' warpers define: 100,000 draws from fixed logits
// per setting; Pearson's chi-square against the expected probabilities (computed here, in double, from
// the definition: softmax at the temperature, the k largest, then the smallest descending prefix whose
// renormalised mass reaches p) stays under its 0.999 quantile, and no truncated token is ever drawn.
// Cells expected fewer than 20 times are pooled into one.
namespace {

std::vector<double> expected_distribution(const std::vector<double>& logits, double temperature, std::int64_t top_k, double top_p) {
  std::vector<double> p(logits.size());
  double z = 0;
  for (std::size_t i = 0; i < p.size(); ++i) z += p[i] = std::exp(logits[i] / temperature);
  for (double& x : p) x /= z;
  std::vector<std::size_t> order(p.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](auto a, auto b) { return p[a] > p[b]; });
  std::vector<double> kept(p.size(), 0);
  std::size_t k = top_k > 0 ? static_cast<std::size_t>(top_k) : p.size();
  double total = 0;
  for (std::size_t r = 0; r < k; ++r) total += p[order[r]];
  double before = 0;
  for (std::size_t r = 0; r < k; ++r) {
    if (r > 0 && before >= top_p) break;
    kept[order[r]] = p[order[r]] / total;
    before += p[order[r]] / total;
  }
  double sum = 0;
  for (double x : kept) sum += x;
  for (double& x : kept) x /= sum;
  return kept;
}

// The 0.999 quantile of chi-square with `dof` degrees of freedom (Wilson-Hilferty; z = 3.09).
double chi_square_quantile(int dof) {
  double k = dof, a = 2.0 / (9.0 * k);
  return k * std::pow(1 - a + 3.09 * std::sqrt(a), 3);
}

void check_sampling(const std::vector<double>& logits, double temperature, std::int64_t top_k, double top_p) {
  const auto V = static_cast<std::int64_t>(logits.size());
  const int rows = 1000, steps = 100;
  at::Tensor batch = at::tensor(logits, at::kDouble).to(at::kFloat).unsqueeze(0).expand({rows, V}).contiguous();
  std::vector<RowSampling> sampling;
  for (int r = 0; r < rows; ++r) sampling.push_back({temperature, top_p, top_k, static_cast<std::uint64_t>(r) * 7919 + 1});
  std::vector<double> counts(static_cast<std::size_t>(V), 0);
  for (int s = 0; s < steps; ++s) {
    auto drawn = sample_next_tokens(batch, sampling, std::vector<std::uint64_t>(rows, static_cast<std::uint64_t>(s)));
    for (auto t : drawn.tokens) counts[static_cast<std::size_t>(t)] += 1;
  }
  auto expected = expected_distribution(logits, temperature, top_k, top_p);
  const double n = rows * steps;
  double chi2 = 0, pooled_count = 0, pooled_expected = 0;
  int cells = 0;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    if (expected[i] == 0) {
      EXPECT_EQ(counts[i], 0) << "token " << i << " is outside top-k/top-p but was drawn";
      continue;
    }
    if (n * expected[i] < 20) {
      pooled_count += counts[i];
      pooled_expected += n * expected[i];
      continue;
    }
    chi2 += (counts[i] - n * expected[i]) * (counts[i] - n * expected[i]) / (n * expected[i]);
    ++cells;
  }
  if (pooled_expected > 0) {
    chi2 += (pooled_count - pooled_expected) * (pooled_count - pooled_expected) / pooled_expected;
    ++cells;
  }
  ASSERT_GE(cells, 2);
  EXPECT_LT(chi2, chi_square_quantile(cells - 1)) << "V " << V << " temperature " << temperature << " top_k " << top_k << " top_p " << top_p;
}

}  // namespace

TEST(Sampler, DrawsFromTheWarpedDistribution) {
  const std::vector<double> small = {2.0, 1.5, 1.2, 0.3, 0.0, -0.5, -1.0, 0.9};
  check_sampling(small, 1.0, 0, 1.0);
  check_sampling(small, 0.7, 0, 0.8);
  check_sampling(small, 1.3, 3, 1.0);
  check_sampling(small, 0.6, 5, 0.95);
  // A vocabulary of 3,000 with a peaked head and a long flat tail: the nucleus boundary falls inside
  // the tail, where normalising by anything but the whole mass would show.
  std::vector<double> large(3000);
  std::uint64_t state = 12345;   // fixed pseudo-random tail, so the test is the same every run
  for (std::size_t i = 0; i < large.size(); ++i) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    double noise = static_cast<double>(state >> 11) * 0x1.0p-53 - 0.5;
    large[i] = (i < 10 ? 7.0 - static_cast<double>(i) * 0.4 : 0.0) + noise;
  }
  check_sampling(large, 1.0, 0, 0.95);
  check_sampling(large, 0.6, 0, 0.95);
  check_sampling(large, 1.0, 50, 0.9);
  check_sampling(large, 1.5, 0, 1.0);
}

TEST(Sampler, GreedyAtTemperatureZeroAndLogprobsUnderTheModel) {
  at::Tensor logits = at::tensor(std::vector<float>{0.1f, 3.0f, -1.0f, 2.9f}).unsqueeze(0);
  auto drawn = sample_next_tokens(logits, {{0.0, 1.0, 0, 1}}, {0});
  EXPECT_EQ(drawn.tokens[0], 1);
  EXPECT_NEAR(drawn.logprobs[0], at::log_softmax(logits, -1)[0][1].item<double>(), 1e-6);
}

// The sampler's tensor path (what runs on a GPU) draws the host path's tokens from the same logits:
// every setting, rows with ties (logits rounded to bf16 make many equal probabilities) and without.
TEST(Sampler, TensorPathDrawsTheHostPathsTokens) {
  const std::int64_t rows = 240, vocab = 3000;
  at::manual_seed(11);
  at::Tensor logits = at::randn({rows, vocab}) * 3;
  logits.narrow(0, 0, rows / 2).copy_(logits.narrow(0, 0, rows / 2).to(at::kBFloat16).to(at::kFloat));
  std::vector<RowSampling> settings;
  std::vector<std::uint64_t> steps;
  const double temperatures[] = {0.0, 0.6, 1.0, 1.3};
  const std::int64_t top_ks[] = {0, 1, 20, 500, vocab + 5};
  const double top_ps[] = {1.0, 0.95, 0.5, 0.05};
  for (std::int64_t r = 0; r < rows; ++r) {
    settings.push_back({temperatures[r % 4], top_ps[(r / 4) % 4], top_ks[(r / 16) % 5], static_cast<std::uint64_t>(1000 + r)});
    steps.push_back(static_cast<std::uint64_t>(r % 7));
  }
  for (int round = 0; round < 5; ++round) {
    for (auto& step : steps) step += 13;
    auto host = sample_next_tokens(logits, settings, steps, SamplerPath::host);
    auto tensors = sample_next_tokens(logits, settings, steps, SamplerPath::tensors);
    for (std::int64_t r = 0; r < rows; ++r)
      EXPECT_EQ(tensors.tokens[static_cast<std::size_t>(r)], host.tokens[static_cast<std::size_t>(r)])
          << "row " << r << " (T " << settings[static_cast<std::size_t>(r)].temperature << ", top-k " << settings[static_cast<std::size_t>(r)].top_k
          << ", top-p " << settings[static_cast<std::size_t>(r)].top_p << "), round " << round;
    EXPECT_EQ(tensors.logprobs, host.logprobs);
  }
}

TEST(BuiltinBackend, EvalRunsEndToEndWithoutAServer) {
  const fs::path& dir = model_dir("qwen2");
  fs::path out = kWork / "eval_run";
  int code = run({R1LAB_BINARY, "eval", "--backend", "builtin", "--model", dir.string(), "--task", "math500", "--limit", "3",
                  "-n", "2", "--max-tokens", "12", "--out", out.string(), "--progress", "none", "--data-dir", R1LAB_SHARED_DATA},
                 (kWork / "eval_stdout.txt").string());
  EXPECT_EQ(code, 0);
  auto results = nlohmann::json::parse(std::ifstream(out / "math500" / "results.json"));
  EXPECT_EQ(results.dump().find("builtin") != std::string::npos, true) << "results.json does not name the backend";
  std::ifstream verdicts(out / "math500" / "verdicts.jsonl");
  int lines = 0;
  for (std::string line; std::getline(verdicts, line);) ++lines;
  EXPECT_EQ(lines, 6);
  // Resuming with other numerics (bf16) is refused, naming what differs.
  fs::path errors = kWork / "eval_resume.txt";
  r1lab::testing::ChildProcess resume({R1LAB_BINARY, "eval", "--backend", "builtin", "--model", dir.string(), "--task", "math500",
                                      "--limit", "3", "-n", "2", "--max-tokens", "12", "--out", out.string(), "--progress", "none",
                                      "--data-dir", R1LAB_SHARED_DATA, "--dtype", "bfloat16"},
                                     errors.string(), "/dev/null");
  EXPECT_EQ(resume.wait(), 2);
  std::ifstream error_text(errors);
  std::string message((std::istreambuf_iterator<char>(error_text)), {});
  EXPECT_NE(message.find("dtype"), std::string::npos) << message;
  // The folder is the identity however its path is written: "dir/." resumes (nothing left to do).
  EXPECT_EQ(run({R1LAB_BINARY, "eval", "--backend", "builtin", "--model", (dir / ".").string(), "--task", "math500", "--limit", "3",
                 "-n", "2", "--max-tokens", "12", "--out", out.string(), "--progress", "none", "--data-dir", R1LAB_SHARED_DATA},
                (kWork / "eval_resume_path.txt").string()),
            0);
  // Weights overwritten in place (one byte of a tensor) make another model: the resume is refused.
  fs::path copy = kWork / "eval_model_copy";
  fs::remove_all(copy);
  fs::copy(dir, copy, fs::copy_options::recursive);
  fs::path copy_out = kWork / "eval_run_copy";
  fs::remove_all(copy_out);
  std::vector<std::string> on_copy = {R1LAB_BINARY, "eval", "--backend", "builtin", "--model", copy.string(), "--task", "math500",
                                      "--limit", "1", "-n", "1", "--max-tokens", "4", "--out", copy_out.string(), "--progress", "none",
                                      "--data-dir", R1LAB_SHARED_DATA};
  ASSERT_EQ(run(on_copy, (kWork / "eval_copy.txt").string()), 0);
  {
    std::fstream weights(copy / "model.safetensors", std::ios::in | std::ios::out | std::ios::binary);
    weights.seekg(-1, std::ios::end);
    char last = 0;
    weights.read(&last, 1);
    weights.seekp(-1, std::ios::end);
    last = static_cast<char>(last ^ 0x01);
    weights.write(&last, 1);
  }
  fs::path refused = kWork / "eval_copy_refused.txt";
  r1lab::testing::ChildProcess changed(on_copy, refused.string(), "/dev/null");
  EXPECT_EQ(changed.wait(), 2);
  std::ifstream refused_text(refused);
  std::string why((std::istreambuf_iterator<char>(refused_text)), {});
  EXPECT_NE(why.find("model_sha256"), std::string::npos) << why;
}

TEST(Engine, RunsInBfloat16) {
  const fs::path& dir = model_dir("llama");
  auto model = CausalLM::load(dir, {at::kCPU, "bfloat16"});
  auto tokenizer = r1lab::tokenizer::BpeTokenizer::load(dir);
  GenerationSpec spec;
  spec.prompt = {3838, 374, 220, 17, 10, 17, 30};
  spec.sampling = {0.7, 0.95, 0, 7};
  spec.max_new_tokens = 16;
  spec.ignore_eos = true;
  auto out = Engine(*model, *tokenizer).generate({spec, spec});
  ASSERT_EQ(out[0].tokens.size(), 16u);
  EXPECT_EQ(out[0].tokens, out[1].tokens) << "the same seed gave different tokens in bf16";
  EXPECT_EQ(out[0].finish_reason, "length");
  for (float lp : out[0].logprobs) {
    EXPECT_TRUE(std::isfinite(lp));
    EXPECT_LE(lp, 0.0f);
  }
}

TEST(GenerateCommand, WritesTokenIdsAndLogprobsAndNamesBadLines) {
  const fs::path& dir = model_dir("qwen2");
  fs::path input = kWork / "prompts.jsonl", output = kWork / "completions.jsonl";
  std::ofstream(input) << R"({"id": "a", "prompt": "What is 2+2?"})" << "\n"
                       << R"({"messages": [{"role": "user", "content": "Hi"}], "n": 2, "seed": 5})" << "\n";
  std::vector<std::string> command = {R1LAB_BINARY, "generate", "--model", dir.string(), "--input", input.string(),
                                      "--output", output.string(), "--temperature", "0", "--max-new-tokens", "6"};
  ASSERT_EQ(run(command), 0);
  std::vector<nlohmann::json> rows;
  std::ifstream in(output);
  for (std::string line; std::getline(in, line);) rows.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0]["id"], "a");
  EXPECT_EQ(rows[0]["token_ids"].size(), rows[0]["logprobs"].size());
  EXPECT_EQ(rows[1]["index"], 1);
  EXPECT_EQ(rows[2]["sample"], 1);
  EXPECT_EQ(rows[1]["token_ids"], rows[2]["token_ids"]) << "greedy samples of one prompt differ";
  // The same greedy run again gives the same tokens.
  ASSERT_EQ(run(command), 0);
  std::ifstream again(output);
  std::string first;
  std::getline(again, first);
  EXPECT_EQ(nlohmann::json::parse(first)["token_ids"], rows[0]["token_ids"]);
  // A line that is neither a prompt nor messages: the error names the file and line.
  std::ofstream(input, std::ios::app) << R"({"text": "no prompt"})" << "\n";
  fs::path errors = kWork / "generate_errors.txt";
  r1lab::testing::ChildProcess bad({R1LAB_BINARY, "generate", "--model", dir.string(), "--input", input.string()}, errors.string(), "/dev/null");
  EXPECT_EQ(bad.wait(), 2);
  std::ifstream error_text(errors);
  std::string message((std::istreambuf_iterator<char>(error_text)), {});
  EXPECT_NE(message.find(input.string() + ":3"), std::string::npos) << message;
}

// The model core and training on the device the run targets (label gpu): transformers on the same device
// as the oracle, for the tiny test models. R1LAB_TEST_DEVICE names the device (default cuda; every test
// skips when it is absent). scripts/gpu_check.sh runs these on the GPU machine; its --dry-run runs them
// here with R1LAB_TEST_DEVICE=cpu, so that what the GPU machine will run has already run once.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <ATen/Context.h>
#include <ATen/core/grad_mode.h>
#include <c10/core/InferenceMode.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "tests/support/tiny_models.h"
#include "tokenizer/bpe_tokenizer.h"
#include "trainer/causal_lm.h"
#include "trainer/distributed.h"
#include "trainer/engine.h"
#include "trainer/losses.h"
#include "trainer/optimizer.h"
#include "trainer/sampler.h"

namespace fs = std::filesystem;
using namespace r1lab::trainer;

namespace {

std::string device_name() {
  const char* name = std::getenv("R1LAB_TEST_DEVICE");
  return name != nullptr && *name != '\0' ? name : "cuda";
}
at::Device device() { return at::Device(device_name()); }

const fs::path& kWork = r1lab::testing::work_folder();

LoadOptions on(at::Device where, const std::string& dtype) {
  LoadOptions options;
  options.device = where;
  options.dtype = dtype;
  return options;
}

void oracle(const std::vector<std::string>& args) { r1lab::testing::run_python_oracle("model_oracle.py", args); }

// Three prompts of different lengths (left padded into one batch where a batch is needed).
const std::vector<std::vector<std::int64_t>> kPrompts = {{9707, 11, 1879, 0, 358, 1079, 264, 1614, 13, 151645, 198},
                                                          {3838, 374, 220, 17, 10, 17, 30},
                                                          {151644, 872}};

struct Batch {
  at::Tensor ids, mask;
  std::vector<std::vector<std::int64_t>> id_rows, mask_rows;
};
Batch padded_batch() {
  Batch b;
  std::size_t width = 0;
  for (const auto& p : kPrompts) width = std::max(width, p.size());
  std::vector<std::int64_t> ids, mask;
  for (const auto& p : kPrompts) {
    std::vector<std::int64_t> row_ids(width - p.size(), 151643), row_mask(width - p.size(), 0);
    row_ids.insert(row_ids.end(), p.begin(), p.end());
    row_mask.insert(row_mask.end(), p.size(), 1);
    ids.insert(ids.end(), row_ids.begin(), row_ids.end());
    mask.insert(mask.end(), row_mask.begin(), row_mask.end());
    b.id_rows.push_back(row_ids);
    b.mask_rows.push_back(row_mask);
  }
  const auto rows = static_cast<std::int64_t>(kPrompts.size()), columns = static_cast<std::int64_t>(width);
  b.ids = at::tensor(ids, at::kLong).view({rows, columns});
  b.mask = at::tensor(mask, at::kLong).view({rows, columns});
  return b;
}

// transformers' logits of the batch on the test device, as float32 on the CPU.
at::Tensor transformers_logits(const fs::path& model, const Batch& batch, std::int64_t vocab, const std::string& dtype) {
  fs::path in = kWork / "gpu_logits_in.json", out = kWork / "gpu_logits_out.bin";
  std::ofstream(in) << nlohmann::json{{"ids", batch.id_rows}, {"mask", batch.mask_rows}, {"dtype", dtype}}.dump();
  oracle({"logits", model.string(), in.string(), out.string(), "--device", device_name()});
  std::ifstream file(out, std::ios::binary);
  std::vector<float> values(static_cast<std::size_t>(batch.ids.numel() * vocab));
  file.read(reinterpret_cast<char*>(values.data()), static_cast<std::streamsize>(values.size() * sizeof(float)));
  EXPECT_TRUE(file) << "the oracle wrote fewer logits than expected";
  return at::tensor(values).view({batch.ids.size(0), batch.ids.size(1), vocab});
}

double max_error_on_real_tokens(const at::Tensor& a, const at::Tensor& b, const Batch& batch) {
  return (a.to(at::kCPU).to(at::kFloat) - b).abs().index({batch.mask.to(at::kBool)}).max().item<double>();
}

class DeviceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (device().is_cuda() && !at::hasCUDA()) GTEST_SKIP() << "no CUDA device (R1LAB_TEST_DEVICE=" << device_name() << ")";
  }
};
class OnDevice : public DeviceTest, public ::testing::WithParamInterface<std::string> {};

}  // namespace

TEST_P(OnDevice, Float32LogitsMatchTransformersOnTheSameDevice) {
  const fs::path& dir = r1lab::testing::tiny_model(GetParam());
  auto model = CausalLM::load(dir, on(device(), "float32"));
  Batch batch = padded_batch();
  at::Tensor ours = model->logits(batch.ids.to(device()), batch.mask.to(device()));
  at::Tensor theirs = transformers_logits(dir, batch, model->config().vocab_size, "float32");
  double error = max_error_on_real_tokens(ours, theirs, batch);
  std::cout << GetParam() << " on " << device_name() << ": max abs fp32 logit error " << error << "\n";
  EXPECT_LT(error, 1e-4);
}

TEST_P(OnDevice, GreedyGenerationEqualsTransformersOnTheSameDevice) {
  const fs::path& dir = r1lab::testing::tiny_model(GetParam());
  auto model = CausalLM::load(dir, on(device(), "float32"));
  auto tokenizer = r1lab::tokenizer::BpeTokenizer::load(dir);
  const int max_new = 24;
  fs::path in = kWork / "gpu_generate_in.json", out = kWork / "gpu_generate_out.json";
  std::ofstream(in) << nlohmann::json{{"prompts", kPrompts}, {"max_new_tokens", max_new}}.dump();
  oracle({"generate", dir.string(), in.string(), out.string(), "--device", device_name()});
  auto expected = nlohmann::json::parse(std::ifstream(out))["tokens"].get<std::vector<std::vector<std::int64_t>>>();
  std::vector<GenerationSpec> specs;
  for (const auto& prompt : kPrompts) {
    GenerationSpec spec;
    spec.prompt = prompt;
    spec.sampling.temperature = 0;
    spec.max_new_tokens = max_new;
    specs.push_back(spec);
  }
  auto generated = Engine(*model, *tokenizer).generate(specs);   // one batch; transformers: each alone
  ASSERT_EQ(generated.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(generated[i].tokens, expected[i]) << "prompt " << i;
}

TEST_P(OnDevice, Bfloat16IsAsCloseToFloat32AsTransformersBfloat16) {
  const fs::path& dir = r1lab::testing::tiny_model(GetParam());
  auto model = CausalLM::load(dir, on(device(), "bfloat16"));
  ASSERT_EQ(model->dtype(), at::kBFloat16);
  Batch batch = padded_batch();
  at::Tensor ours = model->logits(batch.ids.to(device()), batch.mask.to(device()));
  at::Tensor theirs = transformers_logits(dir, batch, model->config().vocab_size, "bfloat16");
  at::Tensor fp32 = transformers_logits(dir, batch, model->config().vocab_size, "float32");
  double ours_vs_fp32 = max_error_on_real_tokens(ours, fp32, batch), theirs_vs_fp32 = max_error_on_real_tokens(theirs, fp32, batch);
  std::cout << GetParam() << " on " << device_name() << ": bf16 max abs logit error vs fp32: r1lab " << ours_vs_fp32
            << ", transformers " << theirs_vs_fp32 << "\n";
  EXPECT_LT(ours_vs_fp32, 1.5 * theirs_vs_fp32 + 1e-3);
}

INSTANTIATE_TEST_SUITE_P(Families, OnDevice, ::testing::Values("qwen2", "llama"));

class OnDeviceEngine : public DeviceTest {};

TEST_F(OnDeviceEngine, ContinuousBatchingGivesTheSameSequences) {
  const fs::path& dir = r1lab::testing::tiny_model("qwen2");
  auto model = CausalLM::load(dir, on(device(), "float32"));
  auto tokenizer = r1lab::tokenizer::BpeTokenizer::load(dir);
  Engine engine(*model, *tokenizer);
  std::vector<GenerationSpec> specs;
  for (std::uint64_t i = 0; i < 12; ++i) {
    GenerationSpec spec;
    spec.prompt = kPrompts[i % 3];
    spec.sampling = {i % 4 == 0 ? 0.0 : 0.9, 0.95, 8, 200 + i};   // top-k 8: see model_test.cpp
    spec.max_new_tokens = i % 5 == 1 ? 80 : 5 + static_cast<std::int64_t>(i % 4) * 6;
    spec.ignore_eos = true;
    specs.push_back(spec);
  }
  const auto together = engine.generate(specs);
  for (std::int64_t max_batch : {2, 5}) {
    const auto continuous = engine.generate(specs, nullptr, max_batch);
    for (std::size_t i = 0; i < specs.size(); ++i)
      EXPECT_EQ(continuous[i].tokens, together[i].tokens) << "spec " << i << ", max_batch " << max_batch;
  }
}

// Decode steps replayed as CUDA graphs (on the CPU of a dry run: the fixed-shape steps they capture)
// give the eager steps' sequences, past a window boundary and with rows joining and leaving the batch.
TEST_F(OnDeviceEngine, GraphDecodeStepsGiveTheEagerSequences) {
  const fs::path& dir = r1lab::testing::tiny_model("qwen2");
  auto model = CausalLM::load(dir, on(device(), "float32"));
  auto tokenizer = r1lab::tokenizer::BpeTokenizer::load(dir);
  const DecodeMode replayed = device().is_cuda() ? DecodeMode::cuda_graph : DecodeMode::fixed_shape;
  std::vector<GenerationSpec> specs;
  for (std::uint64_t i = 0; i < 7; ++i) {
    GenerationSpec spec;
    spec.prompt = kPrompts[i % 3];
    spec.sampling = {i % 2 == 0 ? 0.0 : 0.9, 0.95, 8, 300 + i};
    spec.max_new_tokens = i == 1 ? 300 : 20 + 9 * static_cast<std::int64_t>(i);
    spec.ignore_eos = true;
    specs.push_back(spec);
  }
  for (std::int64_t max_batch : {0, 3}) {
    const auto eager = Engine(*model, *tokenizer, PrefillLayout::automatic, DecodeMode::eager).generate(specs, nullptr, max_batch);
    const auto graphs = Engine(*model, *tokenizer, PrefillLayout::automatic, replayed).generate(specs, nullptr, max_batch);
    for (std::size_t i = 0; i < specs.size(); ++i)
      EXPECT_EQ(graphs[i].tokens, eager[i].tokens) << "spec " << i << ", max_batch " << max_batch;
  }
}

// A graph is captured once per binding (rows, window, cache tensors) and replayed otherwise; each replay
// gives the eager step's logits. Captured again when the cache grows and when rows leave; not when a new
// sequence takes a row in place (continuous batching, KvCache::place_rows).
TEST_F(OnDeviceEngine, DecodeGraphsAreCapturedOncePerBinding) {
  const fs::path& dir = r1lab::testing::tiny_model("qwen2");
  auto model = CausalLM::load(dir, on(device(), "float32"));
  c10::InferenceMode inference;
  const bool graphs = device().is_cuda();
  auto prompt = at::tensor(std::vector<std::int64_t>{9707, 11, 1879, 0, 358, 3838, 374, 220}, at::kLong).view({2, 4}).to(device());
  auto positions = at::arange(4, at::kLong).unsqueeze(0).repeat({2, 1}).to(device());
  auto valid = at::ones({2, 4}, at::kBool).to(device());
  KvCache eager_cache = model->new_cache(2, 6), replayed_cache = model->new_cache(2, 6);
  model->forward(prompt, positions, valid, eager_cache);
  model->forward(prompt, positions, valid, replayed_cache);
  DecodeSteps eager(*model, DecodeMode::eager), replayed(*model, graphs ? DecodeMode::cuda_graph : DecodeMode::fixed_shape);
  auto compare = [&](const std::vector<std::int64_t>& ids, const std::vector<std::int64_t>& at_position, const char* what) {
    const std::vector<std::uint8_t> real(ids.size(), 1);
    at::Tensor a = eager.step(ids, at_position, real, eager_cache).to(at::kCPU);
    at::Tensor b = replayed.step(ids, at_position, real, replayed_cache).to(at::kCPU);
    EXPECT_TRUE(at::allclose(a, b, 1e-4, 1e-4)) << what << ": max difference " << (a - b).abs().max().item<double>();
  };
  compare({17, 30}, {4, 4}, "first step (captured)");
  compare({18, 31}, {5, 5}, "second step (replayed)");
  if (graphs) {
    EXPECT_EQ(replayed.captures(), 1);
  }
  compare({19, 32}, {6, 6}, "third step (the cache grew past 6 slots)");
  if (graphs) {
    EXPECT_EQ(replayed.captures(), 2);
  }
  // A new 3-token sequence takes row 0 in place.
  KvCache fresh = model->new_cache(1, 3);
  model->forward(at::tensor(std::vector<std::int64_t>{151644, 872, 198}, at::kLong).view({1, 3}).to(device()),
                 at::arange(3, at::kLong).view({1, 3}).to(device()), at::ones({1, 3}, at::kBool).to(device()), fresh);
  at::Tensor first_row = at::tensor(std::vector<std::int64_t>{0}, at::kLong).to(device());
  eager_cache.place_rows(first_row, fresh);
  replayed_cache.place_rows(first_row, fresh);
  compare({20, 33}, {3, 7}, "after a new sequence took row 0 in place");
  if (graphs) {
    EXPECT_EQ(replayed.captures(), 2);
  }
  at::Tensor second_row = at::tensor(std::vector<std::int64_t>{1}, at::kLong).to(device());
  eager_cache.select_rows(second_row);
  replayed_cache.select_rows(second_row);
  compare({34}, {8}, "after a row left");
  compare({35}, {9}, "replayed again");
  if (graphs) {
    EXPECT_EQ(replayed.captures(), 3);
  }
}

// In bf16 the replayed steps take other attention kernels than the eager ones (a masked 256-slot window
// instead of the cache's exact length), so they round differently: they must stay as close to the fp32
// model's logits as the eager bf16 steps are, step after step (rounding must not pile up in the cache).
TEST_F(OnDeviceEngine, Bfloat16ReplayedStepsAreAsCloseToFloat32AsEagerSteps) {
  const fs::path& dir = r1lab::testing::tiny_model("qwen2");
  auto exact = CausalLM::load(dir, on(device(), "float32"));
  auto model = CausalLM::load(dir, on(device(), "bfloat16"));
  c10::InferenceMode inference;
  auto prompt = at::tensor(std::vector<std::int64_t>{9707, 11, 1879, 0, 358, 3838, 374, 220}, at::kLong).view({2, 4}).to(device());
  auto positions = at::arange(4, at::kLong).unsqueeze(0).repeat({2, 1}).to(device());
  auto valid = at::ones({2, 4}, at::kBool).to(device());
  KvCache exact_cache = exact->new_cache(2, 8), eager_cache = model->new_cache(2, 8), replayed_cache = model->new_cache(2, 8);
  exact->forward(prompt, positions, valid, exact_cache);
  model->forward(prompt, positions, valid, eager_cache);
  model->forward(prompt, positions, valid, replayed_cache);
  DecodeSteps reference(*exact, DecodeMode::eager), eager(*model, DecodeMode::eager);
  DecodeSteps replayed(*model, device().is_cuda() ? DecodeMode::cuda_graph : DecodeMode::fixed_shape);
  double eager_error = 0, replayed_error = 0;
  for (std::int64_t step = 0; step < 12; ++step) {
    const std::vector<std::int64_t> ids{17 + step, 30 + step}, at_position{4 + step, 4 + step};
    const std::vector<std::uint8_t> real{1, 1};
    at::Tensor fp32 = reference.step(ids, at_position, real, exact_cache).to(at::kCPU);
    at::Tensor a = eager.step(ids, at_position, real, eager_cache).to(at::kCPU).to(at::kFloat);
    at::Tensor b = replayed.step(ids, at_position, real, replayed_cache).to(at::kCPU).to(at::kFloat);
    eager_error = std::max(eager_error, (a - fp32).abs().max().item<double>());
    replayed_error = std::max(replayed_error, (b - fp32).abs().max().item<double>());
  }
  std::cout << "bf16 max abs logit error vs fp32 over 12 decode steps on " << device_name() << ": eager " << eager_error
            << ", replayed " << replayed_error << "\n";
  EXPECT_GT(eager_error, 0.0) << "bf16 and fp32 gave identical logits: the bf16 model is not in bf16";
  EXPECT_LT(replayed_error, 2.0 * eager_error + 1e-3);
}

// SFT steps on the device: the same losses as on the CPU (fp32), and bf16 weights with fp32 master
// weights learn.
namespace {

// Next-token loss of the three prompts (one document per row) and a gradient step, `steps` times.
std::vector<double> train_losses(const fs::path& dir, at::Device where, const std::string& dtype, int steps, double lr) {
  auto model = CausalLM::load(dir, on(where, dtype));
  Batch batch = padded_batch();
  // One document per row from column 0, right padded.
  const auto width = static_cast<std::size_t>(batch.ids.size(1));
  std::vector<std::int64_t> ids, targets;
  for (const auto& prompt : kPrompts) {
    for (std::size_t t = 0; t < width; ++t) {
      ids.push_back(t < prompt.size() ? prompt[t] : 151643);
      targets.push_back(t + 1 < prompt.size() ? prompt[t + 1] : -100);
    }
  }
  const auto rows = static_cast<std::int64_t>(kPrompts.size()), columns = static_cast<std::int64_t>(width);
  at::Tensor input = at::tensor(ids, at::kLong).view({rows, columns}).to(where);
  at::Tensor target = at::tensor(targets, at::kLong).view({rows * columns}).to(where);
  at::Tensor scored = (target != -100).nonzero().squeeze(-1);   // positions with a next token
  std::vector<DocumentSpan> spans;
  for (std::int64_t r = 0; r < rows; ++r) spans.push_back({r, 0, static_cast<std::int64_t>(kPrompts[static_cast<std::size_t>(r)].size())});
  DocumentLayout layout = DocumentLayout::build(rows, columns, spans, where);
  const double normaliser = static_cast<double>(scored.numel());
  target = target.index_select(0, scored);

  at::Tensor grad = at::zeros_like(model->flat_parameters());
  model->attach_gradients(grad);
  at::Tensor master = model->flat_parameters().detach().to(at::kFloat).clone();
  AdamW optimizer(master, 0, model->parameter_table().decayed_numel(), AdamWSettings{0.9, 0.999, 1e-8, 0.01, AdamWKernel::automatic});
  std::vector<double> losses;
  for (int step = 0; step < steps; ++step) {
    grad.zero_();
    at::Tensor hidden = model->train_hidden_states(input, layout);
    at::Tensor loss = summed_nll(model->lm_logits(hidden).view({rows * columns, -1}).index_select(0, scored), target, normaliser);
    loss.backward();
    losses.push_back(loss.item<double>());
    optimizer.step(grad, lr);
    at::NoGradGuard no_grad;
    model->flat_parameters().copy_(master);
  }
  return losses;
}

}  // namespace

TEST_F(OnDeviceEngine, TrainingStepsGiveTheCpusLosses) {
  const fs::path& dir = r1lab::testing::tiny_model("qwen2");
  auto here = train_losses(dir, device(), "float32", 4, 1e-3);
  auto cpu = train_losses(dir, at::kCPU, "float32", 4, 1e-3);
  ASSERT_EQ(here.size(), cpu.size());
  for (std::size_t i = 0; i < cpu.size(); ++i) EXPECT_NEAR(here[i], cpu[i], 1e-4 * std::max(1.0, cpu[i])) << "step " << i;
  EXPECT_LT(here.back(), here.front());
}

TEST_F(OnDeviceEngine, Bfloat16WeightsWithFloat32MasterWeightsLearn) {
  const fs::path& dir = r1lab::testing::tiny_model("llama");
  auto losses = train_losses(dir, device(), "bfloat16", 6, 3e-3);
  std::cout << "bf16 losses on " << device_name() << ":";
  for (double l : losses) std::cout << " " << l;
  std::cout << "\n";
  EXPECT_LT(losses.back(), 0.8 * losses.front());
}

// The sampler on the device draws the host's tokens from the same logits (the device's prefix sums may
// round differently at the last digit, which moves a draw only when it falls on a boundary).
TEST_F(OnDeviceEngine, SamplerOnTheDeviceDrawsTheHostsTokens) {
  const std::int64_t rows = 128, vocab = 151936;
  at::manual_seed(3);
  at::Tensor logits = (at::randn({rows, vocab}) * 4).to(at::kBFloat16).to(at::kFloat).to(device());
  std::vector<RowSampling> settings;
  std::vector<std::uint64_t> steps;
  for (std::int64_t r = 0; r < rows; ++r) {
    settings.push_back({r % 5 == 0 ? 0.0 : 0.6, r % 3 == 0 ? 1.0 : 0.95, r % 4 == 0 ? 20 : 0, static_cast<std::uint64_t>(r)});
    steps.push_back(static_cast<std::uint64_t>(r));
  }
  auto host = sample_next_tokens(logits, settings, steps, SamplerPath::host);
  auto on_device = sample_next_tokens(logits, settings, steps, SamplerPath::tensors);
  int same = 0;
  for (std::int64_t r = 0; r < rows; ++r) same += host.tokens[static_cast<std::size_t>(r)] == on_device.tokens[static_cast<std::size_t>(r)];
  EXPECT_GE(same, rows - 1);
}

// A launcher's world of one: NCCL on CUDA (Gloo on the CPU) through the collectives the trainer uses.
TEST_F(OnDeviceEngine, AOneRankProcessGroupRunsEveryCollective) {
  setenv("RANK", "0", 1);
  setenv("WORLD_SIZE", "1", 1);
  setenv("MASTER_ADDR", "127.0.0.1", 1);
  setenv("MASTER_PORT", std::to_string(29600 + ::getpid() % 1000).c_str(), 1);
  auto group = ProcessGroup::from_environment(device(), std::chrono::seconds(60));
  for (const char* name : {"RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"}) unsetenv(name);
  EXPECT_EQ(group->backend_name(), device().is_cuda() ? "nccl" : "gloo");
  at::Tensor values = at::arange(10, at::TensorOptions().dtype(at::kFloat).device(device()));
  group->all_reduce_sum(values, 4);
  EXPECT_EQ(values.sum().item<double>(), 45.0);
  at::Tensor shard = at::empty({10}, values.options());
  group->reduce_scatter_sum(values, shard);
  at::Tensor gathered = at::empty({10}, values.options());
  group->all_gather(shard, gathered);
  EXPECT_TRUE(at::equal(gathered.cpu(), at::arange(10, at::kFloat)));
  EXPECT_EQ(group->sum(2.5), 2.5);
  EXPECT_EQ(group->max(std::vector<double>{1, 4}), (std::vector<double>{1, 4}));
  group->barrier();
  group->shutdown();
}

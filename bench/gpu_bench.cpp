// The GPU benchmarks of scripts/gpu_check.sh, each beside its physical floor measured in the same run:
//   floors   device copy bandwidth (bytes moved per second by a large device-to-device copy) and the
//            bf16 matmul rate (8192^3 GEMMs)
//   decode   batch-1 decode on a Qwen2.5-7B-shaped random bf16 model: tokens/s and the fraction of the
//            bandwidth floor (every weight read once per token: bytes of weights / copy bandwidth), with
//            eager decode steps and with CUDA graphs (trainer/decode_steps.h)
//   batch    64 sequences x 512 new tokens on Qwen2.5-0.5B and 7B shapes (transformers generate() on the
//            same shapes is bench/gpu_generate_peer.py, run by gpu_check.sh beside it)
//   sft      one SFT step (forward, backward, AdamW with fp32 master weights) on the 0.5B shape, bf16:
//            tokens/s and MFU (model FLOPs per second over the measured matmul rate)
//   grpo     one GRPO step on the 0.5B shape, 8 prompts x 8 samples x 256 new tokens: the time split
//            between rollouts, the training forward and backward, and the optimizer
// Each result is one JSON line on stdout. --quick shrinks every shape and count so that the same code
// runs in seconds on a CPU (gpu_check.sh --dry-run).
//   gpu_bench --device cuda --data-dir DATA --work DIR [--quick] [--only decode,batch,sft,grpo]
#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <ATen/core/grad_mode.h>
#include <c10/core/InferenceMode.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tokenizer/bpe_tokenizer.h"
#include "trainer/causal_lm.h"
#include "trainer/engine.h"
#include "trainer/grpo_batches.h"
#include "trainer/grpo_objective.h"
#include "trainer/losses.h"
#include "trainer/optimizer.h"

namespace fs = std::filesystem;
using namespace r1lab::trainer;
using Json = nlohmann::json;

namespace {

struct Options {
  at::Device device = at::kCUDA;
  fs::path data_dir, work;
  bool quick = false;
  std::string only;   // empty: everything
};

void synchronize(at::Device device) {
  // A value read back waits for every queued kernel of the stream.
  if (device.is_cuda()) at::zeros({1}, at::TensorOptions().device(device)).item<float>();
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Model shapes (config.json fields of transformers' Qwen2 configs).
Json qwen2_shape(const std::string& name, bool quick) {
  Json c = {{"model_type", "qwen2"}, {"architectures", {"Qwen2ForCausalLM"}}, {"hidden_act", "silu"},
            {"rms_norm_eps", 1e-6}, {"rope_theta", 1000000.0}, {"max_position_embeddings", 32768},
            {"initializer_range", 0.02}, {"eos_token_id", 151645}, {"pad_token_id", 151643}, {"dtype", "bfloat16"},
            {"vocab_size", 151936}};
  if (quick)
    c.update({{"hidden_size", 64}, {"intermediate_size", 128}, {"num_hidden_layers", 2}, {"num_attention_heads", 4},
              {"num_key_value_heads", 2}, {"tie_word_embeddings", name != "qwen2.5-7b"}});
  else if (name == "qwen2.5-0.5b")
    c.update({{"hidden_size", 896}, {"intermediate_size", 4864}, {"num_hidden_layers", 24}, {"num_attention_heads", 14},
              {"num_key_value_heads", 2}, {"tie_word_embeddings", true}});
  else if (name == "qwen2.5-7b")
    c.update({{"hidden_size", 3584}, {"intermediate_size", 18944}, {"num_hidden_layers", 28}, {"num_attention_heads", 28},
              {"num_key_value_heads", 4}, {"tie_word_embeddings", false}, {"vocab_size", 152064}});
  else
    throw std::invalid_argument("unknown shape " + name);
  return c;
}

// A model folder: the shape's config.json and the Qwen tokenizer (the engine decodes tokens to text).
fs::path model_folder(const Options& o, const std::string& shape) {
  fs::path dir = o.work / (shape + (o.quick ? "-quick" : ""));
  fs::create_directories(dir);
  std::ofstream(dir / "config.json") << qwen2_shape(shape, o.quick).dump(2);
  for (const char* name : {"tokenizer.json", "tokenizer_config.json"})
    fs::copy_file(o.data_dir / "tokenizers/qwen3_tokenizer_npm" / name, dir / name, fs::copy_options::overwrite_existing);
  return dir;
}

std::unique_ptr<CausalLM> random_model(const fs::path& dir, const Options& o, const std::string& dtype) {
  LoadOptions load;
  load.device = o.device;
  load.dtype = dtype;
  load.random_init_seed = 1234;
  return CausalLM::load(dir, load);
}

// Bytes one decode step reads at batch 1: every weight once (the embedding is a row lookup unless it is
// also the LM head).
double weight_bytes_per_token(const CausalLM& model) {
  const ModelConfig& c = model.config();
  double elements = static_cast<double>(model.parameter_table().total_numel());
  if (!c.tie_word_embeddings) elements -= static_cast<double>(c.vocab_size * c.hidden_size);
  return elements * static_cast<double>(model.flat_parameters().element_size());
}

// Matmul parameters (every linear weight, the LM head included) of the model: 2 FLOPs each per token forward.
double matmul_parameters(const CausalLM& model) {
  const ModelConfig& c = model.config();
  double per_layer = static_cast<double>(c.hidden_size) * static_cast<double>((c.num_heads + 2 * c.num_kv_heads) * c.head_dim) +
                     static_cast<double>(c.num_heads * c.head_dim) * static_cast<double>(c.hidden_size) +
                     3.0 * static_cast<double>(c.hidden_size) * static_cast<double>(c.intermediate_size);
  return per_layer * static_cast<double>(c.num_layers) + static_cast<double>(c.vocab_size) * static_cast<double>(c.hidden_size);
}

Json floors(const Options& o) {
  const std::int64_t copy_elements = o.quick ? (std::int64_t{1} << 22) : (std::int64_t{1} << 29);   // 2 GiB of fp32
  at::Tensor from = at::ones({copy_elements}, at::TensorOptions().device(o.device)), to = at::empty_like(from);
  to.copy_(from);
  synchronize(o.device);
  const int copies = o.quick ? 3 : 20;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < copies; ++i) to.copy_(from);
  synchronize(o.device);
  const double copy_seconds = seconds_since(start);
  const double bandwidth = 2.0 * static_cast<double>(copy_elements) * 4.0 * copies / copy_seconds;   // read + write

  const std::int64_t n = o.quick ? 256 : 8192;
  auto bf16 = at::TensorOptions().device(o.device).dtype(o.device.is_cuda() ? at::kBFloat16 : at::kFloat);
  at::Tensor a = at::randn({n, n}, bf16), b = at::randn({n, n}, bf16), c = at::matmul(a, b);
  synchronize(o.device);
  const int products = o.quick ? 3 : 50;
  start = std::chrono::steady_clock::now();
  for (int i = 0; i < products; ++i) at::matmul_out(c, a, b);
  synchronize(o.device);
  const double matmul_rate = 2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n) * products / seconds_since(start);
  return {{"bench", "floors"}, {"copy_bandwidth_gb_s", bandwidth / 1e9}, {"bf16_matmul_tflop_s", matmul_rate / 1e12}};
}

std::vector<GenerationSpec> decode_specs(std::int64_t batch, std::int64_t prompt_tokens, std::int64_t new_tokens) {
  std::vector<GenerationSpec> specs;
  for (std::int64_t r = 0; r < batch; ++r) {
    GenerationSpec spec;
    for (std::int64_t t = 0; t < prompt_tokens; ++t) spec.prompt.push_back(1000 + (r * 7919 + t * 104729) % 100000);
    spec.sampling = {0.6, 0.95, 0, static_cast<std::uint64_t>(r + 1)};   // the paper's sampling
    spec.max_new_tokens = new_tokens;
    spec.ignore_eos = true;
    specs.push_back(spec);
  }
  return specs;
}

// Generation throughput of `batch` sequences: tokens/s after one short warm-up run.
// `decode`: how the decode steps run (automatic: CUDA graphs on CUDA, eager on the CPU).
Json generation(const Options& o, const std::string& shape, std::int64_t batch, std::int64_t prompt_tokens, std::int64_t new_tokens,
                double bandwidth, DecodeMode decode = DecodeMode::automatic) {
  fs::path dir = model_folder(o, shape);
  auto model = random_model(dir, o, o.device.is_cuda() ? "bfloat16" : "float32");
  auto tokenizer = r1lab::tokenizer::BpeTokenizer::load(dir);
  Engine engine(*model, *tokenizer, PrefillLayout::automatic, decode);
  const DecodeMode mode = DecodeSteps(*model, decode).mode();
  engine.generate(decode_specs(batch, prompt_tokens, 4));
  synchronize(o.device);
  auto start = std::chrono::steady_clock::now();
  auto out = engine.generate(decode_specs(batch, prompt_tokens, new_tokens));
  synchronize(o.device);
  const double seconds = seconds_since(start);
  std::int64_t tokens = 0;
  for (const auto& s : out) tokens += static_cast<std::int64_t>(s.tokens.size());
  Json result = {{"bench", batch == 1 ? "decode" : "batch"}, {"shape", shape}, {"batch", batch}, {"prompt_tokens", prompt_tokens},
                 {"new_tokens", new_tokens}, {"seconds", seconds}, {"tokens_per_s", static_cast<double>(tokens) / seconds},
                 {"model_dir", dir.string()},
                 {"decode_steps", mode == DecodeMode::cuda_graph ? "cuda_graph" : mode == DecodeMode::fixed_shape ? "fixed_shape" : "eager"}};
  if (batch == 1) {
    const double floor_tokens_per_s = bandwidth / weight_bytes_per_token(*model);
    result["bandwidth_floor_tokens_per_s"] = floor_tokens_per_s;
    result["fraction_of_floor"] = static_cast<double>(tokens) / seconds / floor_tokens_per_s;
  }
  return result;
}

Json sft_step(const Options& o, double matmul_rate) {
  fs::path dir = model_folder(o, "qwen2.5-0.5b");
  auto model = random_model(dir, o, o.device.is_cuda() ? "bfloat16" : "float32");
  const std::int64_t rows = o.quick ? 2 : 8, columns = o.quick ? 64 : 2048;
  at::Tensor ids = at::randint(1000, 100000, {rows, columns}, at::TensorOptions().dtype(at::kLong).device(o.device));
  at::Tensor targets = ids.roll(-1, 1).reshape({rows * columns});
  std::vector<DocumentSpan> spans;
  for (std::int64_t r = 0; r < rows; ++r) spans.push_back({r, 0, columns});
  DocumentLayout layout = DocumentLayout::build(rows, columns, spans, o.device);
  at::Tensor grad = at::zeros_like(model->flat_parameters());
  model->attach_gradients(grad);
  at::Tensor master = model->flat_parameters().detach().to(at::kFloat).clone();
  AdamW optimizer(master, 0, model->parameter_table().decayed_numel(), AdamWSettings{0.9, 0.95, 1e-8, 0.1, AdamWKernel::automatic});
  auto step = [&] {
    grad.zero_();
    at::Tensor loss = summed_nll(model->lm_logits(model->train_hidden_states(ids, layout)).view({rows * columns, -1}), targets,
                                 static_cast<double>(rows * columns));
    loss.backward();
    optimizer.step(grad, 1e-5);
    at::NoGradGuard no_grad;
    model->flat_parameters().copy_(master);
  };
  step();   // warm-up (kernel selection, allocator)
  synchronize(o.device);
  const int steps = o.quick ? 1 : 5;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < steps; ++i) step();
  synchronize(o.device);
  const double seconds = seconds_since(start) / steps;
  const ModelConfig& c = model->config();
  const double tokens = static_cast<double>(rows * columns);
  // 6 FLOPs per matmul parameter per token (forward 2, backward 4) and causal attention's two products
  // (QK^T and AV, half the square each): 6 * 2 * columns^2 / 2 * heads * head_dim per row and layer.
  const double flops = 6.0 * matmul_parameters(*model) * tokens +
                       6.0 * static_cast<double>(rows) * static_cast<double>(columns) * static_cast<double>(columns) *
                           static_cast<double>(c.num_heads * c.head_dim) * static_cast<double>(c.num_layers);
  return {{"bench", "sft"}, {"shape", "qwen2.5-0.5b"}, {"rows", rows}, {"columns", columns}, {"seconds_per_step", seconds},
          {"tokens_per_s", tokens / seconds}, {"model_tflop_s", flops / seconds / 1e12}, {"mfu", flops / seconds / matmul_rate}};
}

// One GRPO step on the 0.5B shape, built from the pieces `r1lab train grpo` runs (engine rollouts on the
// live policy with continuous batching and, on CUDA, graph-replayed decode steps; the group's prompt
// once per row in the training forward; the clipped surrogate with token-mean aggregation; AdamW on fp32
// master weights), timed in parts after one warm-up step. Rewards are a fixed pattern: grading runs on
// the CPU in the harness's process and is timed by bench/run_grpo_bench.sh.
Json grpo_step(const Options& o) {
  fs::path dir = model_folder(o, "qwen2.5-0.5b");
  auto model = random_model(dir, o, o.device.is_cuda() ? "bfloat16" : "float32");
  auto tokenizer = r1lab::tokenizer::BpeTokenizer::load(dir);
  const std::int64_t prompts = o.quick ? 2 : 8, G = o.quick ? 4 : 8, prompt_tokens = o.quick ? 16 : 128, new_tokens = o.quick ? 8 : 256;
  const double temperature = 1.0;
  std::vector<GenerationSpec> specs;
  for (std::int64_t p = 0; p < prompts; ++p) {
    for (std::int64_t g = 0; g < G; ++g) {
      GenerationSpec spec;
      for (std::int64_t t = 0; t < prompt_tokens; ++t) spec.prompt.push_back(1000 + (p * 7919 + t * 104729) % 100000);
      spec.sampling = {temperature, 1.0, 0, static_cast<std::uint64_t>(p * G + g + 1)};
      spec.max_new_tokens = new_tokens;
      spec.ignore_eos = true;
      specs.push_back(spec);
    }
  }
  at::Tensor grad = at::zeros_like(model->flat_parameters());
  model->attach_gradients(grad);
  at::Tensor master = model->flat_parameters().detach().to(at::kFloat).clone();
  AdamW optimizer(master, 0, model->parameter_table().decayed_numel(), AdamWSettings{0.9, 0.99, 1e-8, 0.0, AdamWKernel::automatic});
  Json split;
  auto step = [&] {
    auto started = std::chrono::steady_clock::now();
    std::vector<GeneratedSequence> rollouts;
    {
      c10::InferenceMode inference;
      rollouts = Engine(*model, *tokenizer).generate(specs);
    }
    synchronize(o.device);
    const double rollout_s = seconds_since(started);
    auto t = std::chrono::steady_clock::now();
    std::vector<float> rewards;
    for (std::size_t i = 0; i < rollouts.size(); ++i) rewards.push_back((i * 7) % 3 == 0 ? 1.0f : 0.0f);
    at::Tensor advantages = group_advantages(at::tensor(rewards), G, RewardScaling::group).contiguous();
    std::vector<PromptGroup> groups(static_cast<std::size_t>(prompts));
    double tokens = 0;
    for (std::size_t i = 0; i < rollouts.size(); ++i) {
      PromptGroup& group = groups[i / static_cast<std::size_t>(G)];
      group.prompt = &specs[i].prompt;
      group.sequences.push_back(i);
      group.completions.push_back(&rollouts[i].tokens);
      tokens += static_cast<double>(rollouts[i].tokens.size());
    }
    auto micro_batches = make_shared_prompt_micro_batches(groups, o.quick ? 512 : 4096, o.device);
    grad.zero_();
    for (const MicroBatch& mb : micro_batches) {
      at::Tensor states = model->train_hidden_states(mb.ids, mb.layout);
      at::Tensor logits = model->lm_logits(states.view({-1, model->config().hidden_size}).index_select(0, mb.predict_from));
      at::Tensor logp = token_logprobs(logits, mb.targets, temperature).unsqueeze(1);   // (tokens, 1): one row per token
      std::vector<float> token_advantages;
      for (std::size_t i : mb.examples)
        token_advantages.insert(token_advantages.end(), rollouts[i].tokens.size(), advantages.data_ptr<float>()[i]);
      const auto N = logp.size(0);
      ObjectiveTerms terms = grpo_objective(logp, logp.detach(), at::Tensor(), at::tensor(token_advantages).to(o.device),
                                            at::full({N, 1}, 1.0 / tokens, logp.options()), ObjectiveSettings{});
      terms.loss.backward();
    }
    synchronize(o.device);
    const double train_s = seconds_since(t);
    t = std::chrono::steady_clock::now();
    optimizer.step(grad, 1e-6);
    {
      at::NoGradGuard no_grad;
      model->flat_parameters().copy_(master);
    }
    synchronize(o.device);
    const double optimizer_s = seconds_since(t), step_s = seconds_since(started);
    split = {{"bench", "grpo"}, {"shape", "qwen2.5-0.5b"}, {"prompts", prompts}, {"group_size", G}, {"prompt_tokens", prompt_tokens},
             {"new_tokens", new_tokens}, {"step_s", step_s}, {"rollout_s", rollout_s}, {"train_s", train_s}, {"optimizer_s", optimizer_s},
             {"rollout_fraction", rollout_s / step_s}, {"rollout_tokens_per_s", tokens / rollout_s},
             {"train_tokens_per_s", tokens / train_s}, {"micro_batches", micro_batches.size()}};
  };
  step();   // warm-up
  step();
  return split;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--device") o.device = at::Device(value());
    else if (arg == "--data-dir") o.data_dir = value();
    else if (arg == "--work") o.work = value();
    else if (arg == "--quick") o.quick = true;
    else if (arg == "--only") o.only = value();
    else {
      std::cerr << "usage: gpu_bench --device cuda|cpu --data-dir DATA --work DIR [--quick] [--only floors,decode,batch,sft,grpo]\n";
      return 2;
    }
  }
  if (o.data_dir.empty() || o.work.empty()) {
    std::cerr << "gpu_bench: --data-dir and --work are required\n";
    return 2;
  }
  if (o.device.is_cuda() && !at::hasCUDA()) {
    std::cerr << "gpu_bench: no CUDA device\n";
    return 1;
  }
  auto wanted = [&](const std::string& name) { return o.only.empty() || ("," + o.only + ",").find("," + name + ",") != std::string::npos; };
  auto emit = [](const Json& line) { std::cout << line.dump() << std::endl; };
  Json floor = floors(o);
  emit(floor);
  const double bandwidth = floor["copy_bandwidth_gb_s"].get<double>() * 1e9;
  const double matmul_rate = floor["bf16_matmul_tflop_s"].get<double>() * 1e12;
  {
    c10::InferenceMode inference;
    if (wanted("decode")) {
      // Eager steps first, then the default (CUDA graphs on CUDA; the fixed-shape steps they capture on a CPU).
      emit(generation(o, "qwen2.5-7b", 1, 16, o.quick ? 8 : 256, bandwidth, DecodeMode::eager));
      emit(generation(o, "qwen2.5-7b", 1, 16, o.quick ? 8 : 256, bandwidth,
                      o.device.is_cuda() ? DecodeMode::automatic : DecodeMode::fixed_shape));
    }
    if (wanted("batch"))
      for (const char* shape : {"qwen2.5-0.5b", "qwen2.5-7b"}) emit(generation(o, shape, o.quick ? 4 : 64, o.quick ? 8 : 128, o.quick ? 8 : 512, bandwidth));
  }
  if (wanted("sft")) emit(sft_step(o, matmul_rate));
  if (wanted("grpo")) emit(grpo_step(o));
  return 0;
}

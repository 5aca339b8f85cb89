// tests/support/train_runs.h — what the trainer's end-to-end tests share: reading a run's metrics and
// files, comparing saved weights, and the tiny byte-level model that has learnt a little addition (the
// GRPO tests' policy: rewards that differ within a group, so updates are not zero).
// Needs what tiny_models.h needs, and R1LAB_BINARY.
#pragma once

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "tests/support/tiny_models.h"
#include "trainer/safetensors.h"

namespace r1lab::testing {

inline std::vector<nlohmann::json> metrics(const std::filesystem::path& out) {
  std::vector<nlohmann::json> lines;
  std::ifstream in(out / "metrics.jsonl");
  std::string line;
  while (std::getline(in, line)) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

inline std::string file_bytes(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

// max |ours - reference| relative to max |reference|.
inline double relative_error(const at::Tensor& ours, const at::Tensor& reference) {
  double scale = reference.abs().max().item<double>();
  return (ours - reference).abs().max().item<double>() / std::max(scale, 1e-30);
}

// The largest relative difference between two saved models, tensor by tensor.
inline double weights_difference(const std::filesystem::path& a, const std::filesystem::path& b) {
  trainer::SafetensorsReader x(a), y(b);
  double worst = 0;
  for (const std::string& name : x.names()) worst = std::max(worst, relative_error(y.tensor(name), x.tensor(name)));
  return worst;
}

// transformers' logits (1, ids, vocab) of the model folder `dir` for one sequence (model_oracle.py);
// throws when the oracle wrote something else.
inline at::Tensor transformers_logits(const std::filesystem::path& dir, const std::vector<std::int64_t>& ids, std::int64_t vocab) {
  static int calls = 0;
  const std::string stem = "oracle_logits_" + std::to_string(++calls);
  const std::filesystem::path in_file = work_folder() / (stem + ".json"), logits_file = work_folder() / (stem + ".bin");
  std::ofstream(in_file) << nlohmann::json{{"ids", {ids}}, {"mask", {std::vector<std::int64_t>(ids.size(), 1)}}}.dump();
  run_python_oracle("model_oracle.py", {"logits", dir.string(), in_file.string(), logits_file.string()});
  std::string bytes = file_bytes(logits_file);
  if (bytes.size() != ids.size() * static_cast<std::size_t>(vocab) * sizeof(float)) {
    throw std::runtime_error(logits_file.string() + ": " + std::to_string(bytes.size()) + " bytes, not ids x vocab floats");
  }
  return at::from_blob(bytes.data(), {1, static_cast<std::int64_t>(ids.size()), vocab}, at::kFloat).clone();
}

// Answer-only SFT data for the first `lines` problems of addition_train in the R1-Zero template.
inline std::filesystem::path addition_sft_data(std::size_t lines) {
  namespace fs = std::filesystem;
  fs::path prompts = work_folder() / "addition_prompts.jsonl", file = work_folder() / ("addition_sft_" + std::to_string(lines) + ".jsonl");
  if (fs::exists(file)) return file;
  if (run_program({R1LAB_BINARY, "prompts", "--task", "addition_train", "--template", "r1_zero"}, prompts.string()) != 0) {
    throw std::runtime_error("r1lab prompts failed");
  }
  std::ifstream in(prompts);
  std::ofstream out(file);
  std::string line;
  for (std::size_t i = 0; i < lines && std::getline(in, line); ++i) {
    auto j = nlohmann::json::parse(line);
    out << nlohmann::json{{"prompt", j["prompt"]}, {"completion", " <think> </think> <answer>" + j["reference"].get<std::string>() + "</answer>"}}.dump()
        << "\n";
  }
  return file;
}

// A tiny byte-level model (r1lab train init-model) after 150 steps of answer-only SFT on additions: it
// writes the think/answer format, with sums of 5 or 6 digits that are mostly wrong (about 30 s, once per
// build tree).
inline const std::filesystem::path& tiny_addition_model() {
  namespace fs = std::filesystem;
  static fs::path made;
  if (!made.empty()) return made;
  const std::vector<std::string> init = {"--merges", "200", "--hidden-size", "64", "--intermediate-size", "128", "--layers", "2",
                                         "--heads", "4", "--kv-heads", "2", "--seed", "1"};
  const std::vector<std::string> sft = {"--batch-size", "16", "--lr", "1e-2", "--max-steps", "150", "--warmup-steps", "10",
                                        "--max-seq-len", "256", "--seed", "1"};
  std::string recipe = "v1";
  for (const auto& a : init) recipe += " " + a;
  for (const auto& a : sft) recipe += " " + a;
  fs::path dir = fs::path(R1LAB_TEST_MODELS) / ("addition-" + std::to_string(std::hash<std::string>{}(recipe)));
  if (!fs::exists(dir / "config.json")) {
    fs::path data = addition_sft_data(2000), base = work_folder() / "addition_init", run = work_folder() / "addition_sft";
    std::vector<std::string> a = {R1LAB_BINARY, "train", "init-model", "--out", base.string(), "--corpus", data.string()};
    a.insert(a.end(), init.begin(), init.end());
    std::vector<std::string> b = {R1LAB_BINARY, "train", "sft", "--model", base.string(), "--data", data.string(), "--out", run.string(),
                                  "--progress", "none"};
    b.insert(b.end(), sft.begin(), sft.end());
    if (run_program(a) != 0 || run_program(b) != 0) throw std::runtime_error("making the tiny addition model failed");
    fs::create_directories(dir.parent_path());
    std::error_code lost_race;   // another test process put its copy there first: use that one
    fs::rename(run / "final", dir, lost_race);
  }
  made = dir;
  return made;
}

}  // namespace r1lab::testing

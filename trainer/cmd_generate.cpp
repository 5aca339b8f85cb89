// `r1lab generate --model DIR`: prompts as JSONL in, completions with their token ids and logprobs as
// JSONL out, on the built-in engine. Greedy when the temperature is 0.
#include <chrono>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "tokenizer/unicode_text.h"
#include "trainer/builtin_backend.h"
#include "trainer/commands.h"

namespace r1lab::trainer {
namespace {

struct GenerateFlags {
  harness::LocalBackendOptions model;
  std::string input = "-", output = "-";
  bool raw = false, ignore_eos = false;
  double temperature = 0.6, top_p = 0.95;
  std::int64_t top_k = 0, max_new_tokens = 512;
  int n = 1;
  std::uint64_t seed = 0;
  std::vector<std::string> stop;
};

struct PromptLine {
  std::size_t index;
  nlohmann::json id;
  harness::GenerationRequest request;
};

PromptLine parse_line(const std::string& line, std::size_t index, const std::string& source, const GenerateFlags& flags) {
  auto where = source + ":" + std::to_string(index + 1);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(line);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(where + ": not valid JSON: " + e.what());
  }
  PromptLine p{index, j.value("id", nlohmann::json()), {}};
  if (j.contains("messages")) {
    for (std::size_t i = 0; i < j["messages"].size(); ++i) {
      const auto& m = j["messages"][i];
      if (!m.contains("role") || !m.contains("content") || !m["content"].is_string()) {
        throw std::runtime_error(where + ": $.messages[" + std::to_string(i) + "] needs a role and a string content");
      }
      p.request.messages.push_back({m["role"], m["content"]});
    }
  } else if (j.contains("prompt") && j["prompt"].is_string()) {
    p.request.prompt = j["prompt"];
  } else {
    throw std::runtime_error(where + ": a line needs \"prompt\" (a string) or \"messages\" (a list of {role, content})");
  }
  p.request.n = j.value("n", flags.n);
  p.request.seed = j.value("seed", static_cast<std::int64_t>(flags.seed + index));
  return p;
}

void run_generate(const GenerateFlags& flags) {
  harness::LocalBackendOptions options = flags.model;
  options.chat = !flags.raw;
  BuiltinBackend backend(options);
  std::cerr << "r1lab generate: " << backend.describe() << "\n";

  std::ifstream file;
  std::istream* in = &std::cin;
  if (flags.input != "-") {
    file.open(flags.input);
    if (!file) throw std::runtime_error(flags.input + ": cannot open");
    in = &file;
  }
  std::ofstream out_file;
  std::ostream* out = &std::cout;
  if (flags.output != "-") {
    out_file.open(flags.output, std::ios::trunc);
    if (!out_file) throw std::runtime_error(flags.output + ": cannot write");
    out = &out_file;
  }
  std::vector<PromptLine> lines;
  std::string line;
  for (std::size_t index = 0; std::getline(*in, line); ++index) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    lines.push_back(parse_line(line, index, flags.input == "-" ? "stdin" : flags.input, flags));
  }

  Engine engine = Engine(backend.model(), backend.tokenizer());
  std::size_t sequences_done = 0, tokens_done = 0;
  double generate_seconds = 0;
  // Lines are generated in batches of at most max_batch samples and written as each batch finishes.
  for (std::size_t first = 0; first < lines.size();) {
    std::vector<GenerationSpec> specs;
    std::vector<std::pair<std::size_t, int>> owners;   // spec -> (line, sample)
    std::size_t last = first;
    while (last < lines.size() && (specs.empty() || static_cast<int>(specs.size()) + lines[last].request.n <= options.max_batch)) {
      auto ids = backend.prompt_ids(lines[last].request);
      for (int s = 0; s < lines[last].request.n; ++s) {
        GenerationSpec spec;
        spec.prompt = ids;
        spec.sampling = {flags.temperature, flags.top_p, flags.top_k, sample_seed(static_cast<std::uint64_t>(*lines[last].request.seed), s)};
        spec.max_new_tokens = flags.max_new_tokens;
        spec.stop = flags.stop;
        spec.ignore_eos = flags.ignore_eos;
        specs.push_back(std::move(spec));
        owners.emplace_back(last, s);
      }
      ++last;
    }
    auto started = std::chrono::steady_clock::now();
    auto sequences = engine.generate(specs);
    generate_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    sequences_done += sequences.size();
    for (const auto& s : sequences) tokens_done += s.tokens.size();
    for (std::size_t i = 0; i < sequences.size(); ++i) {
      const PromptLine& p = lines[owners[i].first];
      nlohmann::json row = {{"index", p.index}, {"sample", owners[i].second},
                            {"text", tokenizer::valid_utf8(sequences[i].text)}, {"finish_reason", sequences[i].finish_reason},
                            {"prompt_tokens", specs[i].prompt.size()}, {"token_ids", sequences[i].tokens},
                            {"logprobs", sequences[i].logprobs}};
      if (!p.id.is_null()) row["id"] = p.id;
      *out << row.dump() << "\n";
    }
    out->flush();
    first = last;
  }
  // Generation time only (prefill and decode; loading and tokenising excluded), for benchmarks.
  std::cerr << "r1lab generate: " << sequences_done << " sequences, " << tokens_done << " new tokens in "
            << generate_seconds << " s (" << (generate_seconds > 0 ? tokens_done / generate_seconds : 0) << " tokens/s)\n";
}

}  // namespace

void add_trainer_commands(CLI::App& app) {
  register_builtin_backend();
  auto flags = std::make_shared<GenerateFlags>();
  auto* command = app.add_subcommand("generate", "Generate completions of JSONL prompts with the built-in engine (token ids and logprobs included)");
  command->add_option("--model", flags->model.model_dir, "Hugging Face model folder (config.json, safetensors, tokenizer.json)")->required();
  command->add_option("--input", flags->input, "JSONL file of {\"prompt\": ...} or {\"messages\": [...]} lines (optional id, n, seed); - for stdin");
  command->add_option("--output", flags->output, "JSONL file for the completions; - for stdout");
  command->add_flag("--raw", flags->raw, "Use \"prompt\" as is (a completion prompt), not through the chat template");
  command->add_option("--chat-template", flags->model.chat_template, "qwen2.5, r1-distill or qwq (default: recognised from tokenizer_config.json)");
  command->add_option("--temperature", flags->temperature, "0 for greedy (paper: 0.6)");
  command->add_option("--top-p", flags->top_p, "Nucleus sampling (paper: 0.95)");
  command->add_option("--top-k", flags->top_k, "Keep the k most likely tokens (0: off)");
  command->add_option("--max-new-tokens", flags->max_new_tokens, "Most tokens generated per sample");
  command->add_option("-n", flags->n, "Samples per prompt")->check(CLI::PositiveNumber);
  command->add_option("--seed", flags->seed, "Line i's seed is seed + i unless the line gives one; sample j of it mixes in j");
  command->add_option("--stop", flags->stop, "Stop string (repeatable)");
  command->add_flag("--ignore-eos", flags->ignore_eos, "Keep generating after EOS, up to --max-new-tokens (benchmarks)");
  command->add_option("--batch-size", flags->model.max_batch, "Samples decoded together")->check(CLI::PositiveNumber);
  command->add_option("--device", flags->model.device, "cpu, cuda or cuda:N");
  command->add_option("--dtype", flags->model.dtype, "auto (stored dtype on CUDA, float32 on CPU), float32, bfloat16, float16");
  command->callback([flags] { run_generate(*flags); });
}

}  // namespace r1lab::trainer

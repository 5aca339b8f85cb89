// What `r1lab generate` runs (its flags are in harness/cmd_generate.cpp): prompts as JSONL in,
// completions with their token ids and logprobs as JSONL out, on the engine. Greedy at temperature 0.
#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <optional>

#include <nlohmann/json.hpp>

#include "tokenizer/unicode_text.h"
#include "trainer/builtin_backend.h"
#include "trainer/generate_run.h"

namespace r1lab::trainer {
namespace {

struct PromptLine {
  std::size_t index;
  nlohmann::json id;
  harness::GenerationRequest request;
};

PromptLine parse_line(const std::string& line, std::size_t index, const std::string& source, const harness::GenerateOptions& flags) {
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
  p.request.sampling = {flags.temperature, flags.top_p, static_cast<int>(j.value("max_new_tokens", flags.max_new_tokens)), flags.stop};
  p.request.seed = j.value("seed", static_cast<std::int64_t>(flags.seed + index));
  return p;
}

}  // namespace

void run_generate(const harness::GenerateOptions& flags) {
  const harness::LocalBackendOptions& options = flags.model;
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

  Engine engine(backend.loaded().model(), backend.loaded().tokenizer());
  std::vector<GenerationSpec> specs;
  std::vector<std::pair<std::size_t, int>> owners;   // spec -> (line, sample)
  for (std::size_t l = 0; l < lines.size(); ++l) {
    auto line_specs = backend.sample_specs(lines[l].request, flags.top_k, flags.ignore_eos);
    for (std::size_t s = 0; s < line_specs.size(); ++s) {
      specs.push_back(std::move(line_specs[s]));
      owners.emplace_back(l, static_cast<int>(s));
    }
  }
  std::vector<std::optional<GeneratedSequence>> finished(specs.size());
  std::size_t written = 0, sequences_done = 0, tokens_done = 0;
  // Output in input order: each sample is written once it and every sample before it have finished.
  auto write_ready = [&] {
    for (; written < specs.size() && finished[written]; ++written) {
      const GeneratedSequence& sequence = *finished[written];
      const PromptLine& p = lines[owners[written].first];
      nlohmann::json row = {{"index", p.index}, {"sample", owners[written].second},
                            {"text", tokenizer::valid_utf8(sequence.text)}, {"finish_reason", sequence.finish_reason},
                            {"prompt_tokens", specs[written].prompt.size()}, {"token_ids", sequence.tokens},
                            {"logprobs", sequence.logprobs}};
      if (!p.id.is_null()) row["id"] = p.id;
      *out << row.dump() << "\n";
      finished[written].reset();
    }
    out->flush();
  };
  auto started = std::chrono::steady_clock::now();
  auto on_done = [&](std::size_t index, GeneratedSequence&& sequence) {
    ++sequences_done;
    tokens_done += sequence.tokens.size();
    finished[index] = std::move(sequence);
    write_ready();
  };
  const std::int64_t batch = options.max_batch;
  if (flags.static_batches) {
    // Today's static batching, kept to measure what continuous batching gains: each batch decodes until
    // its longest sample ends before the next starts.
    for (std::size_t first = 0; first < specs.size(); first += static_cast<std::size_t>(batch)) {
      const std::size_t end = std::min(specs.size(), first + static_cast<std::size_t>(batch));
      auto sequences = engine.generate(std::vector<GenerationSpec>(specs.begin() + static_cast<std::ptrdiff_t>(first),
                                                                   specs.begin() + static_cast<std::ptrdiff_t>(end)));
      for (std::size_t i = first; i < end; ++i) on_done(i, std::move(sequences[i - first]));
    }
  } else {
    std::size_t pulled = 0;
    engine.stream([&]() -> std::optional<GenerationSpec> { return pulled < specs.size() ? std::optional(specs[pulled++]) : std::nullopt; },
                  batch, on_done);
  }
  const double generate_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  // Generation time (prefill, decode and writing the lines; loading and tokenising excluded), for benchmarks.
  std::cerr << "r1lab generate: " << sequences_done << " sequences, " << tokens_done << " new tokens in "
            << generate_seconds << " s (" << (generate_seconds > 0 ? tokens_done / generate_seconds : 0) << " tokens/s)\n";
}

}  // namespace r1lab::trainer

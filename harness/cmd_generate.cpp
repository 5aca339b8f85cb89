// `r1lab generate --model DIR`: prompts as JSONL in, completions with their token ids and logprobs as
// JSONL out, on the built-in engine (run by the trainer plugin, see local_backend.h).
#include "harness/commands.h"
#include "harness/local_backend.h"

namespace r1lab::harness {

void add_generate_command(CLI::App& app) {
  auto options = std::make_shared<GenerateOptions>();
  auto* command = app.add_subcommand("generate", "Generate completions of JSONL prompts with the built-in engine (token ids and logprobs included)");
  command->add_option("--model", options->model.model_dir, "Hugging Face model folder (config.json, safetensors, tokenizer.json)")->required();
  command->add_option("--input", options->input, "JSONL file of {\"prompt\": ...} or {\"messages\": [...]} lines (optional id, n, seed, max_new_tokens); - for stdin");
  command->add_option("--output", options->output, "JSONL file for the completions; - for stdout");
  command->add_flag_function("--raw", [options](std::int64_t count) { options->model.chat = count == 0; },
                             "Use \"prompt\" as is (a completion prompt), not through the chat template");
  command->add_option("--chat-template", options->model.chat_template, "qwen2.5, r1-distill or qwq (default: recognised from the folder)");
  command->add_option("--temperature", options->temperature, "0 for greedy (paper: 0.6)")->check(CLI::NonNegativeNumber);
  command->add_option("--top-p", options->top_p, "Nucleus sampling (paper: 0.95)");
  command->add_option("--top-k", options->top_k, "Keep the k most likely tokens (0: off)");
  command->add_option("--max-new-tokens,--max-tokens", options->max_new_tokens, "Most tokens generated per sample");
  command->add_option("-n", options->n, "Samples per prompt")->check(CLI::PositiveNumber);
  command->add_option("--seed", options->seed, "Line i's seed is seed + i unless the line gives one; sample j of it mixes in j");
  command->add_option("--stop", options->stop, "Stop string (repeatable)");
  command->add_flag("--ignore-eos", options->ignore_eos, "Keep generating after EOS, up to --max-new-tokens (benchmarks)");
  command->add_option("--batch-size", options->model.max_batch, "Samples decoded together (a finished one's row goes to the next waiting)")->check(CLI::PositiveNumber);
  command->add_flag("--static-batches", options->static_batches,
                    "Decode fixed batches of --batch-size one after another, each until its longest sample ends "
                    "(no continuous batching; to compare)");
  command->add_option("--device", options->model.device, "cpu, cuda or cuda:N");
  command->add_option("--dtype", options->model.dtype, "auto (stored dtype on CUDA, float32 on CPU), float32, bfloat16, float16");
  command->callback([options] { trainer_entry().run_generate(*options); });
}

}  // namespace r1lab::harness

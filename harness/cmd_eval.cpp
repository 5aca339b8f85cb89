// `r1lab eval`: generate with an OpenAI-compatible server (or the built-in engine), grade as samples
// arrive, write results.
#include <cstdlib>
#include <iostream>

#include "harness/commands.h"
#include "harness/eval_run.h"
#include "harness/local_backend.h"
#include "harness/model_fingerprint.h"
#include "harness/openai_backend.h"
#include "reports/results_table.h"
#include "tokenizer/bpe_tokenizer.h"

namespace r1lab::harness {

namespace {

std::string shell_quoted(const std::string& word) {
  if (!word.empty() && word.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=,@%+") == std::string::npos)
    return word;
  std::string quoted = "'";
  for (char c : word) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

}  // namespace

void add_eval_command(CLI::App& app, int argc, char** argv) {
  struct Flags {
    EvalOptions options;
    OpenAIBackendOptions backend;
    LocalBackendOptions local;
    GradingFlags grading;
    std::string backend_kind = "openai";
    std::string tasks, out, api = "chat", api_key_env = "OPENAI_API_KEY", progress = "auto", tokenizer;
    int n = 0;
    double request_timeout_s = 3600, connect_timeout_s = 10, retry_base_s = 0.5, retry_max_s = 60;
    bool no_seed = false;
  };
  auto flags = std::make_shared<Flags>();
  std::string resume;
  for (int i = 0; i < argc; ++i) resume += (i ? " " : "") + shell_quoted(argv[i]);
  flags->options.resume_command = resume;
  auto* command = app.add_subcommand("eval", "Generate with an OpenAI-compatible server or the built-in engine, grade as samples arrive, write results");
  command->add_option("--task", flags->tasks, "Tasks, comma-separated (`r1lab tasks`)")->required();
  command->add_option("--backend", flags->backend_kind, "openai (a server at --base-url) or builtin (the model folder --model, no server)")
      ->check(CLI::IsMember({"openai", "builtin"}));
  command->add_option("--base-url", flags->backend.base_url, "API root of the server, e.g. http://127.0.0.1:8000/v1 (--backend openai)");
  command->add_option("--model", flags->backend.model, "Model name the server serves; with --backend builtin, the model folder")->required();
  command->add_option("--device", flags->local.device, "--backend builtin: cpu, cuda or cuda:N");
  command->add_option("--dtype", flags->local.dtype, "--backend builtin: auto, float32, bfloat16, float16");
  command->add_option("--chat-template", flags->local.chat_template, "--backend builtin: qwen2.5, r1-distill or qwq (default: from tokenizer_config.json)");
  command->add_option("--batch-size", flags->local.max_batch, "--backend builtin: samples decoded together")->check(CLI::PositiveNumber);
  command->add_option("--out", flags->out, "Run directory: samples.sqlite and <task>/results.json; rerun to resume")->required();
  command->add_option("-n,--samples", flags->n, "Samples per problem (default: each task's, see docs/eval.md)")->check(CLI::PositiveNumber);
  command->add_option("--temperature", flags->options.sampling.temperature, "Sampling temperature (paper: 0.6)")
      ->check(CLI::NonNegativeNumber);
  command->add_option("--top-p", flags->options.sampling.top_p, "Nucleus sampling (paper: 0.95)")->check(CLI::Range(1e-9, 1.0));
  command->add_option("--max-new-tokens,--max-tokens", flags->options.sampling.max_tokens, "Most tokens generated per sample (paper: 32768)")
      ->check(CLI::PositiveNumber);
  command->add_option("--stop", flags->options.sampling.stop, "Stop string (repeatable)");
  command->add_option("--seed,--sampling-seed", flags->options.sampling_seed, "Sampling seed of the run; each request gets a seed derived from it");
  command->add_flag("--no-seed", flags->no_seed, "Send no seed (for servers that reject one)");
  command->add_option("--api", flags->api, "chat (/v1/chat/completions, the server applies the chat template) or "
                                           "completions (/v1/completions, the prompt as is)")
      ->check(CLI::IsMember({"chat", "completions"}));
  command->add_option("--tokenizer", flags->tokenizer,
                      "Folder with the model's tokenizer.json: counts completion tokens where the server reports usage per "
                      "request only (n > 1), so response lengths are in tokens (else characters)");
  command->add_option("--api-key-env", flags->api_key_env, "Environment variable holding the API key (sent when set)");
  command->add_option("--samples-per-request", flags->options.samples_per_request,
                      "Samples asked for in one request (0: all of a problem's, via n; falls back to 1 when the server ignores n)");
  command->add_option("--max-in-flight", flags->backend.max_in_flight, "Concurrent requests")->check(CLI::PositiveNumber);
  command->add_option("--request-timeout", flags->request_timeout_s, "Seconds before a request is abandoned and retried")
      ->check(CLI::PositiveNumber);
  command->add_option("--connect-timeout", flags->connect_timeout_s, "Seconds to connect")->check(CLI::PositiveNumber);
  command->add_option("--max-retries", flags->backend.max_retries, "Retries per request (429, 5xx, timeouts, dropped connections)")
      ->check(CLI::NonNegativeNumber);
  command->add_option("--retry-base-delay", flags->retry_base_s, "Seconds before the first retry; doubled each time, with jitter");
  command->add_option("--retry-max-delay", flags->retry_max_s, "Longest wait between retries, in seconds (Retry-After is honoured up to 300)");
  command->add_option("--pass-k", flags->options.pass_k, "Also report pass@k for these k (each <= n; pass@1 always)")->delimiter(',');
  command->add_option("--cons-k", flags->options.cons_k, "Also report cons@k for these k (each <= n; cons@n always when n > 1)")->delimiter(',');
  command->add_option("--limit", flags->options.limit, "Only the first N problems of each task (smoke tests)")->check(CLI::PositiveNumber);
  command->add_flag("--restart", flags->options.restart, "Start over: move the run directory's samples aside");
  command->add_flag("--allow-partial", flags->options.allow_partial, "Write results even when failed requests left samples missing");
  command->add_option("--label", flags->options.label, "Row name in reports (default: --model)");
  command->add_option("--progress", flags->progress, "auto (a live line on a terminal, else a log line every 10 s), live (or bar, as train spells it), log, none")
      ->check(CLI::IsMember({"auto", "live", "bar", "log", "none"}));
  command->add_option("-j,--jobs", flags->options.workers, "Grading worker processes (default: every core)");
  command->add_option("--data-dir", flags->options.data_dir, "Benchmark data directory (else $R1LAB_DATA, ../shared/data)");
  add_grading_flags(*command, flags->grading);
  command->callback([flags] {
    EvalOptions& options = flags->options;
    for (std::size_t start = 0; start <= flags->tasks.size();) {
      auto comma = flags->tasks.find(',', start);
      std::string name = flags->tasks.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (!name.empty()) options.tasks.push_back(name);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    options.out_dir = flags->out;
    if (flags->n > 0) options.n = flags->n;
    options.send_seed = !flags->no_seed;
    options.grading = grading_config_from(flags->grading);
    options.hard_deadline = std::chrono::milliseconds(flags->grading.deadline_ms * 5 + 1000);
    options.progress = flags->progress == "live" || flags->progress == "bar" ? ProgressMode::live
                       : flags->progress == "log" ? ProgressMode::log
                       : flags->progress == "none" ? ProgressMode::none : ProgressMode::automatic;
    OpenAIBackendOptions& backend_options = flags->backend;
    backend_options.api = openai_api_from_name(flags->api);
    backend_options.request_timeout = std::chrono::milliseconds(static_cast<long>(flags->request_timeout_s * 1000));
    backend_options.connect_timeout = std::chrono::milliseconds(static_cast<long>(flags->connect_timeout_s * 1000));
    backend_options.backoff_base = std::chrono::milliseconds(static_cast<long>(flags->retry_base_s * 1000));
    backend_options.backoff_cap = std::chrono::milliseconds(static_cast<long>(flags->retry_max_s * 1000));
    if (const char* key = std::getenv(flags->api_key_env.c_str())) backend_options.api_key = key;
    options.model = backend_options.model;
    options.api = flags->api;
    if (!flags->tokenizer.empty()) {
      std::shared_ptr<const tokenizer::BpeTokenizer> counter = tokenizer::BpeTokenizer::load(flags->tokenizer);
      options.count_tokens = [counter](const std::string& text) { return static_cast<std::int64_t>(counter->encode(text).size()); };
      options.token_counter_name = "the tokenizer at " + flags->tokenizer;
    }
    std::unique_ptr<GenerationBackend> backend;
    if (flags->backend_kind == "builtin") {
      // The folder however its path was written (./m, m/, a symlink); the row label stays as typed.
      namespace fs = std::filesystem;
      const fs::path model_dir = fs::weakly_canonical(backend_options.model);
      if (!fs::is_directory(model_dir))
        throw std::invalid_argument("--model " + backend_options.model + ": not a folder; --backend builtin needs a Hugging Face model folder");
      if (options.label.empty()) options.label = (fs::path(backend_options.model) / "").lexically_normal().parent_path().string();
      options.model = model_dir.string();
      flags->local.model_dir = model_dir.string();
      flags->local.chat = flags->api == "chat";
      // Resuming with other numerics would mix samples of two engines in one run.
      // So would weights overwritten in place (a new checkpoint saved to the same folder): the content counts.
      options.engine = {{"backend", "builtin"}, {"device", flags->local.device}, {"dtype", flags->local.dtype},
                        {"chat_template", flags->local.chat_template.empty() ? "auto" : flags->local.chat_template},
                        {"model_sha256", model_fingerprint(model_dir, fs::path(flags->out) / "model_fingerprint.json")["sha256"]}};
      backend = make_local_backend(flags->local);
    } else {
      if (backend_options.base_url.empty()) throw std::invalid_argument("--base-url is required with --backend openai (or pass --backend builtin)");
      backend = std::make_unique<OpenAIBackend>(backend_options);
    }
    EvalOutcome outcome = run_eval(options, *backend);
    for (const auto& results : outcome.results) std::cout << reports::render_summary(results);
    if (!outcome.results.empty())
      std::cout << "wrote " << options.out_dir.string() << "/<task>/results.json and verdicts.jsonl\n";
    if (outcome.exit_code != 0) {
      std::cerr << outcome.message << "\n";
      throw CLI::RuntimeError(outcome.exit_code);
    }
  });
}

}  // namespace r1lab::harness

// `r1lab train sft` and `r1lab train grpo`: training on the built-in model (run by the trainer plugin,
// see local_backend.h). Every setting is a flag and a key of --config (harness/train_options.h); flags win.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>

#include "harness/commands.h"
#include "harness/init_model.h"
#include "harness/local_backend.h"
#include "harness/process_launcher.h"
#include "harness/train_options.h"
#include "tasks/registry.h"

namespace r1lab::harness {
namespace {

template <class Options>
struct TrainCommand {
  Options given;                                              // what the flags set
  std::vector<std::pair<std::string, CLI::Option*>> options;  // flag name -> option, to tell given from default
};

// The effective settings: the defaults, then the --config file, then the flags given.
template <class Options>
Options effective_options(const TrainCommand<Options>& state) {
  Options effective;
  if (!state.given.config_file.empty()) {
    std::ifstream in(state.given.config_file);
    if (!in) throw std::runtime_error(state.given.config_file + ": cannot open the --config file");
    nlohmann::json config;
    try {
      config = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
      throw std::runtime_error(state.given.config_file + ": not valid JSON: " + e.what());
    }
    apply_options_json(effective, config, state.given.config_file);
    effective.config_file = state.given.config_file;
  }
  nlohmann::json flags = options_to_json(state.given), chosen = nlohmann::json::object();
  for (const auto& [name, option] : state.options) {
    if (option->count() > 0) chosen[name] = flags[name];
  }
  apply_options_json(effective, chosen, "the command line");
  return effective;
}

// Declares one trainer's flags; `run` gets the validated settings, once per rank.
template <class Options>
void add_trainer(CLI::App* train, const char* name, const char* description, std::vector<const char*> required, int argc,
                 char** argv, std::function<void(const Options&)> run) {
  auto state = std::make_shared<TrainCommand<Options>>();
  auto* command = train->add_subcommand(name, description);
  visit_fields(state->given, [&](const char* flag_name, auto& field, const char* help, FieldRole) {
    using T = std::decay_t<decltype(field)>;
    std::string flag = std::string("--") + flag_name;
    CLI::Option* option;
    if constexpr (std::is_same_v<T, bool>) {
      // CLI11 prints the value the --no- form sets ({false}), not the default: the help says it.
      option = command->add_flag(flag + ",!--no-" + flag_name, field, std::string(help) + (field ? " (default: on)" : " (default: off)"));
    } else {
      option = command->add_option(flag, field, help)->capture_default_str();
    }
    option->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);   // a flag given twice: the last one wins
    state->options.emplace_back(flag_name, option);
  });
  command->add_option("--config", state->given.config_file, "JSON file of settings (keys: the flag names without --); flags win");
  command->callback([state, required, argc, argv, run] {
    Options effective = effective_options(*state);
    nlohmann::json values = options_to_json(effective);
    for (const char* key : required) {
      if (values[key].get<std::string>().empty()) {
        throw std::invalid_argument(std::string("--") + key + " is required (a flag or a key of --config)");
      }
    }
    validate_options(effective);
    if (effective.nproc > 1 && !launched_as_rank()) {
      int code = run_local_ranks(effective.nproc, argc, argv);
      if (code != 0) throw CLI::RuntimeError(code);
      return;
    }
    run(effective);
  });
}

void run_grpo(const GrpoOptions& options) {
  // The task and the grading process first: before the plugin loads LibTorch and before any thread.
  auto data = tasks::DataDirectory::resolve(options.data_dir);
  auto task = tasks::make_task(options.task);
  task->load(data);
  if (options.limit > 0 && static_cast<std::size_t>(options.limit) > task->problems().size()) {
    throw std::invalid_argument("--limit " + std::to_string(options.limit) + " is more than the " +
                                std::to_string(task->problems().size()) + " problems of " + options.task);
  }
  tasks::GradingConfig grading;
  grading.prompt_template = options.prompt_format == "r1-zero" ? tasks::PromptTemplate::r1_zero : tasks::PromptTemplate::paper;
  // A pass-rate reward needs every test run, not the stop at the first failure that a verdict needs.
  grading.code.stop_at_first_failure = options.code_reward != "pass-rate";
  task->check_grading_environment(grading);
  if (!options.eval_task.empty()) tasks::make_task(options.eval_task)->load(data);   // fail now, not at the first evaluation
  auto deadline = std::max(std::chrono::milliseconds(static_cast<std::int64_t>(options.grading_deadline_s * 1000)),
                           task->grading_deadline(grading));
  tasks::GradingService grader({{task.get(), grading, deadline}}, options.grading_workers, {});
  GrpoEnvironment environment{*task, grading, grader, data.root().string(), std::filesystem::read_symlink("/proc/self/exe").string()};
  trainer_entry().run_train_grpo(options, environment);
}

void add_init_model(CLI::App* train) {
  auto o = std::make_shared<InitModelOptions>();
  auto* command = train->add_subcommand("init-model", "A new random Qwen2-architecture model with a small byte-level BPE vocabulary learned from --corpus (tiny models for CPU experiments)");
  command->add_option("--out", o->out, "The model folder to write")->required();
  command->add_option("--corpus", o->corpus, "Text or JSONL files the vocabulary is learned from (every string of a JSON line)")->required();
  command->add_option("--merges", o->merges, "BPE merges on top of the 256 bytes (digits are never merged)")->capture_default_str();
  command->add_option("--hidden-size", o->hidden_size)->capture_default_str();
  command->add_option("--intermediate-size", o->intermediate_size)->capture_default_str();
  command->add_option("--layers", o->layers)->capture_default_str();
  command->add_option("--heads", o->heads)->capture_default_str();
  command->add_option("--kv-heads", o->kv_heads)->capture_default_str();
  command->add_option("--max-positions", o->max_positions)->capture_default_str();
  command->add_option("--rope-theta", o->rope_theta)->capture_default_str();
  command->add_option("--seed", o->seed, "Seed of the initial weights")->capture_default_str();
  command->callback([o] {
    namespace fs = std::filesystem;
    if (fs::exists(fs::path(o->out) / "config.json")) throw std::runtime_error(o->out + " already holds a model (config.json); choose another --out");
    // Written aside and renamed when complete: a model folder is never half-written.
    const fs::path staging = o->out + ".partial";
    fs::remove_all(staging);
    const std::int64_t vocab = write_model_files(*o, staging);
    trainer_entry().init_model_weights(staging.string(), o->seed);
    fs::remove_all(o->out);
    fs::rename(staging, o->out);
    std::cout << o->out << ": vocabulary " << vocab << " tokens, hidden " << o->hidden_size << ", " << o->layers << " layers\n";
  });
}

}  // namespace

void add_train_command(CLI::App& app, int argc, char** argv) {
  auto* train = app.add_subcommand("train", "Train with the built-in model (LibTorch build): sft, grpo, init-model");
  train->require_subcommand(1);
  add_init_model(train);
  add_trainer<SftOptions>(train, "sft", "Supervised fine-tuning (the distillation arm): loss on assistant tokens, AdamW, checkpoints, exact resume",
                          {"model", "data", "out"}, argc, argv, [](const SftOptions& o) { trainer_entry().run_train_sft(o); });
  add_trainer<GrpoOptions>(train, "grpo", "GRPO (the R1-Zero arm): rollouts on the live policy, rewards from the task's own grader, clipped surrogate, exact resume",
                           {"model", "task", "out"}, argc, argv, run_grpo);
}

}  // namespace r1lab::harness

// `r1lab train sft`: supervised fine-tuning on the built-in model (run by the trainer plugin, see
// local_backend.h). Every setting is a flag and a key of --config (harness/train_options.h); flags win.
#include <fstream>

#include "harness/commands.h"
#include "harness/local_backend.h"
#include "harness/process_launcher.h"
#include "harness/train_options.h"

namespace r1lab::harness {
namespace {

struct SftCommand {
  SftOptions given;                           // what the flags set
  std::vector<std::pair<std::string, CLI::Option*>> options;   // flag name -> option, to tell given from default
};

}  // namespace

void add_train_command(CLI::App& app, int argc, char** argv) {
  auto* train = app.add_subcommand("train", "Train with the built-in model (LibTorch build): sft");
  train->require_subcommand(1);
  auto state = std::make_shared<SftCommand>();
  auto* sft = train->add_subcommand("sft", "Supervised fine-tuning (the distillation arm): loss on assistant tokens, AdamW, checkpoints, exact resume");
  visit_sft_fields(state->given, [&](const char* name, auto& field, const char* help, FieldRole) {
    using T = std::decay_t<decltype(field)>;
    std::string flag = std::string("--") + name;
    CLI::Option* option;
    if constexpr (std::is_same_v<T, bool>) {
      option = sft->add_flag(flag + ",!--no-" + name, field, help);
    } else {
      option = sft->add_option(flag, field, help)->capture_default_str();
    }
    state->options.emplace_back(name, option);
  });
  sft->add_option("--config", state->given.config_file, "JSON file of settings (keys: the flag names without --); flags win");
  sft->callback([state, argc, argv] {
    SftOptions effective;
    if (!state->given.config_file.empty()) {
      std::ifstream in(state->given.config_file);
      if (!in) throw std::runtime_error(state->given.config_file + ": cannot open the --config file");
      nlohmann::json config;
      try {
        config = nlohmann::json::parse(in);
      } catch (const nlohmann::json::exception& e) {
        throw std::runtime_error(state->given.config_file + ": not valid JSON: " + e.what());
      }
      apply_sft_json(effective, config, state->given.config_file);
      effective.config_file = state->given.config_file;
    }
    // Flags given on the command line win over the file.
    nlohmann::json flags = sft_options_to_json(state->given), chosen = nlohmann::json::object();
    for (const auto& [name, option] : state->options) {
      if (option->count() > 0) chosen[name] = flags[name];
    }
    apply_sft_json(effective, chosen, "the command line");
    for (const char* required : {"model", "data", "out"}) {
      if (sft_options_to_json(effective)[required].get<std::string>().empty()) {
        throw std::invalid_argument(std::string("--") + required + " is required (a flag or a key of --config)");
      }
    }
    validate_sft_options(effective);
    if (effective.nproc > 1 && !launched_as_rank()) {
      int code = run_local_ranks(effective.nproc, argc, argv);
      if (code != 0) throw CLI::RuntimeError(code);
      return;
    }
    trainer_entry().run_train_sft(effective);
  });
}

}  // namespace r1lab::harness

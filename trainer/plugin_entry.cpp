// The trainer plugin's one exported symbol: what harness/local_backend.h loads with dlopen.
#include "harness/local_backend.h"
#include "trainer/builtin_backend.h"
#include "trainer/causal_lm.h"
#include "trainer/generate_run.h"
#include "trainer/grpo_run.h"
#include "trainer/sft_run.h"

namespace {

std::unique_ptr<r1lab::harness::GenerationBackend> make_builtin(const r1lab::harness::LocalBackendOptions& options) {
  return std::make_unique<r1lab::trainer::BuiltinBackend>(options);
}

void init_model_weights(const std::string& dir, std::uint64_t seed) {
  r1lab::trainer::LoadOptions options;
  options.random_init_seed = seed;
  auto model = r1lab::trainer::CausalLM::load(dir, options);
  model->save(dir, at::kFloat);
}

const r1lab::harness::TrainerEntry kEntry = {r1lab::harness::kTrainerEntryVersion, &make_builtin, &r1lab::trainer::run_generate,
                                             &r1lab::trainer::run_train_sft, &r1lab::trainer::run_train_grpo,
                                             &init_model_weights};

}  // namespace

extern "C" __attribute__((visibility("default"))) const r1lab::harness::TrainerEntry* r1lab_trainer_entry() { return &kEntry; }

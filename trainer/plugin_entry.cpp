// The trainer plugin's one exported symbol: what harness/local_backend.h loads with dlopen.
#include "harness/local_backend.h"
#include "trainer/builtin_backend.h"
#include "trainer/generate_run.h"
#include "trainer/sft_run.h"

namespace {

std::unique_ptr<r1lab::harness::GenerationBackend> make_builtin(const r1lab::harness::LocalBackendOptions& options) {
  return std::make_unique<r1lab::trainer::BuiltinBackend>(options);
}

const r1lab::harness::TrainerEntry kEntry = {r1lab::harness::kTrainerEntryVersion, &make_builtin, &r1lab::trainer::run_generate,
                                             &r1lab::trainer::run_train_sft};

}  // namespace

extern "C" __attribute__((visibility("default"))) const r1lab::harness::TrainerEntry* r1lab_trainer_entry() { return &kEntry; }

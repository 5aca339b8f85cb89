// trainer/builtin_backend.h — the harness's GenerationBackend on the built-in engine: `r1lab eval
// --backend builtin --model DIR` evaluates a local model folder with no server. Requests are gathered
// into batches of up to max_batch samples (a request with n samples gives n rows, seeded from the
// request's seed), rendered with the model's chat template, and generated together.
#pragma once

#include <memory>

#include "harness/local_backend.h"
#include "trainer/engine.h"
#include "trainer/loaded_model.h"

namespace r1lab::trainer {

class BuiltinBackend : public harness::GenerationBackend {
 public:
  explicit BuiltinBackend(const harness::LocalBackendOptions& options);
  std::string describe() const override;
  void check() override {}
  void run(harness::RequestSource& source, harness::ResultSink& sink, const std::atomic<bool>& stop) override;

  // The token ids of a request's prompt, as the engine will see them.
  std::vector<std::int64_t> prompt_ids(const harness::GenerationRequest& request) const;
  // The engine's rows for a request: its prompt rendered and tokenised, its sampling, one seed per sample
  // (sample_seed). top_k and ignore_eos are not in the harness's request (generate sets them).
  std::vector<GenerationSpec> sample_specs(const harness::GenerationRequest& request, std::int64_t top_k = 0,
                                           bool ignore_eos = false) const;
  const LoadedModel& loaded() const { return *loaded_; }

 private:
  harness::LocalBackendOptions options_;
  std::unique_ptr<LoadedModel> loaded_;
};


}  // namespace r1lab::trainer

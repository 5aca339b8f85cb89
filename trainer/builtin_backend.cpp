#include "trainer/builtin_backend.h"

#include <chrono>

namespace r1lab::trainer {

BuiltinBackend::BuiltinBackend(const harness::LocalBackendOptions& options) : options_(options) {
  loaded_ = LoadedModel::load(options.model_dir, {options.device, options.dtype, options.chat_template,
                                                  options.chat ? ChatTemplateUse::required : ChatTemplateUse::none});
}

std::string BuiltinBackend::describe() const { return "builtin " + loaded_->describe(); }

std::vector<std::int64_t> BuiltinBackend::prompt_ids(const harness::GenerationRequest& request) const {
  if (!options_.chat) return loaded_->completion_prompt_ids(request.prompt);
  std::vector<tokenizer::ChatTurn> turns;
  if (request.messages.empty()) turns.push_back({"user", request.prompt});
  for (const auto& m : request.messages) turns.push_back({m.role, m.content});
  return loaded_->chat_prompt_ids(turns);
}

std::vector<GenerationSpec> BuiltinBackend::sample_specs(const harness::GenerationRequest& request, std::int64_t top_k,
                                                         bool ignore_eos) const {
  auto ids = prompt_ids(request);
  std::uint64_t seed = request.seed ? static_cast<std::uint64_t>(*request.seed) : 0;
  std::vector<GenerationSpec> specs(static_cast<std::size_t>(request.n));
  for (int i = 0; i < request.n; ++i) {
    GenerationSpec& spec = specs[static_cast<std::size_t>(i)];
    spec.prompt = ids;
    spec.sampling = {request.sampling.temperature, request.sampling.top_p, top_k, sample_seed(seed, i)};
    spec.max_new_tokens = request.sampling.max_tokens;
    spec.stop = request.sampling.stop;
    spec.ignore_eos = ignore_eos;
  }
  return specs;
}

void BuiltinBackend::run(harness::RequestSource& source, harness::ResultSink& sink, const std::atomic<bool>& stop) {
  Engine engine(loaded_->model(), loaded_->tokenizer());
  while (!stop.load()) {
    // Gather requests until the batch is full or the source has none for now.
    std::vector<harness::GenerationRequest> requests;
    std::vector<GenerationSpec> specs;
    while (static_cast<int>(specs.size()) < options_.max_batch) {
      auto request = source.next();
      if (!request) break;
      for (auto& spec : sample_specs(*request)) specs.push_back(std::move(spec));
      requests.push_back(std::move(*request));
    }
    if (requests.empty()) return;
    auto started = std::chrono::steady_clock::now();
    auto sequences = engine.generate(specs, &stop);
    if (stop.load()) return;   // abandoned: nothing delivered, nothing lost
    double latency_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    std::size_t next = 0;
    for (auto& request : requests) {
      harness::GenerationResult result;
      result.key = request.key;
      result.attempts = 1;
      result.latency_ms = latency_ms;
      result.prompt_tokens = static_cast<std::int64_t>(specs[next].prompt.size());
      result.completion_tokens = 0;
      for (int i = 0; i < request.n; ++i, ++next) {
        result.completion_tokens += static_cast<std::int64_t>(sequences[next].tokens.size());
        result.completions.push_back({tokenizer::valid_utf8(sequences[next].text), sequences[next].finish_reason,
                                      static_cast<std::int64_t>(sequences[next].tokens.size())});
      }
      sink.on_result(std::move(result));
    }
  }
}

}  // namespace r1lab::trainer

#include "trainer/builtin_backend.h"

#include <chrono>
#include <deque>
#include <map>

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
  // A request's n samples, collected as they finish; the result goes out when the last one does.
  struct Open {
    std::vector<GeneratedSequence> samples;
    int remaining = 0;
    std::int64_t prompt_tokens = 0;
    std::chrono::steady_clock::time_point started;
  };
  std::map<std::uint64_t, Open> open;                          // by request key
  std::vector<std::pair<std::uint64_t, int>> owner;            // pull index -> (request key, sample)
  std::deque<std::pair<GenerationSpec, std::pair<std::uint64_t, int>>> queued;   // specs of pulled requests
  while (!stop.load()) {
    std::size_t pulled_requests = 0;
    // Continuous batching: the engine pulls samples as rows free up, so a long answer never holds the
    // next requests back, and each request is delivered the moment its last sample ends.
    engine.stream(
        [&]() -> std::optional<GenerationSpec> {
          if (queued.empty()) {
            auto request = source.next();
            if (!request) return std::nullopt;
            ++pulled_requests;
            auto specs = sample_specs(*request);
            Open& o = open[request->key];
            o.samples.resize(specs.size());
            o.remaining = static_cast<int>(specs.size());
            o.prompt_tokens = specs.empty() ? 0 : static_cast<std::int64_t>(specs[0].prompt.size());
            o.started = std::chrono::steady_clock::now();
            for (std::size_t i = 0; i < specs.size(); ++i) queued.emplace_back(std::move(specs[i]), std::pair{request->key, static_cast<int>(i)});
            if (queued.empty()) return std::nullopt;   // n = 0: nothing to generate
          }
          auto [spec, who] = std::move(queued.front());
          queued.pop_front();
          owner.push_back(who);
          return std::move(spec);
        },
        options_.max_batch,
        [&](std::size_t index, GeneratedSequence&& sequence) {
          if (sequence.finish_reason == "abort") return;   // stopped: abandoned, never delivered, nothing lost
          const auto [key, sample] = owner[index];
          Open& o = open.at(key);
          o.samples[static_cast<std::size_t>(sample)] = std::move(sequence);
          if (--o.remaining > 0) return;
          harness::GenerationResult result;
          result.key = key;
          result.attempts = 1;
          result.latency_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - o.started).count();
          result.prompt_tokens = o.prompt_tokens;
          result.completion_tokens = 0;
          for (auto& s : o.samples) {
            result.completion_tokens += static_cast<std::int64_t>(s.tokens.size());
            result.completions.push_back({tokenizer::valid_utf8(s.text), s.finish_reason, static_cast<std::int64_t>(s.tokens.size())});
          }
          open.erase(key);
          sink.on_result(std::move(result));
        },
        &stop);
    if (pulled_requests == 0) return;   // the source had nothing left
  }
}

}  // namespace r1lab::trainer

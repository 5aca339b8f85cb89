#include "harness/score_run.h"

#include <algorithm>

#include "harness/results_writer.h"
#include "tasks/grading/grading_pool.h"
#include "tasks/registry.h"

namespace r1lab::harness {
namespace {

// Characters of UTF-8 text: the bytes that start one (not 10xxxxxx continuations).
std::int64_t utf8_characters(const std::string& text) {
  return static_cast<std::int64_t>(std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}


using Clock = std::chrono::steady_clock;

}  // namespace

nlohmann::json run_score(const ScoreOptions& options) {
  auto started = Clock::now();
  auto task = tasks::make_task(options.task);
  auto data = tasks::DataDirectory::resolve(options.data_dir);
  task->load(data);
  SampleSet set = read_samples(options.samples, options.format, options.fields, *task);
  tasks::GradingConfig config = options.grading;
  if (!options.think_policy_given && set.format == "skythought") {
    config.math.think_policy = grading::ThinkPolicy::none;
    config.choice.think_policy = grading::ThinkPolicy::none;
  }
  const auto& problems = task->problems();
  task->check_grading_environment(config);

  // Grade every sample in worker processes.
  auto grade_started = Clock::now();
  grading::PoolOptions pool;
  pool.workers = options.workers;
  pool.hard_deadline = std::max(options.hard_deadline, task->grading_deadline(config));
  auto graded = grading::grade_in_worker_processes(set.samples.size(), pool, [&](std::size_t i) {
    const Sample& s = set.samples[i];
    return task->grade(problems[s.problem_index], s.sample_index, s.completion, s.prompt, config);
  });
  ResultsRequest request;
  request.task = task.get();
  request.data = &data;
  request.config = config;
  // Lengths in tokens when every line carries "completion_tokens", else in characters for all.
  const bool all_tokens = std::all_of(set.samples.begin(), set.samples.end(), [](const Sample& s) { return s.tokens >= 0; });
  request.length_unit = all_tokens ? "tokens" : "characters";
  for (std::size_t i = 0; i < graded.size(); ++i) {
    const Sample& s = set.samples[i];
    GradedSample g;
    g.problem_index = s.problem_index;
    g.sample_index = s.sample_index;
    g.verdict = std::move(graded[i].verdict);
    g.grading_ms = graded[i].milliseconds;
    g.length = all_tokens ? s.tokens : utf8_characters(s.completion);
    if (s.finish_reason) {
      g.truncated = *s.finish_reason == "length";
      g.finish_reason = *s.finish_reason;
    }
    g.tokens = s.tokens;
    request.samples.push_back(std::move(g));
  }
  request.grading_seconds = std::chrono::duration<double>(Clock::now() - grade_started).count();
  request.any_think_tag = [&set] {
    return std::any_of(set.samples.begin(), set.samples.end(), [](const Sample& s) { return shows_think_tag(s.completion, s.prompt); });
  };
  request.model = options.model.empty() ? options.samples.parent_path().filename().string() : options.model;
  if (request.model.empty()) request.model = options.samples.stem().string();
  request.pass_k = options.pass_k;
  request.cons_k = options.cons_k;
  request.allow_partial = options.allow_partial;
  request.samples_origin = options.samples.string();
  request.partial_fix = "complete the generations, or pass --allow-partial to score what is there (reported as partial)";
  // The fields too, so that `r1lab show` can read the texts back.
  request.source = {{"samples_file", {{"path", std::filesystem::absolute(options.samples).lexically_normal().string()},
                                      {"format", set.format},
                                      {"fields", {{"id", options.fields.id}, {"sample", options.fields.sample},
                                                  {"completion", options.fields.completion}, {"prompt", options.fields.prompt}}},
                                      {"sha256", tasks::sha256_file(options.samples)}}}};
  request.started = started;
  request.workers = options.workers;
  request.hard_deadline = pool.hard_deadline;
  return write_results(std::move(request), options.out_dir);
}

}  // namespace r1lab::harness

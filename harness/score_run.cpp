#include "harness/score_run.h"

#include "harness/results_writer.h"
#include "tasks/grading/grading_pool.h"
#include "tasks/registry.h"

namespace r1lab::harness {

namespace {

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
  for (std::size_t i = 0; i < graded.size(); ++i) {
    const Sample& s = set.samples[i];
    request.samples.push_back({s.problem_index, s.sample_index, std::move(graded[i].verdict), graded[i].milliseconds});
  }
  request.grading_seconds = std::chrono::duration<double>(Clock::now() - grade_started).count();
  request.any_think_tag = [&set] {
    return std::any_of(set.samples.begin(), set.samples.end(), [](const Sample& s) { return shows_think_tag(s.completion, s.prompt); });
  };
  request.model = options.model.empty() ? options.samples.parent_path().filename().string() : options.model;
  if (request.model.empty()) request.model = options.samples.stem().string();
  request.pass_k = options.pass_k;
  request.allow_partial = options.allow_partial;
  request.samples_origin = options.samples.string();
  request.partial_fix = "complete the generations, or pass --allow-partial to score what is there (reported as partial)";
  request.source = {{"samples_file", {{"path", options.samples.string()}, {"format", set.format},
                                      {"sha256", tasks::sha256_file(options.samples)}}}};
  request.started = started;
  request.workers = options.workers;
  request.hard_deadline = pool.hard_deadline;
  return write_results(std::move(request), options.out_dir);
}

}  // namespace r1lab::harness

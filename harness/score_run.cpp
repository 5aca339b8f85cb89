#include "harness/score_run.h"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <map>

#include "harness/atomic_file.h"
#include "harness/grading_pool.h"
#include "harness/version.h"
#include "metrics/consensus.h"
#include "metrics/pass_at_k.h"
#include "metrics/summary.h"
#include "tasks/registry.h"

namespace r1lab::harness {

namespace {

using Clock = std::chrono::steady_clock;
using grading::Verdict;
using grading::VerdictKind;

nlohmann::json verdict_json(const Verdict& v) {
  nlohmann::json j = {{"verdict", grading::verdict_kind_name(v.kind)}, {"extracted", v.extracted},
                      {"canonical", v.canonical}, {"reason", v.reason}};
  if (!v.status.empty()) j["status"] = v.status;
  return j;
}

Verdict verdict_from_json(const nlohmann::json& j) {
  return {grading::verdict_kind_from_name(j["verdict"].get<std::string>()), j["extracted"].get<std::string>(),
          j["canonical"].get<std::string>(), j["reason"].get<std::string>(), j.value("status", "")};
}

nlohmann::json metric_json(const std::string& name, int k, std::size_t n, const metrics::MeanWithError& m) {
  return {{"name", name}, {"k", k}, {"n", n}, {"value", m.mean}, {"stderr", m.standard_error},
          {"problems", m.count}, {"label", fmt::format("{} (n={})", name, n)}};
}

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buffer;
}

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

  // Samples per problem: all equal to n, unless partial scoring is allowed.
  std::vector<std::vector<std::size_t>> by_problem(problems.size());
  for (std::size_t i = 0; i < set.samples.size(); ++i) by_problem[set.samples[i].problem_index].push_back(i);
  std::size_t n = 0, fewest = SIZE_MAX;
  for (const auto& list : by_problem) {
    n = std::max(n, list.size());
    fewest = std::min(fewest, list.size());
  }
  if (n == 0) throw tasks::DataError(options.samples.string() + ": no samples");
  bool partial = fewest != n;
  if (partial && !options.allow_partial) {
    std::size_t missing = 0;
    std::string example;
    for (std::size_t p = 0; p < problems.size(); ++p)
      if (by_problem[p].size() != n) {
        if (example.empty()) example = fmt::format("'{}' has {}", problems[p].id, by_problem[p].size());
        ++missing;
      }
    throw tasks::DataError(fmt::format("{}: {} of {} problems do not have n={} samples (e.g. {}); complete the "
                                       "generations, or pass --allow-partial to score what is there (reported as partial)",
                                       options.samples.string(), missing, problems.size(), n, example));
  }

  // Grade every sample in worker processes.
  auto grade_started = Clock::now();
  PoolOptions pool;
  pool.workers = options.workers;
  pool.hard_deadline = std::max(options.hard_deadline, task->grading_deadline(config));
  auto graded = run_in_worker_processes(set.samples.size(), pool, [&](std::size_t i) {
    const Sample& s = set.samples[i];
    return verdict_json(task->grade(problems[s.problem_index], s.sample_index, s.completion, s.prompt, config)).dump();
  });
  std::vector<Verdict> verdicts(set.samples.size());
  double slowest_ms = 0;
  for (std::size_t i = 0; i < graded.size(); ++i) {
    slowest_ms = std::max(slowest_ms, graded[i].milliseconds);
    verdicts[i] = graded[i].ok ? verdict_from_json(nlohmann::json::parse(graded[i].payload))
                               : Verdict{VerdictKind::timeout, "", "", graded[i].failure, ""};
  }

  // cons@n: equivalence classes of extracted answers per problem, also in workers (comparisons are grading).
  std::vector<std::vector<int>> classes(problems.size());
  if (n > 1) {
    auto clustered = run_in_worker_processes(problems.size(), pool, [&](std::size_t p) {
      std::vector<int> ids;
      std::vector<std::size_t> representatives;  // sample positions, one per class
      for (std::size_t position : by_problem[p]) {
        const Verdict& v = verdicts[position];
        if (v.extracted.empty() || v.kind == VerdictKind::timeout) {
          ids.push_back(-1);
          continue;
        }
        int found = -1;
        for (std::size_t c = 0; c < representatives.size() && found < 0; ++c)
          if (task->same_answer(problems[p], verdicts[representatives[c]], v, config)) found = static_cast<int>(c);
        if (found < 0) {
          found = static_cast<int>(representatives.size());
          representatives.push_back(position);
        }
        ids.push_back(found);
      }
      return nlohmann::json(ids).dump();
    });
    for (std::size_t p = 0; p < problems.size(); ++p) {
      if (clustered[p].ok) {
        classes[p] = nlohmann::json::parse(clustered[p].payload).get<std::vector<int>>();
      } else {  // fall back to exact canonical strings
        std::map<std::string, int> keys;
        for (std::size_t position : by_problem[p]) {
          const Verdict& v = verdicts[position];
          if (v.extracted.empty()) { classes[p].push_back(-1); continue; }
          classes[p].push_back(keys.emplace(v.canonical, static_cast<int>(keys.size())).first->second);
        }
      }
    }
  }
  double grade_seconds = std::chrono::duration<double>(Clock::now() - grade_started).count();

  // Metrics.
  std::vector<double> pass1, cons;
  std::map<int, std::vector<double>> pass_k;
  std::vector<int> ks;
  for (int k : options.pass_k)
    if (k > 1 && static_cast<std::size_t>(k) <= n && std::find(ks.begin(), ks.end(), k) == ks.end()) ks.push_back(k);
    else if (k > 1 && static_cast<std::size_t>(k) > n)
      throw std::invalid_argument(fmt::format("pass@{} needs at least {} samples per problem, but n={}", k, k, n));
  std::map<std::string, std::map<std::string, std::vector<double>>> breakdown;
  std::map<std::string, long> counts;
  for (auto kind : {VerdictKind::correct, VerdictKind::wrong, VerdictKind::no_answer, VerdictKind::unfinished, VerdictKind::timeout,
                    VerdictKind::grader_error})
    counts[std::string(grading::verdict_kind_name(kind))] = 0;
  for (std::size_t p = 0; p < problems.size(); ++p) {
    const auto& list = by_problem[p];
    if (list.empty()) continue;  // partial: a problem with no samples is not scored
    std::int64_t correct = 0;
    for (std::size_t position : list) {
      correct += verdicts[position].is_correct();
      counts[std::string(grading::verdict_kind_name(verdicts[position].kind))]++;
    }
    double score = metrics::pass_at_k(static_cast<std::int64_t>(list.size()), correct, 1);
    pass1.push_back(score);
    for (int k : ks)
      if (list.size() >= static_cast<std::size_t>(k))
        pass_k[k].push_back(metrics::pass_at_k(static_cast<std::int64_t>(list.size()), correct, k));
    if (n > 1) {
      auto vote = metrics::majority_vote(classes[p]);
      cons.push_back(vote.winning_class >= 0 && verdicts[list[static_cast<std::size_t>(vote.first_sample)]].is_correct() ? 1.0 : 0.0);
    }
    for (const auto& label : task->info().breakdown_labels) {
      auto it = problems[p].labels.find(label);
      if (it != problems[p].labels.end()) breakdown[label][it->second].push_back(score);
    }
  }
  nlohmann::json metric_list = nlohmann::json::array();
  metric_list.push_back(metric_json("pass@1", 1, n, metrics::mean_with_error(pass1)));
  for (int k : ks) metric_list.push_back(metric_json(fmt::format("pass@{}", k), k, n, metrics::mean_with_error(pass_k[k])));
  if (n > 1) metric_list.push_back(metric_json(fmt::format("cons@{}", n), static_cast<int>(n), n, metrics::mean_with_error(cons)));
  nlohmann::json breakdowns = nlohmann::json::object();
  for (const auto& [label, groups] : breakdown)
    for (const auto& [group, scores] : groups) {
      auto m = metrics::mean_with_error(scores);
      breakdowns[label][group] = {{"pass@1", m.mean}, {"stderr", m.standard_error}, {"problems", m.count}};
    }

  std::string model = options.model.empty() ? options.samples.parent_path().filename().string() : options.model;
  if (model.empty()) model = options.samples.stem().string();
  double total_seconds = std::chrono::duration<double>(Clock::now() - started).count();
  nlohmann::json results = {
      {"r1lab", {{"version", kVersion}, {"git_sha", kGitSha}}},
      {"created_at", utc_now()},
      {"model", model},
      {"task", {{"name", task->info().name}, {"version", task->info().version},
                {"dataset", {{"path", (data.root() / task->info().dataset.relative_path).string()},
                             {"sha256", task->dataset_sha256()},
                             {"known_sha256", task->info().dataset.sha256},
                             {"matches_known", task->dataset_sha256() == task->info().dataset.sha256}}}}},
      {"samples_file", {{"path", options.samples.string()}, {"format", set.format},
                        {"sha256", tasks::sha256_file(options.samples)}}},
      {"grading", task->grading_options(config)},
      {"n", n},
      {"problems", pass1.size()},
      {"samples", set.samples.size()},
      {"partial", partial},
      {"metrics", metric_list},
      {"breakdowns", breakdowns},
      {"verdict_counts", counts},
      {"timings", {{"total_s", total_seconds}, {"grading_s", grade_seconds},
                   {"samples_per_s", grade_seconds > 0 ? static_cast<double>(set.samples.size()) / grade_seconds : 0.0},
                   {"slowest_sample_ms", slowest_ms},
                   {"workers", options.workers > 0 ? options.workers : default_worker_count()}}},
  };
  {
    std::vector<std::vector<Verdict>> verdicts_by_problem(problems.size());
    for (std::size_t p = 0; p < problems.size(); ++p) {
      auto positions = by_problem[p];   // attempts in sample order (Codeforces rating counts failed attempts)
      std::stable_sort(positions.begin(), positions.end(), [&](std::size_t a, std::size_t b) {
        return set.samples[a].sample_index < set.samples[b].sample_index;
      });
      for (std::size_t position : positions) verdicts_by_problem[p].push_back(verdicts[position]);
    }
    auto extra = task->task_results(verdicts_by_problem, data, config);
    if (!extra.is_null()) results["task_results"] = extra;
  }
  if (partial) results["partial_detail"] = {{"fewest_samples", fewest}, {"most_samples", n}};

  // verdicts.jsonl, then results.json, each written whole or not at all.
  std::string lines;
  for (std::size_t i = 0; i < set.samples.size(); ++i) {
    const Sample& s = set.samples[i];
    nlohmann::json line = verdict_json(verdicts[i]);
    line["id"] = problems[s.problem_index].id;
    line["sample"] = s.sample_index;
    line["correct"] = verdicts[i].is_correct();
    line["grading_ms"] = graded[i].milliseconds;
    if (task->prompt_varies_per_sample()) {
      auto prompt = task->prompt(problems[s.problem_index], s.sample_index, config);
      if (prompt.permutation) line["permutation"] = *prompt.permutation;
    }
    lines += line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }
  std::filesystem::create_directories(options.out_dir);
  write_file_atomically(options.out_dir / "verdicts.jsonl", lines);
  write_file_atomically(options.out_dir / "results.json",
                        results.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  return results;
}

}  // namespace r1lab::harness

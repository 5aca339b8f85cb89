#include "harness/results_writer.h"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <map>

#include "harness/atomic_file.h"
#include "harness/version.h"
#include "metrics/consensus.h"
#include "metrics/length_stats.h"
#include "metrics/pass_at_k.h"
#include "metrics/summary.h"
#include "tasks/grading/grading_pool.h"
#include "tasks/grading/verdict_json.h"

namespace r1lab::harness {

namespace {

using Clock = std::chrono::steady_clock;
using grading::Verdict;
using grading::VerdictKind;

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

// cons@n classes: equivalence classes of extracted answers per problem, -1 for no answer. Comparing
// answers is grading (it can hang), so it runs in the worker pool; a problem whose comparison fails falls
// back to exact canonical strings.
std::vector<std::vector<int>> answer_classes(const ResultsRequest& request,
                                             const std::vector<std::vector<std::size_t>>& by_problem) {
  const auto& problems = request.task->problems();
  const std::size_t problem_count = by_problem.size();
  grading::PoolOptions pool;
  pool.workers = request.workers;
  pool.hard_deadline = request.hard_deadline;
  auto clustered = grading::run_in_worker_processes(problem_count, pool, [&](std::size_t p) {
    std::vector<int> ids;
    std::vector<std::size_t> representatives;  // sample positions, one per class
    for (std::size_t position : by_problem[p]) {
      const Verdict& v = request.samples[position].verdict;
      if (v.extracted.empty() || v.kind == VerdictKind::timeout) {
        ids.push_back(-1);
        continue;
      }
      int found = -1;
      for (std::size_t c = 0; c < representatives.size() && found < 0; ++c)
        if (request.task->same_answer(problems[p], request.samples[representatives[c]].verdict, v, request.config))
          found = static_cast<int>(c);
      if (found < 0) {
        found = static_cast<int>(representatives.size());
        representatives.push_back(position);
      }
      ids.push_back(found);
    }
    return nlohmann::json(ids).dump();
  });
  std::vector<std::vector<int>> classes(problem_count);
  for (std::size_t p = 0; p < problem_count; ++p) {
    if (clustered[p].ok) {
      classes[p] = nlohmann::json::parse(clustered[p].payload).get<std::vector<int>>();
      continue;
    }
    std::map<std::string, int> keys;
    for (std::size_t position : by_problem[p]) {
      const Verdict& v = request.samples[position].verdict;
      if (v.extracted.empty()) {
        classes[p].push_back(-1);
        continue;
      }
      classes[p].push_back(keys.emplace(v.canonical, static_cast<int>(keys.size())).first->second);
    }
  }
  return classes;
}

}  // namespace

bool shows_think_tag(std::string_view completion, std::string_view prompt) {
  for (std::string_view text : {completion, prompt})
    if (text.find("<think>") != std::string_view::npos || text.find("</think>") != std::string_view::npos) return true;
  return false;
}

namespace {

// Response lengths of the scored samples: all, correct and the others; truncation and no-answer rates.
nlohmann::json response_lengths(const ResultsRequest& request, std::size_t problem_count) {
  std::vector<double> all, correct, other;
  std::size_t counted = 0, truncated = 0, truncation_known = 0, no_answer = 0;
  bool lengths_known = true;
  for (const GradedSample& s : request.samples) {
    if (s.problem_index >= problem_count) continue;
    ++counted;
    no_answer += s.verdict.kind == VerdictKind::no_answer || s.verdict.kind == VerdictKind::unfinished;
    if (s.truncated) {
      ++truncation_known;
      truncated += *s.truncated;
    }
    if (s.length < 0) {
      lengths_known = false;
      continue;
    }
    const auto length = static_cast<double>(s.length);
    all.push_back(length);
    (s.verdict.is_correct() ? correct : other).push_back(length);
  }
  auto stats = [](std::vector<double> values) -> nlohmann::json {
    auto s = metrics::length_stats(std::move(values));
    if (s.count == 0) return nullptr;
    return {{"count", s.count}, {"mean", s.mean}, {"median", s.median}, {"p90", s.p90}, {"max", s.max}};
  };
  const double n = std::max<double>(1, static_cast<double>(counted));
  nlohmann::json out = {{"unit", request.length_unit},
                        {"counted_by", request.lengths_counted_by.empty() ? nlohmann::json(nullptr) : nlohmann::json(request.lengths_counted_by)},
                        {"all", lengths_known ? stats(all) : nlohmann::json(nullptr)},
                        {"correct", lengths_known ? stats(correct) : nlohmann::json(nullptr)},
                        {"other", lengths_known ? stats(other) : nlohmann::json(nullptr)},
                        {"truncation_rate", truncation_known == counted && counted > 0 ? nlohmann::json(static_cast<double>(truncated) / n)
                                                                                         : nlohmann::json(nullptr)},
                        {"no_answer_rate", static_cast<double>(no_answer) / n}};
  if (lengths_known && !all.empty()) {
    auto histogram = metrics::length_histogram(correct, other);
    out["histogram"] = {{"edges", histogram.edges}, {"correct", histogram.correct}, {"other", histogram.other},
                        {"beyond_last_edge", histogram.beyond_last_edge}};
  }
  return out;
}

}  // namespace

nlohmann::json write_results(ResultsRequest request, const std::filesystem::path& out_dir) {
  const tasks::Task& task = *request.task;
  const auto& problems = task.problems();
  auto& samples = request.samples;
  std::stable_sort(samples.begin(), samples.end(), [](const GradedSample& a, const GradedSample& b) {
    return std::tie(a.problem_index, a.sample_index) < std::tie(b.problem_index, b.sample_index);
  });

  // Samples per problem: all equal to n, unless partial scoring is allowed.
  const std::size_t problem_count =
      request.problem_limit > 0 ? std::min(request.problem_limit, problems.size()) : problems.size();
  std::vector<std::vector<std::size_t>> by_problem(problem_count);
  for (std::size_t i = 0; i < samples.size(); ++i)
    if (samples[i].problem_index < problem_count) by_problem[samples[i].problem_index].push_back(i);
  std::size_t n = 0, fewest = SIZE_MAX;
  for (const auto& list : by_problem) {
    n = std::max(n, list.size());
    fewest = std::min(fewest, list.size());
  }
  if (n == 0) throw tasks::DataError(request.samples_origin + ": no samples");
  bool partial = fewest != n;
  if (partial && !request.allow_partial) {
    std::size_t missing = 0;
    std::string example;
    for (std::size_t p = 0; p < problem_count; ++p)
      if (by_problem[p].size() != n) {
        if (example.empty()) example = fmt::format("'{}' has {}", problems[p].id, by_problem[p].size());
        ++missing;
      }
    throw tasks::DataError(fmt::format("{}: {} of {} problems do not have n={} samples (e.g. {}); {}",
                                       request.samples_origin, missing, problem_count, n, example, request.partial_fix));
  }

  auto cluster_started = Clock::now();
  std::vector<std::vector<int>> classes(problem_count);
  if (n > 1) classes = answer_classes(request, by_problem);
  double grade_seconds = request.grading_seconds + std::chrono::duration<double>(Clock::now() - cluster_started).count();

  // Metrics.
  std::vector<double> pass1, cons;
  std::map<int, std::vector<double>> pass_k, cons_k;
  // The k asked for (--pass-k, --cons-k), each at most n; pass@1 and cons@n are always there.
  auto requested = [n](const std::vector<int>& asked, const char* metric, std::size_t always) {
    std::vector<int> ks;
    for (int k : asked) {
      if (k < 1) throw std::invalid_argument(fmt::format("{}{} is not defined; k must be at least 1", metric, k));
      if (static_cast<std::size_t>(k) > n)
        throw std::invalid_argument(fmt::format("{}{} needs at least {} samples per problem, but n={}", metric, k, k, n));
      if (static_cast<std::size_t>(k) != always && std::find(ks.begin(), ks.end(), k) == ks.end()) ks.push_back(k);
    }
    std::sort(ks.begin(), ks.end());
    return ks;
  };
  const std::vector<int> ks = requested(request.pass_k, "pass@", 1);
  const std::vector<int> cons_ks = requested(request.cons_k, "cons@", n);   // empty when n == 1
  // The curves: k = 1, 2, 4, ... below n, and n (every problem with at least k samples).
  std::vector<std::size_t> curve_ks;
  for (std::size_t k = 1; k < n; k *= 2) curve_ks.push_back(k);
  curve_ks.push_back(n);
  std::map<std::size_t, std::vector<double>> pass_curve, cons_curve;
  std::map<std::string, std::map<std::string, std::vector<double>>> breakdown;
  std::map<std::string, long> counts;
  for (auto kind : {VerdictKind::correct, VerdictKind::wrong, VerdictKind::no_answer, VerdictKind::unfinished, VerdictKind::timeout,
                    VerdictKind::grader_error})
    counts[std::string(grading::verdict_kind_name(kind))] = 0;
  double slowest_ms = 0;
  // Per-problem scores, so that a gate can compare two runs problem by problem (reports/regression_gate.h).
  nlohmann::json per_problem = {{"id", nlohmann::json::array()}, {"pass@1", nlohmann::json::array()}};
  const std::string cons_name = fmt::format("cons@{}", n);
  if (n > 1) per_problem[cons_name] = nlohmann::json::array();
  for (int k : ks) per_problem[fmt::format("pass@{}", k)] = nlohmann::json::array();
  for (int k : cons_ks) per_problem[fmt::format("cons@{}", k)] = nlohmann::json::array();
  for (std::size_t p = 0; p < problem_count; ++p) {
    const auto& list = by_problem[p];
    if (list.empty()) continue;  // partial: a problem with no samples is not scored
    std::int64_t correct = 0;
    for (std::size_t position : list) {
      const Verdict& v = samples[position].verdict;
      correct += v.is_correct();
      counts[std::string(grading::verdict_kind_name(v.kind))]++;
      slowest_ms = std::max(slowest_ms, samples[position].grading_ms);
    }
    double score = metrics::pass_at_k(static_cast<std::int64_t>(list.size()), correct, 1);
    pass1.push_back(score);
    per_problem["id"].push_back(problems[p].id);
    per_problem["pass@1"].push_back(score);
    for (int k : ks) {
      nlohmann::json& column = per_problem[fmt::format("pass@{}", k)];
      if (list.size() >= static_cast<std::size_t>(k)) {
        pass_k[k].push_back(metrics::pass_at_k(static_cast<std::int64_t>(list.size()), correct, k));
        column.push_back(pass_k[k].back());
      } else {
        column.push_back(nullptr);   // partial: too few samples for this k
      }
    }
    for (std::size_t k : curve_ks)
      if (list.size() >= k) pass_curve[k].push_back(metrics::pass_at_k(static_cast<std::int64_t>(list.size()), correct, static_cast<std::int64_t>(k)));
    if (n > 1) {
      auto vote = metrics::majority_vote(classes[p]);
      cons.push_back(vote.winning_class >= 0 &&
                     samples[list[static_cast<std::size_t>(vote.first_sample)]].verdict.is_correct() ? 1.0 : 0.0);
      per_problem[cons_name].push_back(cons.back());
      // cons@k below n (metrics/consensus.h: every k-subset, or a seeded sample of them).
      std::vector<bool> class_correct;
      for (std::size_t i = 0; i < list.size(); ++i) {
        const int id = classes[p][i];
        if (id < 0) continue;
        if (class_correct.size() <= static_cast<std::size_t>(id)) class_correct.resize(static_cast<std::size_t>(id) + 1, false);
        if (samples[list[i]].verdict.is_correct()) class_correct[static_cast<std::size_t>(id)] = true;
      }
      // Once per k: a requested cons@k is often also a point of the curve, and each costs up to 2,000 votes.
      std::map<std::size_t, double> cons_by_k;
      auto cons_of = [&](std::size_t k) {
        auto [it, added] = cons_by_k.try_emplace(k, 0.0);
        if (added) it->second = metrics::consensus_at_k(classes[p], class_correct, k, (static_cast<std::uint64_t>(p) << 20) ^ k);
        return it->second;
      };
      for (int k : cons_ks) {
        nlohmann::json& column = per_problem[fmt::format("cons@{}", k)];
        if (list.size() >= static_cast<std::size_t>(k)) {
          cons_k[k].push_back(cons_of(static_cast<std::size_t>(k)));
          column.push_back(cons_k[k].back());
        } else {
          column.push_back(nullptr);
        }
      }
      for (std::size_t k : curve_ks)
        if (list.size() >= k) cons_curve[k].push_back(k == n ? cons.back() : cons_of(k));
    }
    for (const auto& label : task.info().breakdown_labels) {
      auto it = problems[p].labels.find(label);
      if (it != problems[p].labels.end()) breakdown[label][it->second].push_back(score);
    }
  }
  nlohmann::json metric_list = nlohmann::json::array();
  metric_list.push_back(metric_json("pass@1", 1, n, metrics::mean_with_error(pass1)));
  for (int k : ks) metric_list.push_back(metric_json(fmt::format("pass@{}", k), k, n, metrics::mean_with_error(pass_k[k])));
  for (int k : cons_ks) metric_list.push_back(metric_json(fmt::format("cons@{}", k), k, n, metrics::mean_with_error(cons_k[k])));
  if (n > 1) metric_list.push_back(metric_json(cons_name, static_cast<int>(n), n, metrics::mean_with_error(cons)));
  // pass@k and cons@k against k, for plots (report --format html); not gated.
  auto curve_json = [&](std::map<std::size_t, std::vector<double>>& curve) {
    nlohmann::json points = nlohmann::json::array();
    for (std::size_t k : curve_ks) {
      if (curve[k].empty()) continue;
      auto m = metrics::mean_with_error(curve[k]);
      points.push_back({{"k", k}, {"value", m.mean}, {"stderr", m.standard_error}, {"problems", m.count}});
    }
    return points;
  };
  nlohmann::json curves = {{"pass@k", curve_json(pass_curve)}};
  if (n > 1) curves["cons@k"] = curve_json(cons_curve);
  nlohmann::json breakdowns = nlohmann::json::object();
  for (const auto& [label, groups] : breakdown)
    for (const auto& [group, scores] : groups) {
      auto m = metrics::mean_with_error(scores);
      breakdowns[label][group] = {{"pass@1", m.mean}, {"stderr", m.standard_error}, {"problems", m.count}};
    }

  double total_seconds = std::chrono::duration<double>(Clock::now() - request.started).count();
  const tasks::DataDirectory& data = *request.data;
  nlohmann::json results = {
      {"r1lab", {{"version", kVersion}, {"git_sha", kGitSha}}},
      {"created_at", utc_now()},
      {"model", request.model},
      {"task", {{"name", task.info().name}, {"version", task.info().version},
                {"dataset", {{"path", task.info().dataset.relative_path.empty() ? std::string("generated: ") + task.info().dataset.public_source
                                                                                : (data.root() / task.info().dataset.relative_path).string()},
                             {"sha256", task.dataset_sha256()},
                             {"known_sha256", task.info().dataset.sha256},
                             {"matches_known", task.dataset_sha256() == task.info().dataset.sha256}}}}},
      {"grading", task.grading_options(request.config)},
      {"n", n},
      {"problems", pass1.size()},
      {"samples", samples.size()},
      {"partial", partial},
      {"metrics", metric_list},
      {"per_problem", per_problem},
      {"curves", curves},
      {"breakdowns", breakdowns},
      {"verdict_counts", counts},
      {"timings", {{"total_s", total_seconds}, {"grading_s", grade_seconds},
                   {"samples_per_s", grade_seconds > 0 ? static_cast<double>(samples.size()) / grade_seconds : 0.0},
                   {"slowest_sample_ms", slowest_ms},
                   {"workers", request.workers > 0 ? request.workers : grading::default_worker_count()}}},
  };
  for (const auto& [key, value] : request.source.items()) results[key] = value;
  {
    std::vector<std::vector<Verdict>> verdicts_by_problem(problems.size());
    for (std::size_t p = 0; p < problem_count; ++p)   // attempts in sample order (Codeforces counts failed attempts)
      for (std::size_t position : by_problem[p]) verdicts_by_problem[p].push_back(samples[position].verdict);
    auto extra = task.task_results(verdicts_by_problem, data, request.config);
    if (!extra.is_null()) results["task_results"] = extra;
  }
  if (problem_count < problems.size()) results["problem_limit"] = problem_count;
  // A model that does not think, graded as if it did: most samples unfinished, and no think tag anywhere.
  {
    std::size_t unfinished = 0, counted = 0;
    for (const GradedSample& s : samples) {
      if (s.problem_index >= problem_count) continue;
      ++counted;
      unfinished += s.verdict.kind == VerdictKind::unfinished;
    }
    if (counted > 0 && unfinished * 2 > counted && request.any_think_tag && !request.any_think_tag())
      results["hints"] = {fmt::format("{} of {} samples are unfinished and none shows a <think> tag: the model does not "
                                      "think; grade with --think none (or --think auto)", unfinished, counted)};
  }
  if (partial) results["partial_detail"] = {{"fewest_samples", fewest}, {"most_samples", n}};
  results["response_lengths"] = response_lengths(request, problem_count);

  // verdicts.jsonl, then results.json, each written whole or not at all.
  std::string lines;
  for (const GradedSample& s : samples) {
    if (s.problem_index >= problem_count) continue;
    nlohmann::json line = grading::verdict_to_json(s.verdict);
    line["id"] = problems[s.problem_index].id;
    line["sample"] = s.sample_index;
    line["correct"] = s.verdict.is_correct();
    line["grading_ms"] = s.grading_ms;
    // What `r1lab show` and a reader of failures need beside the verdict: the reference as this sample saw
    // it (a choice letter after its shuffle), how generation ended, and the length.
    const tasks::Problem& problem = problems[s.problem_index];
    if (!problem.reference.empty() && problem.choices.empty()) line["reference"] = problem.reference;
    if (task.prompt_varies_per_sample()) {
      auto prompt = task.prompt(problem, s.sample_index, request.config);
      if (prompt.permutation) {
        line["permutation"] = *prompt.permutation;
        for (int shown = 0; shown < 4; ++shown)
          if ((*prompt.permutation)[static_cast<std::size_t>(shown)] == 0) line["reference"] = std::string(1, static_cast<char>('A' + shown));
      }
    }
    if (!s.finish_reason.empty()) line["finish_reason"] = s.finish_reason;
    if (s.tokens >= 0) line["tokens"] = s.tokens;
    lines += line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }
  std::filesystem::create_directories(out_dir);
  write_file_atomically(out_dir / "verdicts.jsonl", lines);
  write_file_atomically(out_dir / "results.json", results.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  return results;
}

}  // namespace r1lab::harness

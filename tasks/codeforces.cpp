#include "tasks/codeforces.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <regex>

#include <nlohmann/json.hpp>

#include "metrics/codeforces_rating.h"
#include "metrics/summary.h"

namespace r1lab::tasks {

namespace fs = std::filesystem;

namespace {

const DatasetSpec kDeepCoder = {"codeforces", "codeforces/deepcoder_codeforces_test_with_ids.jsonl",
                                "b157f75751ff9ffe3bee23eea98a7baec2aa85339f7fc076ada93180924a1301",
                                "408 problems (16 interactive), example tests",
                                "rllm/data/test/code/codeforces.json + metadata_cf.json in agentica-project/rllm"};
const DatasetSpec kCodeContests = {"codecontests", "codeforces/code_contests_test.json",
                                   "0e3c580698270ab930268cbc63ea6b9cf920874ac40de4a06bdbebc7c2eade71",
                                   "165 problems, public + private tests",
                                   "rllm/data/test/code/code_contests.json in agentica-project/rllm (DeepMind CodeContests test split)"};
const DatasetSpec kHumanRatings = {"codeelo-ratings", "codeforces/codeelo_sorted_ratings.json",
                                   "a28d8130f43c3a229c47b1c01433a85b6fff12615ba4a10ce48b50a8d6caecf5",
                                   "717,421 human ratings", "sorted_ratings.json in QwenLM/CodeElo"};

std::string codeforces_prompt(const std::string& statement) {
  return "Solve the following competitive programming problem. Your program must read from standard input and "
         "write to standard output, within the time and memory limits given in the statement.\n\n" + statement +
         "\n\nWrite the complete solution in Python 3 or C++17 and put it in one fenced code block (```python or "
         "```cpp) at the end of your answer.";
}

}  // namespace

double parse_time_limit_seconds(const std::string& statement) {
  std::smatch m;
  static const std::regex ms(R"(Time Limit:\s*([0-9.]+)\s*ms)");
  static const std::regex proto(R"(Time Limit:\s*\{'seconds':\s*([0-9]+),\s*'nanos':\s*([0-9]+)\})");
  static const std::regex seconds(R"(Time Limit:\s*([0-9.]+)\s*(s|sec|second|seconds)\b)");
  if (std::regex_search(statement, m, ms)) return std::stod(m[1]) / 1000.0;
  if (std::regex_search(statement, m, proto)) return std::stod(m[1]) + std::stod(m[2]) / 1e9;
  if (std::regex_search(statement, m, seconds)) return std::stod(m[1]);
  return 2;
}

std::size_t parse_memory_limit_mb(const std::string& statement) {
  std::smatch m;
  static const std::regex mb(R"(Memory Limit:\s*([0-9]+)\s*(MB|megabytes))");
  static const std::regex bytes(R"(Memory Limit:\s*([0-9]+)\s*Bytes)");
  if (std::regex_search(statement, m, mb)) return std::stoul(m[1]);
  if (std::regex_search(statement, m, bytes)) return static_cast<std::size_t>(std::stoull(m[1]) / 1000000);
  return 256;
}

bool is_interactive_statement(const std::string& statement) {
  std::string lower(statement.size(), ' ');
  std::transform(statement.begin(), statement.end(), lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower.find("this is an interactive problem") != std::string::npos;
}

CodeforcesTask::CodeforcesTask(CodeforcesSource source) : source_(source) {
  if (source == CodeforcesSource::deepcoder) {
    info_.name = "codeforces";
    info_.description = "Codeforces contests 1971-2036 (DeepCoder set, example tests; interactive problems left out)";
    info_.dataset = kDeepCoder;
    info_.breakdown_labels = {"contest"};
  } else {
    info_.name = "codecontests";
    info_.description = "CodeContests test split: 165 Codeforces problems with public and private tests";
    info_.dataset = kCodeContests;
  }
  info_.version = 1;
  info_.default_samples = 8;   // CodeElo's eight submissions per problem
}

void CodeforcesTask::load(const DataDirectory& data) {
  clear_problems();
  interactive_.clear();
  auto path = data.require(info_.dataset);
  dataset_sha256_ = sha256_file(path);
  auto add = [&](const std::string& id, const std::string& statement, std::vector<code::TestCase> tests,
                 std::map<std::string, std::string> labels) {
    if (is_interactive_statement(statement)) {
      interactive_.push_back(id);
      return;
    }
    Problem problem;
    problem.id = id;
    problem.statement = statement;
    problem.labels = std::move(labels);
    code::CodeProblem code;
    code.tests = std::move(tests);
    code.time_limit_seconds = parse_time_limit_seconds(statement);
    code.memory_limit_mb = parse_memory_limit_mb(statement);
    code.comparison = code::ComparisonKind::tokens;
    add_problem(std::move(problem), std::move(code));
  };
  if (source_ == CodeforcesSource::deepcoder) {
    for_each_jsonl(path, [&](const nlohmann::json& r, std::size_t line) {
      std::string where = path.string() + ":" + std::to_string(line);
      require_fields(r, where, {"problem_id", "contest_id", "index", "problem", "tests"});
      std::vector<code::TestCase> tests;
      for (const auto& t : r["tests"]) tests.push_back({t.at("input").get<std::string>(), t.at("output").get<std::string>()});
      add(r["problem_id"].get<std::string>(), r["problem"].get<std::string>(), std::move(tests),
          {{"contest", std::to_string(r["contest_id"].get<long>())}, {"index", r["index"].get<std::string>()}});
    });
  } else {
    std::ifstream in(path);
    auto rows = nlohmann::json::parse(in, nullptr, false);
    if (rows.is_discarded() || !rows.is_array()) throw DataError(path.string() + ": not a JSON list of problems");
    for (std::size_t i = 0; i < rows.size(); ++i) {
      std::string where = path.string() + ": [" + std::to_string(i) + "]";
      const auto& r = rows[i];
      if (!r.contains("problem") || !r.contains("tests") || !r["tests"].contains("inputs") || !r["tests"].contains("outputs"))
        throw DataError(where + ": needs problem and tests.inputs/tests.outputs");
      const auto& inputs = r["tests"]["inputs"];
      const auto& outputs = r["tests"]["outputs"];
      if (inputs.size() != outputs.size()) throw DataError(where + ": tests.inputs and tests.outputs differ in length");
      std::vector<code::TestCase> tests;
      for (std::size_t t = 0; t < inputs.size(); ++t) tests.push_back({inputs[t].get<std::string>(), outputs[t].get<std::string>()});
      add("cc" + std::to_string(i), r["problem"].get<std::string>(), std::move(tests), {});
    }
  }
  notes_ = {{"interactive_excluded", interactive_.size()}, {"interactive_ids", interactive_}};
  if (source_ == CodeforcesSource::deepcoder) notes_["tests"] = "example tests from the statements only";
}

SamplePrompt CodeforcesTask::prompt(const Problem& problem, std::uint64_t, const GradingConfig&) const {
  return {codeforces_prompt(problem.statement), std::nullopt};
}

nlohmann::json CodeforcesTask::task_results(const std::vector<std::vector<grading::Verdict>>& verdicts_by_problem,
                                            const DataDirectory& data, const GradingConfig& config) const {
  nlohmann::json out = CodeTask::task_results(verdicts_by_problem, data, config);
  if (config.code.standings.empty()) {
    out["rating"] = {{"available", false},
                     {"why", "no contest standings given (--standings FILE; format in docs/codeforces-rating.md); "
                             "r1lab ships none because no public copy was available"}};
    return out;
  }
  std::ifstream in(config.code.standings);
  if (!in) throw DataError(config.code.standings.string() + ": cannot open the standings file");
  auto standings = nlohmann::json::parse(in, nullptr, false);
  if (standings.is_discarded() || !standings.contains("contests") || !standings["contests"].is_array())
    throw DataError(config.code.standings.string() + ": not a standings file (a JSON object with a \"contests\" list; "
                    "see docs/codeforces-rating.md)");

  // First accepted attempt per problem id, attempts = samples in order.
  std::map<std::string, std::optional<int>> solved_on;
  for (std::size_t p = 0; p < problems_.size() && p < verdicts_by_problem.size(); ++p) {
    std::optional<int> first;
    for (std::size_t s = 0; s < verdicts_by_problem[p].size() && !first; ++s)
      if (verdicts_by_problem[p][s].is_correct()) first = static_cast<int>(s) + 1;
    solved_on[problems_[p].id] = first;
  }
  nlohmann::json per_contest = nlohmann::json::array();
  std::vector<double> ratings;
  for (std::size_t c = 0; c < standings["contests"].size(); ++c) {
    const auto& contest = standings["contests"][c];
    std::string where = config.code.standings.string() + ": contests[" + std::to_string(c) + "]";
    if (!contest.contains("contest_id") || !contest.contains("humans") || !contest["humans"].is_array())
      throw DataError(where + ": needs contest_id and a humans list");
    std::string contest_id = contest["contest_id"].is_string() ? contest["contest_id"].get<std::string>()
                                                               : std::to_string(contest["contest_id"].get<long>());
    bool points_scoring = contest.value("scoring", "points") == "points";
    std::vector<metrics::ProblemAttempts> attempts;
    int judged = 0;
    for (const auto& problem : problems_) {
      auto it = problem.labels.find("contest");
      if (it == problem.labels.end() || it->second != contest_id) continue;
      metrics::ProblemAttempts a;
      a.solved_on = solved_on[problem.id];
      if (points_scoring) {
        const auto& index = problem.labels.at("index");
        if (!contest.contains("points") || !contest["points"].contains(index))
          throw DataError(where + ".points: no points for problem \"" + index + "\" of this contest; add them, or set \"scoring\": \"icpc\"");
        a.points = contest["points"][index].get<double>();
      }
      attempts.push_back(a);
      ++judged;
    }
    if (judged == 0) continue;   // a contest of the standings without problems in this run
    std::vector<metrics::HumanResult> humans;
    std::vector<double> human_ratings;
    for (std::size_t h = 0; h < contest["humans"].size(); ++h) {
      const auto& row = contest["humans"][h];
      if (!row.contains("rating") || !row.contains("score"))
        throw DataError(where + ".humans[" + std::to_string(h) + "]: needs rating and score");
      humans.push_back({row["rating"].get<double>(), row["score"].get<double>(), row.value("penalty", 0.0)});
      human_ratings.push_back(humans.back().rating);
    }
    auto score = metrics::score_contest(attempts, points_scoring);
    double rank = metrics::rank_in_standings(score, humans, points_scoring);
    int rating = metrics::rating_for_rank(rank, human_ratings);
    ratings.push_back(rating);
    per_contest.push_back({{"contest_id", contest_id}, {"problems", judged}, {"score", score.score},
                           {"penalty", score.penalty}, {"rank", rank}, {"humans", humans.size()}, {"rating", rating}});
  }
  if (ratings.empty()) {
    out["rating"] = {{"available", false}, {"why", "no contest in the standings file has problems in this run"}};
    return out;
  }
  auto mean = metrics::mean_with_error(ratings);
  nlohmann::json rating = {{"available", true}, {"method", "CodeElo: expected-rank inversion per contest, mean over contests"},
                           {"rating", mean.mean}, {"stderr", mean.standard_error}, {"contests", per_contest}};
  fs::path distribution = data.root() / kHumanRatings.relative_path;
  if (fs::exists(distribution)) {
    std::ifstream ratings_in(distribution);
    auto sorted = nlohmann::json::parse(ratings_in, nullptr, false);
    if (!sorted.is_discarded() && sorted.is_array()) {
      rating["percentile"] = metrics::percentile_below(mean.mean, sorted.get<std::vector<int>>());
      rating["percentile_population"] = "CodeElo sorted_ratings.json (" + std::to_string(sorted.size()) +
                                        " humans; not the population of the R1 paper)";
    }
  }
  out["rating"] = rating;
  return out;
}

}  // namespace r1lab::tasks

#include "tasks/math_competition.h"

#include <nlohmann/json.hpp>

#include <fstream>

#include "tasks/grading/math_grader.h"
#include "tasks/prompts.h"
#include "tasks/text_trim.h"

namespace r1lab::tasks {

namespace {

// "https://artofproblemsolving.com/wiki/index.php/2024_AIME_I_Problems/Problem_1" -> "2024-I-1";
// ".../2023_AMC_12A_Problems/Problem_1" -> "2023-12A-1".
std::string id_from_aops_url(const std::string& url) {
  std::size_t slash = url.rfind('/');
  std::size_t problems = url.rfind("_Problems/");
  std::size_t page = url.rfind('/', problems == std::string::npos ? 0 : problems);
  if (slash == std::string::npos || problems == std::string::npos || page == std::string::npos) return "";
  std::string contest = url.substr(page + 1, problems - page - 1);  // 2024_AIME_I
  std::string number = url.substr(url.rfind('_') + 1);              // 1
  std::string year = contest.substr(0, contest.find('_'));
  std::string part = contest.substr(contest.rfind('_') + 1);        // I, II, 12A
  return year + "-" + part + "-" + number;
}

std::string answer_text(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_integer()) return std::to_string(value.get<long long>());
  if (value.is_number()) {
    double d = value.get<double>();
    if (d == static_cast<double>(static_cast<long long>(d))) return std::to_string(static_cast<long long>(d));
    return value.dump();
  }
  return "";
}

}  // namespace

void MathCompetitionTask::load(const DataDirectory& data) {
  auto path = data.require(spec_.info.dataset);
  dataset_sha256_ = sha256_file(path);
  problems_.clear();
  std::size_t row = 0;
  auto read_record = [&](const nlohmann::json& record, const std::string& where) {
    if (!record.contains(spec_.question_field) || !record[spec_.question_field].is_string())
      throw DataError(where + ": missing string field '" + spec_.question_field + "'");
    if (spec_.skip_unanswered && (!record.contains(spec_.answer_field) || record[spec_.answer_field].is_null() ||
                                  answer_text(record[spec_.answer_field]).empty())) {
      ++row;   // ids stay the row numbers of the file
      return;
    }
    if (!record.contains(spec_.answer_field)) throw DataError(where + ": missing field '" + spec_.answer_field + "'");
    Problem problem;
    problem.statement = record[spec_.question_field].get<std::string>();
    problem.reference = answer_text(record[spec_.answer_field]);
    if (spec_.reference_format == ReferenceFormat::after_hashes) {
      std::size_t hashes = problem.reference.rfind("####");
      if (hashes == std::string::npos) throw DataError(where + ": field '" + spec_.answer_field + "' has no '#### answer' line");
      problem.reference = trim(std::string_view(problem.reference).substr(hashes + 4));
    }
    if (problem.reference.empty()) throw DataError(where + ": field '" + spec_.answer_field + "' is empty");
    switch (spec_.id_scheme) {
      case ProblemIdScheme::unique_id:
        problem.id = record.value("unique_id", "");
        break;
      case ProblemIdScheme::aops_url:
        problem.id = id_from_aops_url(record.value("url", ""));
        break;
      case ProblemIdScheme::aime_row_halves:
        problem.id = std::to_string(spec_.year) + (row < 15 ? "-I-" : "-II-") + std::to_string(row % 15 + 1);
        break;
      case ProblemIdScheme::row_number:
        problem.id = spec_.info.name + "-" + std::to_string(row);
        break;
    }
    if (problem.id.empty()) throw DataError(where + ": cannot derive a problem id (expected unique_id or an AoPS url)");
    if (record.contains("subject")) problem.labels["subject"] = record["subject"].get<std::string>();
    if (record.contains("level")) problem.labels["level"] = answer_text(record["level"]);
    if (record.contains("type") && record["type"].is_string()) problem.labels["type"] = record["type"].get<std::string>();
    problems_.push_back(std::move(problem));
    ++row;
  };
  if (spec_.json_array) {
    nlohmann::json records;
    try {
      records = nlohmann::json::parse(std::ifstream(path));
    } catch (const nlohmann::json::parse_error& error) {
      throw DataError(path.string() + ": not valid JSON (" + error.what() + ")");
    }
    if (!records.is_array()) throw DataError(path.string() + ": expected a JSON array of problems");
    for (std::size_t i = 0; i < records.size(); ++i) read_record(records[i], path.string() + ": element " + std::to_string(i));
  } else {
    for_each_jsonl(path, [&](const nlohmann::json& record, std::size_t line) { read_record(record, path.string() + ":" + std::to_string(line)); });
  }
  if (problems_.empty()) throw DataError(path.string() + ": no problems");
}

SamplePrompt MathCompetitionTask::prompt(const Problem& problem, std::uint64_t, const GradingConfig& config) const {
  return {apply_template(config.prompt_template, problem.statement + "\n" + std::string(kMathInstruction)), std::nullopt};
}

grading::MathGradingOptions MathCompetitionTask::options_for(const GradingConfig& config) const {
  grading::MathGradingOptions options = config.math;
  options.integer_answers = spec_.integer_answers;
  return options;
}

grading::Verdict MathCompetitionTask::grade(const Problem& problem, std::uint64_t, const std::string& completion,
                                            const std::string& prompt, const GradingConfig& config) const {
  return grading::grade_math(completion, problem.reference, options_for(config), prompt, problem.statement);
}

bool MathCompetitionTask::same_answer(const Problem& problem, const grading::Verdict& a, const grading::Verdict& b,
                                      const GradingConfig& config) const {
  if (a.extracted.empty() || b.extracted.empty()) return false;
  if (a.canonical == b.canonical && !a.canonical.empty()) return true;
  grading::MathGradingOptions options = options_for(config);
  options.integer_answers = false;  // compare the two answers with each other, not with an integer key
  // The statement orders named values as grading does: for "Enter the ordered pair $(m,b)$",
  // "b = -13, m = 3/2" and "(3/2, -13)" are one vote.
  return grading::compare_math(a.extracted, b.extracted, options, problem.statement).is_correct();
}

nlohmann::json MathCompetitionTask::grading_options(const GradingConfig& config) const {
  auto json = grading::to_json(options_for(config));
  json["prompt_template"] = prompt_template_name(config.prompt_template);
  return json;
}

}  // namespace r1lab::tasks

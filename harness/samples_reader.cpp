#include "harness/samples_reader.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <stdexcept>
#include <unordered_map>

namespace r1lab::harness {

namespace {

std::string squeeze_whitespace(const std::string& s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::string id_text(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_integer()) return std::to_string(value.get<long long>());
  return value.dump();
}

std::string detect_format(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    try {
      auto record = nlohmann::json::parse(line);
      if (record.is_object() && record.contains("code") && record.contains("question")) return "skythought";
    } catch (const std::exception&) {
    }
    return "jsonl";
  }
  return "jsonl";
}

}  // namespace

SampleSet read_samples(const std::filesystem::path& path, const std::string& requested_format,
                       const SampleFields& fields, const tasks::Task& task) {
  if (!std::filesystem::is_regular_file(path))
    throw tasks::DataError(path.string() + ": samples file not found");
  SampleSet set;
  set.format = requested_format == "auto" ? detect_format(path) : requested_format;
  if (set.format != "jsonl" && set.format != "skythought")
    throw std::invalid_argument("unknown --format '" + set.format + "'; use jsonl, skythought or auto");

  const auto& problems = task.problems();
  std::unordered_map<std::string, std::size_t> by_id, by_text;
  for (std::size_t i = 0; i < problems.size(); ++i) {
    by_id[problems[i].id] = i;
    by_text[squeeze_whitespace(problems[i].statement)] = i;
  }
  std::map<std::pair<std::size_t, std::uint64_t>, std::size_t> seen;  // (problem, sample) -> line
  std::map<std::size_t, std::uint64_t> next_index;
  auto add = [&](Sample sample) {
    auto key = std::make_pair(sample.problem_index, sample.sample_index);
    auto [it, inserted] = seen.emplace(key, sample.line);
    if (!inserted)
      throw tasks::DataError(path.string() + ":" + std::to_string(sample.line) + ": duplicate sample " +
                             std::to_string(sample.sample_index) + " of problem '" + problems[sample.problem_index].id +
                             "' (first seen on line " + std::to_string(it->second) + ")");
    set.samples.push_back(std::move(sample));
  };

  tasks::for_each_jsonl(path, [&](const nlohmann::json& record, std::size_t line) {
    auto where = path.string() + ":" + std::to_string(line);
    if (set.format == "skythought") {
      if (!record.contains("code") || !record["code"].is_array())
        throw tasks::DataError(where + ": SkyThought record without a \"code\" list");
      std::size_t problem = problems.size();
      if (record.contains("question") && record["question"].is_string()) {
        auto it = by_text.find(squeeze_whitespace(record["question"].get<std::string>()));
        if (it != by_text.end()) problem = it->second;
      }
      if (problem == problems.size() && record.contains("idx") && record["idx"].is_number_integer()) {
        auto idx = record["idx"].get<long long>();
        if (idx >= 0 && static_cast<std::size_t>(idx) < problems.size()) problem = static_cast<std::size_t>(idx);
      }
      if (problem == problems.size())
        throw tasks::DataError(where + ": question matches no problem of task " + task.info().name +
                               " (is this the right --task?)");
      for (std::size_t j = 0; j < record["code"].size(); ++j) {
        const auto& text = record["code"][j];
        add({problem, j, text.is_string() ? text.get<std::string>() : "", "", line, -1, std::nullopt});
      }
      return;
    }
    if (!record.contains(fields.id))
      throw tasks::DataError(where + ": no field \"" + fields.id + "\" (the problem id; rename with --id-field)");
    if (!record.contains(fields.completion) || !(record[fields.completion].is_string() || record[fields.completion].is_null()))
      throw tasks::DataError(where + ": no string field \"" + fields.completion +
                             "\" (the generated text; rename with --completion-field)");
    std::string id = id_text(record[fields.id]);
    auto it = by_id.find(id);
    if (it == by_id.end())
      throw tasks::DataError(where + ": unknown problem id '" + id + "' for task " + task.info().name +
                             " (`r1lab prompts --task " + task.info().name + "` lists the ids)");
    Sample sample;
    sample.problem_index = it->second;
    sample.line = line;
    if (record.contains(fields.sample)) {
      if (!record[fields.sample].is_number_unsigned())
        throw tasks::DataError(where + ": \"" + fields.sample + "\" must be a non-negative integer");
      sample.sample_index = record[fields.sample].get<std::uint64_t>();
    } else {
      sample.sample_index = next_index[sample.problem_index];
    }
    next_index[sample.problem_index] = std::max(next_index[sample.problem_index], sample.sample_index + 1);
    if (record[fields.completion].is_string()) sample.completion = record[fields.completion].get<std::string>();
    if (record.contains(fields.prompt) && record[fields.prompt].is_string())
      sample.prompt = record[fields.prompt].get<std::string>();
    if (auto t = record.find("completion_tokens"); t != record.end() && t->is_number_integer()) sample.tokens = t->get<std::int64_t>();
    if (auto f = record.find("finish_reason"); f != record.end() && f->is_string()) sample.finish_reason = f->get<std::string>();
    add(std::move(sample));
  });
  std::sort(set.samples.begin(), set.samples.end(), [](const Sample& a, const Sample& b) {
    return std::tie(a.problem_index, a.sample_index) < std::tie(b.problem_index, b.sample_index);
  });
  return set;
}

}  // namespace r1lab::harness

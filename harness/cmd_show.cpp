// `r1lab show RUN`: samples with their verdicts, for a quick look at what went wrong.
//
// RUN is an eval run folder (its tasks, texts from samples.sqlite) or a task folder of `score` or `eval`
// (verdicts.jsonl; texts from the run's store one level up, or from the samples file results.json names).
// Verdicts come from verdicts.jsonl, so what is shown is what was scored.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "harness/commands.h"
#include "harness/sample_store.h"
#include "harness/samples_reader.h"
#include "tasks/data_dir.h"
#include "tasks/registry.h"

namespace r1lab::harness {

namespace {

namespace fs = std::filesystem;

struct ShowFlags {
  std::string run, task, id, data_dir;
  bool wrong = false;
  std::size_t limit = 20;
  std::size_t max_chars = 2000;
};

using SampleKey = std::pair<std::string, std::uint64_t>;   // (problem id, sample)

// The task folders to show: RUN itself when it holds verdicts.jsonl, else its task folders (or --task's).
std::vector<fs::path> task_folders(const ShowFlags& flags) {
  const fs::path run = flags.run;
  if (fs::exists(run / "verdicts.jsonl")) return {run};
  if (!fs::is_directory(run)) throw std::runtime_error(flags.run + ": no such folder (give an eval run folder or a task folder)");
  std::vector<fs::path> folders;
  if (!flags.task.empty()) {
    if (!fs::exists(run / flags.task / "verdicts.jsonl"))
      throw std::runtime_error(fmt::format("{}: no {}/verdicts.jsonl (has the task finished? `r1lab eval` writes it at the end)",
                                           flags.run, flags.task));
    return {run / flags.task};
  }
  for (const auto& entry : fs::directory_iterator(run))
    if (entry.is_directory() && fs::exists(entry.path() / "verdicts.jsonl")) folders.push_back(entry.path());
  std::sort(folders.begin(), folders.end());
  if (folders.empty()) throw std::runtime_error(flags.run + ": no verdicts.jsonl here or in its task folders");
  return folders;
}

// The completions of the chosen samples, from wherever the run keeps them; empty when they cannot be found
// (the caller says so).
std::map<SampleKey, std::string> completions(const fs::path& folder, const nlohmann::json& results, const std::string& task,
                                              const std::vector<SampleKey>& wanted, const ShowFlags& flags, std::string& note) {
  std::map<SampleKey, std::string> texts;
  std::map<SampleKey, bool> want;
  for (const auto& key : wanted) want[key] = true;
  const fs::path store_path = fs::absolute(folder).lexically_normal().parent_path() / "samples.sqlite";
  if (fs::exists(store_path)) {
    SampleStore store(store_path);
    store.for_each_sample(task, true, [&](StoredSample&& s) {
      SampleKey key{s.problem_id, s.sample};
      if (want.count(key)) texts[key] = std::move(s.completion);
    });
    return texts;
  }
  if (!results.contains("samples_file")) {
    note = "no samples.sqlite beside this folder and no samples_file in results.json: texts unavailable";
    return texts;
  }
  const auto& file = results["samples_file"];
  const fs::path path = file.value("path", "");
  if (!fs::exists(path)) {
    note = fmt::format("the samples file {} is gone: texts unavailable", path.string());
    return texts;
  }
  SampleFields fields;
  if (file.contains("fields")) {
    fields.id = file["fields"].value("id", fields.id);
    fields.sample = file["fields"].value("sample", fields.sample);
    fields.completion = file["fields"].value("completion", fields.completion);
    fields.prompt = file["fields"].value("prompt", fields.prompt);
  }
  // Matching lines to problems needs the task's data (SkyThought files match by question text).
  auto loaded = tasks::make_task(task);
  loaded->load(tasks::DataDirectory::resolve(flags.data_dir));
  SampleSet set = read_samples(path, file.value("format", "auto"), fields, *loaded);
  for (auto& s : set.samples) {
    SampleKey key{loaded->problems()[s.problem_index].id, s.sample_index};
    if (want.count(key)) texts[key] = std::move(s.completion);
  }
  return texts;
}

// The end of a long completion: the answer is there; the start of a reasoning trace rarely explains a verdict.
std::string shown_text(const std::string& text, std::size_t max_chars) {
  if (max_chars == 0 || text.size() <= max_chars) return text;
  std::size_t start = text.size() - max_chars;
  while (start < text.size() && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) ++start;   // a whole UTF-8 character
  return fmt::format("[... {} bytes before ...]\n{}", start, text.substr(start));
}

void show_task(const fs::path& folder, const ShowFlags& flags, std::size_t& shown) {
  const nlohmann::json results = nlohmann::json::parse(std::ifstream(folder / "results.json"), nullptr, false);
  const std::string task = results.is_object() && results.contains("task") ? results["task"]["name"].get<std::string>()
                                                                           : folder.filename().string();
  std::vector<nlohmann::json> chosen;
  tasks::for_each_jsonl(folder / "verdicts.jsonl", [&](const nlohmann::json& line, std::size_t) {
    if (flags.wrong && line.value("correct", false)) return;
    if (!flags.id.empty() && line.value("id", "") != flags.id) return;
    if (flags.limit > 0 && shown + chosen.size() >= flags.limit) return;
    chosen.push_back(line);
  });
  if (chosen.empty()) return;
  std::vector<SampleKey> keys;
  for (const auto& line : chosen) keys.emplace_back(line.value("id", ""), line.value("sample", std::uint64_t{0}));
  std::string note;
  auto texts = completions(folder, results, task, keys, flags, note);
  if (!note.empty()) std::cout << "# " << task << ": " << note << "\n";
  for (std::size_t i = 0; i < chosen.size(); ++i) {
    const auto& line = chosen[i];
    std::string details = fmt::format("extracted {}", nlohmann::json(line.value("extracted", "")).dump());
    if (line.contains("reference")) details += fmt::format(", reference {}", line["reference"].dump());
    if (line.contains("tokens")) details += fmt::format(", {} tokens", line["tokens"].get<std::int64_t>());
    if (line.contains("finish_reason")) details += ", finish " + line["finish_reason"].get<std::string>();
    if (!line.value("reason", "").empty()) details += "; " + line["reason"].get<std::string>();
    std::cout << fmt::format("=== {} {} sample {}: {} ({})\n", task, keys[i].first, keys[i].second, line.value("verdict", "?"), details);
    auto text = texts.find(keys[i]);
    if (text != texts.end()) std::cout << shown_text(text->second, flags.max_chars) << "\n";
    std::cout << "\n";
  }
  shown += chosen.size();
}

}  // namespace

void add_show_command(CLI::App& app) {
  auto flags = std::make_shared<ShowFlags>();
  auto* command = app.add_subcommand("show", "Print a run's samples with their verdicts (reference, extracted answer, finish, tokens)");
  command->add_option("run", flags->run, "An eval run folder, or a task folder of score or eval")->required();
  command->add_option("--task", flags->task, "Only this task of an eval run");
  command->add_flag("--wrong", flags->wrong, "Only samples that are not correct");
  command->add_option("--id", flags->id, "Only this problem id");
  command->add_option("--limit", flags->limit, "Most samples shown (0: all)");
  command->add_option("--max-chars", flags->max_chars, "Show the last N bytes of each completion (0: all of it)");
  command->add_option("--data-dir", flags->data_dir, "Benchmark data (to match a score run's samples file to problems)");
  command->callback([flags] {
    std::size_t shown = 0;
    for (const auto& folder : task_folders(*flags)) show_task(folder, *flags, shown);
    if (shown == 0) std::cout << "no samples match\n";
  });
}

}  // namespace r1lab::harness

// harness/samples_reader.h — read generations from any engine, matched to a task's problems.
//
// Formats:
//   jsonl       one object per line: {"id": problem id, "sample": index, "completion": text,
//               "prompt": optional text}. Field names can be remapped (SampleFields). Without a sample
//               index, samples of a problem are numbered in order of appearance.
//   skythought  the Qwen2.5-Math harness output used by SkyThought: {"idx", "question", "code": [texts]};
//               problems are matched by question text (then by idx), code[j] is sample j.
//   auto        skythought when the first record has "code" and "question", else jsonl.
// Errors name file:line: malformed JSON, a missing field, an unknown problem id, a duplicate (id, sample).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "tasks/task.h"

namespace r1lab::harness {

struct SampleFields {
  std::string id = "id";
  std::string sample = "sample";
  std::string completion = "completion";
  std::string prompt = "prompt";
};

struct Sample {
  std::size_t problem_index = 0;
  std::uint64_t sample_index = 0;
  std::string completion;
  std::string prompt;
  std::size_t line = 0;
  std::int64_t tokens = -1;                  // "completion_tokens" when the line has it (r1lab export writes it)
  std::optional<std::string> finish_reason;  // "finish_reason" when the line has it
};

struct SampleSet {
  std::string format;               // "jsonl" or "skythought"
  std::vector<Sample> samples;      // sorted by (problem, sample)
};

SampleSet read_samples(const std::filesystem::path& path, const std::string& format, const SampleFields& fields,
                       const tasks::Task& task);

}  // namespace r1lab::harness

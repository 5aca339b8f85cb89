// tasks/data_dir.h — where benchmark data lives, and reading it with errors that name file and line.
//
// Data is never part of the repository. The directory is, in order: --data-dir, $R1LAB_DATA,
// ../shared/data beside the working directory or beside the source checkout, ~/.cache/r1lab/data.
#pragma once

#include <filesystem>
#include <functional>
#include <initializer_list>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace r1lab::tasks {

struct DataError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct DatasetSpec {
  std::string name;             // "math500"
  std::string relative_path;    // "math500/test.jsonl"
  std::string sha256;           // of the copy r1lab was validated on
  std::string records;          // "500 problems"
  std::string public_source;    // where the public copy lives
};

class DataDirectory {
 public:
  // explicit_dir may be empty; then the search order above applies.
  static DataDirectory resolve(const std::string& explicit_dir);
  explicit DataDirectory(std::filesystem::path root, std::string how_found)
      : root_(std::move(root)), how_found_(std::move(how_found)) {}

  const std::filesystem::path& root() const { return root_; }
  const std::string& how_found() const { return how_found_; }
  // The path of a dataset file; throws DataError naming the path and how to obtain it when missing.
  std::filesystem::path require(const DatasetSpec& spec) const;

 private:
  std::filesystem::path root_;
  std::string how_found_;
};

std::string sha256_file(const std::filesystem::path& path);
std::string sha256_text(std::string_view text);

// Throws DataError "<where>: no field '<name>'" for the first of `fields` that `record` lacks.
void require_fields(const nlohmann::json& record, const std::string& where, std::initializer_list<const char*> fields);

// Calls `on_record` for each non-empty line parsed as JSON; a malformed line throws DataError "file:line: ...".
void for_each_jsonl(const std::filesystem::path& path,
                    const std::function<void(const nlohmann::json& record, std::size_t line)>& on_record);

}  // namespace r1lab::tasks

// tasks/code/program.h — turn source text into something the sandbox can run: a folder and a command.
//
// Python programs are written to a private temporary folder. C++ programs are compiled once, in the
// sandbox (the compiler reads untrusted source too), with g++ -std=gnu++17 -O2, and the binary is cached
// by the sha256 of (compiler version, flags, source); a compile error is cached as well, so 64 samples
// with the same code compile once. The cache is safe to share between parallel workers (entries appear
// by an atomic rename) and lives where the sandbox's unprivileged uid can read it.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tasks/code/sandbox.h"

namespace r1lab::code {

enum class Language { python, cpp };
std::string_view language_name(Language language);
// Accepts python, python3, py, cpp, c++, cc; throws std::invalid_argument otherwise.
Language language_from_name(std::string_view name);

// A temporary folder that removes itself.
class TemporaryFolder {
 public:
  explicit TemporaryFolder(std::string_view prefix);
  ~TemporaryFolder();
  TemporaryFolder(const TemporaryFolder&) = delete;
  TemporaryFolder& operator=(const TemporaryFolder&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Folder that sandbox-visible files go under: world-traversable, owned by us ($R1LAB_SANDBOX_TMP, else
// $TMPDIR or /tmp, then r1lab-<euid>). Throws if a folder there is owned by someone else.
std::filesystem::path sandbox_staging_root();

struct Program {
  Language language = Language::python;
  bool ok = false;                        // false: compile error (see compile)
  ExecutionResult compile;                // C++: the compiler run (or the cached outcome)
  bool compile_cached = false;
  std::filesystem::path folder;           // the code folder mounted read-only at /code
  std::vector<std::string> argv;          // command inside the sandbox
  std::shared_ptr<TemporaryFolder> owned; // keeps a temporary folder alive with the program
};

// The limits `program` runs under: Python gets no stack limit of its own (sandbox.h, stack_bytes), so
// that threads can start.
ExecutionLimits limits_for(const Program& program, ExecutionLimits limits);

struct ProgramOptions {
  std::filesystem::path cache_dir;        // empty: <staging root>/cpp-cache
  double compile_cpu_seconds = 30;
  std::size_t compile_memory_bytes = std::size_t{2} << 30;
};

// Python: `files` are written next to the main file (a test driver, say); the command runs `entry`
// (default main.py). C++: `source` is compiled; `files` are ignored.
Program prepare_program(const Sandbox& sandbox, Language language, const std::string& source,
                        const ProgramOptions& options = {},
                        const std::map<std::string, std::string>& files = {}, const std::string& entry = "main.py");

}  // namespace r1lab::code

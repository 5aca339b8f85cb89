// tests/support/tiny_models.h — what the LibTorch tests share: a scratch folder per test process,
// running programs (the r1lab binary, the Python oracles), and tiny random model folders made by
// transformers (tests/support/model_oracle.py), cached in the build tree.
// Needs R1LAB_SOURCE_DIR, R1LAB_SHARED_DATA, R1LAB_PYTHON and R1LAB_TEST_MODELS defined.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "tests/support/child_process.h"

namespace r1lab::testing {

// This process's scratch folder, removed when the test program ends.
inline const std::filesystem::path& work_folder() {
  struct Folder {
    std::filesystem::path path = std::filesystem::temp_directory_path() / ("r1lab_test_" + std::to_string(::getpid()));
    Folder() { std::filesystem::create_directories(path); }
    ~Folder() {
      std::error_code ignored;
      std::filesystem::remove_all(path, ignored);
    }
  };
  static Folder folder;
  return folder.path;
}

// Runs a program to its end; returns its exit code (128 + signal when killed).
inline int run_program(const std::vector<std::string>& argv, const std::string& output = "/dev/null", const std::string& errors = "") {
  ChildProcess child(argv, errors, output);
  return child.wait();
}

// Runs a Python script of tests/support with the test venv's Python; a failure fails the test.
inline void run_python_oracle(const std::string& script, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {R1LAB_PYTHON, std::string(R1LAB_SOURCE_DIR) + "/tests/support/" + script};
  argv.insert(argv.end(), args.begin(), args.end());
  ASSERT_EQ(run_program(argv), 0) << script << " " << args[0] << " failed (is .venv set up? scripts/setup_python.sh)";
}

// A tiny model folder per family ("qwen2": QKV bias, tied embeddings; "llama": untied, sharded, Llama 3
// RoPE). ctest runs every test in its own process, so the folders are shared through the build tree
// (made once, renamed into place; keyed by the oracle script's content so that a changed script makes
// new ones).
inline const std::filesystem::path& tiny_model(const std::string& family) {
  namespace fs = std::filesystem;
  static std::map<std::string, fs::path> made;
  if (!made.count(family)) {
    std::ifstream script(std::string(R1LAB_SOURCE_DIR) + "/tests/support/model_oracle.py");
    std::string text((std::istreambuf_iterator<char>(script)), {});
    fs::path dir = fs::path(R1LAB_TEST_MODELS) / (family + "-" + std::to_string(std::hash<std::string>{}(text)));
    if (!fs::exists(dir / "config.json")) {
      fs::path staging = work_folder() / (family + "-staging");
      std::vector<std::string> args = {"make", family, staging.string(), "--data-dir", R1LAB_SHARED_DATA};
      if (family == "llama") args.push_back("--shard");   // the sharded layout is read too
      run_python_oracle("model_oracle.py", args);
      fs::create_directories(dir.parent_path());
      std::error_code lost_race;   // another test process put its copy there first: use that one
      fs::rename(staging, dir, lost_race);
    }
    made[family] = dir;
  }
  return made[family];
}

}  // namespace r1lab::testing

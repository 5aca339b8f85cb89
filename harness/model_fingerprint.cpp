#include "harness/model_fingerprint.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <vector>

#include "harness/atomic_file.h"
#include "tasks/data_dir.h"

namespace r1lab::harness {

namespace {

namespace fs = std::filesystem;

bool identifies_the_model(const fs::path& file) {
  const std::string name = file.filename().string();
  const std::string extension = file.extension().string();
  return extension == ".safetensors" || extension == ".bin" || name == "config.json" || name == "generation_config.json" ||
         name == "tokenizer.json" || name == "tokenizer_config.json" || name == "special_tokens_map.json" ||
         name == "vocab.json" || name == "merges.txt";
}

}  // namespace

nlohmann::json model_fingerprint(const fs::path& model_dir, const fs::path& cache) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(model_dir))
    if (entry.is_regular_file() && identifies_the_model(entry.path())) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  if (std::none_of(files.begin(), files.end(), [](const fs::path& f) { return f.extension() == ".safetensors" || f.extension() == ".bin"; }))
    throw std::runtime_error(model_dir.string() + ": no weights (*.safetensors) in this folder; pass a Hugging Face model folder");
  nlohmann::json known = nlohmann::json::object();
  if (fs::exists(cache)) {
    known = nlohmann::json::parse(std::ifstream(cache), nullptr, false);
    if (!known.is_object()) known = nlohmann::json::object();   // a damaged cache only costs a rehash
  }
  nlohmann::json fingerprint = {{"files", nlohmann::json::object()}};
  nlohmann::json updated = nlohmann::json::object();
  std::string listing;
  for (const auto& file : files) {
    const std::string name = file.filename().string();
    const auto size = fs::file_size(file);
    const auto modified = static_cast<std::int64_t>(fs::last_write_time(file).time_since_epoch().count());
    std::string sha;
    if (known.contains(name) && known[name].value("size", std::uintmax_t{0}) == size &&
        known[name].value("modified", std::int64_t{0}) == modified)
      sha = known[name].value("sha256", "");
    if (sha.empty()) sha = tasks::sha256_file(file);
    updated[name] = {{"size", size}, {"modified", modified}, {"sha256", sha}};
    fingerprint["files"][name] = sha;
    listing += name + " " + sha + "\n";
  }
  fingerprint["sha256"] = tasks::sha256_text(listing);
  if (updated != known) {
    if (cache.has_parent_path()) fs::create_directories(cache.parent_path());
    write_file_atomically(cache, updated.dump(1) + "\n");
  }
  return fingerprint;
}

}  // namespace r1lab::harness

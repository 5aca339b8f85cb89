#include "trainer/checkpoint.h"

#include <ATen/core/grad_mode.h>
#include <algorithm>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "trainer/safetensors.h"

namespace r1lab::trainer {
namespace fs = std::filesystem;
namespace {

constexpr const char* kStepPrefix = "step-";

std::optional<std::int64_t> step_of(const fs::path& dir) {
  const std::string name = dir.filename().string();
  if (name.rfind(kStepPrefix, 0) != 0) return std::nullopt;
  const std::string digits = name.substr(5);
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  return std::stoll(digits);
}

std::vector<std::pair<std::int64_t, fs::path>> complete_checkpoints(const fs::path& checkpoints_dir) {
  std::vector<std::pair<std::int64_t, fs::path>> found;
  if (!fs::exists(checkpoints_dir)) return found;
  for (const auto& entry : fs::directory_iterator(checkpoints_dir)) {
    if (auto step = step_of(entry.path()); step && entry.is_directory()) found.emplace_back(*step, entry.path());
  }
  std::sort(found.begin(), found.end());
  return found;
}

void write_text(const fs::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::trunc);
  out << text;
  out.flush();
  if (!out) throw std::runtime_error(file.string() + ": write failed (disk full?)");
}

// Writes into `partial` via `write`, then renames it to `final_dir` (replacing an older one). On
// failure, removes `partial` and rethrows with the folder named.
template <class Write>
void write_folder_atomically(const fs::path& final_dir, const Write& write) {
  fs::path partial = final_dir;
  partial += ".partial";
  fs::remove_all(partial);
  try {
    fs::create_directories(partial);
    write(partial);
  } catch (const std::exception& e) {
    std::error_code ignored;
    fs::remove_all(partial, ignored);
    throw std::runtime_error("writing " + final_dir.string() + " failed, nothing of it is kept (earlier checkpoints are intact): " + e.what());
  }
  if (fs::exists(final_dir)) {
    fs::path old = final_dir;
    old += ".old";
    fs::remove_all(old);
    fs::rename(final_dir, old);
    fs::rename(partial, final_dir);
    fs::remove_all(old);
  } else {
    fs::rename(partial, final_dir);
  }
}

}  // namespace

void save_model_folder(const fs::path& dir, const CausalLM& model, at::ScalarType dtype) {
  write_folder_atomically(dir, [&](const fs::path& partial) { model.save(partial, dtype); });
}

fs::path save_checkpoint(const fs::path& checkpoints_dir, std::int64_t step, const CheckpointContents& c, std::int64_t keep) {
  fs::create_directories(checkpoints_dir);
  const fs::path dir = checkpoints_dir / (kStepPrefix + std::to_string(step));
  write_folder_atomically(dir, [&](const fs::path& partial) {
    c.model.save(partial, c.model_dtype);
    std::vector<std::pair<std::string, at::Tensor>> tensors = {{"exp_avg", c.optimizer.exp_avg()}, {"exp_avg_sq", c.optimizer.exp_avg_sq()}};
    if (c.model_dtype != at::kFloat) tensors.emplace_back("master", c.optimizer.master());
    save_safetensors_file(partial / "optimizer.safetensors", tensors);
    nlohmann::json state = c.state;
    state["step"] = step;
    state["optimizer_steps"] = c.optimizer.steps();
    write_text(partial / "trainer_state.json", state.dump(2) + "\n");
  });
  auto all = complete_checkpoints(checkpoints_dir);
  for (std::size_t i = 0; i + static_cast<std::size_t>(keep) < all.size(); ++i) fs::remove_all(all[i].second);
  return dir;
}

std::optional<fs::path> latest_checkpoint(const fs::path& checkpoints_dir) {
  if (fs::exists(checkpoints_dir)) {
    for (const auto& entry : fs::directory_iterator(checkpoints_dir)) {
      const std::string ext = entry.path().extension().string();
      if (ext == ".partial" || ext == ".old") fs::remove_all(entry.path());
    }
  }
  auto all = complete_checkpoints(checkpoints_dir);
  if (all.empty()) return std::nullopt;
  return all.back().second;
}

nlohmann::json load_checkpoint(const fs::path& checkpoint, AdamW& optimizer, const ParameterTable& table) {
  std::ifstream in(checkpoint / "trainer_state.json");
  if (!in) throw std::runtime_error((checkpoint / "trainer_state.json").string() + ": missing; the checkpoint is not r1lab's");
  nlohmann::json state = nlohmann::json::parse(in);
  SafetensorsReader reader(checkpoint / "optimizer.safetensors");
  at::NoGradGuard no_grad;
  optimizer.exp_avg().copy_(reader.tensor("exp_avg"));
  optimizer.exp_avg_sq().copy_(reader.tensor("exp_avg_sq"));
  if (reader.contains("master")) {
    optimizer.master().copy_(reader.tensor("master"));
  } else {
    // The model files are fp32: they are the master weights.
    SafetensorsReader weights(checkpoint);
    for (const ParameterSpec& spec : table.specs()) {
      at::Tensor view = optimizer.master().narrow(0, spec.offset, spec.numel()).view(spec.shape);
      for (const HfSlice& slice : spec.hf) view.narrow(0, slice.offset, slice.rows).copy_(weights.tensor(slice.name));
    }
  }
  optimizer.set_steps(state.at("optimizer_steps").get<std::int64_t>());
  return state;
}

}  // namespace r1lab::trainer

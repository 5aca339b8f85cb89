#include "trainer/checkpoint.h"

#include <ATen/core/grad_mode.h>
#include <algorithm>
#include <cstdio>
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
    // trainer_state.json is written last into the partial folder: without it a folder is not a checkpoint.
    if (auto step = step_of(entry.path()); step && entry.is_directory() && fs::exists(entry.path() / "trainer_state.json")) {
      found.emplace_back(*step, entry.path());
    }
  }
  std::sort(found.begin(), found.end());
  return found;
}

// Deletes a folder so that no kill -9 can leave it half deleted under its own name: it is first
// renamed to <dir>.old (atomic), and .old folders are swept by latest_checkpoint on the next start.
void remove_folder_atomically(const fs::path& dir) {
  if (!fs::exists(dir)) return;
  fs::path old = dir;
  old += ".old";
  fs::remove_all(old);
  fs::rename(dir, old);
  fs::remove_all(old);
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
  remove_folder_atomically(final_dir);
  fs::rename(partial, final_dir);
}

}  // namespace

void save_model_folder(const fs::path& dir, const CausalLM& model, at::ScalarType dtype) {
  write_folder_atomically(dir, [&](const fs::path& partial) { model.save(partial, dtype); });
}

static std::string optimizer_file_name(bool sharded, int rank, int world) {
  if (!sharded) return "optimizer.safetensors";
  char name[64];
  std::snprintf(name, sizeof name, "optimizer-%05d-of-%05d.safetensors", rank, world);
  return name;
}

fs::path save_checkpoint(const fs::path& checkpoints_dir, std::int64_t step, const CheckpointContents& c, std::int64_t keep,
                         ProcessGroup& group) {
  const fs::path dir = checkpoints_dir / (kStepPrefix + std::to_string(step));
  fs::path partial = dir;
  partial += ".partial";
  if (group.is_main()) {
    fs::create_directories(checkpoints_dir);
    fs::remove_all(partial);
    fs::create_directories(partial);
  }
  group.barrier();
  std::string failure;
  try {
    if (group.is_main()) c.model.save(partial, c.model_dtype);
    if (group.is_main() || c.sharded) {
      std::vector<std::pair<std::string, at::Tensor>> tensors = {{"exp_avg", c.optimizer.exp_avg()}, {"exp_avg_sq", c.optimizer.exp_avg_sq()}};
      if (c.model_dtype != at::kFloat) tensors.emplace_back("master", c.optimizer.master());
      save_safetensors_file(partial / optimizer_file_name(c.sharded, group.rank(), group.world_size()), tensors);
    }
    if (group.is_main()) {
      nlohmann::json state = c.state;
      state["step"] = step;
      state["optimizer_steps"] = c.optimizer.steps();
      state["optimizer_shards"] = c.sharded ? group.world_size() : 1;
      write_text(partial / "trainer_state.json", state.dump(2) + "\n");
    }
  } catch (const std::exception& e) {
    failure = e.what();
  }
  // Every rank's part is written, or the checkpoint is not kept.
  const bool all_written = group.sum(failure.empty() ? 0.0 : 1.0) == 0.0;
  if (!all_written) {
    if (group.is_main()) {
      std::error_code ignored;
      fs::remove_all(partial, ignored);
    }
    throw std::runtime_error("writing " + dir.string() + " failed, nothing of it is kept (earlier checkpoints are intact): " +
                             (failure.empty() ? std::string("another rank could not write its part") : failure));
  }
  if (group.is_main()) {
    remove_folder_atomically(dir);
    fs::rename(partial, dir);
    auto all = complete_checkpoints(checkpoints_dir);
    for (std::size_t i = 0; i + static_cast<std::size_t>(keep) < all.size(); ++i) remove_folder_atomically(all[i].second);
  }
  group.barrier();
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

std::optional<fs::path> latest_checkpoint_readonly(const fs::path& checkpoints_dir) {
  auto all = complete_checkpoints(checkpoints_dir);
  if (all.empty()) return std::nullopt;
  return all.back().second;
}

nlohmann::json load_checkpoint(const fs::path& checkpoint, AdamW& optimizer, std::int64_t begin, bool sharded,
                               const ParameterTable& table, const ProcessGroup& group) {
  std::ifstream in(checkpoint / "trainer_state.json");
  if (!in) throw std::runtime_error((checkpoint / "trainer_state.json").string() + ": missing; the checkpoint is not r1lab's");
  nlohmann::json state = nlohmann::json::parse(in);
  const int shards = state.value("optimizer_shards", 1), wanted = sharded ? group.world_size() : 1;
  if (shards != wanted) {
    throw std::runtime_error(checkpoint.string() + " holds the optimizer state " +
                             (shards == 1 ? std::string("whole") : "sharded over " + std::to_string(shards) + " ranks (ZeRO-1)") +
                             "; resume it with " + (shards == 1 ? std::string("one rank or --no-zero1") : "--nproc " + std::to_string(shards)) +
                             " (resharding is not implemented)");
  }
  SafetensorsReader reader(checkpoint / optimizer_file_name(sharded, group.rank(), group.world_size()));
  at::NoGradGuard no_grad;
  optimizer.exp_avg().copy_(reader.tensor("exp_avg"));
  optimizer.exp_avg_sq().copy_(reader.tensor("exp_avg_sq"));
  if (reader.contains("master")) {
    optimizer.master().copy_(reader.tensor("master"));
  } else {
    // The model files are fp32: they are the master weights. Rebuild the flat buffer, take our range.
    SafetensorsReader weights(checkpoint);
    at::Tensor flat = at::empty({table.total_numel()}, at::kFloat);
    for (const ParameterSpec& spec : table.specs()) {
      at::Tensor view = flat.narrow(0, spec.offset, spec.numel()).view(spec.shape);
      for (const HfSlice& slice : spec.hf) view.narrow(0, slice.offset, slice.rows).copy_(weights.tensor(slice.name));
    }
    optimizer.master().copy_(flat.narrow(0, begin, optimizer.master().numel()));
  }
  optimizer.set_steps(state.at("optimizer_steps").get<std::int64_t>());
  return state;
}

}  // namespace r1lab::trainer

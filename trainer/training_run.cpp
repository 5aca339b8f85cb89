#include "trainer/training_run.h"

#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>
#include <malloc.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <thread>

#include "harness/atomic_file.h"

namespace r1lab::trainer {
namespace fs = std::filesystem;
namespace {

volatile std::sig_atomic_t g_stop_signal = 0;
extern "C" void on_stop_signal(int signal) { g_stop_signal = signal; }

// The squared L2 norm in fp32 and without an fp32 copy of a bf16 gradient.
double squared_norm(const at::Tensor& grad) {
  if (grad.scalar_type() == at::kFloat) return grad.pow(2).sum().item<double>();
  const double norm = at::linalg_vector_norm(grad, 2, std::nullopt, false, at::kFloat).item<double>();
  return norm * norm;
}

}  // namespace

Ranks join_ranks(const std::string& device_name, double timeout_s) {
  Ranks ranks;
  ranks.device = at::Device(device_name);
  ranks.group = ProcessGroup::from_environment(ranks.device, std::chrono::milliseconds(static_cast<std::int64_t>(timeout_s * 1000)));
  if (ranks.group->world_size() > 1) {
    if (ranks.device.is_cuda()) ranks.device = at::Device(at::kCUDA, static_cast<at::DeviceIndex>(ranks.group->local_rank()));
    // Local ranks share the cores (torchrun sets OMP_NUM_THREADS=1 itself).
    if (!std::getenv("OMP_NUM_THREADS")) {
      at::set_num_threads(std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / ranks.group->local_world_size()));
    }
  }
  return ranks;
}

nlohmann::json read_json_file(const fs::path& file) {
  std::ifstream in(file);
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(file.string() + ": not valid JSON: " + e.what());
  }
}

void keep_step_buffers_in_heap() {
  ::mallopt(M_MMAP_MAX, 0);
  ::mallopt(M_TRIM_THRESHOLD, std::numeric_limits<int>::max());
}

std::string compute_dtype(const std::string& requested, const at::Device& device) {
  if (requested != "auto") return requested;
  return device.is_cuda() ? "bfloat16" : "float32";
}

std::unique_ptr<harness::RunDirectoryLock> open_run_folder(
    const fs::path& out, ProcessGroup& group, const nlohmann::json& config,
    const std::function<std::vector<std::string>(const nlohmann::json&)>& differences) {
  std::unique_ptr<harness::RunDirectoryLock> lock;
  if (group.is_main()) {
    fs::create_directories(out);
    lock = std::make_unique<harness::RunDirectoryLock>(out);
  }
  group.barrier();
  const fs::path config_file = out / "config.json";
  if (fs::exists(config_file)) {
    auto found = differences(read_json_file(config_file));
    if (!found.empty()) {
      std::string list;
      for (const auto& d : found) list += "\n  " + d;
      throw std::runtime_error(out.string() + " holds a training run with another configuration:" + list +
                               "\nUse another --out, or the same settings to resume it.");
    }
  }
  if (group.is_main()) harness::write_file_atomically(config_file, config.dump(2) + "\n");
  return lock;
}

std::runtime_error nonfinite_error(std::int64_t step, double loss, double grad_norm, const fs::path& checkpoints,
                                   const std::string& what) {
  auto last = latest_checkpoint_readonly(checkpoints);
  return std::runtime_error("step " + std::to_string(step + 1) + ": the loss is " + std::to_string(loss) + " and the gradient norm " +
                            std::to_string(grad_norm) + "; the last good checkpoint is " +
                            (last ? last->string() : std::string("none (from the start)")) +
                            ". Lower --lr, or pass --skip-nonfinite to skip such " + what + ".");
}

void install_stop_signals() {
  g_stop_signal = 0;
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
}

int stop_signal_on_any_rank(ProcessGroup& group) { return static_cast<int>(group.max(static_cast<double>(g_stop_signal))); }

// Where this rank's optimizer works in the flat buffer: everything, or under ZeRO-1 one of world_size
// equal ranges of the buffer padded to a multiple of world_size (the last may hold padding only).
ParameterUpdater::ParameterUpdater(CausalLM& model, ProcessGroup& group, const UpdaterSettings& settings)
    : model_(model), group_(group) {
  total_ = model.parameter_table().total_numel();
  range_.sharded = settings.zero1 && group.world_size() > 1;
  const std::int64_t world = range_.sharded ? group.world_size() : 1;
  range_.shard = (total_ + world - 1) / world;
  range_.padded = range_.shard * world;
  range_.begin = range_.sharded ? range_.shard * group.rank() : 0;
  range_.length = std::clamp<std::int64_t>(total_ - range_.begin, 0, range_.shard);

  // Parameters, gradients and the optimizer share the flat layout of the parameter table. The gradient
  // buffer is padded to a multiple of the world size for the reduce-scatter of ZeRO-1.
  grad_buffer_ = at::zeros({range_.padded}, model.flat_parameters().options());
  model.attach_gradients(grad_buffer_.narrow(0, 0, total_));
  separate_master_ = model.flat_parameters().scalar_type() != at::kFloat;
  own_parameters_ = model.flat_parameters().detach().narrow(0, range_.begin, range_.length);
  master_ = separate_master_ ? own_parameters_.to(at::kFloat).clone() : own_parameters_;
  optimizer_ = std::make_unique<AdamW>(master_, range_.begin, model.parameter_table().decayed_numel(),
                                       settings.adam);
  if (range_.sharded) shard_grad_ = at::zeros({range_.shard}, grad_buffer_.options());
  bucket_elements_ = static_cast<std::int64_t>(settings.bucket_mb * 1024 * 1024 / static_cast<double>(grad_buffer_.element_size()));
}

void ParameterUpdater::zero_grad() { grad_buffer_.zero_(); }

double ParameterUpdater::reduce_gradients() {
  if (range_.sharded) {
    group_.reduce_scatter_sum(grad_buffer_, shard_grad_);
    grad_ = shard_grad_.narrow(0, 0, range_.length);
    return std::sqrt(group_.sum(squared_norm(grad_)));
  }
  group_.all_reduce_sum(grad_buffer_, bucket_elements_);
  grad_ = grad_buffer_.narrow(0, 0, total_);
  return std::sqrt(squared_norm(grad_));
}

void ParameterUpdater::apply(double lr, double grad_scale) {
  at::NoGradGuard no_grad;
  optimizer_->step(grad_, lr, grad_scale);
  publish_weights();
}

// After a ZeRO-1 update every rank has its own range of the new weights: gather all of them. The
// buffers are the step's gradient buffers, free by now (the shard's gradient is applied and the padded
// gradient buffer is zeroed before the next backward), so the gather costs no memory of its own.
void ParameterUpdater::publish_weights() {
  at::NoGradGuard no_grad;
  if (range_.sharded) {
    shard_grad_.zero_();
    shard_grad_.narrow(0, 0, master_.numel()).copy_(master_);
    group_.all_gather(shard_grad_, grad_buffer_);
    model_.flat_parameters().copy_(grad_buffer_.narrow(0, 0, total_));
  } else if (separate_master_) {
    own_parameters_.copy_(master_);
  }
}

fs::path ParameterUpdater::save(const fs::path& checkpoints, std::int64_t step, at::ScalarType model_dtype, nlohmann::json state,
                                std::int64_t keep) {
  state["world_size"] = group_.world_size();
  return save_checkpoint(checkpoints, step, {model_, model_dtype, *optimizer_, range_.begin, range_.sharded, std::move(state)}, keep, group_);
}

std::optional<nlohmann::json> ParameterUpdater::resume(const fs::path& checkpoints, fs::path* found) {
  std::optional<fs::path> latest;
  if (group_.is_main()) latest = latest_checkpoint(checkpoints);   // removes leftovers of an interrupted save
  group_.barrier();
  if (!group_.is_main()) latest = latest_checkpoint_readonly(checkpoints);
  if (!latest) return std::nullopt;
  nlohmann::json state = load_checkpoint(*latest, *optimizer_, range_.begin, range_.sharded, model_.parameter_table(), group_);
  if (separate_master_) {
    at::NoGradGuard no_grad;
    own_parameters_.copy_(master_);
  }
  if (range_.sharded) publish_weights();
  if (found) *found = *latest;
  return state;
}

double ParameterUpdater::optimizer_state_mib() const {
  return static_cast<double>((separate_master_ ? 3 : 2) * range_.length * 4) / (1024.0 * 1024.0);
}

}  // namespace r1lab::trainer

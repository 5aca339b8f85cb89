// trainer/training_run.h — what every trainer (SFT, GRPO) does the same way around its own loss:
//   - the run folder: one run per folder, refused under another configuration, locked by rank 0;
//   - the ranks: the process group from the launcher's variables, one device per local rank;
//   - the update: gradients in one flat buffer (autograd accumulates into it), summed over ranks
//     (all-reduce, or reduce-scatter under ZeRO-1), the global norm, clipping, AdamW on fp32 master
//     weights, and the new weights back into the model (all-gather under ZeRO-1);
//   - checkpoints of all of it, and the resume from the newest;
//   - SIGINT/SIGTERM: the step finishes, every rank checkpoints at the same step, the process exits.
#pragma once

#include <csignal>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/run_lock.h"
#include "trainer/causal_lm.h"
#include "trainer/checkpoint.h"
#include "trainer/distributed.h"
#include "trainer/optimizer.h"

namespace r1lab::trainer {

// The process group of this process, with the device and threads set for its local rank.
struct Ranks {
  std::unique_ptr<ProcessGroup> group;
  at::Device device = at::kCPU;
};
Ranks join_ranks(const std::string& device, double timeout_s);

// Every step allocates and frees the same large tensors (logits, activations). glibc would map and
// unmap each of them, so every step pays for page faults again (half of a small model's step time);
// kept in the heap, the memory is reused. Call once before training.
void keep_step_buffers_in_heap();

// "auto": bfloat16 compute on CUDA, float32 on the CPU; otherwise the name given.
std::string compute_dtype(const std::string& requested, const at::Device& device);

// Opens OUT for this run: rank 0 creates and locks it (the lock is returned, null on other ranks; hold it for the run), then
// every rank checks that OUT/config.json holds this configuration's run or nothing yet (`differences`
// lists what differs from a stored one, empty when it may resume), and rank 0 writes it.
std::unique_ptr<harness::RunDirectoryLock> open_run_folder(
    const std::filesystem::path& out, ProcessGroup& group, const nlohmann::json& config,
    const std::function<std::vector<std::string>(const nlohmann::json& stored)>& differences);

// The error that stops a run at a non-finite loss or gradient norm (`what`: "steps" or "updates", as
// --skip-nonfinite skips them), naming the last good checkpoint.
std::runtime_error nonfinite_error(std::int64_t step, double loss, double grad_norm, const std::filesystem::path& checkpoints,
                                   const std::string& what);

// Reads a JSON file; throws naming it when it is not JSON.
nlohmann::json read_json_file(const std::filesystem::path& file);

// SIGINT/SIGTERM set a flag instead of killing the process; the loop checks it after each step.
void install_stop_signals();
// The signal any rank received (0: none). A collective: every rank calls it at the same step.
int stop_signal_on_any_rank(ProcessGroup& group);

struct UpdaterSettings {
  bool zero1 = true;
  double bucket_mb = 25;
  AdamWSettings adam;
};

// The flat gradient buffer, AdamW and the master weights of one model (see the file comment).
class ParameterUpdater {
 public:
  ParameterUpdater(CausalLM& model, ProcessGroup& group, const UpdaterSettings& settings);

  // Zeroes the gradient buffer; call before the step's backward passes.
  void zero_grad();
  // Sums the gradients over ranks; returns the global gradient norm.
  double reduce_gradients();
  // AdamW at `lr` with the gradient scaled by `grad_scale` (clipping), then the new weights into the model.
  void apply(double lr, double grad_scale);

  // Checkpoints: the model, this rank's optimizer part and `state` (trainer_state.json).
  std::filesystem::path save(const std::filesystem::path& checkpoints, std::int64_t step, at::ScalarType model_dtype,
                             nlohmann::json state, std::int64_t keep);
  // Restores the optimizer and the weights from the newest checkpoint, if any; returns its trainer_state.json.
  std::optional<nlohmann::json> resume(const std::filesystem::path& checkpoints, std::filesystem::path* found = nullptr);

  bool sharded() const { return range_.sharded; }
  double optimizer_state_mib() const;

 private:
  void publish_weights();

  struct Range {
    bool sharded = false;
    std::int64_t padded = 0, shard = 0, begin = 0, length = 0;
  };
  CausalLM& model_;
  ProcessGroup& group_;
  Range range_;
  std::int64_t total_ = 0;
  std::int64_t bucket_elements_ = 0;
  bool separate_master_ = false;
  at::Tensor grad_buffer_, shard_grad_, own_parameters_, master_, grad_;
  std::unique_ptr<AdamW> optimizer_;
};

}  // namespace r1lab::trainer

// trainer/distributed.h — data parallelism over LibTorch's c10d: Gloo on CPU, NCCL on CUDA. One process
// per device, started by torchrun (`torchrun --no-python --nproc-per-node N build/r1lab train ...`), by
// any launcher that sets RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT, or by r1lab's own
// `--nproc N` (harness/process_launcher.h). Without those variables the world is one process and every
// collective is a no-op, so the trainer has one code path; a launcher's world of one (RANK and
// WORLD_SIZE=1 set) gets a real one-rank group (NCCL on one GPU).
//
// What the trainer needs and nothing more: sums over ranks (all-reduce, bucketed; reduce-scatter and
// all-gather of the flat buffers for ZeRO-1), a barrier, and an explicit shutdown. Ranks rendezvous
// through a TCPStore on MASTER_ADDR:MASTER_PORT (under torchrun, the agent's store: torchrun already
// serves it). A collective that waits longer than the timeout fails with an error instead of hanging.
#pragma once

#include <ATen/ATen.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace r1lab::trainer {

class ProcessGroup {
 public:
  // Reads the launcher's variables; a malformed one is an error naming it.
  static std::unique_ptr<ProcessGroup> from_environment(at::Device device, std::chrono::milliseconds timeout);
  virtual ~ProcessGroup() = default;

  int rank() const { return rank_; }
  int world_size() const { return world_size_; }
  int local_rank() const { return local_rank_; }
  int local_world_size() const { return local_world_size_; }
  bool is_main() const { return rank_ == 0; }
  std::string backend_name() const { return backend_name_; }

  // Sums `tensor` over ranks in place, in buckets of at most bucket_elements.
  virtual void all_reduce_sum(at::Tensor& tensor, std::int64_t bucket_elements = std::int64_t{1} << 62) = 0;
  // input (world_size * n) summed over ranks; this rank's n-element slice into `output`.
  virtual void reduce_scatter_sum(at::Tensor& input, at::Tensor& output) = 0;
  // Every rank's n-element `input` into `output` (world_size * n), in rank order.
  virtual void all_gather(at::Tensor& input, at::Tensor& output) = 0;
  virtual void barrier() = 0;
  // Ends the group (the destructor does it too); collectives after it are errors.
  virtual void shutdown() = 0;

  // The sum (or maximum) of one number over ranks.
  double sum(double value);
  double max(double value);
  // The same for several numbers in one collective (element by element).
  std::vector<double> sum(const std::vector<double>& values);
  std::vector<double> max(const std::vector<double>& values);

 protected:
  int rank_ = 0, world_size_ = 1, local_rank_ = 0, local_world_size_ = 1;
  std::string backend_name_ = "none";
  at::Device device_ = at::kCPU;
};

}  // namespace r1lab::trainer

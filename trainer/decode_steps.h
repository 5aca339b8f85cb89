// trainer/decode_steps.h — how the engine runs its decode steps (one token per row):
// - eager: CausalLM::forward, one kernel launch per operation; attention covers the written slots.
// - fixed_shape: CausalLM::decode_step, whose tensors keep their shapes and addresses from one step to the
//   next: inputs in one device buffer, the write slot a device tensor, attention over a window of slots
//   rounded up to kDecodeWindow (so the shapes change once per kDecodeWindow steps). On the CPU this is
//   how the tests check what a graph replays.
// - cuda_graph: the fixed-shape step captured once as a CUDA graph and replayed each step (one launch
//   instead of several hundred: at batch 1 the launches cost more than the weight reads). A graph is
//   captured again when its shapes or the cache's tensors change: when rows join or leave the batch,
//   the cache grows or drops slots, or the window moves on.
// automatic: cuda_graph on CUDA when this build has CUDA graphs (a CUDA LibTorch) and the environment
// does not say R1LAB_CUDA_GRAPHS=0, else eager.
// Every mode gives the same tokens (to rounding: the windowed attention sums over more, masked, slots).
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "trainer/causal_lm.h"

namespace r1lab::trainer {

enum class DecodeMode { automatic, eager, fixed_shape, cuda_graph };

inline constexpr std::int64_t kDecodeWindow = 256;

// Whether this build can capture CUDA graphs (it links a CUDA LibTorch).
bool cuda_graphs_built();

class DecodeSteps {
 public:
  // Throws std::invalid_argument for cuda_graph on a model that is not on CUDA or in a build without them.
  DecodeSteps(const CausalLM& model, DecodeMode mode);
  ~DecodeSteps();
  DecodeSteps(const DecodeSteps&) = delete;
  DecodeSteps& operator=(const DecodeSteps&) = delete;

  DecodeMode mode() const { return mode_; }
  // One step for every row of `cache`: the row's token, its RoPE position and whether it is real (a
  // finished row still in the batch is not). Writes slot cache.length and advances it (growing the cache
  // when full). Returns the logits (rows, vocab); with cuda_graph a buffer that the next step overwrites.
  at::Tensor step(const std::vector<std::int64_t>& ids, const std::vector<std::int64_t>& positions,
                  const std::vector<std::uint8_t>& valid, KvCache& cache);
  // Graphs captured so far (tests, benchmarks): one per change of shape or cache tensors.
  std::int64_t captures() const { return captures_; }

 private:
  struct Graph;   // the captured step and the buffers it reads and writes (decode_steps.cpp)

  const CausalLM& model_;
  DecodeMode mode_;
  std::unique_ptr<Graph> graph_;
  std::int64_t captures_ = 0;
};

}  // namespace r1lab::trainer

#include "trainer/decode_steps.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <stdexcept>

#ifdef R1LAB_HAVE_CUDA_GRAPHS
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAEvent.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace r1lab::trainer {
namespace {

// A step's inputs as one int64 buffer, so that a step copies them to the device once:
// [ids (rows) | positions (rows) | valid (rows) | write slot (1)].
at::Tensor pack_inputs(const std::vector<std::int64_t>& ids, const std::vector<std::int64_t>& positions,
                       const std::vector<std::uint8_t>& valid, std::int64_t slot) {
  const auto R = static_cast<std::int64_t>(ids.size());
  at::Tensor packed = at::empty({3 * R + 1}, at::TensorOptions().dtype(at::kLong));
  std::int64_t* p = packed.data_ptr<std::int64_t>();
  std::copy(ids.begin(), ids.end(), p);
  std::copy(positions.begin(), positions.end(), p + R);
  for (std::int64_t r = 0; r < R; ++r) p[2 * R + r] = valid[static_cast<std::size_t>(r)];
  p[3 * R] = slot;
  return packed;
}

// The fixed-shape step on an input buffer already on the device: everything here is a device operation,
// so a CUDA graph can capture it.
at::Tensor run_fixed_shape(const CausalLM& model, const at::Tensor& inputs, KvCache& cache, std::int64_t window) {
  const std::int64_t R = (inputs.size(0) - 1) / 3;
  return model.decode_step(inputs.narrow(0, 0, R).view({R, 1}), inputs.narrow(0, R, R).view({R, 1}),
                           inputs.narrow(0, 2 * R, R).view({R, 1}).to(at::kBool), inputs.narrow(0, 3 * R, 1), cache, window);
}

// The window a step attends over: the written slots and this one, rounded up so that it changes only
// once per kDecodeWindow steps (each change is a new graph), never past the capacity.
std::int64_t window_for(const KvCache& cache) {
  const std::int64_t wanted = (cache.length + 1 + kDecodeWindow - 1) / kDecodeWindow * kDecodeWindow;
  return std::min(wanted, cache.capacity());
}

#ifdef R1LAB_HAVE_CUDA_GRAPHS
// What a captured graph is bound to: the rows, the window, and the address, sizes and strides of every
// cache tensor it reads and writes. Any change means capturing again.
std::vector<std::int64_t> binding_of(const KvCache& cache, std::int64_t rows, std::int64_t window) {
  std::vector<std::int64_t> key{rows, window};
  auto add = [&](const at::Tensor& t) {
    key.push_back(static_cast<std::int64_t>(reinterpret_cast<std::uintptr_t>(t.data_ptr())));
    for (std::int64_t s : t.sizes()) key.push_back(s);
    for (std::int64_t s : t.strides()) key.push_back(s);
  };
  for (const auto& k : cache.keys) add(k);
  for (const auto& v : cache.values) add(v);
  add(cache.valid);
  return key;
}
#endif

}  // namespace

struct DecodeSteps::Graph {
#ifdef R1LAB_HAVE_CUDA_GRAPHS
  at::cuda::CUDAGraph graph;
#endif
  std::vector<std::int64_t> binding;
  at::Tensor inputs;   // the device buffer the graph reads (pack_inputs' layout)
  at::Tensor logits;   // the buffer it writes
};

bool cuda_graphs_built() {
#ifdef R1LAB_HAVE_CUDA_GRAPHS
  return true;
#else
  return false;
#endif
}

DecodeSteps::DecodeSteps(const CausalLM& model, DecodeMode mode) : model_(model), mode_(mode) {
  if (mode_ == DecodeMode::automatic) {
    // R1LAB_CUDA_GRAPHS=0 turns them off without a rebuild (vLLM's --enforce-eager).
    const char* graphs = std::getenv("R1LAB_CUDA_GRAPHS");
    const bool allowed = graphs == nullptr || std::string(graphs) != "0";
    mode_ = allowed && model.device().is_cuda() && cuda_graphs_built() ? DecodeMode::cuda_graph : DecodeMode::eager;
  }
  if (mode_ == DecodeMode::cuda_graph && !model.device().is_cuda()) {
    throw std::invalid_argument("decode steps as CUDA graphs need a model on CUDA (this one is on " + model.device().str() + ")");
  }
  if (mode_ == DecodeMode::cuda_graph && !cuda_graphs_built()) {
    throw std::invalid_argument("this build has no CUDA graphs (it links a LibTorch without CUDA)");
  }
}

DecodeSteps::~DecodeSteps() = default;

at::Tensor DecodeSteps::step(const std::vector<std::int64_t>& ids, const std::vector<std::int64_t>& positions,
                             const std::vector<std::uint8_t>& valid, KvCache& cache) {
  const auto R = static_cast<std::int64_t>(ids.size());
  if (R != cache.batch() || positions.size() != ids.size() || valid.size() != ids.size()) {
    throw std::invalid_argument("decode step: one id, position and validity per cache row");
  }
  const at::Device device = model_.device();
  if (mode_ == DecodeMode::eager) {
    auto long_options = at::TensorOptions().dtype(at::kLong);
    return model_.forward(at::tensor(ids, long_options).view({R, 1}).to(device),
                          at::tensor(positions, long_options).view({R, 1}).to(device),
                          at::tensor(valid, at::TensorOptions().dtype(at::kByte)).view({R, 1}).to(at::kBool).to(device), cache,
                          /*last_only=*/true);
  }
  cache.reserve(cache.length + 1);
  const std::int64_t window = window_for(cache);
  at::Tensor host = pack_inputs(ids, positions, valid, cache.length);
  at::Tensor logits;
  if (mode_ == DecodeMode::fixed_shape) {
    logits = run_fixed_shape(model_, host.to(device), cache, window);
  } else {
#ifdef R1LAB_HAVE_CUDA_GRAPHS
    std::vector<std::int64_t> binding = binding_of(cache, R, window);
    if (graph_ && graph_->binding == binding) {
      graph_->inputs.copy_(host);
    } else {
      // The new graph is captured into the old one's memory pool (only one graph ever replays): pools of
      // dead graphs are only freed when an allocation fails outside a capture, so a fresh pool per
      // capture would pile up until a capture itself ran out of memory.
      auto fresh = std::make_unique<Graph>();
      fresh->inputs = host.to(device);
      const c10::MempoolId_t pool = graph_ ? graph_->graph.pool() : c10::MempoolId_t{0, 0};
      c10::cuda::CUDAGuard device_guard(device);
      // Capture runs on a side stream (never the default one), ordered after the current stream's work.
      c10::cuda::CUDAStream current = c10::cuda::getCurrentCUDAStream(device.index());
      c10::cuda::CUDAStream side = c10::cuda::getStreamFromPool(false, device.index());
      c10::cuda::CUDAEvent ready;
      ready.record(current);
      ready.block(side);
      {
        c10::cuda::CUDAStreamGuard on_side(side);
        // One eager run first: lazy initialisation (cuBLAS workspaces, kernel choices) must happen outside
        // the capture. It writes this step's slot, which the replay below writes again with the same values.
        run_fixed_shape(model_, fresh->inputs, cache, window);
        fresh->graph.capture_begin(pool, cudaStreamCaptureModeThreadLocal);
        try {
          fresh->logits = run_fixed_shape(model_, fresh->inputs, cache, window);
          fresh->graph.capture_end();
        } catch (...) {
          // Leave no stream in capture mode and no half-made graph behind (the binding stays unset).
          try {
            fresh->graph.capture_end();
          } catch (...) {
          }
          throw;
        }
      }
      c10::cuda::CUDAEvent captured;
      captured.record(side);
      captured.block(current);
      fresh->binding = std::move(binding);
      graph_ = std::move(fresh);
      ++captures_;
    }
    graph_->graph.replay();
    logits = graph_->logits;
#endif
  }
  cache.length += 1;
  return logits;
}

}  // namespace r1lab::trainer

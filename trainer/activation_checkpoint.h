// trainer/activation_checkpoint.h — activation checkpointing for one block of the model (LibTorch has no
// torch.utils.checkpoint): the forward pass keeps only the block's input; the backward pass runs the block
// again with gradients on and backpropagates through it. Parameter gradients accumulate into the
// parameters' .grad as usual; the input's gradient is handed on.
//
// This is the reentrant scheme (a backward pass inside the backward pass). The block must be a pure
// function of its input and the model's parameters (no dropout, no RNG), so the rerun computes the same
// activations. The input must require grad (it does inside the model: it comes from the embedding).
#pragma once

#include <ATen/ATen.h>

#include <functional>

namespace r1lab::trainer {

at::Tensor run_checkpointed(std::function<at::Tensor(const at::Tensor&)> block, const at::Tensor& input);

}  // namespace r1lab::trainer

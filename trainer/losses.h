// trainer/losses.h — the losses as pure tensor functions, shared by the trainer and the engine.
// Everything is computed in fp32 whatever the logits' dtype (bf16 log-softmax loses the small
// probabilities that logprob ratios and KL terms are made of).
#pragma once

#include <ATen/ATen.h>

namespace r1lab::trainer {

// log p(token) under softmax(logits / temperature): logits (..., vocab), tokens (...) -> (...) in fp32.
// Temperature 1 is the model's own distribution; a rollout sampled at temperature t is scored at t.
at::Tensor token_logprobs(const at::Tensor& logits, const at::Tensor& tokens, double temperature = 1.0);

// The SFT loss of a micro-batch: the summed negative log-likelihood of `targets` (one per logits row),
// divided by `normaliser` (the loss tokens of the whole optimizer step, over every micro-batch and rank,
// so that accumulation and data parallelism give the mean over the global batch).
at::Tensor summed_nll(const at::Tensor& logits, const at::Tensor& targets, double normaliser);

}  // namespace r1lab::trainer

#include "trainer/losses.h"

namespace r1lab::trainer {

at::Tensor token_logprobs(const at::Tensor& logits, const at::Tensor& tokens, double temperature) {
  at::Tensor scaled = logits.to(at::kFloat);
  if (temperature != 1.0) scaled = scaled / temperature;
  // gather - logsumexp: no (..., vocab) log-softmax tensor is kept for the backward pass.
  return scaled.gather(-1, tokens.unsqueeze(-1)).squeeze(-1) - scaled.logsumexp(-1);
}

at::Tensor summed_nll(const at::Tensor& logits, const at::Tensor& targets, double normaliser) {
  return -token_logprobs(logits, targets).sum() / normaliser;
}

}  // namespace r1lab::trainer

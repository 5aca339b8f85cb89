#include "trainer/activation_checkpoint.h"

#include <ATen/core/grad_mode.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/custom_function.h>

namespace r1lab::trainer {
namespace {

// Holds the block between the forward and the backward pass (saved_data stores IValues only).
struct BlockHolder : torch::CustomClassHolder {
  std::function<at::Tensor(const at::Tensor&)> block;
};

struct CheckpointedBlock : torch::autograd::Function<CheckpointedBlock> {
  static at::Tensor forward(torch::autograd::AutogradContext* context, const at::Tensor& input,
                            c10::intrusive_ptr<BlockHolder> holder) {
    context->save_for_backward({input});
    context->saved_data["block"] = c10::IValue::make_capsule(holder);
    return holder->block(input);   // Function::apply runs this with gradients off: nothing is kept
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* context,
                                                 torch::autograd::variable_list grad_outputs) {
    at::Tensor input = context->get_saved_variables()[0].detach().requires_grad_(true);
    auto holder = c10::static_intrusive_pointer_cast<BlockHolder>(context->saved_data["block"].toCapsule());
    at::Tensor output;
    {
      at::AutoGradMode enable(true);
      output = holder->block(input);
    }
    torch::autograd::backward({output}, {grad_outputs[0]});
    return {input.grad(), at::Tensor()};
  }
};

}  // namespace

at::Tensor run_checkpointed(std::function<at::Tensor(const at::Tensor&)> block, const at::Tensor& input) {
  auto holder = c10::make_intrusive<BlockHolder>();
  holder->block = std::move(block);
  return CheckpointedBlock::apply(input, holder);
}

}  // namespace r1lab::trainer

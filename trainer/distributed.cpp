#include "trainer/distributed.h"

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#if defined(USE_C10D_NCCL) && __has_include(<nccl.h>)
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#define R1LAB_HAVE_NCCL 1
#endif

#include <cstdlib>
#include <stdexcept>
#include <vector>

namespace r1lab::trainer {
namespace {

std::string environment(const char* name, const std::string& fallback = "") {
  const char* value = std::getenv(name);
  return value ? std::string(value) : fallback;
}

int environment_int(const char* name, int fallback) {
  std::string text = environment(name);
  if (text.empty()) return fallback;
  try {
    std::size_t used = 0;
    int value = std::stoi(text, &used);
    if (used == text.size() && value >= 0) return value;
  } catch (const std::exception&) {
  }
  throw std::runtime_error(std::string("environment variable ") + name + "='" + text + "' is not a non-negative integer");
}

// One process: nothing to talk to.
class SingleProcess : public ProcessGroup {
 public:
  void all_reduce_sum(at::Tensor&, std::int64_t) override {}
  void reduce_scatter_sum(at::Tensor& input, at::Tensor& output) override { output.copy_(input.narrow(0, 0, output.numel())); }
  void all_gather(at::Tensor& input, at::Tensor& output) override { output.narrow(0, 0, input.numel()).copy_(input); }
  void barrier() override {}
  void shutdown() override {}
};

class C10dGroup : public ProcessGroup {
 public:
  C10dGroup(at::Device device, std::chrono::milliseconds timeout, int rank, int world, int local_rank, int local_world) {
    rank_ = rank;
    world_size_ = world;
    local_rank_ = local_rank;
    local_world_size_ = local_world;
    device_ = device;
    const std::string host = environment("MASTER_ADDR", "127.0.0.1");
    const int port = environment_int("MASTER_PORT", 29500);
    c10d::TCPStoreOptions store_options;
    store_options.port = static_cast<std::uint16_t>(port);
    // Under torchrun the agent serves the store already (TORCHELASTIC_USE_AGENT_STORE); else rank 0 does.
    store_options.isServer = rank == 0 && environment("TORCHELASTIC_USE_AGENT_STORE") != "True";
    store_options.numWorkers = world;
    store_options.waitWorkers = true;   // every rank counts itself in; the server waits for all
    store_options.timeout = timeout;
    auto tcp = c10::make_intrusive<c10d::TCPStore>(host, store_options);
    auto store = c10::make_intrusive<c10d::PrefixStore>("r1lab", tcp);
#ifdef R1LAB_HAVE_NCCL
    if (device.is_cuda()) {
      auto options = c10d::ProcessGroupNCCL::Options::create();
      options->timeout = timeout;
      backend_ = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, world, options);
      backend_name_ = "nccl";
      return;
    }
#endif
    if (device.is_cuda()) throw std::runtime_error("this build has no NCCL: distributed training on CUDA needs a torch with NCCL");
    auto options = c10d::ProcessGroupGloo::Options::create();
    options->timeout = timeout;
    options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(host == "localhost" ? "127.0.0.1" : host));
    backend_ = c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, world, options);
    backend_name_ = "gloo";
  }
  ~C10dGroup() override { shutdown(); }

  void all_reduce_sum(at::Tensor& tensor, std::int64_t bucket_elements) override {
    at::Tensor flat = tensor.view({-1});
    std::vector<c10::intrusive_ptr<c10d::Work>> pending;
    for (std::int64_t begin = 0; begin < flat.numel(); begin += bucket_elements) {
      std::vector<at::Tensor> bucket = {flat.narrow(0, begin, std::min(bucket_elements, flat.numel() - begin))};
      pending.push_back(live().allreduce(bucket));
    }
    for (auto& work : pending) work->wait();
  }
  void reduce_scatter_sum(at::Tensor& input, at::Tensor& output) override { live()._reduce_scatter_base(output, input)->wait(); }
  void all_gather(at::Tensor& input, at::Tensor& output) override { live()._allgather_base(output, input)->wait(); }
  void barrier() override { live().barrier()->wait(); }
  void shutdown() override {
    if (backend_) {
      backend_->shutdown();
      backend_.reset();
    }
  }

 private:
  c10d::Backend& live() {
    if (!backend_) throw std::logic_error("a collective after the process group was shut down");
    return *backend_;
  }
  c10::intrusive_ptr<c10d::Backend> backend_;
};

}  // namespace

std::unique_ptr<ProcessGroup> ProcessGroup::from_environment(at::Device device, std::chrono::milliseconds timeout) {
  const int world = environment_int("WORLD_SIZE", 1);
  // A launcher's world of one (RANK set: torchrun --nproc-per-node 1) gets a real group, so that one GPU
  // runs NCCL through the same code paths as many; without a launcher every collective is a no-op.
  if (world < 1 || (world == 1 && environment("RANK").empty())) return std::make_unique<SingleProcess>();
  const int rank = environment_int("RANK", -1);
  if (rank < 0 || rank >= world) {
    throw std::runtime_error("WORLD_SIZE is " + std::to_string(world) + " but RANK is '" + environment("RANK") +
                             "' (a launcher must set RANK in [0, WORLD_SIZE))");
  }
  const int local_rank = environment_int("LOCAL_RANK", rank);
  const int local_world = environment_int("LOCAL_WORLD_SIZE", world);
  return std::make_unique<C10dGroup>(device, timeout, rank, world, local_rank, local_world);
}

double ProcessGroup::sum(double value) {
  at::Tensor t = at::full({1}, value, at::TensorOptions().dtype(at::kDouble).device(device_.is_cuda() ? device_ : at::Device(at::kCPU)));
  all_reduce_sum(t);
  return t.item<double>();
}

std::vector<double> ProcessGroup::sum(const std::vector<double>& values) {
  if (world_size_ == 1 || values.empty()) return values;
  at::Tensor t = at::tensor(values, at::TensorOptions().dtype(at::kDouble)).to(device_.is_cuda() ? device_ : at::Device(at::kCPU));
  all_reduce_sum(t);
  t = t.cpu();
  return {t.data_ptr<double>(), t.data_ptr<double>() + t.numel()};
}

std::vector<double> ProcessGroup::max(const std::vector<double>& values) {
  if (world_size_ == 1 || values.empty()) return values;
  // Each rank writes its row; the sum of the rows is every rank's values, then the maximum per column.
  const auto n = static_cast<std::int64_t>(values.size());
  at::Tensor t = at::zeros({world_size_ * n}, at::TensorOptions().dtype(at::kDouble));
  t.narrow(0, rank_ * n, n).copy_(at::tensor(values, at::TensorOptions().dtype(at::kDouble)));
  t = t.to(device_.is_cuda() ? device_ : at::Device(at::kCPU));
  all_reduce_sum(t);
  t = std::get<0>(t.view({world_size_, n}).max(0)).cpu().contiguous();
  return {t.data_ptr<double>(), t.data_ptr<double>() + t.numel()};
}

double ProcessGroup::max(double value) {
  // Over non-negative flags and counters: the sum is positive exactly when the maximum is.
  at::Tensor t = at::full({world_size_}, 0.0, at::TensorOptions().dtype(at::kDouble).device(device_.is_cuda() ? device_ : at::Device(at::kCPU)));
  t[rank_] = value;
  all_reduce_sum(t);
  return t.max().item<double>();
}

}  // namespace r1lab::trainer

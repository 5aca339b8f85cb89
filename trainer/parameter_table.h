// trainer/parameter_table.h — every parameter of a model, once: our name, shape, whether weight decay
// applies, the Hugging Face tensors it is made of, and where it lives in one flat buffer.
//
// The one table serves load and save (HF names <-> fused slices: q/k/v are one matrix, gate/up another),
// the optimizer (which works on the flat buffer, decayed parameters first so that decay is one range),
// and distribution (all-reduce and reduce-scatter on the flat gradient buffer, ZeRO-1 shards as ranges).
// Every parameter tensor the model computes with is a view into the flat buffer, and so is its gradient.
//
// Tensor parallelism (a later step) would split a parameter's rows or columns across ranks; the
// table is where that split would be recorded (HfSlice already names rows of an HF tensor).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace r1lab::trainer {

// Rows [offset, offset + rows) of a parameter (along dimension 0) hold the HF tensor `name`.
struct HfSlice {
  std::string name;
  std::int64_t offset = 0;
  std::int64_t rows = 0;
};

struct ParameterSpec {
  std::string name;                    // ours: "layers.3.qkv_weight"
  std::vector<std::int64_t> shape;
  bool decay = true;                   // AdamW's weight decay applies (matrices; not norms or biases)
  std::vector<HfSlice> hf;             // stacked along dimension 0, in order
  std::int64_t offset = 0;             // first element in the flat buffer
  std::int64_t numel() const;
};

class ParameterTable {
 public:
  // Adds a parameter; offsets are assigned by finalize().
  void add(ParameterSpec spec);
  // Orders decayed parameters before the others (stable) and assigns flat offsets.
  void finalize();

  const std::vector<ParameterSpec>& specs() const { return specs_; }
  const ParameterSpec& at(const std::string& name) const;
  std::int64_t total_numel() const { return total_; }
  // Elements [0, decayed_numel()) are decayed, the rest not.
  std::int64_t decayed_numel() const { return decayed_; }

 private:
  std::vector<ParameterSpec> specs_;
  std::int64_t total_ = 0, decayed_ = 0;
};

}  // namespace r1lab::trainer

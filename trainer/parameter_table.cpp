#include "trainer/parameter_table.h"

#include <algorithm>
#include <stdexcept>

namespace r1lab::trainer {

std::int64_t ParameterSpec::numel() const {
  std::int64_t n = 1;
  for (std::int64_t d : shape) n *= d;
  return n;
}

void ParameterTable::add(ParameterSpec spec) { specs_.push_back(std::move(spec)); }

void ParameterTable::finalize() {
  std::stable_partition(specs_.begin(), specs_.end(), [](const ParameterSpec& s) { return s.decay; });
  total_ = decayed_ = 0;
  for (ParameterSpec& s : specs_) {
    s.offset = total_;
    total_ += s.numel();
    if (s.decay) decayed_ = total_;
  }
}

const ParameterSpec& ParameterTable::at(const std::string& name) const {
  for (const ParameterSpec& s : specs_) {
    if (s.name == name) return s;
  }
  throw std::out_of_range("no parameter named " + name);
}

}  // namespace r1lab::trainer

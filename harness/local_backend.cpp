#include "harness/local_backend.h"

#include <stdexcept>

namespace r1lab::harness {
namespace {
LocalBackendFactory& factory() {
  static LocalBackendFactory registered = nullptr;
  return registered;
}
}  // namespace

void register_local_backend(LocalBackendFactory f) { factory() = f; }

std::unique_ptr<GenerationBackend> make_local_backend(const LocalBackendOptions& options) {
  if (!factory()) {
    throw std::runtime_error("this r1lab was built without LibTorch, so it has no built-in engine; rebuild with "
                             "scripts/setup_python.sh && scripts/setup.sh -DR1LAB_WITH_TORCH=ON, or serve the model "
                             "with vLLM and use --backend openai");
  }
  return factory()(options);
}

}  // namespace r1lab::harness

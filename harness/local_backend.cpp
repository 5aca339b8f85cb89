#include "harness/local_backend.h"

#include <dlfcn.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>

namespace r1lab::harness {
namespace {

constexpr const char* kPluginName = "libr1lab_trainer.so";

// Beside the binary (build/ and an install alike), else where it was built.
std::filesystem::path plugin_path() {
  std::error_code error;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
  if (!error && std::filesystem::exists(self.parent_path() / kPluginName)) return self.parent_path() / kPluginName;
#ifdef R1LAB_TRAINER_PLUGIN
  return R1LAB_TRAINER_PLUGIN;
#else
  return self.parent_path() / kPluginName;
#endif
}

const TrainerEntry& load() {
  std::filesystem::path path = plugin_path();
  if (!std::filesystem::exists(path)) {
    throw std::runtime_error("this r1lab has no built-in engine (" + path.string() + " is missing): build it with "
                             "scripts/setup_python.sh && scripts/setup.sh -DR1LAB_WITH_TORCH=ON, or serve the model "
                             "with vLLM and use --backend openai");
  }
  // RTLD_LOCAL: LibTorch's symbols stay inside the plugin.
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    throw std::runtime_error(std::string("cannot load the built-in engine: ") + ::dlerror() +
                             " (is the torch it was built against still there? rerun scripts/setup.sh -DR1LAB_WITH_TORCH=ON)");
  }
  using EntryFunction = const TrainerEntry* (*)();
  auto entry = reinterpret_cast<EntryFunction>(::dlsym(handle, "r1lab_trainer_entry"));
  if (!entry || entry()->version != kTrainerEntryVersion) {
    throw std::runtime_error(path.string() + " is not a trainer plugin of this r1lab version; rebuild with scripts/setup.sh -DR1LAB_WITH_TORCH=ON");
  }
  return *entry();   // the handle is never closed: the plugin lives as long as the process
}

}  // namespace

const TrainerEntry& trainer_entry() {
  static const TrainerEntry& entry = load();
  return entry;
}

std::unique_ptr<GenerationBackend> make_local_backend(const LocalBackendOptions& options) {
  return trainer_entry().make_backend(options);
}

}  // namespace r1lab::harness

// harness/model_fingerprint.h — what identifies a model folder for the built-in engine: the content of its
// weights, config and tokenizer, not the path text. A run records it, and a resume after the weights were
// overwritten in place (a new checkpoint saved to the same folder) is refused instead of mixing the samples
// of two models in one run.
#pragma once

#include <filesystem>

#include <nlohmann/json.hpp>

namespace r1lab::harness {

// {"sha256": over every file's name and sha256, "files": {name: sha256}} for the folder's *.safetensors,
// *.bin, config.json, generation_config.json and tokenizer files. Hashing reads every byte (about 1 GB/s),
// so file hashes are kept in `cache` (a JSON file; any path, e.g. in the run folder) keyed by name, size
// and modification time, and a resume with untouched files reads nothing. Throws std::runtime_error naming
// the folder when it holds no weights.
nlohmann::json model_fingerprint(const std::filesystem::path& model_dir, const std::filesystem::path& cache);

}  // namespace r1lab::harness

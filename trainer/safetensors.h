// trainer/safetensors.h — reading and writing Hugging Face safetensors files, single or sharded
// (model.safetensors.index.json). Reading memory-maps the files: a tensor is a view of the mapping until
// it is converted, so loading costs no copy when dtype and device already match.
// Supported dtypes: F32, F16, BF16 (weights), I64/I32 read for completeness; others are an error.
#pragma once

#include <ATen/ATen.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace r1lab::trainer {

class MappedFile;

struct SafetensorsEntry {
  at::ScalarType dtype;
  std::vector<std::int64_t> shape;
  std::shared_ptr<MappedFile> file;
  std::size_t offset = 0;   // from the start of the file
  std::size_t bytes = 0;
};

// All tensors of a model folder (or one .safetensors file), by name.
class SafetensorsReader {
 public:
  // Throws std::runtime_error naming the file when the folder has no weights or a header is malformed.
  explicit SafetensorsReader(const std::filesystem::path& path);
  bool contains(const std::string& name) const { return entries_.count(name) != 0; }
  // A CPU tensor viewing the mapping (keeps it alive). Throws naming the tensor when it is missing.
  at::Tensor tensor(const std::string& name) const;
  const SafetensorsEntry& entry(const std::string& name) const;
  std::vector<std::string> names() const;
  // The file a tensor lives in, for error messages.
  std::string file_of(const std::string& name) const;

 private:
  void read_file(const std::filesystem::path& file);
  std::map<std::string, SafetensorsEntry> entries_;
  std::map<std::string, std::filesystem::path> files_;
};

// Writes one file (under a temporary name, then renamed). Throws naming the file when a write fails.
void save_safetensors_file(const std::filesystem::path& file, const std::vector<std::pair<std::string, at::Tensor>>& tensors);

// Writes tensors (any device; copied to CPU, contiguous) into DIR: model.safetensors, or
// model-0000i-of-0000n.safetensors plus model.safetensors.index.json when they exceed max_shard_bytes.
// Each file is written under a temporary name and renamed, so a reader never sees half a file. Weight
// files of an earlier save in DIR are removed first.
void save_safetensors(const std::filesystem::path& dir, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                      std::size_t max_shard_bytes = std::size_t{5} << 30);

}  // namespace r1lab::trainer

#include "trainer/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cstring>
#include <fstream>
#include <stdexcept>

namespace r1lab::trainer {

class MappedFile {
 public:
  explicit MappedFile(const std::filesystem::path& path) : path_(path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw std::runtime_error(path.string() + ": cannot open: " + std::strerror(errno));
    struct stat st {};
    ::fstat(fd, &st);
    size_ = static_cast<std::size_t>(st.st_size);
    if (size_ > 0) {
      data_ = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    }
    ::close(fd);
    if (data_ == MAP_FAILED) throw std::runtime_error(path.string() + ": cannot map: " + std::strerror(errno));
  }
  ~MappedFile() {
    if (data_ && data_ != MAP_FAILED) ::munmap(data_, size_);
  }
  const char* data() const { return static_cast<const char*>(data_); }
  std::size_t size() const { return size_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  void* data_ = nullptr;
  std::size_t size_ = 0;
};

namespace {

struct DtypeName {
  const char* name;
  at::ScalarType type;
};
constexpr DtypeName kDtypes[] = {{"F32", at::kFloat}, {"F16", at::kHalf}, {"BF16", at::kBFloat16},
                                 {"F64", at::kDouble}, {"I64", at::kLong}, {"I32", at::kInt},
                                 {"I8", at::kChar}, {"U8", at::kByte}, {"BOOL", at::kBool}};

std::string dtype_name(at::ScalarType type) {
  for (const auto& d : kDtypes) {
    if (d.type == type) return d.name;
  }
  throw std::runtime_error(std::string("safetensors: cannot store dtype ") + c10::toString(type));
}

}  // namespace

SafetensorsReader::SafetensorsReader(const std::filesystem::path& path) {
  if (!std::filesystem::is_directory(path)) {
    read_file(path);
    return;
  }
  const auto index = path / "model.safetensors.index.json";
  if (std::filesystem::exists(index)) {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(std::ifstream(index));
    } catch (const nlohmann::json::exception& e) {
      throw std::runtime_error(index.string() + ": not valid JSON: " + e.what());
    }
    if (!j.contains("weight_map") || !j["weight_map"].is_object()) throw std::runtime_error(index.string() + ": $.weight_map is missing");
    std::map<std::string, bool> shards;
    for (auto it = j["weight_map"].begin(); it != j["weight_map"].end(); ++it) shards[it.value().get<std::string>()] = true;
    for (const auto& [shard, unused] : shards) read_file(path / shard);
    for (auto it = j["weight_map"].begin(); it != j["weight_map"].end(); ++it) {
      if (!entries_.count(it.key())) {
        throw std::runtime_error(index.string() + ": $.weight_map[\"" + it.key() + "\"] names " + it.value().get<std::string>() + ", which does not hold it");
      }
    }
    return;
  }
  if (std::filesystem::exists(path / "model.safetensors")) {
    read_file(path / "model.safetensors");
    return;
  }
  throw std::runtime_error(path.string() + ": no model.safetensors or model.safetensors.index.json (PyTorch .bin weights are not read; convert them with save_pretrained(safe_serialization=True))");
}

void SafetensorsReader::read_file(const std::filesystem::path& file) {
  auto mapped = std::make_shared<MappedFile>(file);
  if (mapped->size() < 8) throw std::runtime_error(file.string() + ": too short to be a safetensors file");
  std::uint64_t header_size = 0;
  std::memcpy(&header_size, mapped->data(), 8);   // little-endian, as are our targets
  if (header_size > mapped->size() - 8) throw std::runtime_error(file.string() + ": header size is larger than the file");
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(std::string_view(mapped->data() + 8, header_size));
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(file.string() + ": header is not valid JSON: " + e.what());
  }
  const std::size_t data_start = 8 + header_size;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") continue;
    const auto& h = it.value();
    SafetensorsEntry e;
    std::string dtype = h.value("dtype", "");
    bool known = false;
    for (const auto& d : kDtypes) {
      if (dtype == d.name) { e.dtype = d.type; known = true; }
    }
    if (!known) throw std::runtime_error(file.string() + ": tensor '" + it.key() + "' has dtype '" + dtype + "', which r1lab does not read");
    e.shape = h.at("shape").get<std::vector<std::int64_t>>();
    auto offsets = h.at("data_offsets").get<std::vector<std::size_t>>();
    std::size_t elements = 1;
    for (auto d : e.shape) elements *= static_cast<std::size_t>(d);
    if (offsets.size() != 2 || offsets[1] < offsets[0] || data_start + offsets[1] > mapped->size() ||
        offsets[1] - offsets[0] != elements * c10::elementSize(e.dtype)) {
      throw std::runtime_error(file.string() + ": tensor '" + it.key() + "' has data_offsets that do not fit its shape or the file");
    }
    e.file = mapped;
    e.offset = data_start + offsets[0];
    e.bytes = offsets[1] - offsets[0];
    entries_[it.key()] = e;
    files_[it.key()] = file;
  }
}

const SafetensorsEntry& SafetensorsReader::entry(const std::string& name) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) throw std::runtime_error("weights: tensor '" + name + "' is missing from the safetensors files");
  return it->second;
}

at::Tensor SafetensorsReader::tensor(const std::string& name) const {
  const SafetensorsEntry& e = entry(name);
  auto keep = e.file;
  // The mapping is read-only; from_blob wants a mutable pointer, and we never write through it (every
  // consumer converts or copies before any in-place op).
  void* data = const_cast<char*>(e.file->data() + e.offset);
  return at::from_blob(data, e.shape, [keep](void*) {}, at::TensorOptions().dtype(e.dtype));
}

std::vector<std::string> SafetensorsReader::names() const {
  std::vector<std::string> out;
  for (const auto& [name, unused] : entries_) out.push_back(name);
  return out;
}

std::string SafetensorsReader::file_of(const std::string& name) const {
  auto it = files_.find(name);
  return it == files_.end() ? std::string("?") : it->second.string();
}

void save_safetensors_file(const std::filesystem::path& file, const std::vector<std::pair<std::string, at::Tensor>>& tensors) {
  nlohmann::json header = nlohmann::json::object();
  header["__metadata__"] = {{"format", "pt"}};
  std::size_t offset = 0;
  std::vector<at::Tensor> cpu;
  for (const auto& [name, tensor] : tensors) {
    at::Tensor t = tensor.detach().to(at::kCPU).contiguous();
    std::size_t bytes = static_cast<std::size_t>(t.numel()) * t.element_size();
    header[name] = {{"dtype", dtype_name(t.scalar_type())}, {"shape", t.sizes().vec()}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    cpu.push_back(std::move(t));
  }
  std::string text = header.dump();
  while ((8 + text.size()) % 8 != 0) text.push_back(' ');   // align the data to 8 bytes
  std::filesystem::path partial = file;
  partial += ".partial";
  {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error(partial.string() + ": cannot write");
    std::uint64_t size = text.size();
    out.write(reinterpret_cast<const char*>(&size), 8);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    for (const at::Tensor& t : cpu) out.write(static_cast<const char*>(t.data_ptr()), static_cast<std::streamsize>(t.numel() * t.element_size()));
    out.flush();
    if (!out) throw std::runtime_error(partial.string() + ": write failed (disk full?)");
  }
  std::filesystem::rename(partial, file);
}

void save_safetensors(const std::filesystem::path& dir, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                      std::size_t max_shard_bytes) {
  std::filesystem::create_directories(dir);
  // Weights of an earlier save in this folder would be read together with (or instead of) the new ones.
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::string name = entry.path().filename().string();
    if (name == "model.safetensors.index.json" || name == "model.safetensors" ||
        (name.rfind("model-", 0) == 0 && name.find("-of-") != std::string::npos && entry.path().extension() == ".safetensors")) {
      std::filesystem::remove(entry.path());
    }
  }
  std::vector<std::vector<std::pair<std::string, at::Tensor>>> shards(1);
  std::size_t shard_bytes = 0, total_bytes = 0;
  for (const auto& named : tensors) {
    std::size_t bytes = static_cast<std::size_t>(named.second.numel()) * named.second.element_size();
    if (!shards.back().empty() && shard_bytes + bytes > max_shard_bytes) {
      shards.emplace_back();
      shard_bytes = 0;
    }
    shards.back().push_back(named);
    shard_bytes += bytes;
    total_bytes += bytes;
  }
  if (shards.size() == 1) {
    save_safetensors_file(dir / "model.safetensors", shards[0]);
    return;
  }
  nlohmann::json index = {{"metadata", {{"total_size", total_bytes}}}, {"weight_map", nlohmann::json::object()}};
  char name[64];
  for (std::size_t i = 0; i < shards.size(); ++i) {
    std::snprintf(name, sizeof name, "model-%05zu-of-%05zu.safetensors", i + 1, shards.size());
    save_safetensors_file(dir / name, shards[i]);
    for (const auto& [tensor_name, unused] : shards[i]) index["weight_map"][tensor_name] = name;
  }
  std::filesystem::path partial = dir / "model.safetensors.index.json.partial";
  std::ofstream(partial) << index.dump(2) << "\n";
  std::filesystem::rename(partial, dir / "model.safetensors.index.json");
}

}  // namespace r1lab::trainer

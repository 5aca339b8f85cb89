#include "tasks/data_dir.h"

#include <openssl/evp.h>

#include <array>
#include <cstdlib>
#include <fstream>

namespace r1lab::tasks {

namespace fs = std::filesystem;

#ifndef R1LAB_SOURCE_DIR
#define R1LAB_SOURCE_DIR "."
#endif

DataDirectory DataDirectory::resolve(const std::string& explicit_dir) {
  if (!explicit_dir.empty()) {
    if (!fs::is_directory(explicit_dir))
      throw DataError("--data-dir " + explicit_dir + " is not a directory");
    return DataDirectory(explicit_dir, "--data-dir");
  }
  if (const char* env = std::getenv("R1LAB_DATA"); env && *env) {
    if (!fs::is_directory(env)) throw DataError("$R1LAB_DATA=" + std::string(env) + " is not a directory");
    return DataDirectory(env, "$R1LAB_DATA");
  }
  for (const fs::path& candidate : {fs::current_path() / ".." / "shared" / "data",
                                    fs::path(R1LAB_SOURCE_DIR) / ".." / "shared" / "data"}) {
    std::error_code ec;
    if (fs::is_directory(candidate, ec)) return DataDirectory(fs::weakly_canonical(candidate), "../shared/data");
  }
  const char* home = std::getenv("HOME");
  fs::path cache = fs::path(home ? home : "/tmp") / ".cache" / "r1lab" / "data";
  return DataDirectory(cache, "default cache directory");
}

fs::path DataDirectory::require(const DatasetSpec& spec) const {
  fs::path path = root_ / spec.relative_path;
  if (!fs::is_regular_file(path))
    throw DataError("dataset " + spec.name + ": " + path.string() + " not found (data directory from " + how_found_ +
                    "). Put the file there (" + spec.records + ", public copy: " + spec.public_source +
                    "), or point --data-dir / $R1LAB_DATA at a directory that has " + spec.relative_path +
                    ". `r1lab data` lists every expected file.");
  return path;
}

namespace {
std::string hex(const unsigned char* bytes, unsigned length) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < length; ++i) {
    out += digits[bytes[i] >> 4];
    out += digits[bytes[i] & 15];
  }
  return out;
}

struct Digest {
  EVP_MD_CTX* context = EVP_MD_CTX_new();
  Digest() { EVP_DigestInit_ex(context, EVP_sha256(), nullptr); }
  ~Digest() { EVP_MD_CTX_free(context); }
  void update(const void* data, std::size_t size) { EVP_DigestUpdate(context, data, size); }
  std::string finish() {
    std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
    unsigned length = 0;
    EVP_DigestFinal_ex(context, out.data(), &length);
    return hex(out.data(), length);
  }
};
}  // namespace

std::string sha256_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path.string() + ": cannot open for reading");
  Digest digest;
  std::array<char, 1 << 16> buffer{};
  while (in) {
    in.read(buffer.data(), buffer.size());
    digest.update(buffer.data(), static_cast<std::size_t>(in.gcount()));
  }
  return digest.finish();
}

std::string sha256_text(std::string_view text) {
  Digest digest;
  digest.update(text.data(), text.size());
  return digest.finish();
}

void require_fields(const nlohmann::json& record, const std::string& where, std::initializer_list<const char*> fields) {
  for (const char* field : fields)
    if (!record.contains(field)) throw DataError(where + ": no field '" + field + "'");
}

void for_each_jsonl(const fs::path& path,
                    const std::function<void(const nlohmann::json& record, std::size_t line)>& on_record) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path.string() + ": cannot open for reading");
  std::string text;
  std::size_t line = 0;
  while (std::getline(in, text)) {
    ++line;
    if (!text.empty() && text.back() == '\r') text.pop_back();
    if (text.find_first_not_of(" \t") == std::string::npos) continue;
    nlohmann::json record;
    try {
      record = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& error) {
      throw DataError(path.string() + ":" + std::to_string(line) + ": not valid JSON (" + error.what() +
                      "); each line must be one JSON object");
    }
    if (!record.is_object())
      throw DataError(path.string() + ":" + std::to_string(line) + ": expected a JSON object, got " + record.type_name());
    on_record(record, line);
  }
}

}  // namespace r1lab::tasks

// harness/atomic_file.h — write a whole file or nothing: a temporary file beside the target, fsync,
// then rename over it, so a crash never leaves a half-written results.json.
#pragma once

#include <filesystem>
#include <string_view>

namespace r1lab::harness {

// Throws std::runtime_error naming the path on failure.
void write_file_atomically(const std::filesystem::path& path, std::string_view contents);

}  // namespace r1lab::harness

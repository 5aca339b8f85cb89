#include "tasks/code/program.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include <boost/process/child.hpp>
#include <boost/process/io.hpp>
#include <boost/process/search_path.hpp>

#include "tasks/data_dir.h"

namespace r1lab::code {

namespace fs = std::filesystem;

std::string_view language_name(Language language) { return language == Language::python ? "python" : "cpp"; }

Language language_from_name(std::string_view name) {
  if (name == "python" || name == "python3" || name == "py") return Language::python;
  if (name == "cpp" || name == "c++" || name == "cc") return Language::cpp;
  throw std::invalid_argument("unknown language '" + std::string(name) + "'; use python or cpp");
}

namespace {

constexpr const char* kCompileFlags = "-std=gnu++17 -O2 -pipe";

void write_file(const fs::path& path, const std::string& text, fs::perms mode) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path.string());
  fs::permissions(path, mode);
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The compiler's identity, part of the cache key: a new g++ must not reuse old binaries.
const std::string& compiler_identity() {
  static const std::string identity = [] {
    namespace bp = boost::process;
    auto gxx = bp::search_path("g++", {"/usr/local/bin", "/usr/bin", "/bin"});   // what the sandbox runs
    if (gxx.empty()) return std::string("g++ not found");
    bp::ipstream out;
    std::error_code ec;
    bp::child child(gxx, "--version", bp::std_out > out, bp::std_err > bp::null, ec);
    std::string first_line;
    if (!ec) {
      std::getline(out, first_line);
      child.wait(ec);
    }
    return gxx.string() + " " + first_line;
  }();
  return identity;
}

fs::path ensure_private_folder(const fs::path& path, fs::perms mode) {
  std::error_code ec;
  fs::create_directories(path, ec);
  struct stat info {};
  if (::lstat(path.c_str(), &info) != 0 || !S_ISDIR(info.st_mode))
    throw std::runtime_error("cannot create folder " + path.string());
  if (info.st_uid != geteuid())
    throw std::runtime_error(path.string() + " belongs to another user; remove it or set R1LAB_SANDBOX_TMP to a folder of yours");
  fs::permissions(path, mode, ec);
  return path;
}

}  // namespace

fs::path sandbox_staging_root() {
  static const fs::path root = [] {
    fs::path base;
    if (const char* env = std::getenv("R1LAB_SANDBOX_TMP"); env != nullptr && *env != '\0') base = env;
    else if (const char* tmp = std::getenv("TMPDIR"); tmp != nullptr && *tmp != '\0') base = tmp;
    else base = "/tmp";
    // 0711: the sandbox's uid may pass through to the folders we mount, but not list them.
    return ensure_private_folder(base / ("r1lab-" + std::to_string(geteuid())),
                                 fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
  }();
  return root;
}

TemporaryFolder::TemporaryFolder(std::string_view prefix) {
  static std::atomic<unsigned> counter{0};
  path_ = sandbox_staging_root() /
          (std::string(prefix) + "-" + std::to_string(getpid()) + "-" + std::to_string(counter++) + "-" +
           std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 1000000007));
  fs::create_directories(path_);
  fs::permissions(path_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                             fs::perms::others_read | fs::perms::others_exec);
}

TemporaryFolder::~TemporaryFolder() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

ExecutionLimits limits_for(const Program& program, ExecutionLimits limits) {
  if (program.language == Language::python && limits.stack_bytes == 0) limits.stack_bytes = kUnlimitedStack;
  return limits;
}

Program prepare_program(const Sandbox& sandbox, Language language, const std::string& source,
                        const ProgramOptions& options, const std::map<std::string, std::string>& files,
                        const std::string& entry) {
  constexpr auto kReadable = fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read;
  Program program;
  program.language = language;
  if (language == Language::python) {
    program.owned = std::make_shared<TemporaryFolder>("py");
    program.folder = program.owned->path();
    write_file(program.folder / "main.py", source, kReadable);
    for (const auto& [name, text] : files) write_file(program.folder / name, text, kReadable);
    program.argv = {"python3", "-B", "{code}/" + entry};
    program.ok = true;
    program.compile.status = ExecutionStatus::ok;
    return program;
  }

  // C++: look in the cache first.
  fs::path cache = options.cache_dir.empty() ? sandbox_staging_root() / "cpp-cache" : options.cache_dir;
  ensure_private_folder(cache, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
  std::string key = tasks::sha256_text(compiler_identity() + "\n" + kCompileFlags + "\n" + source);
  fs::path entry_dir = cache / key;
  program.argv = {"{code}/prog"};
  program.folder = entry_dir;
  if (fs::exists(entry_dir / "prog")) {
    program.ok = true;
    program.compile_cached = true;
    program.compile.status = ExecutionStatus::ok;
    return program;
  }
  if (fs::exists(entry_dir / "compile_error.txt")) {
    program.compile_cached = true;
    program.compile.status = ExecutionStatus::compile_error;
    program.compile.stderr_data = read_file(entry_dir / "compile_error.txt");
    program.compile.detail = "compile error (cached)";
    return program;
  }

  TemporaryFolder source_folder("cc-src"), output_folder("cc-out");
  write_file(source_folder.path() / "main.cpp", source, kReadable);
  ExecutionRequest request;
  request.argv = {"g++", "-std=gnu++17", "-O2", "-pipe", "-o", "{out}/prog", "{code}/main.cpp"};
  request.code_dir = source_folder.path();
  request.output_dir = output_folder.path();
  request.limits.cpu_seconds = options.compile_cpu_seconds;
  request.limits.wall_seconds = 2 * options.compile_cpu_seconds;
  request.limits.memory_bytes = options.compile_memory_bytes;
  request.limits.processes = 16;
  request.limits.open_files = 256;
  request.limits.file_size_bytes = std::size_t{256} << 20;
  request.limits.tmp_bytes = std::size_t{512} << 20;
  request.limits.stderr_bytes = std::size_t{16} << 10;
  program.compile = sandbox.run(request);

  // Publish the outcome under the cache key: build it in a staging folder, then rename into place.
  TemporaryFolder staging("cc-entry");
  bool compiled = program.compile.status == ExecutionStatus::ok && fs::exists(output_folder.path() / "prog");
  if (compiled) {
    fs::copy_file(output_folder.path() / "prog", staging.path() / "prog");
    fs::permissions(staging.path() / "prog", fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                                 fs::perms::others_read | fs::perms::others_exec);
  } else if (program.compile.status == ExecutionStatus::ok || program.compile.status == ExecutionStatus::runtime_error) {
    // g++ said no: that is the program's fault and deterministic, so it is cached.
    program.compile.status = ExecutionStatus::compile_error;
    program.compile.detail = "compile error";
    write_file(staging.path() / "compile_error.txt", program.compile.stderr_data, kReadable);
  } else {
    // The compiler ran out of time or memory, or the sandbox failed: reported, not cached.
    program.compile.detail = "compiler: " + std::string(execution_status_name(program.compile.status)) +
                             (program.compile.detail.empty() ? "" : " (" + program.compile.detail + ")");
    program.compile.status = ExecutionStatus::compile_error;
    return program;
  }
  std::error_code ec;
  fs::rename(staging.path(), entry_dir, ec);   // loses the race harmlessly when another worker was first
  program.ok = compiled;
  return program;
}

}  // namespace r1lab::code

#include "tasks/code/warm_python.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <memory>
#include <mutex>
#include <vector>

#include <nlohmann/json.hpp>

#include "tasks/code/warm_python_zygote.h"

namespace r1lab::code {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Reads exactly `size` bytes unless `deadline` passes or the other end closes first.
bool read_exactly(int fd, char* data, std::size_t size, Clock::time_point deadline) {
  while (size > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd ready{fd, POLLIN, 0};
    int polled = poll(&ready, 1, static_cast<int>(std::min<long long>(left, 1000)));
    if (polled < 0 && errno != EINTR) return false;
    if (polled <= 0) continue;
    ssize_t got = read(fd, data, size);
    if (got == 0) return false;
    if (got < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return false;
    }
    data += got;
    size -= static_cast<std::size_t>(got);
  }
  return true;
}

bool write_everything(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    ssize_t put = write(fd, data, size);
    if (put < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += put;
    size -= static_cast<std::size_t>(put);
  }
  return true;
}

std::string frame(const std::string& header) {
  std::uint32_t n = static_cast<std::uint32_t>(header.size());
  std::string out = {static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8), static_cast<char>(n)};
  return out + header;
}

std::optional<nlohmann::json> read_header(int fd, Clock::time_point deadline) {
  unsigned char length[4];
  if (!read_exactly(fd, reinterpret_cast<char*>(length), 4, deadline)) return std::nullopt;
  std::uint32_t n = (std::uint32_t{length[0]} << 24) | (std::uint32_t{length[1]} << 16) | (std::uint32_t{length[2]} << 8) | length[3];
  if (n > (1u << 20)) return std::nullopt;
  std::string text(n, '\0');
  if (!read_exactly(fd, text.data(), n, deadline)) return std::nullopt;
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

// One zygote: a sandboxed interpreter waiting for tests on its stdin.
class Zygote {
 public:
  explicit Zygote(const Sandbox& sandbox) : owner_(getpid()) {
    ExecutionRequest request;
    request.argv = {"python3", "-B", "-c", warm_python_zygote_source()};
    // Ceilings only: each test's fork sets its own limits under these (sandbox.h, Sandbox::start).
    request.limits.cpu_seconds = 24 * 3600;
    request.limits.memory_bytes = std::size_t{64} << 30;
    request.limits.stack_bytes = kUnlimitedStack;   // glibc sizes default thread stacks by it (sandbox.h)
    request.limits.processes = 256;
    request.limits.open_files = 256;
    process_ = sandbox.start(request);
    // The zygote writes to its own stderr only when something fails there; drained after each test so
    // that it can never fill the pipe and block.
    fcntl(process_.stderr_fd, F_SETFL, fcntl(process_.stderr_fd, F_GETFL) | O_NONBLOCK);
    auto ready = read_header(process_.stdout_fd, Clock::now() + std::chrono::seconds(30));
    if (!ready || !ready->value("ready", false)) {
      Sandbox::stop(process_);
      throw std::runtime_error("the warm interpreter did not start");
    }
  }
  ~Zygote() {
    if (owner_ == getpid()) {
      Sandbox::stop(process_);
      return;
    }
    // A forked copy of our process: the zygote is the parent's; only our copies of its pipes are ours.
    for (int fd : {process_.stdin_fd, process_.stdout_fd, process_.stderr_fd})
      if (fd >= 0) close(fd);
  }
  Zygote(const Zygote&) = delete;
  Zygote& operator=(const Zygote&) = delete;

  bool usable() const { return healthy_ && owner_ == getpid() && tests_ < kTestsPerZygote; }

  std::optional<ExecutionResult> run(const std::vector<std::pair<std::string, std::string>>& files, const std::string& entry,
                                     const std::string& stdin_data, const ExecutionLimits& limits) {
    ++tests_;
    const double wall_limit = limits.wall_seconds > 0 ? limits.wall_seconds : 2 * limits.cpu_seconds + 1;
    nlohmann::json names = nlohmann::json::array();
    for (const auto& [name, text] : files) names.push_back({name, text.size()});
    nlohmann::json header = {
        {"files", names}, {"entry", entry}, {"stdin_bytes", stdin_data.size()},
        {"limits", {{"cpu_seconds", static_cast<long long>(std::ceil(limits.cpu_seconds))},
                    {"wall_seconds", wall_limit},
                    {"memory_bytes", limits.memory_bytes},
                    {"stack_bytes", limits.stack_bytes == kUnlimitedStack ? nlohmann::json(nullptr)
                                    : nlohmann::json(limits.stack_bytes == 0 ? limits.memory_bytes : limits.stack_bytes)},
                    {"file_size_bytes", limits.file_size_bytes},
                    {"open_files", limits.open_files},
                    // as in a cold run, the sandbox's own processes (bwrap, and here the zygote) count too
                    {"processes", limits.processes + 3},
                    {"stdout_bytes", limits.stdout_bytes},
                    {"stderr_bytes", limits.stderr_bytes}}}};
    const std::string request = frame(header.dump());
    bool sent = write_everything(process_.stdin_fd, request.data(), request.size());
    for (const auto& [name, text] : files) sent = sent && write_everything(process_.stdin_fd, text.data(), text.size());
    sent = sent && write_everything(process_.stdin_fd, stdin_data.data(), stdin_data.size());
    // The zygote enforces the deadline itself; this one only catches a zygote that stopped answering.
    auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(wall_limit + 10));
    std::optional<nlohmann::json> reply = sent ? read_header(process_.stdout_fd, deadline) : std::nullopt;
    char discard[4096];
    while (read(process_.stderr_fd, discard, sizeof discard) > 0) {}
    ExecutionResult result;
    if (reply) {
      try {
        result.stdout_data.resize(reply->at("stdout_bytes").get<std::size_t>());
        result.stderr_data.resize(reply->at("stderr_bytes").get<std::size_t>());
        if (read_exactly(process_.stdout_fd, result.stdout_data.data(), result.stdout_data.size(), deadline) &&
            read_exactly(process_.stdout_fd, result.stderr_data.data(), result.stderr_data.size(), deadline)) {
          result.exit_code = reply->at("exit_code").get<int>();
          result.signal = reply->at("signal").get<int>();
          result.wall_seconds = reply->at("wall_seconds").get<double>();
          result.cpu_seconds = reply->at("cpu_seconds").get<double>();
          result.peak_memory_bytes = reply->at("peak_memory_bytes").get<std::size_t>();
          result.stderr_truncated = reply->at("stderr_truncated").get<bool>();
          classify_execution(result, limits, wall_limit, reply->at("killed_for_wall").get<bool>(),
                             reply->at("killed_for_output").get<bool>());
          return result;
        }
      } catch (const nlohmann::json::exception&) {
      }
    }
    healthy_ = false;
    return std::nullopt;
  }

 private:
  pid_t owner_;
  SandboxedProcess process_;
  bool healthy_ = true;
  int tests_ = 0;
};

// This process's idle zygotes: a thread takes one for a test and gives it back.
class ZygotePool {
 public:
  std::unique_ptr<Zygote> take(const Sandbox& sandbox) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      while (!idle_.empty()) {
        std::unique_ptr<Zygote> zygote = std::move(idle_.back());
        idle_.pop_back();
        if (zygote->usable()) return zygote;
      }
      if (failed_to_start_in_ == getpid()) return nullptr;
    }
    try {
      return std::make_unique<Zygote>(sandbox);
    } catch (const std::exception&) {
      std::lock_guard<std::mutex> lock(mutex_);
      failed_to_start_in_ = getpid();   // do not pay a failed start per test: cold runs from now on
      return nullptr;
    }
  }
  void give_back(std::unique_ptr<Zygote> zygote) {
    if (!zygote->usable()) return;
    std::lock_guard<std::mutex> lock(mutex_);
    idle_.push_back(std::move(zygote));
  }
  void clear() {
    std::lock_guard<std::mutex> lock(mutex_);
    idle_.clear();
  }

 private:
  std::mutex mutex_;
  std::vector<std::unique_ptr<Zygote>> idle_;
  pid_t failed_to_start_in_ = 0;   // the process in which a zygote could not start
};

ZygotePool& pool() {
  static ZygotePool* instance = [] {
    signal(SIGPIPE, SIG_IGN);   // a zygote that died must fail a write, not end r1lab
    return new ZygotePool;      // never destroyed: zygotes end with the process (--die-with-parent)
  }();
  return *instance;
}

// The entry script from the program's command line, python3 -B {code}/<entry>.
std::string entry_of(const Program& program) {
  const std::string& script = program.argv.back();
  const std::string prefix = "{code}/";
  return script.rfind(prefix, 0) == 0 ? script.substr(prefix.size()) : std::string();
}

}  // namespace

bool can_run_warm(const Sandbox& sandbox, const Program& program) {
  return sandbox.mode() == SandboxMode::bubblewrap && program.language == Language::python && program.ok &&
         program.argv.size() == 3 && !entry_of(program).empty();
}

std::optional<ExecutionResult> run_warm(const Sandbox& sandbox, const Program& program, const std::string& stdin_data,
                                        const ExecutionLimits& limits) {
  if (!can_run_warm(sandbox, program)) return std::nullopt;
  std::vector<std::pair<std::string, std::string>> files;
  std::error_code ec;
  for (const auto& item : fs::directory_iterator(program.folder, ec)) {
    if (!item.is_regular_file()) continue;
    std::ifstream in(item.path(), std::ios::binary);
    files.emplace_back(item.path().filename().string(),
                       std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()));
  }
  if (ec) return std::nullopt;
  // A zygote that died since it was last used (its creating thread ended, say) fails before it answers:
  // one retry on a fresh one.
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::unique_ptr<Zygote> zygote = pool().take(sandbox);
    if (!zygote) return std::nullopt;
    auto result = zygote->run(files, entry_of(program), stdin_data, limits);
    pool().give_back(std::move(zygote));
    if (result) return result;
  }
  return std::nullopt;
}

void stop_warm_interpreters() { pool().clear(); }

}  // namespace r1lab::code

// tests/support/child_process.h — start a program for a test (a server, a proxy, r1lab itself), read the
// port it announces ("port N" on stdout), kill it, wait for it. The child dies with the test.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

extern char** environ;

namespace r1lab::testing {

class ChildProcess {
 public:
  // stdout comes back through a pipe (for the port line) unless output_file is given; stderr goes to
  // stderr_file ("" = inherited).
  ChildProcess(const std::vector<std::string>& argv, const std::string& stderr_file = "", const std::string& output_file = "") {
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (output_file.empty()) {
      posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    } else {
      posix_spawn_file_actions_addopen(&actions, 1, output_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    }
    if (!stderr_file.empty())
      posix_spawn_file_actions_addopen(&actions, 2, stderr_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    int rc = ::posix_spawnp(&pid_, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    stdout_fd_ = out[0];
    if (rc != 0) throw std::runtime_error("cannot start " + argv[0]);
  }
  ~ChildProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (stdout_fd_ >= 0) ::close(stdout_fd_);
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }

  // Waits for a "port N" line on stdout; throws after the timeout or when the child exits first.
  int announced_port(std::chrono::seconds timeout = std::chrono::seconds(60)) {
    std::string seen;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{stdout_fd_, POLLIN, 0};
      if (::poll(&p, 1, 200) > 0) {
        char buffer[256];
        ssize_t n = ::read(stdout_fd_, buffer, sizeof buffer);
        if (n <= 0) break;
        seen.append(buffer, static_cast<std::size_t>(n));
        auto at = seen.find("port ");
        auto end = seen.find('\n', at == std::string::npos ? 0 : at);
        if (at != std::string::npos && end != std::string::npos) return std::stoi(seen.substr(at + 5, end - at - 5));
      }
    }
    throw std::runtime_error("the child announced no port; its output: " + seen);
  }

  void signal(int sig) { if (pid_ > 0) ::kill(pid_, sig); }
  // The exit code, or 128 + signal.
  int wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
};

inline std::string read_text_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace r1lab::testing
